//! What the app holds for its lifetime: the library on the data directory, and the
//! background services (watcher, analyzer) that keep it current.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use keepsake_library::{Library, Watcher};

/// Shared app state.
pub struct AppState {
    pub library: Library,
    pub data_dir: PathBuf,
    /// Kept alive for the app's lifetime; dropping it stops watching.
    pub watcher: Mutex<Option<Watcher>>,
    /// Tells the analyzer thread to stop when the app exits.
    pub stop: Arc<AtomicBool>,
    /// When the app started, for the launch time in the log.
    pub launched: Instant,
    /// Set once the background services have started (see `services::start_background`).
    pub background_started: AtomicBool,
}

impl AppState {
    /// Resolves the data directory (`KEEPSAKE_DATA_DIR` overrides it) and opens the library.
    pub fn open(launched: Instant) -> anyhow::Result<Self> {
        let data_dir = keepsake_library::paths::data_dir()?;
        std::fs::create_dir_all(&data_dir)?;
        let data_dir = std::fs::canonicalize(&data_dir)?;
        tracing::info!(data_dir = %data_dir.display(), "data directory");
        let library = Library::open(&data_dir)?;
        Ok(Self {
            library,
            data_dir,
            watcher: Mutex::new(None),
            stop: Arc::new(AtomicBool::new(false)),
            launched,
            background_started: AtomicBool::new(false),
        })
    }
}
