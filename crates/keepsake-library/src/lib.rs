//! Keepsake's album library: album roots, the SQLite index, the job queue that feeds
//! the engine, and cover overrides. Free of Tauri so the CLI and tests use it alone.
//!
//! Data flows one way: files → [`Index::add_root`] / [`Index::scan_all`] /
//! [`Watcher`] → index → [`JobQueue`] → [`Analyzer`] (engine in `keepsake worker`
//! processes) → picks and covers → [`Catalog::media`] for the grid.
//!
//! Public surface:
//! - [`Library`]: open a data directory; the queue, the engine's set-up, and its parts,
//!   each with one job (they share the data directory, the database and the helper
//!   worker):
//!   - [`Index`] (`library.index()`): album folders (the data directory refused), scans
//!     and reconciles, the watcher's changes; one code path indexes a file whoever
//!     noticed it.
//!   - [`Catalog`] (`library.catalog()`): what the window shows, read on connections of
//!     its own so it never waits behind a write: grid pages, an item's detail and
//!     motion, and browsing by time ([`Catalog::date_sections`], [`Catalog::events`],
//!     [`Catalog::memories`], computed in SQLite and kept right as files come and go).
//!   - [`ImageStore`] (`library.images()`): grid copies, tiles, moment previews, and
//!     what an analysis stored.
//!   - [`Covers`] (`library.covers()`): the user's cover choices.
//!   - [`Demo`] (`library.demo()`): the first-launch demo album.
//!   - [`Slideshow`] (`library.slideshow()`): slideshow export.
//!   - [`PhotoJobs`] (`library.photo_jobs()`): a photo's background job, a step at a
//!     time: its facts (date, size, place, embedded video), its grid copy, its score.
//! - [`JobQueue`] (via [`Library::queue`]): the one persistent queue of background work,
//!   typed by [`JobKind`]; priorities, pause/resume/cancel, retries, progress, and
//!   [`JobQueue::wait_for_change`] for whoever reports it.
//! - [`Analyzer`] + [`AnalyzerConfig`]: runs the queue: analyses on bounded worker
//!   processes, the photos' steps on one low-priority thread.
//! - [`Watcher`] + [`WatcherConfig`]: live folder watching, reported as [`LibraryEvent`]s.
//! - Picture scores for events and memories ([`PhotoJobs::score`], run by the
//!   [`Analyzer`]): each photo's and video's score and faces by the engine's measures,
//!   and a difference hash ([`dhash`], [`dhash_distance`]) to collapse bursts.
//! - [`protocol`]: the JSON-lines protocol spoken to `keepsake worker`, which does all
//!   FFmpeg and ONNX work: the library itself never links the engine.
//! - [`model`]: the serde types the CLI prints and the app sends to the UI.
//! - [`paths`]: where Keepsake keeps its derived data.
//!
//! A hostile or broken album must not hurt the user, so the library trusts neither the
//! folders nor its workers: symbolic links in an album are never followed (scan and
//! [`Watcher`] alike); only regular files are opened (a named pipe would block forever);
//! a folder's rename or deletion matches its path exactly; the data directory and
//! folders around it are refused as albums ([`LibraryError::DataDirectory`]); removing
//! the demo album deletes only the files it generated; and a worker gets one deadline
//! per request, reply lines of at most 1 MiB, is killed with what it started when given
//! up on, and may only name picks inside its job's own folder.

mod analyzer;
mod catalog;
mod core;
mod covers;
pub mod db;
mod demo;
mod error;
mod events;
pub mod fingerprint;
mod helper;
mod images;
mod index;
mod jobs;
mod library;
mod media;
mod memories;
pub mod model;
pub mod motion;
pub mod paths;
mod photo_jobs;
mod picture;
pub mod protocol;
mod render;
mod scan;
mod scoring;
mod slideshow;
pub mod storage;
pub mod taken;
mod util;
mod watch;
mod worker_process;

#[cfg(test)]
pub(crate) mod test_support;

pub use analyzer::{Analyzer, AnalyzerConfig, RunSummary};
pub use catalog::{Catalog, MAX_MOTION_BYTES};
pub use covers::{import_cover_image, Covers, MAX_COVER, MAX_PIXELS};
pub use demo::{Demo, DEMO_FOLDER};
pub use error::{ErrorCode, LibraryError};
pub use events::{
    cluster, date_range_name, DateSection, Event, EventId, Recomputed, Rule, SectionSize, Shot, MAX_EVENT_NAME,
};
pub use images::ImageStore;
pub use index::Index;
pub use jobs::JobQueue;
pub use library::Library;
pub use memories::{Memory, MemoryKind, MAX_MEMORY_ITEMS};
pub use model::{
    Cover, CoverChoice, CoverKind, CurvePoint, DateSource, Frame, ImageKey, JobInfo, JobKind, JobState, LibraryEvent,
    MediaDetail, MediaId, MediaItem, MediaKind, MediaQuery, MediaState, MotionKind, QueueProgress, Reasons,
    RejectReason, Root, RootId, ScanProgress, ScanReport, SortOrder, SMALL_TILE_SIDE,
};
pub use photo_jobs::PhotoJobs;
pub use protocol::{ExportResult, RuntimeReport, RuntimeResult, SlideshowFormat};
pub use render::photo_needs_worker;
pub use scan::{is_ignored_name, media_kind};
pub use scoring::{dhash, dhash_distance, dhash_of};
pub use slideshow::{Slideshow, MAX_SLIDESHOW_ITEMS};
pub use storage::Storage;
pub use util::{lower_thread_priority, return_large_blocks_when_freed};
pub use watch::{Watcher, WatcherConfig};
pub use worker_process::{OutOfMemory, WorkerFailure, WORKER_ENV};
