//! Library → UI: the watcher, the analyzer and the app itself report through one
//! `library` event whose payload is a `LibraryEvent` (or `albums_changed`).

use keepsake_library::LibraryEvent;
use serde::Serialize;
use tauri::{AppHandle, Emitter};

/// The event name the UI listens to (`onLibraryEvent` in `ui/src/lib/api.ts`).
pub const LIBRARY_EVENT: &str = "library";

/// Events the shell adds to the library's own.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ShellEvent {
    /// Albums were added or removed (e.g. the demo album appeared).
    AlbumsChanged,
}

/// Forwards a library event to the window; a closed window is not an error.
pub fn emit_library(app: &AppHandle, event: &LibraryEvent) {
    if let Err(e) = app.emit(LIBRARY_EVENT, event) {
        tracing::debug!(error = %e, "could not forward library event");
    }
}

/// Sends one of the shell's own events.
pub fn emit_shell(app: &AppHandle, event: ShellEvent) {
    if let Err(e) = app.emit(LIBRARY_EVENT, &event) {
        tracing::debug!(error = %e, "could not send shell event");
    }
}

/// Sends a warning the UI shows as a notice.
pub fn warn(app: &AppHandle, message: impl Into<String>) {
    emit_library(app, &LibraryEvent::Warning { message: message.into() });
}
