//! What the library's parts share: the data directory, the database's one writer and
//! its readers, and the helper worker. One [`Core`] per open library, behind an `Arc`
//! that every part ([`crate::Index`], [`crate::Catalog`], [`crate::ImageStore`],
//! [`crate::Covers`], the demo album, slideshow export) holds.
//!
//! **Readers apart from the writer.** Every write goes through one connection behind a
//! mutex (SQLite allows one writer at a time anyway, and the events' temporary
//! triggers live on it). Reads that show things (grid pages, an item's detail, the
//! timeline's headers, events, memories, the album list) use their own connections
//! ([`ReadPool`]): in WAL mode a reader sees the last commit while a writer writes, so
//! the grid never waits behind a scan's batch, the photo-date pass or an analysis being
//! stored.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use rusqlite::Connection;

use crate::db;
use crate::error::{LibraryError, Result};
use crate::helper::HelperWorker;
use crate::model::{MediaDetail, MediaId, Root};
use crate::util::lock;

/// Idle read connections kept open: the window asks for a grid page, the timeline's
/// headers and images' details at once; more than this at a time open and close their
/// own.
const IDLE_READERS: usize = 2;

/// The shared pieces of one open library.
pub(crate) struct Core {
    pub(crate) data_dir: PathBuf,
    /// `data_dir` resolved (links followed), to refuse it as an album.
    pub(crate) data_dir_real: PathBuf,
    /// The one writing connection (WAL; events' triggers installed).
    pub(crate) db: Arc<Mutex<Connection>>,
    reads: ReadPool,
    /// Runs the FFmpeg and C-decoder work asked of the library outside analysis
    /// (moments, HEIC grid copies, exports, the demo album).
    pub(crate) helper: HelperWorker,
}

impl Core {
    pub(crate) fn new(data_dir: PathBuf, data_dir_real: PathBuf, db: Connection, helper: HelperWorker) -> Arc<Core> {
        let reads = ReadPool { path: data_dir.join(db::DB_FILE), idle: Mutex::new(Vec::new()) };
        Arc::new(Core { data_dir, data_dir_real, db: Arc::new(Mutex::new(db)), reads, helper })
    }

    /// The writer, locked.
    pub(crate) fn conn(&self) -> MutexGuard<'_, Connection> {
        lock(&self.db)
    }

    /// The database file, which every connection of this library opens.
    pub(crate) fn db_path(&self) -> &Path {
        &self.reads.path
    }

    /// A read-only connection of its own (see the module doc).
    pub(crate) fn read(&self) -> Result<Reader<'_>> {
        self.reads.get()
    }

    /// Regroups the events if a write marked them out of date. The mark is a row, so a
    /// reader sees it: the writer is taken only when there is something to do.
    pub(crate) fn refresh_events(&self) -> Result<Option<crate::events::Recomputed>> {
        if !crate::events::is_dirty(&*self.read()?)? {
            return Ok(None);
        }
        crate::events::refresh(&mut self.conn())
    }

    /// Everything about one item, read on a reader.
    pub(crate) fn detail(&self, id: MediaId) -> Result<MediaDetail> {
        crate::media::detail(&*self.read()?, &self.data_dir, id)
    }

    /// The root containing `path`, if any.
    pub(crate) fn root_of(&self, path: &Path) -> Result<Option<Root>> {
        let conn = self.read()?;
        let mut stmt = conn.prepare_cached("SELECT id, path, name, online FROM roots")?;
        // No counts here: this runs for every file event.
        let rows = stmt.query_map([], |r| root_from_row(r, false))?;
        for root in rows {
            let root = root?;
            if path.starts_with(&root.path) {
                return Ok(Some(root));
            }
        }
        Ok(None)
    }

    /// Whether the file at `path` (followed through links) lies inside one of the album
    /// folders.
    pub(crate) fn in_an_album(&self, path: &Path) -> Result<bool> {
        let Ok(path) = std::fs::canonicalize(path) else { return Ok(false) };
        Ok(self.root_of(&path)?.is_some())
    }
}

/// The library's read connections: one taken per read, given back when the read ends;
/// a new one is opened when all are in use, and at most [`IDLE_READERS`] are kept.
struct ReadPool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl ReadPool {
    fn get(&self) -> Result<Reader<'_>> {
        let idle = lock(&self.idle).pop();
        let conn = match idle {
            Some(conn) => conn,
            None => db::open_reader(&self.path)?,
        };
        Ok(Reader { pool: self, conn: Some(conn) })
    }
}

/// A read connection on loan from the pool; derefs to the connection.
pub(crate) struct Reader<'p> {
    pool: &'p ReadPool,
    conn: Option<Connection>,
}

impl std::ops::Deref for Reader<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        // Taken only in drop.
        self.conn.as_ref().unwrap_or_else(|| unreachable!("a reader's connection is taken only when it is dropped"))
    }
}

impl Drop for Reader<'_> {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else { return };
        // A read left open (a statement not finished) would pin an old snapshot.
        if !conn.is_autocommit() {
            return;
        }
        let mut idle = lock(&self.pool.idle);
        if idle.len() < IDLE_READERS {
            idle.push(conn);
        }
    }
}

/// `path` as the index stores it (UTF-8), or the error saying it cannot be.
pub(crate) fn path_str(path: &Path) -> Result<&str> {
    path.to_str().ok_or_else(|| LibraryError::NotUtf8Path(path.to_path_buf()))
}

/// A root from `id, path, name, online[, photos, videos]`; counts are 0 when the query
/// has none.
///
/// The listing (`with_counts`) also says where the root lives ([`crate::storage`]; its
/// `statfs` is remembered, and skipped while the root is offline); the per-event
/// lookups do not need it.
pub(crate) fn root_from_row(r: &rusqlite::Row, with_counts: bool) -> rusqlite::Result<Root> {
    let path = PathBuf::from(r.get::<_, String>(1)?);
    let online: bool = r.get(3)?;
    let fs = (with_counts && online).then(|| crate::storage::of_root(&path));
    let (storage, filesystem) = fs.map(|f| (f.storage, f.name)).unwrap_or_default();
    Ok(Root {
        id: r.get(0)?,
        name: r.get(2)?,
        online,
        photos: if with_counts { r.get(4)? } else { 0 },
        videos: if with_counts { r.get(5)? } else { 0 },
        rescan_every_s: crate::storage::poll_every(storage).map(|d| d.as_secs()),
        storage,
        filesystem,
        path,
    })
}
