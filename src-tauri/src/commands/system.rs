//! The app's own facts: version, engine set-up, data directory.

use serde::Serialize;
use tauri::State;

use super::CommandError;
use crate::state::AppState;

/// What the about panel and the status line show.
#[derive(Debug, Serialize)]
pub struct AppInfo {
    pub version: &'static str,
    pub data_dir: String,
    pub runtime: keepsake_engine::RuntimeReport,
    pub complete: bool,
}

/// The engine's set-up as `keepsake doctor` sees it, plus the data directory.
#[tauri::command]
pub fn app_info(state: State<'_, AppState>) -> Result<AppInfo, CommandError> {
    let runtime = keepsake_engine::runtime::inspect().map_err(CommandError::from_display)?;
    Ok(AppInfo {
        version: env!("CARGO_PKG_VERSION"),
        data_dir: state.data_dir.to_string_lossy().into_owned(),
        complete: runtime.complete(),
        runtime,
    })
}
