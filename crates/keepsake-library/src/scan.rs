//! Walking album folders and reconciling what is on disk with the index: new, changed,
//! moved (matched by fingerprint), deleted (kept as `deleted` so a later move can
//! reclaim its picks), and whole roots gone offline (media `missing`, nothing lost).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use rusqlite::{params, Connection, OptionalExtension};

use crate::db::Presence;
use crate::error::Result;
use crate::fingerprint::fingerprint;
use crate::model::{JobState, LibraryEvent, MediaKind, MediaState, RootId, ScanProgress, ScanReport};
use crate::taken::{exif_taken_at, TakenSource};
use crate::util::now_ms;

/// Every video extension a family album holds: phones (mp4, mov, 3gp, 3g2), camcorders
/// (AVCHD mts/m2ts/m2t, JVC/Panasonic mod/tod, DV), DVDs (vob), broadcast captures (ts),
/// and the web and PC formats of the 2000s (avi, divx, wmv, asf, flv, ogv, mpeg).
/// `.ts` also names TypeScript sources, so it counts only when the file is an MPEG
/// transport stream ([`looks_like_transport_stream`]).
const VIDEO_EXT: &[&str] = &[
    "mp4", "mov", "m4v", "qt", "mkv", "avi", "divx", "webm", "3gp", "3g2", "mts", "m2ts", "m2t", "ts", "mod", "tod",
    "vob", "dv", "wmv", "asf", "flv", "f4v", "ogv", "mpg", "mpeg", "mpe", "m2v",
];
/// RAWs (dng ... rw2) are shown by their embedded preview (keepsake-imaging); `hif` is
/// the HEIF extension Canon and Fujifilm cameras write.
const PHOTO_EXT: &[&str] = &[
    "jpg", "jpeg", "png", "webp", "gif", "heic", "heif", "hif", "tif", "tiff", "bmp", "avif", "dng", "cr2", "cr3",
    "nef", "arw", "raf", "orf", "rw2",
];
/// Folder names that belong to the system or other apps, never to the album: Windows,
/// NAS metadata and recycle bins (Synology `@eaDir` `#recycle` `#snapshot`, QNAP
/// `@Recycle` `@Recently-Snapshot`, NetApp `~snapshot`), and what Macs leave on shares
/// (`Network Trash Folder`, `Temporary Items`). Dot folders (`.AppleDouble`, `.AppleDB`,
/// `.Trashes`, `.snapshot`…) are skipped as hidden names.
const SYSTEM_DIRS: &[&str] = &[
    "@eaDir",
    "$RECYCLE.BIN",
    "RECYCLER",
    "System Volume Information",
    "lost+found",
    "#recycle",
    "#snapshot",
    "~snapshot",
    "@Recycle",
    "@Recently-Snapshot",
    "@sharebin",
    "@tmp",
    "Network Trash Folder",
    "Temporary Items",
];
/// Why a file or folder whose name is not UTF-8 is not in the album.
pub(crate) const NOT_UTF8: &str = "skipped: its name is not valid UTF-8 (rename it to see it in Keepsake)";
/// Rows written per transaction: large enough to be fast, small enough that a kill
/// mid-scan loses little and readers are not blocked for long.
const BATCH: usize = 5000;

/// Photo or video by extension; None for anything else.
pub fn media_kind(path: &Path) -> Option<MediaKind> {
    kind_of_name(path.file_name()?.to_str()?)
}

/// [`media_kind`] of a file name (no allocation: the scan calls it for every file).
fn kind_of_name(name: &str) -> Option<MediaKind> {
    let (stem, ext) = name.rsplit_once('.')?;
    if stem.is_empty() {
        return None; // ".mp4" alone is a hidden file's name, not an extension
    }
    if VIDEO_EXT.iter().any(|e| e.eq_ignore_ascii_case(ext)) {
        Some(MediaKind::Video)
    } else if PHOTO_EXT.iter().any(|e| e.eq_ignore_ascii_case(ext)) {
        Some(MediaKind::Photo)
    } else {
        None
    }
}

/// Whether a file whose extension is ambiguous really is media: a `.ts` file must be
/// an MPEG transport stream (not TypeScript). Every other extension is taken at its word
/// (a file that lies fails its own job with a reason on its tile).
fn kind_confirmed(path: &Path) -> bool {
    let is_ts = path.extension().and_then(|e| e.to_str()).is_some_and(|e| e.eq_ignore_ascii_case("ts"));
    !is_ts || looks_like_transport_stream(path)
}

/// An MPEG transport stream: sync byte 0x47 at the start of its first two 188-byte
/// packets. Reads 189 bytes, from regular files only (a FIFO would block).
pub(crate) fn looks_like_transport_stream(path: &Path) -> bool {
    use std::io::Read;
    let Ok(mut file) = crate::util::open_regular(path, false) else { return false };
    let mut head = [0u8; 189];
    file.read_exact(&mut head).is_ok() && head[0] == 0x47 && head[188] == 0x47
}

/// Hidden (dot) names and system folders are never part of an album.
pub fn is_ignored_name(name: &str) -> bool {
    name.starts_with('.') || SYSTEM_DIRS.iter().any(|s| s.eq_ignore_ascii_case(name))
}

/// True when any component of `path` below `root` is hidden or a system folder.
pub fn is_ignored_path(root: &Path, path: &Path) -> bool {
    path.strip_prefix(root)
        .map(|rel| rel.components().any(|c| c.as_os_str().to_str().map_or(true, is_ignored_name)))
        .unwrap_or(true)
}

/// A media file found on disk.
#[derive(Debug, Clone)]
pub(crate) struct FoundFile {
    pub path: String,
    pub kind: MediaKind,
    pub size: u64,
    pub mtime_ms: i64,
    /// A movie's Live Photo facts when the walk read them (a first scan reads them on
    /// its walking thread, so the writing thread neither opens the movie nor updates its
    /// row when pairing); None: the pairing reads them (`crate::motion::pair_folders`).
    pub movie: Option<crate::motion::MovieFacts>,
}

impl FoundFile {
    /// Stats one path; None when it is not a media file (or not a regular file: a
    /// symbolic link is not followed, as [`walk`] does not follow one).
    pub fn stat(path: &Path) -> Option<FoundFile> {
        let kind = media_kind(path)?;
        let meta = std::fs::symlink_metadata(path).ok()?;
        if !meta.is_file() || !kind_confirmed(path) {
            return None;
        }
        let (size, mtime_ms) = (meta.len(), mtime_ms(&meta));
        Some(FoundFile { path: path.to_str()?.to_owned(), kind, size, mtime_ms, movie: None })
    }
}

pub(crate) fn mtime_ms(meta: &std::fs::Metadata) -> i64 {
    meta.modified().ok().and_then(|t| t.duration_since(UNIX_EPOCH).ok()).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// Walks `root`: regular media files only, no hidden/system folders, symlinks not
/// followed (so no loops). Unreadable entries are collected, not fatal.
///
/// A plain `read_dir` stack rather than a generic walker: each file is stat'ed relative
/// to its open folder (`statx(dirfd, name)`), not by its full path, and folders are told
/// from files by the directory entry's type without a stat. On a 100k-file album that
/// is most of the walk's cost (see docs/bench-scan.md).
pub(crate) fn walk(
    root: &Path,
    progress: &dyn Fn(ScanProgress),
    unreadable: &mut Vec<(PathBuf, String)>,
) -> Vec<FoundFile> {
    let mut found: Vec<FoundFile> = Vec::new();
    walk_batches(root, unreadable, PROGRESS_EVERY, &mut |batch| {
        let current = batch.last().map(|f| PathBuf::from(&f.path));
        found.extend(batch);
        progress(ScanProgress { root: root.to_path_buf(), files_seen: found.len() as u64, current });
    });
    found
}

/// Files between two progress reports of a walk.
pub(crate) const PROGRESS_EVERY: usize = 2000;

/// [`walk`], handing the files over `batch` at a time as they are found (so a first
/// scan can write them to the index while the walk goes on).
pub(crate) fn walk_batches(
    root: &Path,
    unreadable: &mut Vec<(PathBuf, String)>,
    batch: usize,
    on_batch: &mut dyn FnMut(Vec<FoundFile>),
) {
    let mut found = Vec::with_capacity(batch);
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(err) => {
                tracing::warn!("cannot read {}: {err}", dir.display());
                unreadable.push((dir, err.to_string()));
                continue;
            }
        };
        for entry in entries {
            let entry = match entry {
                Ok(e) => e,
                Err(err) => {
                    tracing::warn!("cannot read {}: {err}", dir.display());
                    unreadable.push((dir.clone(), err.to_string()));
                    break;
                }
            };
            let name = entry.file_name();
            let Some(name_str) = name.to_str() else {
                // The index stores UTF-8 paths: such a name is skipped, and said so once
                // per scan (in the root's scan errors) when it is a folder or media.
                let lossy = name.to_string_lossy();
                let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
                if !is_ignored_name(&lossy) && (is_dir || kind_of_name(&lossy).is_some()) {
                    unreadable.push((entry.path(), NOT_UTF8.into()));
                }
                continue;
            };
            if is_ignored_name(name_str) {
                continue;
            }
            // The entry's own type: a symlink is a symlink here, never followed.
            let Ok(file_type) = entry.file_type() else { continue };
            if file_type.is_dir() {
                pending.push(entry.path());
                continue;
            }
            if !file_type.is_file() {
                continue;
            }
            let Some(kind) = kind_of_name(name_str) else { continue };
            if !kind_confirmed(&entry.path()) {
                continue;
            }
            let Some(dir_str) = dir.to_str() else {
                unreadable.push((entry.path(), NOT_UTF8.into()));
                continue;
            };
            match entry.metadata() {
                Ok(meta) => {
                    let mut path = String::with_capacity(dir_str.len() + 1 + name_str.len());
                    path.push_str(dir_str);
                    path.push('/');
                    path.push_str(name_str);
                    found.push(FoundFile { path, kind, size: meta.len(), mtime_ms: mtime_ms(&meta), movie: None });
                    if found.len() >= batch {
                        on_batch(std::mem::replace(&mut found, Vec::with_capacity(batch)));
                    }
                }
                Err(err) => unreadable.push((entry.path(), err.to_string())),
            }
        }
    }
    if !found.is_empty() {
        on_batch(found);
    }
}

/// True when a root has no indexed media (deleted rows aside): its scan has nothing to
/// reconcile.
pub(crate) fn root_is_empty(conn: &Connection, root_id: RootId) -> Result<bool> {
    let any: Option<i64> = conn
        .query_row(
            "SELECT 1 FROM media WHERE root_id = ?1 AND presence != ?2 LIMIT 1",
            params![root_id, Presence::Deleted],
            |r| r.get(0),
        )
        .optional()?;
    Ok(any.is_none())
}

/// Marks a root offline and its present media missing. Nothing is deleted.
pub(crate) fn mark_offline(conn: &Connection, root_id: RootId) -> Result<u64> {
    conn.execute("UPDATE roots SET online = 0 WHERE id = ?1", [root_id])?;
    let n = conn.execute(
        "UPDATE media SET presence = ?2 WHERE root_id = ?1 AND presence = ?3",
        params![root_id, Presence::Missing, Presence::Present],
    )?;
    Ok(n as u64)
}

/// A file's row as the index has it (a live row: present or missing).
pub(crate) struct Existing {
    pub id: i64,
    pub size: u64,
    pub mtime_ms: i64,
    pub presence: Presence,
}

/// The live row at `path`, if any (a deleted row there is not: the file is new).
pub(crate) fn existing_at(conn: &Connection, path: &str) -> Result<Option<Existing>> {
    Ok(conn
        .prepare_cached("SELECT id, size, mtime_ms, presence FROM media WHERE path = ?1 AND presence != ?2")?
        .query_row(params![path, Presence::Deleted], |r| {
            Ok(Existing { id: r.get(0)?, size: r.get(1)?, mtime_ms: r.get(2)?, presence: r.get(3)? })
        })
        .optional()?)
}

/// What [`update_existing`] did to a file the index has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Touched {
    /// There, as indexed.
    Unchanged,
    /// Back (its disk plugged in again), unchanged.
    Restored,
    /// Its size or time changed (and it may be back too): indexed again.
    Changed { restored: bool },
}

/// THE handling of a file found where the index has a live row, for the scan and the
/// watcher alike: a missing file that is there again is present; a file whose size or
/// modification time changed loses what was derived from its old content (fingerprint,
/// error, scores; a video its analysis state) and its background work is queued again
/// (`jobs::enqueue_indexed`).
pub(crate) fn update_existing(conn: &Connection, f: &FoundFile, e: &Existing) -> Result<Touched> {
    let back = e.presence == Presence::Missing;
    if e.size == f.size && e.mtime_ms == f.mtime_ms {
        if !back {
            return Ok(Touched::Unchanged);
        }
        conn.prepare_cached("UPDATE media SET presence = ?2 WHERE id = ?1")?
            .execute(params![e.id, Presence::Present])?;
        return Ok(Touched::Restored);
    }
    conn.prepare_cached(
        // A changed file is scored again (crate::scoring).
        "UPDATE media SET size = ?2, mtime_ms = ?3, fingerprint = NULL, state = ?4, error = NULL, presence = ?5,
           score = NULL, faces = NULL, dhash = NULL WHERE id = ?1",
    )?
    .execute(params![e.id, f.size, f.mtime_ms, MediaState::first(f.kind), Presence::Present])?;
    crate::jobs::enqueue_indexed(conn, e.id, f.kind)?;
    Ok(Touched::Changed { restored: back })
}

/// Whether a new photo's EXIF (date, size, place) is read as it is indexed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dates {
    /// Now: one file at a time (the watcher).
    Read,
    /// Later, by the photo-date pass (`PhotoJobs::read_facts`): a scan stays a
    /// metadata walk and does not open every photo.
    Later,
}

/// THE handling of a file the index has no live row for, for the scan and the watcher
/// alike: a deleted row with its size and fingerprint takes it (a move: picks and cover
/// kept), else it is a new row ([`insert_file`]).
pub(crate) fn add_new(conn: &Connection, root_id: RootId, f: &FoundFile, dates: Dates) -> Result<Inserted> {
    if let Some(id) = relink_by_fingerprint(conn, root_id, f)? {
        return Ok(Inserted::Moved(id));
    }
    Ok(Inserted::Added(insert_file(conn, root_id, f, dates)?))
}

/// Reconciles one online root with the files found on disk. Returns the report and
/// the files not in the index yet (inserted by [`insert_new`] once every root has
/// been walked, so a move across roots is recognised). What changed in place or came
/// back goes to `changes` as `MediaChanged`, what is gone as `MediaRemoved` (a rescan
/// reports what it found as the live watcher would).
pub(crate) fn reconcile_root(
    conn: &mut Connection,
    root_id: RootId,
    found: Vec<FoundFile>,
    dirty: &mut std::collections::BTreeSet<String>,
    changes: &mut Vec<LibraryEvent>,
) -> Result<(ScanReport, Vec<FoundFile>)> {
    let mut report = ScanReport::default();
    conn.execute("UPDATE roots SET online = 1 WHERE id = ?1", [root_id])?;
    let mut existing: HashMap<String, Existing> = HashMap::new();
    {
        let mut stmt =
            conn.prepare("SELECT id, path, size, mtime_ms, presence FROM media WHERE root_id = ?1 AND presence != ?2")?;
        let rows = stmt.query_map(params![root_id, Presence::Deleted], |r| {
            Ok((
                r.get::<_, String>(1)?,
                Existing { id: r.get(0)?, size: r.get(2)?, mtime_ms: r.get(3)?, presence: r.get(4)? },
            ))
        })?;
        for row in rows {
            let (path, e) = row?;
            existing.insert(path, e);
        }
    }
    let mut new = Vec::new();
    let mut touched: Vec<(FoundFile, Existing)> = Vec::new();
    for f in found {
        match existing.remove(&f.path) {
            Some(e) => {
                if e.presence == Presence::Present && e.size == f.size && e.mtime_ms == f.mtime_ms {
                    report.unchanged += 1;
                } else {
                    touched.push((f, e));
                }
            }
            None => new.push(f),
        }
    }
    // Folders whose Live Photo pairs may have changed (crate::motion).
    dirty.extend(touched.iter().filter_map(|(f, _)| crate::motion::folder_of(&f.path)));
    dirty.extend(existing.keys().filter_map(|p| crate::motion::folder_of(p)));
    for chunk in touched.chunks(BATCH) {
        let tx = conn.transaction()?;
        for (f, e) in chunk {
            let touched = update_existing(&tx, f, e)?;
            match touched {
                Touched::Unchanged => report.unchanged += 1,
                Touched::Restored => report.restored += 1,
                Touched::Changed { restored } => {
                    report.changed += 1;
                    report.restored += u64::from(restored);
                }
            }
            if touched != Touched::Unchanged {
                changes.push(LibraryEvent::MediaChanged { id: e.id, path: PathBuf::from(&f.path) });
            }
        }
        tx.commit()?;
    }
    let gone: Vec<(i64, String)> = existing.into_iter().map(|(path, e)| (e.id, path)).collect();
    for chunk in gone.chunks(BATCH) {
        let tx = conn.transaction()?;
        for (id, _) in chunk {
            soft_delete(&tx, *id)?;
        }
        tx.commit()?;
    }
    changes.extend(gone.iter().map(|(id, path)| LibraryEvent::MediaRemoved { id: *id, path: PathBuf::from(path) }));
    report.removed += gone.len() as u64;
    Ok((report, new))
}

/// A file that is gone: kept as `deleted` (hidden everywhere) so that if it shows up
/// elsewhere with the same fingerprint, its picks and cover come back with it.
pub(crate) fn soft_delete(conn: &Connection, id: i64) -> Result<()> {
    // A deleted half of a Live Photo pairs with nothing (its folder is re-paired).
    conn.execute(
        "UPDATE media SET presence = ?3, deleted_ms = ?2, live_of = NULL WHERE id = ?1",
        params![id, now_ms(), Presence::Deleted],
    )?;
    // Pending work is dropped; finished jobs stay (the picks they produced stay too).
    conn.execute("DELETE FROM jobs WHERE media_id = ?1 AND state = ?2", params![id, JobState::Queued])?;
    Ok(())
}

/// What happened to a file that was not in the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Inserted {
    Added(i64),
    Moved(i64),
}

/// Inserts new files in batches: a file matching a deleted one by size and fingerprint
/// takes over that row (a move: picks and override kept, no job); the rest become
/// new media, and new videos get an analysis job. `on_insert` is told of each file, and
/// whether its row is a new one at a path no row had (the bulk insert's).
pub(crate) fn insert_new(
    conn: &Connection,
    root_id: RootId,
    files: &[FoundFile],
    report: &mut ScanReport,
    mut on_insert: impl FnMut(&FoundFile, Inserted, bool),
) -> Result<()> {
    // Sizes of deleted rows with fingerprints: only files of those sizes can be moves
    // (what relink_by_fingerprint asks per file, asked once per scan).
    let orphan_sizes: std::collections::HashSet<u64> = {
        let mut stmt =
            conn.prepare("SELECT DISTINCT size FROM media WHERE presence = ?1 AND fingerprint IS NOT NULL")?;
        let rows = stmt.query_map([Presence::Deleted], |r| r.get::<_, u64>(0))?;
        rows.collect::<std::result::Result<_, _>>()?
    };
    let _unchecked = ForeignKeysOff::new(conn)?;
    for chunk in files.chunks(BATCH) {
        let tx = rusqlite::Transaction::new_unchecked(conn, rusqlite::TransactionBehavior::Immediate)?;
        // What the foreign keys would check per row, checked once: the album is still
        // there (inside the transaction, so it stays there). The jobs' media are the rows
        // just inserted.
        if !tx
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM roots WHERE id = ?1)")?
            .query_row([root_id], |r| r.get(0))?
        {
            return Err(crate::error::LibraryError::NoSuchRoot(root_id));
        }
        {
            let mut bulk = BulkInsert::new(&tx)?;
            for f in chunk {
                let (what, clean) = if orphan_sizes.contains(&f.size) {
                    (add_new(&tx, root_id, f, Dates::Later)?, false)
                } else {
                    match bulk.insert(root_id, f)? {
                        Some(id) => (Inserted::Added(id), true),
                        // The path is taken (a deleted row, or another root's leftover).
                        None => (add_new(&tx, root_id, f, Dates::Later)?, false),
                    }
                };
                match what {
                    Inserted::Added(_) => report.added += 1,
                    Inserted::Moved(_) => report.moved += 1,
                }
                on_insert(f, what, clean);
            }
            bulk.finish()?;
        }
        // New rows can start or join events (there is no INSERT trigger: crate::events).
        crate::events::mark_dirty(&tx)?;
        tx.commit()?;
    }
    Ok(())
}

/// Foreign keys unchecked on a connection for as long as it lives (back on when dropped,
/// however the caller stops). For [`insert_new`] only, which checks once per transaction
/// what the keys would check for every row: checking that each new media row's album
/// and each job's media row exist was a tenth of a 100k-file first scan
/// (docs/bench-scan.md). SQLite ignores the setting inside a transaction, so it is set
/// outside any.
struct ForeignKeysOff<'c>(&'c Connection);

impl<'c> ForeignKeysOff<'c> {
    fn new(conn: &'c Connection) -> Result<Self> {
        conn.pragma_update(None, "foreign_keys", false)?;
        Ok(ForeignKeysOff(conn))
    }
}

impl Drop for ForeignKeysOff<'_> {
    fn drop(&mut self) {
        if let Err(e) = self.0.pragma_update(None, "foreign_keys", true) {
            tracing::error!(error = %e, "could not turn foreign keys back on after a scan's inserts");
        }
    }
}

/// The derived columns of a new media row, the same for the bulk and the single insert.
struct NewRow<'f> {
    name: &'f str,
    kind: &'static str,
    taken_at: i64,
    /// Minutes east of UTC, where the photo's EXIF says (see [`crate::taken`]).
    taken_offset: Option<i32>,
    taken_source: &'static str,
    state: MediaState,
}

impl<'f> NewRow<'f> {
    /// The ten values of `INSERT INTO media (root_id, path, name, kind, size, mtime_ms,
    /// taken_at, taken_source, state, taken_offset)`, in that order.
    fn params<'a>(&'a self, root_id: &'a RootId, f: &'a FoundFile) -> [&'a dyn rusqlite::ToSql; 10] {
        [
            root_id,
            &f.path,
            &self.name,
            &self.kind,
            &f.size,
            &f.mtime_ms,
            &self.taken_at,
            &self.taken_source,
            &self.state,
            &self.taken_offset,
        ]
    }

    /// Photos' EXIF dates are read only with [`Dates::Read`]; otherwise they are left
    /// `unchecked` for [`crate::PhotoJobs::read_facts`].
    fn of(f: &'f FoundFile, dates: Dates) -> Self {
        let read_exif = dates == Dates::Read;
        let mtime_s = f.mtime_ms / 1000;
        let (taken_at, taken_offset, taken_source) = match f.kind {
            MediaKind::Photo if read_exif => match exif_taken_at(Path::new(&f.path)) {
                Ok(Some(t)) => (t.at, t.offset_minutes, TakenSource::Exif.as_str()),
                Ok(None) => (mtime_s, None, TakenSource::Mtime.as_str()),
                Err(e) => {
                    tracing::warn!("date of {}: {e}; using the file's modification time", f.path);
                    (mtime_s, None, TakenSource::Mtime.as_str())
                }
            },
            MediaKind::Photo => (mtime_s, None, UNCHECKED),
            MediaKind::Video => (mtime_s, None, TakenSource::Mtime.as_str()),
        };
        NewRow {
            name: f.path.rsplit_once('/').map_or(f.path.as_str(), |(_, n)| n),
            kind: f.kind.as_str(),
            taken_at,
            taken_offset,
            taken_source,
            state: MediaState::first(f.kind),
        }
    }
}

/// The scan's fast path for rows that are new: the row [`insert_file`] writes, with its
/// statement prepared once per batch, a plain INSERT (no upsert, no RETURNING, which
/// costs SQLite a temporary table per row), the id from `last_insert_rowid`. Returns
/// None when the path already has a row.
struct BulkInsert<'c> {
    conn: &'c Connection,
    media: rusqlite::Statement<'c>,
    /// Ids of the rows inserted, whose jobs [`BulkInsert::finish`] queues.
    ids: Option<(i64, i64)>,
}

impl<'c> BulkInsert<'c> {
    fn new(conn: &'c Connection) -> Result<Self> {
        Ok(BulkInsert {
            conn,
            media: conn.prepare(
                "INSERT INTO media (root_id, path, name, kind, size, mtime_ms, taken_at, taken_source, state, taken_offset,
                   facts_stamp, live_key, clip_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            )?,
            ids: None,
        })
    }

    /// Queues the inserted rows' background work (`jobs::enqueue_new_range`).
    fn finish(self) -> Result<()> {
        match self.ids {
            Some((first, last)) => crate::jobs::enqueue_new_range(self.conn, first, last),
            None => Ok(()),
        }
    }

    fn insert(&mut self, root_id: RootId, f: &FoundFile) -> Result<Option<i64>> {
        let row = NewRow::of(f, Dates::Later);
        // A movie's facts read by the walk, stored as the pairing would store them.
        let stamp = f.movie.as_ref().map(|_| crate::motion::facts_stamp(f.size, f.mtime_ms));
        let live_key = f.movie.as_ref().map(|m| m.content_id.as_deref().unwrap_or_default());
        let clip_ms = f.movie.as_ref().and_then(|m| m.duration_ms);
        let [a, b, c, d, e, g, h, i, j, k] = row.params(&root_id, f);
        let inserted = self.media.execute(params![a, b, c, d, e, g, h, i, j, k, stamp, live_key, clip_ms]);
        match inserted {
            Ok(_) => {}
            Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::ConstraintViolation => {
                return Ok(None)
            }
            Err(e) => return Err(e.into()),
        }
        let id = self.conn.last_insert_rowid();
        self.ids = Some(self.ids.map_or((id, id), |(first, _)| (first, id)));
        Ok(Some(id))
    }
}

/// Inserts one new media row (or takes over the deleted one at its path) and queues its
/// background work. Photos' EXIF (date, upright size, place) is read here only with
/// [`Dates::Read`] (single files from the watcher); a bulk scan leaves it for
/// [`crate::PhotoJobs::read_facts`], so indexing stays a metadata walk and does not
/// open every photo.
pub(crate) fn insert_file(conn: &Connection, root_id: RootId, f: &FoundFile, dates: Dates) -> Result<i64> {
    let row = NewRow::of(f, dates);
    let read_exif = dates == Dates::Read;
    let mut stmt = conn.prepare_cached(
        "INSERT INTO media (root_id, path, name, kind, size, mtime_ms, taken_at, taken_source, state, taken_offset)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
         ON CONFLICT(path) DO UPDATE SET root_id = excluded.root_id, presence = ?11, deleted_ms = NULL,
           size = excluded.size, mtime_ms = excluded.mtime_ms, fingerprint = NULL, state = excluded.state, error = NULL,
           score = NULL, faces = NULL, dhash = NULL
         RETURNING id",
    )?;
    let [a, b, c, d, e, g, h, i, j, k] = row.params(&root_id, f);
    let id: i64 = stmt.query_row(params![a, b, c, d, e, g, h, i, j, k, Presence::Present], |r| r.get(0))?;
    // A new row can start or join an event (there is no INSERT trigger: crate::events).
    crate::events::mark_dirty(conn)?;
    crate::jobs::enqueue_indexed(conn, id, f.kind)?;
    if f.kind == MediaKind::Photo && read_exif {
        // Already opened for its date: its upright size too (a bulk scan leaves both to
        // PhotoJobs::read_facts).
        if let Ok(info) = keepsake_imaging::photo_info(Path::new(&f.path)) {
            let size = params![id, info.width, info.height];
            conn.execute("UPDATE media SET width = ?2, height = ?3 WHERE id = ?1", size)?;
        }
        // And where it was taken (EXIF GPS), which can split an event.
        let place = crate::taken::exif_place(Path::new(&f.path));
        let place = params![id, place.map(|p| p.0), place.map(|p| p.1)];
        conn.execute("UPDATE media SET latitude = ?2, longitude = ?3 WHERE id = ?1", place)?;
    }
    Ok(id)
}

pub(crate) use crate::model::UNCHECKED;

/// If a deleted row has this file's size and fingerprint, moves that row here.
/// The file is hashed only when a deleted row of its size has a fingerprint.
pub(crate) fn relink_by_fingerprint(conn: &Connection, root_id: RootId, f: &FoundFile) -> Result<Option<i64>> {
    let orphans: bool = conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM media WHERE presence = ?1 AND size = ?2 AND fingerprint IS NOT NULL)",
        )?
        .query_row(params![Presence::Deleted, f.size], |r| r.get(0))?;
    if !orphans {
        return Ok(None);
    }
    let Ok(fp) = fingerprint(Path::new(&f.path)) else { return Ok(None) };
    let id: Option<i64> = conn
        .query_row(
            "SELECT id FROM media WHERE presence = ?4 AND size = ?1 AND fingerprint = ?2 AND kind = ?3
             ORDER BY deleted_ms DESC LIMIT 1",
            params![f.size, fp, f.kind.as_str(), Presence::Deleted],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(id) = id {
        relink(conn, id, root_id, &f.path, f.mtime_ms)?;
    }
    Ok(id)
}

/// Points an existing row at a new path (rename or move); keeps everything else.
pub(crate) fn relink(conn: &Connection, id: i64, root_id: RootId, path: &str, mtime_ms: i64) -> Result<()> {
    // A stale row at the destination path (e.g. a file replaced by the move) gives way.
    conn.execute("DELETE FROM media WHERE path = ?1 AND id != ?2", params![path, id])?;
    let name = Path::new(path).file_name().and_then(|n| n.to_str()).unwrap_or(path).to_owned();
    conn.execute(
        "UPDATE media SET root_id = ?2, path = ?3, name = ?4, mtime_ms = ?5, presence = ?6, deleted_ms = NULL WHERE id = ?1",
        params![id, root_id, path, name, mtime_ms, Presence::Present],
    )?;
    // A video that moved before it was analysed still needs its analysis.
    let needs_job: bool = conn.query_row(
        "SELECT m.kind = 'video' AND m.state = ?2
           AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.media_id = m.id AND (j.state = ?3 OR j.state = ?4))
         FROM media m WHERE m.id = ?1",
        params![id, MediaState::Pending, JobState::Queued, JobState::Running],
        |r| r.get(0),
    )?;
    if needs_job {
        crate::jobs::enqueue_tx(conn, id, 0)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn foreign_keys_on(conn: &Connection) -> bool {
        conn.pragma_query_value(None, "foreign_keys", |r| r.get(0)).unwrap()
    }

    /// The bulk insert turns the foreign keys off for its own transactions only: what
    /// they would check it checks itself (an album gone meanwhile is an error and writes
    /// nothing), the rows it writes satisfy them, and they are on again afterwards, so
    /// removing the album still takes its media and jobs with it.
    #[test]
    fn the_bulk_insert_checks_its_album_and_turns_foreign_keys_back_on() {
        let data = tempfile::tempdir().unwrap();
        let album = tempfile::tempdir().unwrap();
        let album = std::fs::canonicalize(album.path()).unwrap();
        for name in ["a.jpg", "b.jpg", "c.mp4"] {
            std::fs::write(album.join(name), name).unwrap();
        }
        let library = crate::Library::open(data.path()).unwrap();
        let (root, _) = library.index().add_root(&album, &|_| {}).unwrap();
        let conn = library.conn();
        assert!(foreign_keys_on(&conn), "after a first scan");
        let orphans: i64 = conn.query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |r| r.get(0)).unwrap();
        assert_eq!(orphans, 0);
        let counts = |conn: &Connection| -> (i64, i64) {
            conn.query_row("SELECT (SELECT COUNT(*) FROM media), (SELECT COUNT(*) FROM jobs)", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap()
        };
        assert_eq!(counts(&conn), (3, 3), "a row and a job per file");

        // An album that is not there (removed by another window meanwhile): an error,
        // nothing written, the keys on again.
        let late = FoundFile {
            path: album.join("d.jpg").to_string_lossy().into_owned(),
            kind: MediaKind::Photo,
            size: 5,
            mtime_ms: 1_600_000_000_000,
            movie: None,
        };
        let gone = root.id + 1;
        let err = insert_new(&conn, gone, &[late], &mut ScanReport::default(), |_, _, _| {}).unwrap_err();
        assert!(matches!(err, crate::error::LibraryError::NoSuchRoot(id) if id == gone), "{err:?}");
        assert_eq!(counts(&conn), (3, 3));
        assert!(foreign_keys_on(&conn), "after a failed insert");
        drop(conn);

        library.index().remove_root(root.id).unwrap();
        assert_eq!(counts(&library.conn()), (0, 0), "the album's removal cascaded");
    }

    #[test]
    fn kinds_and_ignored_names() {
        assert_eq!(media_kind(Path::new("/a/B.MP4")), Some(MediaKind::Video));
        assert_eq!(media_kind(Path::new("/a/b.jpeg")), Some(MediaKind::Photo));
        assert_eq!(media_kind(Path::new("/a/b.txt")), None);
        for ext in ["dng", "CR2", "cr3", "nef", "arw", "RAF", "orf", "rw2", "hif", "heic", "avif", "tif", "bmp"] {
            assert_eq!(media_kind(Path::new(&format!("/a/photo.{ext}"))), Some(MediaKind::Photo), "{ext}");
        }
        for ext in ["vob", "MOD", "tod", "m2t", "dv", "3g2", "flv", "ogv", "asf", "divx", "mpe", "mts"] {
            assert_eq!(media_kind(Path::new(&format!("/a/clip.{ext}"))), Some(MediaKind::Video), "{ext}");
        }
        assert!(is_ignored_name(".thumbnails"));
        assert!(is_ignored_name("@eaDir"));
        assert!(!is_ignored_name("Holidays 2024"));
        assert!(is_ignored_path(Path::new("/r"), Path::new("/r/.git/x.jpg")));
        assert!(!is_ignored_path(Path::new("/r"), Path::new("/r/a/x.jpg")));
    }

    /// What NAS boxes, Windows and Macs leave on shares is never part of an album, in
    /// whatever case; a folder merely named like one (`eaDir`, `recycle`) is.
    #[test]
    fn walk_skips_nas_metadata_folders() {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        let nas = [
            "@eaDir",
            "#recycle",
            "#snapshot",
            "@Recycle",
            "@Recently-Snapshot",
            "~snapshot",
            ".snapshot",
            "$RECYCLE.BIN",
            "RECYCLER",
            "System Volume Information",
            ".AppleDouble",
            ".AppleDB",
            ".AppleDesktop",
            ".TemporaryItems",
            "Temporary Items",
            "Network Trash Folder",
            ".Trashes",
            ".Spotlight-V100",
            ".fseventsd",
            "@EADIR",
        ];
        for name in nas {
            std::fs::create_dir_all(r.join("2024").join(name).join("inner")).unwrap();
            std::fs::write(r.join("2024").join(name).join("inner/IMG_1.jpg"), b"x").unwrap();
            assert!(is_ignored_name(name), "{name}");
        }
        for name in ["eaDir", "recycle", "snapshot", "Trash"] {
            std::fs::create_dir_all(r.join(name)).unwrap();
            std::fs::write(r.join(name).join("kept.jpg"), b"x").unwrap();
        }
        let mut unreadable = Vec::new();
        let found = walk(r, &|_| {}, &mut unreadable);
        let mut names: Vec<&str> = found.iter().map(|f| f.path.strip_prefix(r.to_str().unwrap()).unwrap()).collect();
        names.sort();
        assert_eq!(names, ["/Trash/kept.jpg", "/eaDir/kept.jpg", "/recycle/kept.jpg", "/snapshot/kept.jpg"]);
        assert!(unreadable.is_empty(), "{unreadable:?}");
        assert!(is_ignored_path(r, &r.join("a/@eaDir/b/x.jpg")));
    }

    #[test]
    fn ts_files_count_only_when_they_are_transport_streams() {
        let dir = tempfile::tempdir().unwrap();
        let code = dir.path().join("app.ts");
        std::fs::write(&code, "export const x: number = 1;\n".repeat(20)).unwrap();
        let mut packets = vec![0u8; 188 * 3];
        for k in 0..3 {
            packets[k * 188] = 0x47;
        }
        let capture = dir.path().join("broadcast.ts");
        std::fs::write(&capture, &packets).unwrap();
        let short = dir.path().join("short.ts");
        std::fs::write(&short, [0x47u8; 10]).unwrap();
        assert!(FoundFile::stat(&code).is_none(), "TypeScript is not a video");
        assert!(FoundFile::stat(&short).is_none());
        assert_eq!(FoundFile::stat(&capture).map(|f| f.kind), Some(MediaKind::Video));
        let mut unreadable = Vec::new();
        let found = walk(dir.path(), &|_| {}, &mut unreadable);
        let names: Vec<&str> = found.iter().map(|f| f.path.rsplit('/').next().unwrap()).collect();
        assert_eq!(names, vec!["broadcast.ts"]);
    }

    #[test]
    fn walk_skips_hidden_survives_symlink_loops_and_records_unreadable() {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        std::fs::create_dir_all(r.join("a/b")).unwrap();
        std::fs::create_dir_all(r.join(".hidden")).unwrap();
        std::fs::write(r.join("a/one.jpg"), b"x").unwrap();
        std::fs::write(r.join("a/b/two.MOV"), b"xy").unwrap();
        std::fs::write(r.join("a/notes.txt"), b"x").unwrap();
        std::fs::write(r.join(".hidden/three.jpg"), b"x").unwrap();
        std::os::unix::fs::symlink(r, r.join("a/b/loop")).unwrap();
        std::fs::create_dir(r.join("locked")).unwrap();
        std::fs::write(r.join("locked/four.jpg"), b"x").unwrap();
        std::fs::set_permissions(r.join("locked"), std::os::unix::fs::PermissionsExt::from_mode(0o000)).unwrap();
        let mut unreadable = Vec::new();
        let found = walk(r, &|_| {}, &mut unreadable);
        std::fs::set_permissions(r.join("locked"), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        let mut names: Vec<_> =
            found.iter().map(|f| Path::new(&f.path).file_name().unwrap().to_str().unwrap().to_owned()).collect();
        names.sort();
        // SAFETY: geteuid has no preconditions and cannot fail.
        let running_as_root = unsafe { libc::geteuid() } == 0;
        if running_as_root {
            // root reads anything: the locked folder is readable.
            assert_eq!(names, ["four.jpg", "one.jpg", "two.MOV"]);
        } else {
            assert_eq!(names, ["one.jpg", "two.MOV"]);
            assert_eq!(unreadable.len(), 1, "{unreadable:?}");
            assert!(unreadable[0].0.ends_with("locked"));
        }
        let two = found.iter().find(|f| f.path.ends_with("two.MOV")).unwrap();
        assert_eq!((two.size, two.kind), (2, MediaKind::Video));
    }
}
