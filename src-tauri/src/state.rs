//! What the app holds for its lifetime.

use std::path::PathBuf;

/// Shared app state: where derived data lives.
pub struct AppState {
    pub data_dir: PathBuf,
}

impl AppState {
    /// Resolves and creates the data directory (`KEEPSAKE_DATA_DIR` overrides it).
    pub fn open() -> anyhow::Result<Self> {
        let data_dir = keepsake_library::paths::data_dir()?;
        std::fs::create_dir_all(&data_dir)?;
        tracing::info!(data_dir = %data_dir.display(), "data directory");
        Ok(Self { data_dir })
    }
}
