//! Cover overrides: a pick, a moment, an image of the user's, or back to automatic.

use std::path::Path;

use keepsake_library::{CoverChoice, LibraryEvent, MediaDetail};
use tauri::{AppHandle, Manager};

use super::{blocking, valid_id, CommandError};
use crate::events::emit_library;
use crate::state::AppState;

/// Sets a video's cover; returns the updated detail. A custom image must be a readable
/// image file; it is validated, re-encoded and copied into the data directory.
#[tauri::command]
pub async fn set_cover(app: AppHandle, id: i64, choice: CoverChoice) -> Result<MediaDetail, CommandError> {
    let id = valid_id(id)?;
    if let CoverChoice::Image(path) = &choice {
        check_image_path(path)?;
    }
    let handle = app.clone();
    let detail = blocking(move || {
        let state = handle.state::<AppState>();
        state.library.set_cover(id, choice)?;
        Ok(state.library.media_by_id(id)?)
    })
    .await?;
    emit_library(&app, &LibraryEvent::CoverChanged { id, version: detail.item.cover_version });
    Ok(detail)
}

/// Goes back to the engine's choice.
#[tauri::command]
pub async fn reset_cover(app: AppHandle, id: i64) -> Result<MediaDetail, CommandError> {
    let id = valid_id(id)?;
    let handle = app.clone();
    let detail = blocking(move || {
        let state = handle.state::<AppState>();
        state.library.reset_cover(id)?;
        Ok(state.library.media_by_id(id)?)
    })
    .await?;
    emit_library(&app, &LibraryEvent::CoverChanged { id, version: detail.item.cover_version });
    Ok(detail)
}

/// A cover image must be an existing regular file given by absolute path.
fn check_image_path(path: &Path) -> Result<(), CommandError> {
    if !path.is_absolute() {
        return Err(CommandError(format!("{} is not an absolute path", path.display())));
    }
    let meta = std::fs::metadata(path).map_err(|e| CommandError(format!("Can't read {}: {e}", path.display())))?;
    if !meta.is_file() {
        return Err(CommandError(format!("{} is not a file", path.display())));
    }
    if meta.len() == 0 {
        return Err(CommandError(format!("{} is empty, not an image", path.display())));
    }
    Ok(())
}
