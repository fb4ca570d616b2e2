//! [`Library`]: the one handle the CLI and the app hold, on one data directory. Cheap
//! to clone and shareable between threads. It opens the database and hands out the
//! parts, each with one job and its own module:
//!
//! - [`Index`] (`library.index()`): album folders, scans, the watcher's changes;
//! - [`Catalog`] (`library.catalog()`): what the window shows (grid, detail, timeline,
//!   events, memories), read on connections of its own;
//! - [`ImageStore`] (`library.images()`): derived pictures and analysis results;
//! - [`Covers`] (`library.covers()`): the user's cover choices;
//! - [`Demo`] (`library.demo()`): the first-launch demo album;
//! - [`Slideshow`] (`library.slideshow()`): slideshow export.
//!
//! They share a [`Core`] (data directory, the database's writer and readers, the helper
//! worker). What stays here is the library as a whole: the queue, whether the window is
//! looking (background passes yield to it), and the engine's set-up.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::catalog::Catalog;
use crate::core::Core;
use crate::covers::Covers;
use crate::demo::Demo;
use crate::error::{LibraryError, Result};
use crate::events;
use crate::helper::HelperWorker;
use crate::images::ImageStore;
use crate::index::Index;
use crate::jobs::JobQueue;
use crate::photo_jobs::PhotoJobs;
use crate::protocol::{RuntimeResult, WorkerRequest};
use crate::slideshow::Slideshow;
use crate::util::now_ms;
use crate::worker_process::WorkerFailure;

/// The album library on one data directory.
#[derive(Clone)]
pub struct Library {
    inner: Arc<Inner>,
}

struct Inner {
    core: Arc<Core>,
    queue: JobQueue,
    index: Index,
    catalog: Catalog,
    images: ImageStore,
    covers: Covers,
    demo: Demo,
    slideshow: Slideshow,
    photo_jobs: PhotoJobs,
    /// When the window last asked for something to show (ms since the epoch).
    last_viewed_ms: std::sync::atomic::AtomicI64,
}

impl std::fmt::Debug for Library {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Library").field("data_dir", &self.inner.core.data_dir).finish()
    }
}

impl Library {
    /// Opens the library in `data_dir` (created if needed), upgrading its database.
    pub fn open(data_dir: &Path) -> Result<Library> {
        Library::open_with_worker(data_dir, None)
    }

    /// Opens the library with `worker` as the `keepsake worker` executable that renders
    /// moments, exports slideshows and makes the demo album (default: [`crate::WORKER_ENV`],
    /// else `keepsake` next to the running program).
    pub fn open_with_worker(data_dir: &Path, worker: Option<PathBuf>) -> Result<Library> {
        std::fs::create_dir_all(data_dir).map_err(|e| LibraryError::io(data_dir, e))?;
        let data_dir_real = std::fs::canonicalize(data_dir).map_err(|e| LibraryError::io(data_dir, e))?;
        let conn = crate::db::open(&data_dir.join(crate::db::DB_FILE))?;
        events::install(&conn)?;
        let core = Core::new(data_dir.to_path_buf(), data_dir_real, conn, HelperWorker::new(worker));
        let queue = JobQueue::new(core.db.clone());
        let index = Index::new(core.clone(), queue.clone());
        let images = ImageStore::new(core.clone());
        let inner = Inner {
            catalog: Catalog::new(core.clone()),
            covers: Covers::new(core.clone()),
            demo: Demo::new(core.clone(), index.clone()),
            slideshow: Slideshow::new(core.clone(), images.clone()),
            photo_jobs: PhotoJobs::new(core.clone(), queue.clone(), images.clone()),
            core,
            queue,
            index,
            images,
            last_viewed_ms: Default::default(),
        };
        Ok(Library { inner: Arc::new(inner) })
    }

    /// Opens the library in [`crate::paths::data_dir`].
    pub fn open_default() -> Result<Library> {
        Library::open(&crate::paths::data_dir()?)
    }

    /// Where this library keeps its database and images.
    pub fn data_dir(&self) -> &Path {
        &self.inner.core.data_dir
    }

    /// The analysis queue.
    pub fn queue(&self) -> &JobQueue {
        &self.inner.queue
    }

    /// Album folders, scans and the watcher's changes.
    pub fn index(&self) -> &Index {
        &self.inner.index
    }

    /// What the window shows: grid pages, an item's detail, the timeline, events,
    /// memories (read without waiting for writes).
    pub fn catalog(&self) -> &Catalog {
        &self.inner.catalog
    }

    /// Derived pictures (grid copies, tiles, previews) and analysis results.
    pub fn images(&self) -> &ImageStore {
        &self.inner.images
    }

    /// The user's cover choices.
    pub fn covers(&self) -> &Covers {
        &self.inner.covers
    }

    /// The first-launch demo album (and removing albums, which may be it).
    pub fn demo(&self) -> &Demo {
        &self.inner.demo
    }

    /// Slideshow export.
    pub fn slideshow(&self) -> &Slideshow {
        &self.inner.slideshow
    }

    /// The photos' background jobs: facts, grid copies, scores (run by the
    /// [`crate::Analyzer`]; tests and tools may run a step themselves).
    pub fn photo_jobs(&self) -> &PhotoJobs {
        &self.inner.photo_jobs
    }

    /// Notes that the window just asked for something to show (a grid page, an image).
    /// Background passes over the library (reading photo dates after an import) hold off
    /// while this keeps happening: a scroll asks for images every few frames, and on two
    /// cores those passes cost the first scroll after a big import several frames a
    /// second. The app calls this; the CLI has no window and never does.
    pub fn note_viewing(&self) {
        self.inner.last_viewed_ms.store(now_ms(), std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether the window asked for something within the last `window`.
    pub(crate) fn viewed_within(&self, window: std::time::Duration) -> bool {
        let last = self.inner.last_viewed_ms.load(std::sync::atomic::Ordering::Relaxed);
        last > 0 && now_ms().saturating_sub(last) < window.as_millis() as i64
    }

    /// What the engine can use on this machine (ONNX Runtime, face models), as
    /// `keepsake doctor` reports it, asked of a worker: the app shows it in its About
    /// panel without loading the engine itself.
    pub fn engine_setup(&self) -> Result<RuntimeResult> {
        let response = self.helper().request(&WorkerRequest::InspectRuntime, std::time::Duration::from_secs(30))?;
        response
            .runtime
            .ok_or_else(|| LibraryError::Worker(WorkerFailure::Protocol("the worker sent no runtime report".into())))
    }

    /// The helper worker, which answers [`Library::engine_setup`].
    fn helper(&self) -> &HelperWorker {
        &self.inner.core.helper
    }

    /// The parts' shared core.
    #[cfg(test)]
    pub(crate) fn inner_core(&self) -> &Core {
        &self.inner.core
    }

    /// The database's one writer, locked (for tests).
    #[cfg(test)]
    pub(crate) fn conn(&self) -> std::sync::MutexGuard<'_, rusqlite::Connection> {
        self.inner.core.conn()
    }
}
