//! The grid's pages and the detail panel's facts.

use keepsake_library::{MediaDetail, MediaItem, MediaQuery};
use serde::Serialize;
use tauri::State;
use ts_rs::TS;

use super::{valid_id, CommandError};
use crate::state::AppState;
use crate::video_server;

/// The most items one page may ask for; the grid asks for 120 at a time.
const MAX_PAGE: u64 = 2000;

/// One page of the grid plus the total for the scroll bar.
#[derive(Debug, Serialize, TS)]
pub struct MediaPage {
    pub items: Vec<MediaItem>,
    pub total: u64,
}

/// A page of media matching the sidebar, search and sort.
#[tauri::command(async)]
pub fn query_media(state: State<'_, AppState>, mut query: MediaQuery) -> Result<MediaPage, CommandError> {
    if query.limit == 0 || query.limit > MAX_PAGE {
        query.limit = MAX_PAGE;
    }
    if let Some(root) = query.root {
        valid_id(root)?;
    }
    state.library.note_viewing();
    let items = state.library.catalog().media(&query)?;
    let total = state.library.catalog().media_count(&query)?;
    Ok(MediaPage { items, total })
}

/// Everything the detail panel shows about one item.
#[tauri::command(async)]
pub fn media_detail(state: State<'_, AppState>, id: i64) -> Result<MediaDetail, CommandError> {
    Ok(state.library.catalog().media_by_id(valid_id(id)?)?)
}

/// The motion of a Live Photo or motion photo, as bytes the page plays from a blob:
/// WebKitGTK's media player cannot load `keepsake://` URLs.
#[tauri::command(async)]
pub fn motion_clip(state: State<'_, AppState>, id: i64) -> Result<tauri::ipc::Response, CommandError> {
    Ok(tauri::ipc::Response::new(state.library.catalog().motion_clip(valid_id(id)?)?))
}

/// Where the window plays whole videos from: `http://127.0.0.1:PORT/SECRET` (a video is
/// `{base}/video/<id>`), the loopback server started on the first ask
/// (`video_server.rs`), since WebKitGTK's media player cannot load `keepsake://` URLs.
#[tauri::command(async)]
pub fn video_base(state: State<'_, AppState>, server: State<'_, video_server::Lazy>) -> Result<String, CommandError> {
    server.base(&state.library).map_err(|e| CommandError::new(keepsake_library::ErrorCode::Io, e.to_string()))
}
