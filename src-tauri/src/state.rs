//! What the app holds for its lifetime: the library on the data directory, and the
//! background services (watcher, analyzer) that keep it current.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use keepsake_library::{Library, Root, Watcher};

/// Marker file: the user removed the demo album, so it is not generated again.
const DEMO_DISMISSED: &str = ".demo-dismissed";

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

    /// Whether `root` is the generated demo album.
    pub fn is_demo(&self, root: &Root) -> bool {
        keepsake_slideshow::demo::is_demo_folder(&self.data_dir, &root.path)
    }

    /// Whether to create the demo album now: first launch, no folders, not dismissed.
    pub fn wants_demo(&self) -> bool {
        !self.data_dir.join(DEMO_DISMISSED).exists() && self.library.has_roots().map(|any| !any).unwrap_or(false)
    }

    /// Remembers that the user removed the demo album.
    pub fn dismiss_demo(&self) {
        if let Err(e) = std::fs::write(self.data_dir.join(DEMO_DISMISSED), b"") {
            tracing::warn!(error = %e, "could not remember that the demo album was removed");
        }
    }

    /// Whether `path` lies inside one of the album roots (used before serving a video).
    pub fn inside_a_root(&self, path: &Path) -> bool {
        let Ok(path) = std::fs::canonicalize(path) else { return false };
        self.library.root_of(&path).map(|root| root.is_some()).unwrap_or(false)
    }
}
