//! Commands the UI may invoke, one module per domain. Each is granted by name in
//! `permissions/app.toml` + `capabilities/default.json`; nothing else is reachable from
//! the web view. Commands validate their ids and paths, then call the library.
//!
//! Every command runs off the main thread (`#[tauri::command(async)]` or `async fn`): a
//! plain command runs on the GTK thread, and one that waits for the database lock while
//! a scan writes a batch would freeze the window.

pub mod albums;
pub mod covers;
pub mod media;
pub mod queue;
pub mod slideshow;
pub mod system;

/// An error as the UI sees it: one readable line.
#[derive(Debug, thiserror::Error, serde::Serialize)]
#[error("{0}")]
pub struct CommandError(pub String);

impl CommandError {
    /// Wraps any displayable error as one line for the UI.
    pub fn from_display(err: impl std::fmt::Display) -> Self {
        Self(err.to_string())
    }
}

impl From<keepsake_library::LibraryError> for CommandError {
    fn from(err: keepsake_library::LibraryError) -> Self {
        Self(err.to_string())
    }
}

/// Refuses ids that cannot name a row (negative or zero), before touching the library.
pub(crate) fn valid_id(id: i64) -> Result<i64, CommandError> {
    if id > 0 {
        Ok(id)
    } else {
        Err(CommandError(format!("{id} is not a valid id")))
    }
}

/// Runs blocking library work off the async runtime's threads.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, CommandError> + Send + 'static,
) -> Result<T, CommandError> {
    tauri::async_runtime::spawn_blocking(f).await.map_err(|e| CommandError(format!("background task failed: {e}")))?
}
