//! Helpers for unit tests: the shared test media folder.

use std::path::PathBuf;

/// `tests/media` at the workspace root (fetched by scripts/fetch_assets.py).
pub(crate) fn media_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/media")
}
