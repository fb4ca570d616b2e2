//! Commands the UI may invoke, one module per domain. Each is granted by name in
//! `capabilities/default.json`; nothing else is reachable from the web view.

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
