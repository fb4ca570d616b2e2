//! One error type for the whole library, so callers (CLI, app) match on a single enum
//! and every message names the file or folder it is about.

use std::path::PathBuf;

/// Everything that can go wrong in the library. Messages are written for a user.
#[derive(Debug, thiserror::Error)]
pub enum LibraryError {
    #[error("database error: {0}")]
    Db(#[from] rusqlite::Error),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{0}")]
    Paths(#[from] crate::paths::PathsError),
    #[error(
        "the library database is version {found}, newer than this Keepsake understands ({supported}); update Keepsake"
    )]
    TooNew { found: i64, supported: i64 },
    /// A migration left the database inconsistent; it was rolled back.
    #[error("cannot upgrade the library database to version {version}: {reason}")]
    Migration { version: i64, reason: String },
    #[error("{0} is not a folder")]
    NotAFolder(PathBuf),
    #[error("{0} is not in any album folder")]
    NotInLibrary(PathBuf),
    #[error("{0} is already inside the album folder {1}")]
    NestedRoot(PathBuf, PathBuf),
    /// Keepsake's data directory, a folder inside it or a folder holding it, offered as
    /// an album: its own thumbnails would be indexed, and theirs, and so on.
    #[error("{folder} holds Keepsake's own data ({data_dir}); choose a folder of photos and videos")]
    DataDirectory { folder: PathBuf, data_dir: PathBuf },
    /// A path Keepsake cannot index as given: its name is not valid UTF-8 (the index
    /// stores paths as text). Renaming it is the way out.
    #[error("{} has a name that is not valid UTF-8; rename it to use it in Keepsake", .0.display())]
    NotUtf8Path(PathBuf),
    #[error("no media with id {0}")]
    NoSuchMedia(i64),
    #[error("no album folder with id {0}")]
    NoSuchRoot(i64),
    #[error("no event with id {0}")]
    NoSuchEvent(i64),
    /// A name the user gave that cannot be stored as given (too long, line breaks).
    #[error("{0}")]
    InvalidName(String),
    #[error("{0}")]
    InvalidCover(String),
    #[error("{0}")]
    InvalidSlideshow(String),
    #[error("no image for {0}")]
    NoImage(String),
    /// A photo or image could not be read or a thumbnail written.
    #[error("{0}")]
    Image(#[from] keepsake_imaging::ImagingError),
    /// A photo whose own contents cannot be shown (damaged, truncated, too large, not
    /// what its name says, a RAW without a preview); it is marked `failed` with `reason`.
    #[error("{reason}")]
    Unreadable { id: i64, reason: String },
    /// The demo album cannot be made where it belongs.
    #[error("demo album: {0}")]
    Demo(String),
    /// A worker process gave no usable answer: it could not start, crashed, hung,
    /// refused, or broke the protocol. The failure itself, typed
    /// ([`crate::WorkerFailure::kind`] says which for a caller that acts on it).
    #[error("worker: {0}")]
    Worker(#[from] crate::worker_process::WorkerFailure),
    #[error("watcher: {0}")]
    Watch(String),
}

impl LibraryError {
    /// Wraps an I/O error with the path it happened on (std's errors do not say).
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        LibraryError::Io { path: path.into(), source }
    }

    /// What kind of failure this is, for a caller that acts on it (the window's page
    /// gets it with every failed command) rather than only showing the message.
    pub fn code(&self) -> ErrorCode {
        use LibraryError as E;
        match self {
            E::Db(_) | E::TooNew { .. } | E::Migration { .. } => ErrorCode::Database,
            E::Io { .. } | E::Paths(_) => ErrorCode::Io,
            E::NotAFolder(_) => ErrorCode::NotAFolder,
            E::NotInLibrary(_) => ErrorCode::NotInLibrary,
            E::NestedRoot(..) => ErrorCode::NestedAlbum,
            E::DataDirectory { .. } => ErrorCode::DataDirectory,
            E::NoSuchMedia(_) | E::NoSuchRoot(_) | E::NoSuchEvent(_) | E::NoImage(_) => ErrorCode::NotFound,
            E::InvalidCover(_) | E::InvalidSlideshow(_) | E::InvalidName(_) | E::NotUtf8Path(_) => ErrorCode::Invalid,
            E::Image(_) | E::Unreadable { .. } => ErrorCode::Unreadable,
            E::Demo(_) | E::Worker(_) => ErrorCode::Worker,
            E::Watch(_) => ErrorCode::Watch,
        }
    }
}

/// The kinds of [`LibraryError`] a caller can act on, named as they cross to the page
/// (`snake_case`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The index could not be read or written (or is from a newer Keepsake).
    Database,
    /// A file or folder could not be read or written.
    Io,
    /// A path that should be a folder is not.
    NotAFolder,
    /// A path outside every album.
    NotInLibrary,
    /// A folder inside an album, or holding one.
    NestedAlbum,
    /// Keepsake's own data directory (or a folder around it) offered as an album.
    DataDirectory,
    /// The item, album or image asked for is not (or no longer) there.
    NotFound,
    /// A request that cannot be done as asked (a cover or slideshow choice).
    Invalid,
    /// A photo or image whose contents cannot be shown.
    Unreadable,
    /// A worker process failed (crashed, hung, refused) or could not start.
    Worker,
    /// Watching the album folders failed.
    Watch,
    /// A failure inside Keepsake itself (a background task that panicked).
    Internal,
}

/// Shorthand used across the crate.
pub type Result<T, E = LibraryError> = std::result::Result<T, E>;
