//! Browsing by time: the timeline's date headers, events and memories. All computed by
//! the library (SQLite); these only check ids and pass the clock.

use keepsake_library::{DateSection, Event, MediaQuery, Memory, SectionSize};
use tauri::State;

use super::{valid_id, CommandError};
use crate::state::AppState;

/// The grid's date headers for `query` (its offset and limit are ignored).
#[tauri::command(async)]
pub fn date_sections(
    state: State<'_, AppState>,
    query: MediaQuery,
    by: SectionSize,
) -> Result<Vec<DateSection>, CommandError> {
    if let Some(root) = query.root {
        valid_id(root)?;
    }
    if let Some(event) = query.event {
        valid_id(event)?;
    }
    Ok(state.library.catalog().date_sections(&query, by)?)
}

/// Events, newest first; with `root`, those with items in that album.
#[tauri::command(async)]
pub fn list_events(state: State<'_, AppState>, root: Option<i64>) -> Result<Vec<Event>, CommandError> {
    let root = root.map(valid_id).transpose()?;
    Ok(state.library.catalog().events(root)?)
}

/// Names an event (null or blank: back to its dates).
#[tauri::command(async)]
pub fn rename_event(state: State<'_, AppState>, id: i64, name: Option<String>) -> Result<Event, CommandError> {
    Ok(state.library.catalog().rename_event(valid_id(id)?, name.as_deref())?)
}

/// Today's memories, then Best of each past year.
#[tauri::command(async)]
pub fn list_memories(state: State<'_, AppState>) -> Result<Vec<Memory>, CommandError> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|e| CommandError::new(keepsake_library::ErrorCode::Internal, format!("the clock is wrong: {e}")))?
        .as_secs() as i64;
    Ok(state.library.catalog().memories(now)?)
}
