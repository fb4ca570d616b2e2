//! [`Library`]: the one handle the CLI and the app hold. Cheap to clone and shareable
//! between threads; every method is a short transaction on one SQLite connection.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::{params, Connection, OptionalExtension};

use crate::covers::import_cover_image;
use crate::db;
use crate::error::{LibraryError, Result};
use crate::events::{self, DateSection, Event, Recomputed, SectionSize, MAX_EVENT_NAME};
use crate::helper::HelperWorker;
use crate::jobs::JobQueue;
use crate::media;
use crate::model::*;
use crate::protocol::{AnalysisResult, ProbeResult, RuntimeResult, WorkerRequest};
use crate::scan::{self, FoundFile, Inserted};
use crate::util::{lock, now_ms};

/// The most bytes a photo's motion may be: a Live Photo's 3-second movie is 2-8 MB, a
/// motion photo's MP4 about as much; a 4K Live Photo stays well under this.
pub const MAX_MOTION_BYTES: u64 = 64 << 20;

/// The album library on one data directory.
#[derive(Clone)]
pub struct Library {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    data_dir: PathBuf,
    /// `data_dir` resolved (links followed), to refuse it as an album.
    data_dir_real: PathBuf,
    db: Arc<Mutex<Connection>>,
    queue: JobQueue,
    /// Highest media id whose photo date [`Library::fill_photo_dates`] has looked at.
    pub(crate) dates_cursor: std::sync::atomic::AtomicI64,
    /// Highest media id whose grid copy [`Library::prerender_photo_thumbnails`] has made.
    pub(crate) thumbs_cursor: std::sync::atomic::AtomicI64,
    /// Runs the FFmpeg work asked of the library outside analysis (moments, exports).
    helper: HelperWorker,
    /// When the window last asked for something to show (ms since the epoch).
    last_viewed_ms: std::sync::atomic::AtomicI64,
}

impl std::fmt::Debug for Library {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Library").field("data_dir", &self.inner.data_dir).finish()
    }
}

fn path_str(path: &Path) -> Result<&str> {
    path.to_str().ok_or_else(|| LibraryError::NotUtf8Path(path.to_path_buf()))
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
        let conn = db::open(&data_dir.join(db::DB_FILE))?;
        events::install(&conn)?;
        let db = Arc::new(Mutex::new(conn));
        let queue = JobQueue::new(db.clone());
        let helper = HelperWorker::new(worker);
        let inner = Inner {
            data_dir: data_dir.to_path_buf(),
            data_dir_real,
            db,
            queue,
            dates_cursor: Default::default(),
            thumbs_cursor: Default::default(),
            helper,
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
        &self.inner.data_dir
    }

    /// The analysis queue.
    pub fn queue(&self) -> &JobQueue {
        &self.inner.queue
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

    pub(crate) fn helper(&self) -> &HelperWorker {
        &self.inner.helper
    }

    /// What the engine can use on this machine (ONNX Runtime, face models), as
    /// `keepsake doctor` reports it, asked of a worker: the app shows it in its About
    /// panel without loading the engine itself.
    pub fn engine_setup(&self) -> Result<RuntimeResult> {
        let response = self.helper().request(&WorkerRequest::InspectRuntime, std::time::Duration::from_secs(30))?;
        response.runtime.ok_or_else(|| LibraryError::Worker("the worker sent no runtime report".into()))
    }

    pub(crate) fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        lock(&self.inner.db)
    }

    // ---- roots ----------------------------------------------------------------------

    /// Registers an album folder, indexes it and queues its videos for analysis
    /// (analysis itself is run by an [`crate::Analyzer`]). Adding it again rescans.
    ///
    /// Keepsake's data directory, any folder inside it and any folder holding it are
    /// refused ([`LibraryError::DataDirectory`]): Keepsake would index its own
    /// thumbnails, then theirs. The check is here, not in each caller, so the app's
    /// dialog, its command line and `keepsake add` all get it.
    pub fn add_root(&self, dir: &Path, progress: &dyn Fn(ScanProgress)) -> Result<(Root, ScanReport)> {
        self.add_root_as(dir, progress, false)
    }

    /// [`Library::add_root`]; `demo` allows the one folder of the data directory that
    /// is an album, the generated demo album.
    pub(crate) fn add_root_as(
        &self,
        dir: &Path,
        progress: &dyn Fn(ScanProgress),
        demo: bool,
    ) -> Result<(Root, ScanReport)> {
        let dir = std::fs::canonicalize(dir).map_err(|e| LibraryError::io(dir, e))?;
        if !dir.is_dir() {
            return Err(LibraryError::NotAFolder(dir));
        }
        let data = &self.inner.data_dir_real;
        let is_demo = demo && dir == data.join(crate::DEMO_FOLDER);
        if (dir.starts_with(data) || data.starts_with(&dir)) && !is_demo {
            return Err(LibraryError::DataDirectory { folder: dir, data_dir: data.clone() });
        }
        let dir_s = path_str(&dir)?.to_owned();
        for root in self.roots()? {
            if root.path == dir {
                continue;
            }
            if dir.starts_with(&root.path) {
                return Err(LibraryError::NestedRoot(dir, root.path));
            }
            if root.path.starts_with(&dir) {
                return Err(LibraryError::NestedRoot(root.path, dir));
            }
        }
        let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or(&dir_s).to_owned();
        self.conn().execute(
            "INSERT INTO roots (path, name, added_at) VALUES (?1, ?2, ?3) ON CONFLICT(path) DO NOTHING",
            params![dir_s, name, now_ms()],
        )?;
        let id: RootId = self.conn().query_row("SELECT id FROM roots WHERE path = ?1", [&dir_s], |r| r.get(0))?;
        let report = self.scan_roots(&[(id, dir.clone())], progress, &mut |_| {})?;
        let root = self.roots()?.into_iter().find(|r| r.id == id).ok_or(LibraryError::NoSuchRoot(id))?;
        Ok((root, report))
    }

    /// Forgets an album folder and everything indexed under it (its derived images
    /// too). Never touches the folder itself.
    pub fn remove_root(&self, id: RootId) -> Result<()> {
        let ids: Vec<MediaId> = {
            let conn = self.conn();
            let mut stmt = conn.prepare("SELECT id FROM media WHERE root_id = ?1")?;
            let rows = stmt.query_map([id], |r| r.get(0))?;
            rows.collect::<std::result::Result<_, _>>()?
        };
        let n = self.conn().execute("DELETE FROM roots WHERE id = ?1", [id])?;
        if n == 0 {
            return Err(LibraryError::NoSuchRoot(id));
        }
        for mid in ids {
            self.remove_derived(mid);
        }
        Ok(())
    }

    /// The root registered at `dir` (after resolving it), if any.
    pub fn root_by_path(&self, dir: &Path) -> Result<Option<Root>> {
        let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
        Ok(self.roots()?.into_iter().find(|r| r.path == dir))
    }

    /// All album folders with their photo/video counts.
    pub fn roots(&self) -> Result<Vec<Root>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT r.id, r.path, r.name, r.online,
               (SELECT COUNT(*) FROM media m WHERE m.root_id = r.id AND m.kind = 'photo' AND m.presence != 'deleted'),
               (SELECT COUNT(*) FROM media m WHERE m.root_id = r.id AND m.kind = 'video' AND m.presence != 'deleted'
                  AND m.live_of IS NULL)
             FROM roots r ORDER BY r.name",
        )?;
        let rows = stmt.query_map([], |r| root_from_row(r, true))?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// Whether any album folder is registered. Cheap, unlike [`Library::roots`], which
    /// counts every album's photos and videos (a walk of the index on a 100k album).
    pub fn has_roots(&self) -> Result<bool> {
        Ok(self.conn().query_row("SELECT EXISTS (SELECT 1 FROM roots)", [], |r| r.get(0))?)
    }

    /// Whether the file at `path` (followed through links) lies inside one of the album
    /// folders: checked before a video is served or a moment of it rendered (the index
    /// could be stale), and before a file is replaced.
    pub fn in_an_album(&self, path: &Path) -> Result<bool> {
        let Ok(path) = std::fs::canonicalize(path) else { return Ok(false) };
        Ok(self.root_of(&path)?.is_some())
    }

    /// The root containing `path`, if any.
    pub fn root_of(&self, path: &Path) -> Result<Option<Root>> {
        let conn = self.conn();
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

    // ---- scan / reconcile -------------------------------------------------------------

    /// Reconciles every root with the disk: new, changed, moved and deleted files;
    /// roots that are not there go offline (media missing) and come back when they
    /// return. Also re-queues jobs interrupted by a crash.
    pub fn scan_all(&self, progress: &dyn Fn(ScanProgress)) -> Result<ScanReport> {
        self.queue().recover_interrupted()?;
        let roots: Vec<(RootId, PathBuf)> = self.roots()?.into_iter().map(|r| (r.id, r.path)).collect();
        self.scan_roots(&roots, progress, &mut |_| {})
    }

    /// Scans some roots, reporting what it found as the live watcher would: each media
    /// added, changed (or back), moved and removed is an event (the watcher's periodic
    /// rescans of network shares rely on it).
    pub(crate) fn scan_roots(
        &self,
        roots: &[(RootId, PathBuf)],
        progress: &dyn Fn(ScanProgress),
        on_event: &mut dyn FnMut(LibraryEvent),
    ) -> Result<ScanReport> {
        let _cache = ScanCache::grow(self)?;
        let mut report = ScanReport::default();
        let mut new_files = Vec::new();
        let mut fresh = Vec::new();
        // Folders where something changed: their Live Photos are paired again at the end.
        let mut dirty = std::collections::BTreeSet::new();
        // Changes and removals found by reconciling; a removed row that a new file takes
        // over (a move, matched by fingerprint) is reported as moved instead.
        let mut changes = Vec::new();
        for (id, path) in roots {
            if !path.is_dir() {
                let n = scan::mark_offline(&self.conn(), *id)?;
                tracing::warn!("album folder {} is not there (unplugged?): {n} item(s) now missing", path.display());
                report.missing += n;
                report.offline_roots.push(path.clone());
                continue;
            }
            if scan::root_is_empty(&self.conn(), *id)? {
                // Nothing to reconcile: walked and written at once, after the others.
                fresh.push((*id, path));
                continue;
            }
            let mut unreadable = Vec::new();
            let t0 = std::time::Instant::now();
            let found = scan::walk(path, progress, &mut unreadable);
            tracing::debug!(stage = "walk", ms = t0.elapsed().as_millis() as u64, files = found.len(), "timing");
            self.record_unreadable(*id, &unreadable)?;
            report.unreadable.extend(unreadable);
            let (r, new) = scan::reconcile_root(&mut self.conn(), *id, found, &mut dirty, &mut changes)?;
            report.merge(r);
            new_files.push((*id, new));
        }
        let mut removed: std::collections::HashMap<MediaId, PathBuf> = std::collections::HashMap::new();
        for e in changes {
            match e {
                LibraryEvent::MediaRemoved { id, path } => {
                    removed.insert(id, path);
                }
                e => on_event(e),
            }
        }
        let mut emit = |f: &FoundFile, what: Inserted| {
            dirty.extend(crate::motion::folder_of(&f.path));
            let path = PathBuf::from(&f.path);
            on_event(match what {
                Inserted::Added(id) => LibraryEvent::MediaAdded { id, path },
                Inserted::Moved(id) => match removed.remove(&id) {
                    Some(from) => LibraryEvent::MediaMoved { id, from, to: path },
                    None => LibraryEvent::MediaChanged { id, path },
                },
            })
        };
        // New files go in after every deletion is known, so a file moved between
        // folders while Keepsake was closed finds its old row (and its picks).
        for (id, files) in new_files {
            scan::insert_new(&mut self.conn(), id, &files, &mut report, &mut emit)?;
        }
        for (id, path) in fresh {
            self.scan_fresh_root(id, path, progress, &mut report, &mut emit)?;
        }
        let mut gone: Vec<(MediaId, PathBuf)> = removed.into_iter().collect();
        gone.sort();
        for (id, path) in gone {
            on_event(LibraryEvent::MediaRemoved { id, path });
        }
        for e in crate::motion::pair_folders(&self.inner.db, &dirty)? {
            on_event(e);
        }
        Ok(report)
    }

    /// A first scan of a folder with nothing indexed yet: one thread walks (system calls)
    /// while this one writes what it found (SQLite), a batch at a time, so indexing takes
    /// about as long as the slower of the two rather than their sum. The database lock
    /// is taken per batch, so the app stays responsive during a long first scan.
    fn scan_fresh_root(
        &self,
        id: RootId,
        path: &Path,
        progress: &dyn Fn(ScanProgress),
        report: &mut ScanReport,
        emit: &mut dyn FnMut(&FoundFile, Inserted),
    ) -> Result<()> {
        self.conn().execute("UPDATE roots SET online = 1 WHERE id = ?1", [id])?;
        let t0 = std::time::Instant::now();
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<FoundFile>>(4);
        let mut unreadable = Vec::new();
        let mut seen = 0u64;
        let written = std::thread::scope(|scope| -> Result<()> {
            let walker = scope.spawn(|| {
                let mut unreadable = Vec::new();
                scan::walk_batches(path, &mut unreadable, 5 * scan::PROGRESS_EVERY, &mut |batch| {
                    // A send fails only when the writer stopped on an error; the walk
                    // then ends early and that error is returned below.
                    let _ = tx.send(batch);
                });
                drop(tx);
                unreadable
            });
            let mut result = Ok(());
            for batch in rx.iter() {
                if result.is_err() {
                    continue; // drain, so the walker is never blocked on a full channel
                }
                seen += batch.len() as u64;
                progress(ScanProgress {
                    root: path.to_path_buf(),
                    files_seen: seen,
                    current: batch.last().map(|f| PathBuf::from(&f.path)),
                });
                result = scan::insert_new(&mut self.conn(), id, &batch, report, &mut *emit);
            }
            match walker.join() {
                Ok(u) => unreadable = u,
                Err(_) => unreadable.push((path.to_path_buf(), "the folder walk failed".into())),
            }
            result
        });
        tracing::debug!(stage = "walk+insert", ms = t0.elapsed().as_millis() as u64, files = seen, "timing");
        self.record_unreadable(id, &unreadable)?;
        report.unreadable.extend(unreadable);
        written
    }

    /// Replaces a root's list of folders and files that could not be read.
    fn record_unreadable(&self, id: RootId, unreadable: &[(PathBuf, String)]) -> Result<()> {
        let conn = self.conn();
        conn.execute("DELETE FROM scan_errors WHERE root_id = ?1", [id])?;
        for (p, e) in unreadable {
            conn.execute(
                "INSERT OR REPLACE INTO scan_errors (root_id, path, error) VALUES (?1, ?2, ?3)",
                params![id, p.to_string_lossy(), e],
            )?;
        }
        Ok(())
    }

    /// Indexes one file the watcher saw appear or change. Returns what happened.
    ///
    /// Only a file that really is where its path says, under its album: no symbolic
    /// link on the way (roots are stored resolved, so the resolved path must be the
    /// path itself). The scan never follows a link either, so the two agree.
    pub(crate) fn index_file(&self, path: &Path) -> Result<Vec<LibraryEvent>> {
        let event = self.index_one_file(path)?;
        let Some(event) = event else { return Ok(Vec::new()) };
        // Its folder's Live Photos pair again (this may be either half).
        let mut events = vec![event];
        events.extend(self.pair_around([path_str(path)?])?);
        Ok(events)
    }

    /// Pairs the Live Photos of the folders holding `paths` again (see [`crate::motion`]).
    fn pair_around<'a>(&self, paths: impl IntoIterator<Item = &'a str>) -> Result<Vec<LibraryEvent>> {
        crate::motion::pair_folders(&self.inner.db, &crate::motion::folders_of(paths))
    }

    /// [`Library::index_file`] without the pairing.
    fn index_one_file(&self, path: &Path) -> Result<Option<LibraryEvent>> {
        let Some(root) = self.root_of(path)? else { return Ok(None) };
        if scan::is_ignored_path(&root.path, path) {
            return Ok(None);
        }
        match std::fs::canonicalize(path) {
            Ok(real) if real == path => {}
            Ok(real) => {
                tracing::debug!("not indexing {}: it is really {}", path.display(), real.display());
                return Ok(None);
            }
            Err(_) => return Ok(None),
        }
        let Some(f) = FoundFile::stat(path) else { return Ok(None) };
        let conn = self.conn();
        let existing: Option<(i64, u64, i64, String)> = conn
            .query_row("SELECT id, size, mtime_ms, presence FROM media WHERE path = ?1", [&f.path], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .optional()?;
        match existing {
            Some((id, size, mtime, presence)) if presence != "deleted" => {
                if size == f.size && mtime == f.mtime_ms {
                    if presence == "missing" {
                        conn.execute("UPDATE media SET presence = 'present' WHERE id = ?1", [id])?;
                    }
                    return Ok(None);
                }
                conn.execute(
                    // A changed file is scored again (crate::scoring).
                    "UPDATE media SET size = ?2, mtime_ms = ?3, fingerprint = NULL, state = 'pending', error = NULL, presence = 'present',
                       score = NULL, faces = NULL, dhash = NULL WHERE id = ?1",
                    params![id, f.size, f.mtime_ms],
                )?;
                crate::jobs::enqueue_indexed(&conn, id)?;
                Ok(Some(LibraryEvent::MediaChanged { id, path: path.to_path_buf() }))
            }
            _ => {
                if let Some(id) = scan::relink_by_fingerprint(&conn, root.id, &f)? {
                    return Ok(Some(LibraryEvent::MediaChanged { id, path: path.to_path_buf() }));
                }
                let id = scan::insert_file(&conn, root.id, &f, true)?;
                Ok(Some(LibraryEvent::MediaAdded { id, path: path.to_path_buf() }))
            }
        }
    }

    /// The watcher saw `path` (a file or a whole folder) disappear.
    pub(crate) fn forget_path(&self, path: &Path) -> Result<Vec<LibraryEvent>> {
        // The index holds UTF-8 paths only: nothing was indexed at or under this one.
        let Some(path) = path.to_str() else { return Ok(Vec::new()) };
        let conn = self.conn();
        let rows = media_at_or_under(&conn, path)?;
        let mut events = Vec::new();
        for (id, mp) in rows {
            if Path::new(&mp).exists() {
                continue; // e.g. a rename that already landed
            }
            scan::soft_delete(&conn, id)?;
            events.push(LibraryEvent::MediaRemoved { id, path: PathBuf::from(mp) });
        }
        drop(conn);
        let gone: Vec<String> = events
            .iter()
            .filter_map(|e| match e {
                LibraryEvent::MediaRemoved { path, .. } => path.to_str().map(str::to_owned),
                _ => None,
            })
            .collect();
        events.extend(self.pair_around(gone.iter().map(String::as_str))?);
        Ok(events)
    }

    /// The watcher saw `from` renamed to `to` (a file or a folder), maybe across roots:
    /// rows follow the files, keeping picks and covers.
    pub(crate) fn rename_path(&self, from: &Path, to: &Path) -> Result<Vec<LibraryEvent>> {
        let Some(root) = self.root_of(to)? else { return self.forget_path(from) };
        if scan::is_ignored_path(&root.path, to) {
            return self.forget_path(from);
        }
        // A name that was not UTF-8 had nothing indexed: only its new name is looked at.
        let f = from.to_str().unwrap_or_default().to_owned();
        let t = path_str(to)?.to_owned();
        let moved = if f.is_empty() { Vec::new() } else { media_at_or_under(&self.conn(), &f)? };
        let mut events = Vec::new();
        for (id, old) in moved {
            // Every row starts with `f` byte for byte (see media_at_or_under).
            let Some(rest) = old.strip_prefix(f.as_str()) else { continue };
            let new = format!("{t}{rest}");
            let new_path = PathBuf::from(&new);
            let Some(found) = FoundFile::stat(&new_path) else { continue };
            scan::relink(&self.conn(), id, root.id, &new, found.mtime_ms)?;
            events.push(LibraryEvent::MediaMoved { id, from: PathBuf::from(old), to: new_path });
        }
        // Both folders' Live Photos pair again: one half may have left, or arrived.
        let ends: Vec<String> = events
            .iter()
            .filter_map(|e| match e {
                LibraryEvent::MediaMoved { from, to, .. } => Some([from, to]),
                _ => None,
            })
            .flatten()
            .filter_map(|p| p.to_str().map(str::to_owned))
            .collect();
        let paired = self.pair_around(ends.iter().map(String::as_str))?;
        // The entry itself: a link renamed into an album is not followed.
        let to_meta = std::fs::symlink_metadata(to).ok();
        if events.is_empty() && to_meta.as_ref().is_some_and(|m| m.is_file()) {
            events.extend(self.index_file(to)?);
        } else if to_meta.as_ref().is_some_and(|m| m.is_dir()) {
            // Files inside a folder moved in from outside any root.
            let found = scan::walk(to, &|_| {}, &mut Vec::new());
            for f in found {
                if media::id_by_path(&self.conn(), &f.path)?.is_none() {
                    events.extend(self.index_file(Path::new(&f.path))?);
                }
            }
        }
        events.extend(paired);
        Ok(events)
    }

    // ---- media ------------------------------------------------------------------------

    /// One page of the grid.
    pub fn media(&self, q: &MediaQuery) -> Result<Vec<MediaItem>> {
        let mut conn = self.conn();
        if q.event.is_some() {
            events::refresh(&mut conn)?;
        }
        media::list(&conn, q)
    }

    /// How many items match (for the scroll bar).
    pub fn media_count(&self, q: &MediaQuery) -> Result<u64> {
        let mut conn = self.conn();
        if q.event.is_some() {
            events::refresh(&mut conn)?;
        }
        media::count(&conn, q)
    }

    /// Everything about one item: picks, curve, cover, error, video facts.
    pub fn media_by_id(&self, id: MediaId) -> Result<MediaDetail> {
        media::detail(&self.conn(), &self.inner.data_dir, id)
    }

    /// Same, by the file's path (as the CLI names files).
    pub fn media_by_path(&self, path: &Path) -> Result<MediaDetail> {
        let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let id = media::id_by_path(&self.conn(), path_str(&path)?)?
            .ok_or_else(|| LibraryError::NotInLibrary(path.clone()))?;
        self.media_by_id(id)
    }

    /// Where the motion of still `id` lies: its Live Photo movie, or its motion photo's
    /// embedded MP4 (checked against the file as it is now). None when the item has no
    /// motion, or its file is not inside an album folder (the index could be stale).
    pub fn motion_source(&self, id: MediaId) -> Result<Option<crate::motion::MotionSource>> {
        let detail = self.media_by_id(id)?;
        let (path, offset, length, mime) = match detail.item.motion {
            None => return Ok(None),
            Some(MotionKind::Live) => {
                let Some(movie) = detail.motion_path else { return Ok(None) };
                let Ok(meta) = std::fs::symlink_metadata(&movie) else { return Ok(None) };
                let quicktime = movie.extension().is_some_and(|e| e.eq_ignore_ascii_case("mov"));
                (movie, 0, meta.len(), if quicktime { "video/quicktime" } else { "video/mp4" })
            }
            Some(MotionKind::Embedded) => {
                type Range = (Option<u64>, Option<u64>, Option<bool>, u64, i64);
                let (offset, length, fresh, size, mtime): Range = self.conn().query_row(
                    "SELECT motion_offset, motion_length, facts_stamp = size || ':' || mtime_ms, size, mtime_ms
                     FROM media WHERE id = ?1",
                    [id],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
                )?;
                let (Some(offset), Some(length)) = (offset, length) else { return Ok(None) };
                // The file must still be the one the range was read from.
                let Ok(meta) = std::fs::symlink_metadata(&detail.item.path) else { return Ok(None) };
                let same = fresh == Some(true) && meta.len() == size && scan::mtime_ms(&meta) == mtime;
                if !same || offset.checked_add(length).map_or(true, |end| end > meta.len()) {
                    return Ok(None);
                }
                (detail.item.path, offset, length, "video/mp4")
            }
        };
        if !std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_file()) || !self.in_an_album(&path)? {
            return Ok(None);
        }
        Ok(Some(crate::motion::MotionSource { path, offset, length, mime }))
    }

    /// The bytes of still `id`'s motion (see [`Library::motion_source`]), for the window
    /// to play from memory: WebKitGTK's media player cannot read a custom URI scheme
    /// (it asks GStreamer, which has no handler for `keepsake:`), so a Live Photo's movie
    /// or a motion photo's MP4 crosses as bytes. Read with one bounded read of exactly
    /// its range; more than [`MAX_MOTION_BYTES`] is refused.
    pub fn motion_clip(&self, id: MediaId) -> Result<Vec<u8>> {
        use std::io::{Read, Seek, SeekFrom};
        let source =
            self.motion_source(id)?.ok_or_else(|| LibraryError::NoImage(format!("no motion for item {id}")))?;
        if source.length > MAX_MOTION_BYTES {
            return Err(LibraryError::NoImage(format!(
                "{}: its motion is {} MB, more than the {} MB a photo's motion may be",
                source.path.display(),
                source.length >> 20,
                MAX_MOTION_BYTES >> 20
            )));
        }
        let mut file = crate::util::open_regular(&source.path, false).map_err(|e| LibraryError::io(&source.path, e))?;
        file.seek(SeekFrom::Start(source.offset)).map_err(|e| LibraryError::io(&source.path, e))?;
        let mut bytes = Vec::with_capacity(source.length as usize);
        file.take(source.length).read_to_end(&mut bytes).map_err(|e| LibraryError::io(&source.path, e))?;
        if bytes.len() as u64 != source.length {
            return Err(LibraryError::NoImage(format!("{}: shorter than its motion's range", source.path.display())));
        }
        Ok(bytes)
    }

    // ---- covers -----------------------------------------------------------------------

    /// Chooses the cover of a video: another pick, a moment (rendered now by a
    /// worker), or a custom image (validated and re-encoded; the original is never
    /// referenced again). Survives re-analysis.
    pub fn set_cover(&self, id: MediaId, choice: CoverChoice) -> Result<Cover> {
        let detail = self.media_by_id(id)?;
        self.ensure_fingerprint(id, &detail.item.path);
        let (kind, rank, time, image): (&str, Option<u32>, Option<f64>, Option<String>) = match &choice {
            CoverChoice::Pick(rank) => {
                if !detail.frames.iter().any(|f| f.rank == *rank) {
                    let have: Vec<String> = detail.frames.iter().map(|f| f.rank.to_string()).collect();
                    return Err(LibraryError::InvalidCover(if have.is_empty() {
                        format!(
                            "{} has no picks yet (not analysed); run `keepsake analyze` first",
                            detail.item.path.display()
                        )
                    } else {
                        format!("{} has no pick {rank}; it has picks {}", detail.item.path.display(), have.join(", "))
                    }));
                }
                ("pick", Some(*rank), None, None)
            }
            CoverChoice::Time(t) => {
                if detail.item.kind != MediaKind::Video {
                    return Err(LibraryError::InvalidCover(format!(
                        "{} is a photo; only videos have moments",
                        detail.item.path.display()
                    )));
                }
                if !t.is_finite() || *t < 0.0 || detail.item.duration.is_some_and(|d| *t > d) {
                    return Err(LibraryError::InvalidCover(format!(
                        "{t} s is outside {} (duration {:.2} s)",
                        detail.item.path.display(),
                        detail.item.duration.unwrap_or(f64::NAN)
                    )));
                }
                let rel = format!("covers/{id}-time-{}.jpg", now_ms());
                let dest = self.inner.data_dir.join(&rel);
                crate::render::cover_moment(self.helper(), &detail.item.path, *t, &dest)?;
                ("time", None, Some(*t), Some(rel))
            }
            CoverChoice::Image(src) => {
                let rel = format!("covers/{id}-image-{}.jpg", now_ms());
                import_cover_image(src, &self.inner.data_dir.join(&rel))?;
                ("image", None, None, Some(rel))
            }
        };
        let old = self.override_image(id)?;
        {
            let conn = self.conn();
            conn.execute(
                "INSERT OR REPLACE INTO cover_overrides (media_id, kind, pick_rank, time, image, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![id, kind, rank, time, image, now_ms()],
            )?;
            conn.execute("UPDATE media SET cover_version = cover_version + 1 WHERE id = ?1", [id])?;
        }
        if let Some(old) = old {
            let _ = std::fs::remove_file(self.inner.data_dir.join(old));
        }
        Ok(self.media_by_id(id)?.cover)
    }

    /// Back to the engine's choice; removes a stored custom/moment image.
    pub fn reset_cover(&self, id: MediaId) -> Result<Cover> {
        self.media_by_id(id)?;
        let old = self.override_image(id)?;
        {
            let conn = self.conn();
            conn.execute("DELETE FROM cover_overrides WHERE media_id = ?1", [id])?;
            conn.execute("UPDATE media SET cover_version = cover_version + 1 WHERE id = ?1", [id])?;
        }
        if let Some(old) = old {
            let _ = std::fs::remove_file(self.inner.data_dir.join(old));
        }
        Ok(self.media_by_id(id)?.cover)
    }

    fn override_image(&self, id: MediaId) -> Result<Option<String>> {
        Ok(self
            .conn()
            .query_row("SELECT image FROM cover_overrides WHERE media_id = ?1", [id], |r| r.get::<_, Option<String>>(0))
            .optional()?
            .flatten())
    }

    /// The file to serve for an image key, always inside the data directory. Photo
    /// thumbnails are rendered on first request.
    pub fn image_path(&self, key: &ImageKey) -> Result<PathBuf> {
        let path = match key {
            ImageKey::Cover(id) => self.media_by_id(*id)?.cover.path,
            ImageKey::Frame(id, rank) => {
                self.media_by_id(*id)?.frames.into_iter().find(|f| f.rank == *rank).map(|f| f.path)
            }
            ImageKey::Photo(id) => Some(self.photo_copy(*id, crate::render::PhotoCopy::Grid)?),
            ImageKey::View(id) => Some(self.photo_copy(*id, crate::render::PhotoCopy::Screen)?),
            ImageKey::TileFrame(id, rank) => {
                Some(self.tile_image(*id, &ImageKey::Frame(*id, *rank), &rank.to_string())?)
            }
            ImageKey::TileCover(id) => Some(self.tile_image(*id, &ImageKey::Cover(*id), "cover")?),
            ImageKey::Small(inner) => {
                if !matches!(**inner, ImageKey::Photo(_) | ImageKey::TileFrame(..) | ImageKey::TileCover(_)) {
                    return Err(LibraryError::NoImage(format!("no small copy of {inner:?}")));
                }
                // Made from the grid-size copy (cheap), named after it, so a new cover
                // version gets a new small copy too.
                let source = self.image_path(inner)?;
                let name = source.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
                let dest = source.with_file_name(format!("{name}-{SMALL_TILE_SIDE}.jpg"));
                if dest.is_file() {
                    Some(dest)
                } else {
                    // A tile crops its image to a square, so the *short* side must
                    // reach SMALL_TILE_SIDE or the tile would show an upscaled, soft
                    // picture: 455x256 for a 16:9 frame, 341x256 for a 4:3 photo.
                    let (w, h) = image::image_dimensions(&source)
                        .map_err(|e| LibraryError::NoImage(format!("{inner:?}: {e}")))?;
                    let (long, short) = (w.max(h).max(1), w.min(h).max(1));
                    let side = (u64::from(SMALL_TILE_SIDE) * u64::from(long)).div_ceil(u64::from(short));
                    if side >= u64::from(long) {
                        // A small picture (a 320x240 photo) is its own small copy:
                        // decoding and re-encoding the same pixels would only cost the
                        // first scroll past it time, and the disk a duplicate.
                        Some(source)
                    } else {
                        crate::render::thumbnail(&source, &dest, side as u32)?;
                        Some(dest)
                    }
                }
            }
        };
        let path = path.ok_or_else(|| LibraryError::NoImage(format!("{key:?}")))?;
        if !path.starts_with(&self.inner.data_dir) || !path.is_file() {
            return Err(LibraryError::NoImage(format!("{key:?}")));
        }
        Ok(path)
    }

    /// Photo `id`'s upright copy of size `copy` in `thumbs/`, rendered on first request
    /// (named by the file's size, so a changed file gets a new one).
    fn photo_copy(&self, id: MediaId, copy: crate::render::PhotoCopy) -> Result<PathBuf> {
        let item = self.media_by_id(id)?.item;
        if item.kind != MediaKind::Photo {
            return Err(LibraryError::NoImage(format!("photo copy of video {id}")));
        }
        let dest = self.inner.data_dir.join(format!("thumbs/{id}-{}{}.jpg", item.size, copy.suffix()));
        if item.state == MediaState::Failed {
            // Known unreadable: not decoded again until the file changes.
            return Err(LibraryError::NoImage(item.error.unwrap_or_else(|| "unreadable photo".into())));
        }
        if !dest.is_file() {
            self.render_photo_copy(id, &item.path, &dest, copy)?;
        }
        Ok(dest)
    }

    /// The grid-size copy of `full` (a pick or the cover of video `id`), rendered on
    /// first request next to the picks, named by the cover version so a new analysis or
    /// override gets a new file; older copies are removed then.
    fn tile_image(&self, id: MediaId, full: &ImageKey, label: &str) -> Result<PathBuf> {
        let version = self.media_by_id(id)?.item.cover_version;
        let dir = self.inner.data_dir.join(format!("frames/{id}"));
        let dest = dir.join(format!("tile-{label}-v{version}.jpg"));
        if !dest.is_file() {
            let source = self.image_path(full)?;
            crate::render::photo_thumbnail(&source, &dest)?;
            // Older versions go; files being written (`.part`) are another request's.
            let stale = format!("tile-{label}-v");
            if let Ok(entries) = std::fs::read_dir(&dir) {
                for e in entries.flatten() {
                    let name = e.file_name();
                    let name = name.to_string_lossy();
                    // `tile-1-v3.jpg`, or its small copy `tile-1-v3-256.jpg`.
                    let older = name
                        .strip_prefix(&stale)
                        .and_then(|rest| rest.strip_suffix(".jpg"))
                        .map(|rest| rest.split_once('-').map_or(rest, |(v, _)| v))
                        .is_some_and(|v| v.parse::<i64>().is_ok_and(|v| v != version));
                    if older {
                        let _ = std::fs::remove_file(e.path());
                    }
                }
            }
        }
        Ok(dest)
    }

    // ---- analysis results (used by the analyzer) -----------------------------------

    /// Computes the fingerprint if missing, so a later move is recognised.
    pub(crate) fn ensure_fingerprint(&self, id: MediaId, path: &Path) {
        let has: bool = self
            .conn()
            .query_row("SELECT fingerprint IS NOT NULL FROM media WHERE id = ?1", [id], |r| r.get(0))
            .unwrap_or(true);
        if !has {
            if let Ok(fp) = crate::fingerprint::fingerprint(path) {
                let _ = self.conn().execute("UPDATE media SET fingerprint = ?2 WHERE id = ?1", params![id, fp]);
            }
        }
    }

    /// Stores a probe's facts (duration etc.) so timeouts and the grid can use them.
    pub(crate) fn store_probe(&self, id: MediaId, p: &ProbeResult) -> Result<()> {
        let conn = self.conn();
        conn.execute(
            "UPDATE media SET duration = ?2, width = ?3, height = ?4, rotation = ?5, codec = ?6, picture = ?7 WHERE id = ?1",
            params![
                id,
                p.duration,
                p.width,
                p.height,
                p.rotation,
                p.codec,
                (!p.picture.is_empty()).then(|| serde_json::to_string(&p.picture).unwrap_or_default())
            ],
        )?;
        if let Some(t) = p.created_at {
            conn.execute(
                "UPDATE media SET taken_at = ?2, taken_source = 'container' WHERE id = ?1 AND taken_source = 'mtime'",
                params![id, t],
            )?;
        }
        Ok(())
    }

    /// The difference hash of a pick's image, which must be inside the data directory.
    pub(crate) fn pick_dhash(&self, path: &Path) -> Option<i64> {
        if !path.starts_with(self.data_dir()) {
            return None;
        }
        crate::picture::dhash(path).map_err(|e| tracing::debug!("{}: no difference hash: {e}", path.display())).ok()
    }

    /// Stores a finished analysis in one transaction: picks, curve, facts, state, job
    /// done. Images are already in `frames/<id>/`; older image folders are removed.
    pub(crate) fn store_analysis(&self, job_id: i64, id: MediaId, a: &AnalysisResult) -> Result<()> {
        self.store_probe(id, &a.info)?;
        let best = crate::picture::best_pick_scores(&a.frames);
        let best_hash = best.and_then(|(_, _, image)| self.pick_dhash(image));
        let data_dir = &self.inner.data_dir;
        // Plain data; serialising it cannot fail, but a failure must not go unnoticed.
        let as_json = |what: &str, json: serde_json::Result<String>| {
            json.map_err(|e| LibraryError::Worker(format!("cannot store the analysis's {what}: {e}")))
        };
        let curve = as_json("curve", serde_json::to_string(&a.curve))?;
        {
            let mut conn = self.conn();
            let tx = conn.transaction()?;
            tx.execute("DELETE FROM picks WHERE media_id = ?1", [id])?;
            for f in &a.frames {
                let rel = f.path.strip_prefix(data_dir).unwrap_or(&f.path).to_string_lossy().into_owned();
                tx.execute(
                    "INSERT INTO picks (media_id, rank, time, score, image, width, height, reasons) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    params![id, f.rank, f.time, f.score, rel, f.width, f.height, as_json("reasons", serde_json::to_string(&f.reasons))?],
                )?;
            }
            tx.execute("INSERT OR REPLACE INTO curves (media_id, points) VALUES (?1, ?2)", params![id, curve])?;
            tx.execute(
                "UPDATE media SET state = 'ready', error = NULL, cover_version = cover_version + 1 WHERE id = ?1",
                [id],
            )?;
            // Events and memories judge a video by its best pick (crate::picture).
            if let Some((score, faces, _)) = best {
                tx.execute(
                    "UPDATE media SET score = ?2, faces = ?3, dhash = ?4 WHERE id = ?1",
                    params![id, score.is_finite().then_some(score), faces, best_hash],
                )?;
            }
            tx.execute(
                "UPDATE jobs SET state = ?3, error = NULL, error_kind = NULL, owner_pid = NULL, finished_ms = ?2
                 WHERE id = ?1",
                params![job_id, now_ms(), JobState::Done],
            )?;
            tx.commit()?;
        }
        Ok(())
    }

    fn remove_derived(&self, id: MediaId) {
        let _ = std::fs::remove_dir_all(self.inner.data_dir.join(format!("frames/{id}")));
    }
}

/// The library's side of rendering ([`crate::render`] makes the pictures): what becomes
/// of them.
impl Library {
    /// [`crate::render::photo_copy`], and a photo unreadable for a reason of its own is
    /// marked `failed` with that reason, so its tile says "Unreadable" and why, and it is
    /// not decoded again until the file changes; the error is [`LibraryError::Unreadable`].
    pub(crate) fn render_photo_copy(
        &self,
        id: MediaId,
        photo: &Path,
        dest: &Path,
        copy: crate::render::PhotoCopy,
    ) -> Result<()> {
        let rendered = crate::render::photo_copy(self.helper(), id, photo, dest, copy);
        if let Err(LibraryError::Unreadable { reason, .. }) = &rendered {
            tracing::warn!("{}: unreadable photo: {reason}", photo.display());
            self.conn().execute(
                "UPDATE media SET state = 'failed', error = ?2 WHERE id = ?1 AND kind = 'photo'",
                params![id, reason],
            )?;
        }
        rendered
    }

    /// A preview of any moment of video `id` for the timeline scrubber (at most 960 px),
    /// rendered on first request and kept in the data directory's `previews/` folder.
    /// Times are rounded to tenths of a second, so dragging back and forth reuses them.
    pub fn moment_preview(&self, id: MediaId, millis: u64) -> Result<PathBuf> {
        let item = self.media_by_id(id)?.item;
        if item.kind != MediaKind::Video {
            return Err(LibraryError::NoImage(format!("a moment of {}: it is a photo", item.path.display())));
        }
        let t = millis as f64 / 1000.0;
        if item.duration.is_some_and(|d| t > d + 0.5) {
            return Err(LibraryError::NoImage(format!("{t:.1} s of {}: past its end", item.path.display())));
        }
        if !self.in_an_album(&item.path)? {
            return Err(LibraryError::NotInLibrary(item.path));
        }
        let dir = self.data_dir().join("previews");
        let out = dir.join(format!("{id}-{}-{}.jpg", item.size, millis / 100));
        if !out.is_file() {
            std::fs::create_dir_all(&dir).map_err(|e| LibraryError::io(&dir, e))?;
            crate::render::moment(self.helper(), &item.path, t, &out, crate::render::PREVIEW_SIDE)?;
        }
        Ok(out)
    }
}

/// A root from `id, path, name, online[, photos, videos]`; counts are 0 when the query
/// has none.
///
/// The listing (`with_counts`) also says where the root lives ([`crate::storage`]; its
/// `statfs` is remembered, and skipped while the root is offline); the per-event
/// lookups do not need it.
fn root_from_row(r: &rusqlite::Row, with_counts: bool) -> rusqlite::Result<Root> {
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

/// Live media rows (id, path) for the file at `path` or anything inside the folder at
/// `path`: what a watcher's delete or rename of that path touches.
///
/// An exact byte range on the path (`path/` ≤ p < `path0`, '0' being the byte after
/// '/'), not `LIKE`: LIKE folds ASCII case (deleting `Trip/` touched `trip/`) and
/// reads `%`, `_` and the escape character in folder names as patterns.
fn media_at_or_under(conn: &Connection, path: &str) -> Result<Vec<(i64, String)>> {
    let folder = path.trim_end_matches('/');
    let mut stmt = conn.prepare_cached(
        "SELECT id, path FROM media WHERE presence != 'deleted'
           AND (path = ?1 OR (path >= ?2 || '/' AND path < ?2 || '0'))",
    )?;
    let rows = stmt.query_map(params![path, folder], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}

/// A scan's larger SQLite page cache, for as long as the scan runs. Dropping it (the scan
/// ended or failed) shrinks the cache back and hands the scan's memory (every row read,
/// lists of every path) back to the system rather than hold it for the app's lifetime.
struct ScanCache<'a>(&'a Library);

impl<'a> ScanCache<'a> {
    fn grow(library: &'a Library) -> Result<Self> {
        db::set_cache_kib(&library.conn(), db::SCAN_CACHE_KIB)?;
        Ok(Self(library))
    }
}

impl Drop for ScanCache<'_> {
    fn drop(&mut self) {
        let conn = self.0.conn();
        if let Err(e) =
            db::set_cache_kib(&conn, db::CACHE_KIB).and_then(|()| Ok(conn.execute_batch("PRAGMA shrink_memory")?))
        {
            tracing::warn!(error = %e, "could not shrink the database cache after a scan");
        }
        drop(conn);
        crate::util::release_free_memory();
    }
}

// ---- browsing by time (crate::events) --------------------------------------------

impl Library {
    /// One header per month or day of the grid's items, in the grid's order (none when
    /// sorted by name): the same filter as [`Library::media`], so the counts add up to
    /// [`Library::media_count`]. Local time, as the page formats dates.
    pub fn date_sections(&self, q: &MediaQuery, by: SectionSize) -> Result<Vec<DateSection>> {
        events::date_sections(&self.conn(), q, by)
    }

    /// Regroups events if anything changed since they were last grouped. Cheap when
    /// nothing did (one indexed lookup); the analyzer calls it in the background.
    pub fn refresh_events(&self) -> Result<Option<Recomputed>> {
        events::refresh(&mut self.conn())
    }

    /// Events, newest first; with `root`, those with items in that album.
    pub fn events(&self, root: Option<RootId>) -> Result<Vec<Event>> {
        let mut conn = self.conn();
        events::refresh(&mut conn)?;
        events::list(&conn, root, None)
    }

    /// Names event `id` (None or blank: back to its dates).
    pub fn rename_event(&self, id: EventId, name: Option<&str>) -> Result<Event> {
        let name = name.map(str::trim).filter(|n| !n.is_empty());
        if let Some(n) = name {
            if n.chars().count() > MAX_EVENT_NAME {
                return Err(LibraryError::InvalidName(format!(
                    "an event's name may be at most {MAX_EVENT_NAME} characters"
                )));
            }
            if n.chars().any(char::is_control) {
                return Err(LibraryError::InvalidName(
                    "an event's name may not hold line breaks or control characters".into(),
                ));
            }
        }
        let mut conn = self.conn();
        events::refresh(&mut conn)?;
        let n = conn.execute("UPDATE events SET name = ?2 WHERE id = ?1", params![id, name])?;
        if n == 0 {
            return Err(LibraryError::NoSuchEvent(id));
        }
        events::list(&conn, None, Some(id))?.pop().ok_or(LibraryError::NoSuchEvent(id))
    }

    /// The event media item `id` belongs to, if grouped.
    pub fn event_of(&self, id: MediaId) -> Result<Option<EventId>> {
        let mut conn = self.conn();
        events::refresh(&mut conn)?;
        Ok(conn
            .query_row("SELECT event_id FROM media WHERE id = ?1", [id], |r| r.get::<_, Option<EventId>>(0))
            .optional()?
            .flatten())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache_kib(library: &Library) -> i64 {
        -library.conn().pragma_query_value(None, "cache_size", |r| r.get::<_, i64>(0)).unwrap()
    }

    /// Live paths in the index, sorted.
    fn paths(library: &Library) -> Vec<String> {
        let conn = library.conn();
        let mut stmt = conn.prepare("SELECT path FROM media WHERE presence != 'deleted' ORDER BY path").unwrap();
        let rows = stmt.query_map([], |r| r.get::<_, String>(0)).unwrap();
        rows.map(|r| r.unwrap()).collect()
    }

    fn touch(path: &Path) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, path.to_string_lossy().as_bytes()).unwrap();
    }

    /// A folder's rename or deletion touches that folder's rows only: not a sibling
    /// that differs in case (`LIKE` folds ASCII case), nor one its name matches as a
    /// pattern (`%`, `_`, `\`), and a multi-byte name never splits mid-character.
    #[test]
    fn a_folder_renamed_or_deleted_touches_only_its_own_rows() {
        let data = tempfile::tempdir().unwrap();
        let album = tempfile::tempdir().unwrap();
        let album = std::fs::canonicalize(album.path()).unwrap();
        let a = |rel: &str| album.join(rel);
        for rel in [
            "Trip/a.jpg",
            "Trip/b.jpg",
            "trip/b.jpg",
            "100%/c.jpg",
            "100%x/c.jpg",
            "100x/c.jpg",
            "a_b/d.jpg",
            "aXb/d.jpg",
            "\\é\\b/e.jpg",
            "éb/ü.jpg",
            "Fête/ü.jpg",
            "Fête2/ü.jpg",
        ] {
            touch(&a(rel));
        }
        let library = Library::open(data.path()).unwrap();
        library.add_root(&album, &|_| {}).unwrap();
        let id_of = |rel: &str| media::id_by_path(&library.conn(), a(rel).to_str().unwrap()).unwrap().unwrap();
        let sibling = id_of("trip/b.jpg");
        let before = paths(&library);

        // Renames: only the renamed folder's rows follow it.
        for (from, to) in [("Trip", "Journey"), ("100%", "Hundred"), ("a_b", "ab"), ("\\é\\b", "x"), ("Fête", "Party")]
        {
            std::fs::rename(a(from), a(to)).unwrap();
            let events = library.rename_path(&a(from), &a(to)).unwrap();
            assert!(!events.is_empty(), "{from} -> {to}: its files moved");
        }
        let expected: Vec<String> = {
            let mut v: Vec<String> = [
                "Journey/a.jpg",
                "Journey/b.jpg",
                "trip/b.jpg",
                "Hundred/c.jpg",
                "100%x/c.jpg",
                "100x/c.jpg",
                "ab/d.jpg",
                "aXb/d.jpg",
                "x/e.jpg",
                "éb/ü.jpg",
                "Party/ü.jpg",
                "Fête2/ü.jpg",
            ]
            .iter()
            .map(|r| a(r).to_string_lossy().into_owned())
            .collect();
            v.sort();
            v
        };
        assert_ne!(before, expected);
        assert_eq!(paths(&library), expected);
        assert_eq!(id_of("trip/b.jpg"), sibling, "the sibling kept its row");

        // Deletions: only the deleted folder's rows go.
        for dir in ["Journey", "Hundred", "ab", "x", "Party"] {
            std::fs::remove_dir_all(a(dir)).unwrap();
            library.forget_path(&a(dir)).unwrap();
        }
        let left: Vec<String> = {
            let mut v: Vec<String> =
                ["trip/b.jpg", "100%x/c.jpg", "100x/c.jpg", "aXb/d.jpg", "éb/ü.jpg", "Fête2/ü.jpg"]
                    .iter()
                    .map(|r| a(r).to_string_lossy().into_owned())
                    .collect();
            v.sort();
            v
        };
        assert_eq!(paths(&library), left);
    }

    #[test]
    fn scans_get_a_big_page_cache_and_give_it_back() {
        let data = tempfile::tempdir().unwrap();
        let album = tempfile::tempdir().unwrap();
        std::fs::write(album.path().join("a.jpg"), b"not really a photo").unwrap();
        let library = Library::open(data.path()).unwrap();
        assert_eq!(cache_kib(&library), db::CACHE_KIB, "a fresh connection");

        library.add_root(album.path(), &|_| {}).unwrap();
        assert_eq!(cache_kib(&library), db::CACHE_KIB, "after a first scan");

        let during = Mutex::new(Vec::new());
        library.scan_all(&|_| during.lock().unwrap().push(cache_kib(&library))).unwrap();
        let during = during.into_inner().unwrap();
        assert!(!during.is_empty(), "the rescan reported progress");
        assert!(during.iter().all(|&kib| kib == db::SCAN_CACHE_KIB), "during the rescan: {during:?}");
        assert_eq!(cache_kib(&library), db::CACHE_KIB, "after the rescan");
    }
}
