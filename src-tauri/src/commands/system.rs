//! The app's own facts: version, engine set-up, data directory.

use keepsake_library::{ErrorCode, RuntimeReport};
use serde::Serialize;
use tauri::{AppHandle, State};
use ts_rs::TS;

use super::CommandError;
use crate::state::AppState;

/// What the about panel and the status line show.
#[derive(Debug, Serialize, TS)]
pub struct AppInfo {
    pub version: &'static str,
    pub data_dir: String,
    /// `keepsake doctor --json`'s report, from a worker (the app never loads the engine),
    /// the part the page shows.
    pub runtime: RuntimeReport,
    pub complete: bool,
}

/// The engine's set-up as `keepsake doctor` sees it, plus the data directory.
#[tauri::command(async)]
pub fn app_info(state: State<'_, AppState>) -> Result<AppInfo, CommandError> {
    let setup = state.library.engine_setup()?;
    let runtime = serde_json::from_value(setup.report).map_err(|e| {
        CommandError::new(ErrorCode::Worker, format!("the worker's runtime report is not understood: {e}"))
    })?;
    Ok(AppInfo {
        version: env!("CARGO_PKG_VERSION"),
        data_dir: state.data_dir.to_string_lossy().into_owned(),
        complete: setup.complete,
        runtime,
    })
}

/// The window has painted its first grid: start the background work that was held back
/// so it would not compete with the launch (see `services::start_background`). Logs the
/// launch time, and how much of it the page itself took (`page_ms`, since the page's
/// time origin), which `tests/bench/grid.sh` reads.
#[tauri::command(async)]
pub fn window_ready(app: AppHandle, state: State<'_, AppState>, page_ms: Option<f64>) {
    let ms = state.launched.elapsed().as_millis() as u64;
    if crate::services::start_background(&app) {
        let page_ms = page_ms.filter(|ms| ms.is_finite() && *ms >= 0.0).map(|ms| ms.round() as u64);
        tracing::info!(ms, page_ms, "first grid painted");
    }
}
