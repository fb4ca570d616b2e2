//! Cover overrides: a pick, a moment, an image of the user's (chosen in the native
//! dialog, opened here: the page never names a file), or back to automatic.

use std::path::Path;

use keepsake_library::{CoverChoice, ErrorCode, LibraryEvent, MediaDetail};
use tauri::{AppHandle, Manager};
use tauri_plugin_dialog::DialogExt;

use super::{blocking, valid_id, CommandError};
use crate::events::emit_library;
use crate::state::AppState;

/// Sets a video's cover to one of its picks or a moment; returns the updated detail. An
/// image cover comes only through [`choose_cover_image`]: a path from the page is refused.
#[tauri::command]
pub async fn set_cover(app: AppHandle, id: i64, choice: CoverChoice) -> Result<MediaDetail, CommandError> {
    let id = valid_id(id)?;
    if let CoverChoice::Image(_) = &choice {
        return Err(CommandError::invalid(
            "an image cover is chosen in the dialog (choose_cover_image), not by a path from the page",
        ));
    }
    store_cover(app, id, choice).await
}

/// Asks the user for an image in the native dialog and makes it the video's cover: it is
/// validated, re-encoded and copied into the data directory. `None` when they cancel.
#[tauri::command]
pub async fn choose_cover_image(app: AppHandle, id: i64) -> Result<Option<MediaDetail>, CommandError> {
    let id = valid_id(id)?;
    let handle = app.clone();
    let chosen = blocking(move || {
        let picked = handle
            .dialog()
            .file()
            .set_title("Choose a cover image")
            .add_filter("Images", &["jpg", "jpeg", "png", "webp", "gif", "bmp", "tif", "tiff"])
            .blocking_pick_file();
        picked.map(|p| p.into_path().map_err(CommandError::io)).transpose()
    })
    .await?;
    let Some(path) = chosen else { return Ok(None) };
    check_image_path(&path)?;
    store_cover(app, id, CoverChoice::Image(path)).await.map(Some)
}

async fn store_cover(app: AppHandle, id: i64, choice: CoverChoice) -> Result<MediaDetail, CommandError> {
    let handle = app.clone();
    let detail = blocking(move || {
        let state = handle.state::<AppState>();
        state.library.covers().set_cover(id, choice)?;
        Ok(state.library.catalog().media_by_id(id)?)
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
        state.library.covers().reset_cover(id)?;
        Ok(state.library.catalog().media_by_id(id)?)
    })
    .await?;
    emit_library(&app, &LibraryEvent::CoverChanged { id, version: detail.item.cover_version });
    Ok(detail)
}

/// A cover image must be an existing regular file given by absolute path.
fn check_image_path(path: &Path) -> Result<(), CommandError> {
    if !path.is_absolute() {
        return Err(CommandError::invalid(format!("{} is not an absolute path", path.display())));
    }
    let meta = std::fs::metadata(path).map_err(|e| CommandError::io(format!("Can't read {}: {e}", path.display())))?;
    if !meta.is_file() {
        return Err(CommandError::invalid(format!("{} is not a file", path.display())));
    }
    if meta.len() == 0 {
        return Err(CommandError::new(ErrorCode::Unreadable, format!("{} is empty, not an image", path.display())));
    }
    Ok(())
}
