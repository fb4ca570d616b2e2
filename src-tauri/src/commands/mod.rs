//! Commands the UI may invoke, one module per domain. Each is granted by name in
//! `permissions/app.toml` + `capabilities/default.json`; nothing else is reachable from
//! the web view. Commands validate their ids and paths, then call the library.
//!
//! Every command runs off the main thread (`#[tauri::command(async)]` or `async fn`): a
//! plain command runs on the GTK thread, and one that waits for the database lock while
//! a scan writes a batch would freeze the window.

pub mod albums;
pub mod browse;
pub mod covers;
pub mod media;
pub mod queue;
pub mod slideshow;
pub mod system;

#[cfg(test)]
mod contract;

use keepsake_library::ErrorCode;

/// An error as the page sees it: `{"code": "not_found", "message": "no media with id 7"}`.
/// The message is one readable line for the user; the code (the library's
/// [`ErrorCode`]) is what the page acts on (an item gone from the library closes its
/// panel, for one).
#[derive(Debug, thiserror::Error, serde::Serialize, ts_rs::TS)]
#[error("{message}")]
pub struct CommandError {
    pub code: ErrorCode,
    pub message: String,
}

impl CommandError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }

    /// A request the page should not have made as it did (a bad id, a path from the page).
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Invalid, message)
    }

    /// A file or folder that could not be read.
    pub fn io(err: impl std::fmt::Display) -> Self {
        Self::new(ErrorCode::Io, err.to_string())
    }
}

impl From<keepsake_library::LibraryError> for CommandError {
    fn from(err: keepsake_library::LibraryError) -> Self {
        Self::new(err.code(), err.to_string())
    }
}

/// Refuses ids that cannot name a row (negative or zero), before touching the library.
pub(crate) fn valid_id(id: i64) -> Result<i64, CommandError> {
    if id > 0 {
        Ok(id)
    } else {
        Err(CommandError::invalid(format!("{id} is not a valid id")))
    }
}

/// Runs blocking library work off the async runtime's threads.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, CommandError> + Send + 'static,
) -> Result<T, CommandError> {
    tauri::async_runtime::spawn_blocking(f)
        .await
        .map_err(|e| CommandError::new(ErrorCode::Internal, format!("background task failed: {e}")))?
}
