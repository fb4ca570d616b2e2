//! Album folders: list with counts, add (a folder the user picks in the native dialog,
//! opened here: the page never names a path), remove.

use keepsake_library::{ErrorCode, Root};
use serde::Serialize;
use tauri::{AppHandle, Manager, State};
use tauri_plugin_dialog::DialogExt;
use ts_rs::TS;

use super::{blocking, valid_id, CommandError};
use crate::events::{emit_shell, ShellEvent};
use crate::state::AppState;

/// A root as the sidebar shows it, flagged when it is the generated demo album.
#[derive(Debug, Serialize, TS)]
pub struct Album {
    #[serde(flatten)]
    pub root: Root,
    pub demo: bool,
}

/// All albums with their photo and video counts.
#[tauri::command(async)]
pub fn list_albums(state: State<'_, AppState>) -> Result<Vec<Album>, CommandError> {
    Ok(state
        .library
        .index()
        .roots()?
        .into_iter()
        .map(|root| Album { demo: state.library.demo().is_demo(&root), root })
        .collect())
}

/// Asks the user for a folder in the native dialog, then indexes it and queues its
/// videos. `None` when they cancel. The path comes from the dialog, never from the page,
/// so a compromised page cannot add `/etc` or another user's home.
#[tauri::command]
pub async fn add_album(app: AppHandle) -> Result<Option<Album>, CommandError> {
    let handle = app.clone();
    let album = blocking(move || {
        let Some(chosen) = handle.dialog().file().set_title("Add a folder to Keepsake").blocking_pick_folder() else {
            return Ok(None);
        };
        let dir = chosen.into_path().map_err(CommandError::io)?;
        let state = handle.state::<AppState>();
        let canon =
            std::fs::canonicalize(&dir).map_err(|e| CommandError::io(format!("Can't open {}: {e}", dir.display())))?;
        if !canon.is_dir() {
            return Err(CommandError::new(ErrorCode::NotAFolder, format!("{} is not a folder", canon.display())));
        }
        // The library refuses Keepsake's data directory and folders around it.
        let (root, _report) = state.library.index().add_root(&canon, &|_| {})?;
        Ok(Some(Album { demo: state.library.demo().is_demo(&root), root }))
    })
    .await?;
    if album.is_some() {
        emit_shell(&app, ShellEvent::AlbumsChanged);
    }
    Ok(album)
}

/// Stops showing a folder (its files are never touched). Removing the demo album also
/// deletes its generated files, which live in the data directory.
#[tauri::command]
pub async fn remove_album(app: AppHandle, id: i64) -> Result<(), CommandError> {
    let id = valid_id(id)?;
    let handle = app.clone();
    blocking(move || {
        let state = handle.state::<AppState>();
        let root = state
            .library
            .index()
            .roots()?
            .into_iter()
            .find(|r| r.id == id)
            .ok_or_else(|| CommandError::new(ErrorCode::NotFound, format!("no album {id}")))?;
        Ok(state.library.demo().remove_album(&root)?)
    })
    .await?;
    emit_shell(&app, ShellEvent::AlbumsChanged);
    Ok(())
}
