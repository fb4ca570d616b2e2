//! [`Index`]: what is in the albums. Album folders (with the guard that refuses the
//! data directory), scans and reconciles, and the watcher's changes, one file or folder
//! at a time.
//!
//! **One path for a file, whoever noticed it.** A scan (at launch, `keepsake scan`, a
//! network share's rescan) and the watcher (a file written, moved or deleted while the
//! app runs) both index a file through the same functions of [`crate::scan`]:
//! [`scan::update_existing`] for a file the index has (changed, or back from an
//! unplugged disk), [`scan::add_new`] for one it has not (a move matched by fingerprint,
//! else a new row), [`scan::soft_delete`] for one that went. Each queues the file's
//! background work through `jobs::enqueue_indexed`. So a file changed under the watcher
//! ends in the same row as the same change found by a scan, and a rule changed in one
//! place holds for both. The scan only adds batching (one transaction per few thousand
//! rows, a bulk insert for rows that are new) and the walk.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rusqlite::{params, Connection};

use crate::core::{path_str, Core};
use crate::db::{self, Presence};
use crate::error::{LibraryError, Result};
use crate::jobs::JobQueue;
use crate::media;
use crate::model::*;
use crate::scan::{self, FoundFile, Inserted};
use crate::util::now_ms;

/// Album folders and what is indexed in them: roots, scans, the watcher's changes.
/// From [`crate::Library::index`]; cheap to clone.
#[derive(Clone)]
pub struct Index {
    core: Arc<Core>,
    /// A scan re-queues jobs a crash interrupted.
    queue: JobQueue,
}

impl Index {
    pub(crate) fn new(core: Arc<Core>, queue: JobQueue) -> Index {
        Index { core, queue }
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

    /// [`Index::add_root`]; `demo` allows the one folder of the data directory that
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
        let data = &self.core.data_dir_real;
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
        self.core.conn().execute(
            "INSERT INTO roots (path, name, added_at) VALUES (?1, ?2, ?3) ON CONFLICT(path) DO NOTHING",
            params![dir_s, name, now_ms()],
        )?;
        let id: RootId = self.core.conn().query_row("SELECT id FROM roots WHERE path = ?1", [&dir_s], |r| r.get(0))?;
        let report = self.scan_roots(&[(id, dir.clone())], progress, &mut |_| {})?;
        let root = self.roots()?.into_iter().find(|r| r.id == id).ok_or(LibraryError::NoSuchRoot(id))?;
        Ok((root, report))
    }

    /// Forgets an album folder and everything indexed under it (its derived images
    /// too). Never touches the folder itself.
    pub fn remove_root(&self, id: RootId) -> Result<()> {
        let ids: Vec<MediaId> = {
            let conn = self.core.conn();
            let mut stmt = conn.prepare("SELECT id FROM media WHERE root_id = ?1")?;
            let rows = stmt.query_map([id], |r| r.get(0))?;
            rows.collect::<std::result::Result<_, _>>()?
        };
        let n = self.core.conn().execute("DELETE FROM roots WHERE id = ?1", [id])?;
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
        let conn = self.core.read()?;
        let mut stmt = conn.prepare(
            "SELECT r.id, r.path, r.name, r.online,
               (SELECT COUNT(*) FROM media m WHERE m.root_id = r.id AND m.kind = 'photo' AND m.presence != ?1),
               (SELECT COUNT(*) FROM media m WHERE m.root_id = r.id AND m.kind = 'video' AND m.presence != ?1
                  AND m.live_of IS NULL)
             FROM roots r ORDER BY r.name",
        )?;
        let rows = stmt.query_map([Presence::Deleted], |r| crate::core::root_from_row(r, true))?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// Whether any album folder is registered. Cheap, unlike [`Index::roots`], which
    /// counts every album's photos and videos (a walk of the index on a 100k album).
    pub fn has_roots(&self) -> Result<bool> {
        Ok(self.core.read()?.query_row("SELECT EXISTS (SELECT 1 FROM roots)", [], |r| r.get(0))?)
    }

    /// Whether the file at `path` (followed through links) lies inside one of the album
    /// folders: checked before a video is served or a moment of it rendered (the index
    /// could be stale), and before a file is replaced.
    pub fn in_an_album(&self, path: &Path) -> Result<bool> {
        self.core.in_an_album(path)
    }

    /// The root containing `path`, if any.
    pub fn root_of(&self, path: &Path) -> Result<Option<Root>> {
        self.core.root_of(path)
    }

    // ---- scan / reconcile -------------------------------------------------------------

    /// Reconciles every root with the disk: new, changed, moved and deleted files;
    /// roots that are not there go offline (media missing) and come back when they
    /// return. Also re-queues jobs interrupted by a crash.
    pub fn scan_all(&self, progress: &dyn Fn(ScanProgress)) -> Result<ScanReport> {
        self.queue.recover_interrupted()?;
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
        let _cache = ScanCache::grow(&self.core)?;
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
                let n = scan::mark_offline(&self.core.conn(), *id)?;
                tracing::warn!("album folder {} is not there (unplugged?): {n} item(s) now missing", path.display());
                report.missing += n;
                report.offline_roots.push(path.clone());
                continue;
            }
            if scan::root_is_empty(&self.core.conn(), *id)? {
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
            let (r, new) = scan::reconcile_root(&mut self.core.conn(), *id, found, &mut dirty, &mut changes)?;
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
        // `first`: a new row at a path no row had, in a root that had none (a first scan).
        // Such a row changes no folder's pairing by itself: only a movie that can be a
        // Live Photo's (by the facts the walk read) gives its folder something to pair, and
        // a folder of a first scan holds nothing else (a row taken over is not `first`).
        let mut emit = |f: &FoundFile, what: Inserted, first: bool| {
            if !first || f.movie.as_ref().is_some_and(crate::motion::may_pair) {
                dirty.extend(crate::motion::folder_of(&f.path));
            }
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
            scan::insert_new(&self.core.conn(), id, &files, &mut report, |f, what, _| emit(f, what, false))?;
        }
        for (id, path) in fresh {
            self.scan_fresh_root(id, path, progress, &mut report, &mut emit)?;
        }
        let mut gone: Vec<(MediaId, PathBuf)> = removed.into_iter().collect();
        gone.sort();
        for (id, path) in gone {
            on_event(LibraryEvent::MediaRemoved { id, path });
        }
        for e in crate::motion::pair_folders(&self.core.db, &dirty)? {
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
        emit: &mut dyn FnMut(&FoundFile, Inserted, bool),
    ) -> Result<()> {
        self.core.conn().execute("UPDATE roots SET online = 1 WHERE id = ?1", [id])?;
        let t0 = std::time::Instant::now();
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<FoundFile>>(4);
        let mut unreadable = Vec::new();
        let mut seen = 0u64;
        let writing = std::sync::atomic::AtomicBool::new(true);
        let written = std::thread::scope(|scope| -> Result<()> {
            let walker = scope.spawn(|| {
                let mut unreadable = Vec::new();
                scan::walk_batches(path, &mut unreadable, 5 * scan::PROGRESS_EVERY, &mut |mut batch| {
                    // In path order (here, off the writing thread): each folder's rows land
                    // together in the path index instead of at random within it.
                    batch.sort_unstable_by(|a, b| a.path.cmp(&b.path));
                    // And the facts of movies that may be Live Photos' (see FoundFile::movie).
                    for f in batch.iter_mut().filter(|f| f.kind == MediaKind::Video) {
                        if f.path.rsplit_once('/').is_some_and(|(_, name)| crate::motion::is_live_movie(name)) {
                            f.movie = Some(crate::motion::movie_facts(Path::new(&f.path)));
                        }
                    }
                    // A send fails only when the writer stopped on an error; the walk
                    // then ends early and that error is returned below.
                    let _ = tx.send(batch);
                });
                drop(tx);
                // The walk is done, its core idle: the WAL goes to the database meanwhile.
                db::checkpoint_while(self.core.db_path(), &writing);
                unreadable
            });
            // Set on every way out of here (an error or a panic too), or the walker's
            // checkpoints would never end and the scope never close.
            let stop_checkpoints = db::StopOnDrop(&writing);
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
                result = scan::insert_new(&self.core.conn(), id, &batch, report, &mut *emit);
            }
            drop(stop_checkpoints);
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
        let conn = self.core.conn();
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
        crate::motion::pair_folders(&self.core.db, &crate::motion::folders_of(paths))
    }

    /// [`Index::index_file`] without the pairing: the same functions as the scan's
    /// ([`scan::update_existing`], [`scan::add_new`]), so a file is indexed the same
    /// whichever noticed it.
    fn index_one_file(&self, path: &Path) -> Result<Option<LibraryEvent>> {
        let Some(root) = self.core.root_of(path)? else { return Ok(None) };
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
        let mut conn = self.core.conn();
        let tx = conn.transaction()?;
        let event = match scan::existing_at(&tx, &f.path)? {
            Some(e) => {
                let touched = scan::update_existing(&tx, &f, &e)?;
                (touched != scan::Touched::Unchanged)
                    .then(|| LibraryEvent::MediaChanged { id: e.id, path: path.to_path_buf() })
            }
            None => Some(match scan::add_new(&tx, root.id, &f, scan::Dates::Read)? {
                Inserted::Added(id) => LibraryEvent::MediaAdded { id, path: path.to_path_buf() },
                Inserted::Moved(id) => LibraryEvent::MediaChanged { id, path: path.to_path_buf() },
            }),
        };
        tx.commit()?;
        Ok(event)
    }

    /// The watcher saw `path` (a file or a whole folder) disappear.
    pub(crate) fn forget_path(&self, path: &Path) -> Result<Vec<LibraryEvent>> {
        // The index holds UTF-8 paths only: nothing was indexed at or under this one.
        let Some(path) = path.to_str() else { return Ok(Vec::new()) };
        let conn = self.core.conn();
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
        let moved = if f.is_empty() { Vec::new() } else { media_at_or_under(&self.core.conn(), &f)? };
        let mut events = Vec::new();
        for (id, old) in moved {
            // Every row starts with `f` byte for byte (see media_at_or_under).
            let Some(rest) = old.strip_prefix(f.as_str()) else { continue };
            let new = format!("{t}{rest}");
            let new_path = PathBuf::from(&new);
            let Some(found) = FoundFile::stat(&new_path) else { continue };
            scan::relink(&self.core.conn(), id, root.id, &new, found.mtime_ms)?;
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
                if media::id_by_path(&self.core.conn(), &f.path)?.is_none() {
                    events.extend(self.index_file(Path::new(&f.path))?);
                }
            }
        }
        events.extend(paired);
        Ok(events)
    }

    /// Computes the fingerprint if missing, so a later move is recognised.
    pub(crate) fn ensure_fingerprint(&self, id: MediaId, path: &Path) {
        ensure_fingerprint(&self.core, id, path);
    }

    fn remove_derived(&self, id: MediaId) {
        let _ = std::fs::remove_dir_all(self.core.data_dir.join(format!("frames/{id}")));
    }
}

/// Computes media `id`'s fingerprint if it has none (hashing without the database
/// lock), so a later move of its file is recognised.
pub(crate) fn ensure_fingerprint(core: &Core, id: MediaId, path: &Path) {
    let has = core
        .read()
        .and_then(|c| Ok(c.query_row("SELECT fingerprint IS NOT NULL FROM media WHERE id = ?1", [id], |r| r.get(0))?))
        .unwrap_or(true);
    if !has {
        if let Ok(fp) = crate::fingerprint::fingerprint(path) {
            let _ = core.conn().execute("UPDATE media SET fingerprint = ?2 WHERE id = ?1", params![id, fp]);
        }
    }
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
        "SELECT id, path FROM media WHERE presence != ?3
           AND (path = ?1 OR (path >= ?2 || '/' AND path < ?2 || '0'))",
    )?;
    let rows = stmt.query_map(params![path, folder, Presence::Deleted], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}

/// A scan's larger SQLite page cache, for as long as the scan runs. Dropping it (the scan
/// ended or failed) shrinks the cache back and hands the scan's memory (every row read,
/// lists of every path) back to the system rather than hold it for the app's lifetime.
struct ScanCache<'a>(&'a Core);

impl<'a> ScanCache<'a> {
    fn grow(core: &'a Core) -> Result<Self> {
        db::set_cache_kib(&core.conn(), db::SCAN_CACHE_KIB)?;
        core.conn().pragma_update(None, "wal_autocheckpoint", db::SCAN_WAL_PAGES)?;
        // The bulk insert's multi-row statements keep their statement journal in memory
        // rather than in a temporary file created and unlinked per transaction.
        core.conn().pragma_update(None, "temp_store", "MEMORY")?;
        Ok(Self(core))
    }
}

impl Drop for ScanCache<'_> {
    fn drop(&mut self) {
        let conn = self.0.conn();
        if let Err(e) = db::set_cache_kib(&conn, db::CACHE_KIB).and_then(|()| {
            conn.pragma_update(None, "wal_autocheckpoint", db::WAL_PAGES)?;
            conn.pragma_update(None, "temp_store", "DEFAULT")?;
            Ok(conn.execute_batch("PRAGMA shrink_memory")?)
        }) {
            tracing::warn!(error = %e, "could not shrink the database cache after a scan");
        }
        drop(conn);
        crate::util::release_free_memory();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Library;
    use std::sync::Mutex;

    fn cache_kib(library: &Library) -> i64 {
        -library.conn().pragma_query_value(None, "cache_size", |r| r.get::<_, i64>(0)).unwrap()
    }

    /// Live paths in the index, sorted.
    fn paths(library: &Library) -> Vec<String> {
        let conn = library.conn();
        let mut stmt = conn.prepare("SELECT path FROM media WHERE presence != ?1 ORDER BY path").unwrap();
        let rows = stmt.query_map([Presence::Deleted], |r| r.get::<_, String>(0)).unwrap();
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
        library.index().add_root(&album, &|_| {}).unwrap();
        let id_of = |rel: &str| media::id_by_path(&library.conn(), a(rel).to_str().unwrap()).unwrap().unwrap();
        let sibling = id_of("trip/b.jpg");
        let before = paths(&library);

        // Renames: only the renamed folder's rows follow it.
        for (from, to) in [("Trip", "Journey"), ("100%", "Hundred"), ("a_b", "ab"), ("\\é\\b", "x"), ("Fête", "Party")]
        {
            std::fs::rename(a(from), a(to)).unwrap();
            let events = library.index().rename_path(&a(from), &a(to)).unwrap();
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
            library.index().forget_path(&a(dir)).unwrap();
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

        library.index().add_root(album.path(), &|_| {}).unwrap();
        assert_eq!(cache_kib(&library), db::CACHE_KIB, "after a first scan");

        let during = Mutex::new(Vec::new());
        library.index().scan_all(&|_| during.lock().unwrap().push(cache_kib(&library))).unwrap();
        let during = during.into_inner().unwrap();
        assert!(!during.is_empty(), "the rescan reported progress");
        assert!(during.iter().all(|&kib| kib == db::SCAN_CACHE_KIB), "during the rescan: {during:?}");
        assert_eq!(cache_kib(&library), db::CACHE_KIB, "after the rescan");
    }

    /// A media row's state, but for its identity (id, path, name), and its jobs.
    fn row_state(library: &Library, path: &Path) -> (Vec<Option<String>>, Vec<Vec<Option<String>>>) {
        let conn = library.conn();
        let id: i64 =
            conn.query_row("SELECT id FROM media WHERE path = ?1", [path.to_str().unwrap()], |r| r.get(0)).unwrap();
        let text = |r: &rusqlite::Row, i: usize| -> Option<String> {
            r.get::<_, rusqlite::types::Value>(i).map(|v| Some(format!("{v:?}"))).unwrap()
        };
        let row = conn
            .query_row(
                "SELECT size, mtime_ms, fingerprint, state, error, presence, score, faces, dhash, taken_at,
                    taken_source, width, height, cover_version, deleted_ms, kind FROM media WHERE id = ?1",
                [id],
                |r| Ok((0..16).map(|i| text(r, i)).collect()),
            )
            .unwrap();
        let mut stmt = conn.prepare("SELECT * FROM jobs WHERE media_id = ?1 ORDER BY id").unwrap();
        let skip = ["id", "media_id", "created_ms", "started_ms", "finished_ms", "not_before_ms"];
        let names: Vec<String> = stmt.column_names().into_iter().map(str::to_owned).collect();
        let jobs = stmt
            .query_map([id], |r| {
                Ok((0..names.len()).filter(|&i| !skip.contains(&names[i].as_str())).map(|i| text(r, i)).collect())
            })
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        (row, jobs)
    }

    /// A file changed under the watcher ends in the same row (and queued work) as the
    /// same change found by a scan: one path, whoever noticed. So does one that was on
    /// an unplugged disk and is back, changed or not.
    #[test]
    fn the_watcher_and_a_scan_index_a_change_the_same_way() {
        let data = tempfile::tempdir().unwrap();
        let album = tempfile::tempdir().unwrap();
        let album = std::fs::canonicalize(album.path()).unwrap();
        let media = crate::test_support::media_dir();
        let mtime = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_600_000_000);
        let put = |name: &str, bytes: &[u8]| {
            let path = album.join(name);
            std::fs::write(&path, bytes).unwrap();
            std::fs::File::options().write(true).open(&path).unwrap().set_modified(mtime).unwrap();
        };
        let chelsea = std::fs::read(media.join("chelsea.png")).unwrap();
        let coffee = std::fs::read(media.join("coffee.png")).unwrap();
        // Two of each, one for the watcher (w) and one for the scan (s).
        for who in ["w", "s"] {
            put(&format!("{who}-photo.png"), &chelsea);
            put(&format!("{who}-clip.mp4"), b"a video, before");
            put(&format!("{who}-back.png"), &chelsea);
            put(&format!("{who}-back-changed.mp4"), b"a video on a disk, before");
        }
        let library = Library::open(data.path()).unwrap();
        library.index().add_root(&album, &|_| {}).unwrap();
        {
            // What the file's old content had earned: scores, a fingerprint, a failure,
            // finished work; two were on a disk that was unplugged.
            let conn = library.conn();
            conn.execute_batch(
                "UPDATE media SET score = 0.5, faces = 1, dhash = 7, fingerprint = 'old', state = 'failed', error = 'x';
                 UPDATE jobs SET state = 'done', attempts = 2;
                 UPDATE media SET presence = 'missing' WHERE name LIKE '%-back%';",
            )
            .unwrap();
        }
        for who in ["w", "s"] {
            put(&format!("{who}-photo.png"), &coffee);
            put(&format!("{who}-clip.mp4"), b"a video, after the change");
            put(&format!("{who}-back-changed.mp4"), b"a video on a disk, after");
        }
        for name in ["w-photo.png", "w-clip.mp4", "w-back.png", "w-back-changed.mp4"] {
            let events = library.index().index_file(&album.join(name)).unwrap();
            assert!(
                events.iter().any(|e| matches!(e, LibraryEvent::MediaChanged { path, .. } if path.ends_with(name))),
                "{name}: {events:?}"
            );
        }
        let report = library.index().scan_all(&|_| {}).unwrap();
        assert_eq!((report.changed, report.restored), (3, 2), "{report:?}");
        for name in ["photo.png", "clip.mp4", "back.png", "back-changed.mp4"] {
            let watched = row_state(&library, &album.join(format!("w-{name}")));
            let scanned = row_state(&library, &album.join(format!("s-{name}")));
            assert_eq!(watched, scanned, "{name}");
        }
        let (photo, _) = row_state(&library, &album.join("w-photo.png"));
        assert_eq!(photo[6], Some("Null".into()), "a changed file is scored again");
    }
}
