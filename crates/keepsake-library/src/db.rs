//! The SQLite file: opening it the same way everywhere (WAL, foreign keys, a busy
//! timeout so the CLI and the app can share it) and versioned migrations.
//!
//! The schema version lives in `PRAGMA user_version`. `MIGRATIONS[i]` moves a database
//! from version `i` to `i + 1`; each runs in its own transaction, so a crash mid-upgrade
//! leaves the previous version intact.

use std::path::Path;
use std::time::Duration;

use rusqlite::Connection;

use crate::error::{LibraryError, Result};

/// The database file's name inside the data directory.
pub const DB_FILE: &str = "library.sqlite3";

/// Migrations in order; index i upgrades version i to i + 1.
pub const MIGRATIONS: &[&str] = &[
    // v1: roots, media, picks, covers, jobs.
    r#"
    CREATE TABLE roots (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        online INTEGER NOT NULL DEFAULT 1,
        added_at INTEGER NOT NULL
    );
    CREATE TABLE media (
        id INTEGER PRIMARY KEY,
        root_id INTEGER NOT NULL REFERENCES roots(id) ON DELETE CASCADE,
        path TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('photo', 'video')),
        size INTEGER NOT NULL,
        mtime_ms INTEGER NOT NULL,
        fingerprint TEXT,
        state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'ready', 'failed')),
        error TEXT,
        duration REAL,
        width INTEGER,
        height INTEGER,
        rotation INTEGER,
        codec TEXT,
        taken_at INTEGER NOT NULL,
        taken_source TEXT NOT NULL DEFAULT 'mtime',
        cover_version INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX media_root ON media(root_id);
    CREATE INDEX media_taken ON media(taken_at);
    CREATE TABLE picks (
        media_id INTEGER NOT NULL REFERENCES media(id) ON DELETE CASCADE,
        rank INTEGER NOT NULL,
        time REAL NOT NULL,
        score REAL NOT NULL,
        image TEXT NOT NULL,
        width INTEGER NOT NULL,
        height INTEGER NOT NULL,
        reasons TEXT NOT NULL DEFAULT '{}',
        PRIMARY KEY (media_id, rank)
    );
    CREATE TABLE curves (
        media_id INTEGER PRIMARY KEY REFERENCES media(id) ON DELETE CASCADE,
        points TEXT NOT NULL
    );
    CREATE TABLE cover_overrides (
        media_id INTEGER PRIMARY KEY REFERENCES media(id) ON DELETE CASCADE,
        kind TEXT NOT NULL CHECK (kind IN ('pick', 'time', 'image')),
        pick_rank INTEGER,
        time REAL,
        image TEXT,
        created_at INTEGER NOT NULL
    );
    CREATE TABLE jobs (
        id INTEGER PRIMARY KEY,
        media_id INTEGER NOT NULL UNIQUE REFERENCES media(id) ON DELETE CASCADE,
        state TEXT NOT NULL DEFAULT 'queued',
        priority INTEGER NOT NULL DEFAULT 0,
        attempts INTEGER NOT NULL DEFAULT 0,
        not_before_ms INTEGER NOT NULL DEFAULT 0,
        error TEXT,
        owner_pid INTEGER,
        created_ms INTEGER NOT NULL,
        started_ms INTEGER,
        finished_ms INTEGER
    );
    CREATE INDEX jobs_next ON jobs(state, priority DESC, created_ms DESC);
    "#,
    // v2: soft presence (missing = disk unplugged, deleted = gone, kept for move
    // matching), fingerprint lookup, unreadable folders, queue settings.
    r#"
    ALTER TABLE media ADD COLUMN presence TEXT NOT NULL DEFAULT 'present'
        CHECK (presence IN ('present', 'missing', 'deleted'));
    ALTER TABLE media ADD COLUMN deleted_ms INTEGER;
    CREATE INDEX media_size ON media(size) WHERE presence = 'deleted';
    CREATE TABLE scan_errors (
        root_id INTEGER NOT NULL REFERENCES roots(id) ON DELETE CASCADE,
        path TEXT NOT NULL,
        error TEXT NOT NULL,
        PRIMARY KEY (root_id, path)
    );
    CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    "#,
    // v3: the same media table with its CHECKs written as OR chains. SQLite evaluates
    // `x IN ('a', 'b')` by building a temporary index for every row written, which was a
    // third of the time of indexing a 100k-file album (docs/bench-scan.md). SQLite cannot
    // alter a CHECK, so the table is rebuilt (the documented 12-step way: foreign keys
    // are off while `migrate` runs and are checked before the commit).
    r#"
    CREATE TABLE media_v3 (
        id INTEGER PRIMARY KEY,
        root_id INTEGER NOT NULL REFERENCES roots(id) ON DELETE CASCADE,
        path TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind = 'photo' OR kind = 'video'),
        size INTEGER NOT NULL,
        mtime_ms INTEGER NOT NULL,
        fingerprint TEXT,
        state TEXT NOT NULL DEFAULT 'pending' CHECK (state = 'pending' OR state = 'ready' OR state = 'failed'),
        error TEXT,
        duration REAL,
        width INTEGER,
        height INTEGER,
        rotation INTEGER,
        codec TEXT,
        taken_at INTEGER NOT NULL,
        taken_source TEXT NOT NULL DEFAULT 'mtime',
        cover_version INTEGER NOT NULL DEFAULT 0,
        presence TEXT NOT NULL DEFAULT 'present'
            CHECK (presence = 'present' OR presence = 'missing' OR presence = 'deleted'),
        deleted_ms INTEGER
    );
    INSERT INTO media_v3 (id, root_id, path, name, kind, size, mtime_ms, fingerprint, state, error,
        duration, width, height, rotation, codec, taken_at, taken_source, cover_version, presence, deleted_ms)
    SELECT id, root_id, path, name, kind, size, mtime_ms, fingerprint, state, error,
        duration, width, height, rotation, codec, taken_at, taken_source, cover_version, presence, deleted_ms
    FROM media;
    DROP TABLE media;
    ALTER TABLE media_v3 RENAME TO media;
    CREATE INDEX media_root ON media(root_id);
    CREATE INDEX media_taken ON media(taken_at);
    CREATE INDEX media_size ON media(size) WHERE presence = 'deleted';
    "#,
    // v4: the counts the window asks for on every refresh (per album and kind, and the
    // grid's total) come from a covering index instead of reading every row: 38 -> 15 ms
    // and 18 -> 8 ms on 100k items, and they no longer fill the page cache with the
    // whole table. The old root_id index is this one's prefix.
    r#"
    CREATE INDEX media_root_kind ON media(root_id, kind, presence);
    DROP INDEX media_root;
    "#,
    // v5: how the engine had to read a video's pictures (HDR tone-mapped, deinterlaced,
    // non-square pixels), as a JSON array of sentences for the detail panel.
    r#"
    ALTER TABLE media ADD COLUMN picture TEXT;
    "#,
    // v6: Live Photos and motion photos (crate::motion). `live_of`: on a Live Photo's
    // movie, the still it belongs to (the movie is hidden from the grid and not
    // analysed). `live_key`: the content identifier read from the file ('' none, NULL
    // not read yet). `clip_ms`: a movie's duration from its `mvhd`. `motion_offset` and
    // `motion_length`: a motion photo's embedded video; `motion_note`: why a motion
    // photo's video could not be used. `facts_stamp`: the `size:mtime` those were read
    // at. The per-album counts' covering index gains `live_of` so it still covers them.
    r#"
    ALTER TABLE media ADD COLUMN live_of INTEGER;
    ALTER TABLE media ADD COLUMN live_key TEXT;
    ALTER TABLE media ADD COLUMN clip_ms INTEGER;
    ALTER TABLE media ADD COLUMN motion_offset INTEGER;
    ALTER TABLE media ADD COLUMN motion_length INTEGER;
    ALTER TABLE media ADD COLUMN motion_note TEXT;
    ALTER TABLE media ADD COLUMN facts_stamp TEXT;
    CREATE INDEX media_live_of ON media(live_of) WHERE live_of IS NOT NULL;
    DROP INDEX media_root_kind;
    CREATE INDEX media_root_kind ON media(root_id, kind, presence, live_of);
    "#,
    // v7: browsing by time (crate::events). `events`: runs of shots without a long gap,
    // recomputed as files come and go; `name` is the user's name for one (NULL: named by
    // its dates). `media.event_id`: the event a shot belongs to. `taken_offset`: the
    // capture's UTC offset in minutes where the file says (EXIF OffsetTimeOriginal,
    // QuickTime's location-aware dates), so a day is the day where it was taken.
    // `latitude`/`longitude`: EXIF GPS, which can split an event. `score`: how good the
    // picture is (a photo's grid copy, or a video's best pick) by the engine's measures;
    // `faces`: faces seen in it; `dhash`: a 64-bit difference hash of the grid copy, so a
    // burst of near-identical shots collapses to its best one.
    r#"
    CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        start_at INTEGER NOT NULL,
        end_at INTEGER NOT NULL,
        name TEXT
    );
    ALTER TABLE media ADD COLUMN event_id INTEGER REFERENCES events(id) ON DELETE SET NULL;
    ALTER TABLE media ADD COLUMN taken_offset INTEGER;
    ALTER TABLE media ADD COLUMN latitude REAL;
    ALTER TABLE media ADD COLUMN longitude REAL;
    ALTER TABLE media ADD COLUMN score REAL;
    ALTER TABLE media ADD COLUMN faces INTEGER;
    ALTER TABLE media ADD COLUMN dhash INTEGER;
    CREATE INDEX media_event ON media(event_id) WHERE event_id IS NOT NULL;
    "#,
    // v8: `jobs.error_kind`: what kind of failure `error` is (`crate::model::FailureKind`:
    // the engine's kind when the worker refused the file, else the worker's crash, hang
    // or out-of-memory), so callers act on it without reading the message. NULL for
    // failures stored before.
    r#"
    ALTER TABLE jobs ADD COLUMN error_kind TEXT;
    "#,
    // v9: one queue for all background work (`crate::model::JobKind`): `jobs.kind`, one
    // job per file and kind. The photo passes used to find their work by themselves (an
    // in-memory cursor over `media`); what they had left becomes jobs here: a photo whose
    // date a bulk scan did not read starts at its facts, one not scored yet at its grid
    // copy (a job finds an existing copy at once) and moves on to its score; videos
    // analysed before scores existed get theirs from their picks.
    r#"
    CREATE TABLE jobs_v9 (
        id INTEGER PRIMARY KEY,
        media_id INTEGER NOT NULL REFERENCES media(id) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'queued',
        priority INTEGER NOT NULL DEFAULT 0,
        attempts INTEGER NOT NULL DEFAULT 0,
        not_before_ms INTEGER NOT NULL DEFAULT 0,
        error TEXT,
        error_kind TEXT,
        owner_pid INTEGER,
        created_ms INTEGER NOT NULL,
        started_ms INTEGER,
        finished_ms INTEGER,
        UNIQUE (media_id, kind)
    );
    INSERT INTO jobs_v9 (id, media_id, kind, state, priority, attempts, not_before_ms, error, error_kind,
                         owner_pid, created_ms, started_ms, finished_ms)
        SELECT id, media_id, 'analyse', state, priority, attempts, not_before_ms, error, error_kind,
               owner_pid, created_ms, started_ms, finished_ms FROM jobs;
    DROP TABLE jobs;
    ALTER TABLE jobs_v9 RENAME TO jobs;
    CREATE INDEX jobs_next ON jobs(kind, state, priority DESC, id);
    INSERT INTO jobs (media_id, kind, created_ms)
        SELECT id, CASE WHEN taken_source = 'unchecked' THEN 'photo_facts'
                        WHEN score IS NULL THEN 'grid_copy' ELSE 'score' END, 0
        FROM media WHERE kind = 'photo' AND presence != 'deleted' AND state != 'failed'
          AND (taken_source = 'unchecked' OR score IS NULL);
    INSERT INTO jobs (media_id, kind, created_ms)
        SELECT id, 'score', 0 FROM media
        WHERE kind = 'video' AND state = 'ready' AND presence != 'deleted' AND score IS NULL;
    "#,
];

/// Where a media row's file is (`media.presence`): in its album, on a disk that is not
/// plugged in, or gone (kept a while so a move can be told from a deletion). Stored by
/// name; an unknown name read back is an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Presence {
    Present,
    Missing,
    Deleted,
}

impl Presence {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Presence::Present => "present",
            Presence::Missing => "missing",
            Presence::Deleted => "deleted",
        }
    }
}

impl rusqlite::types::ToSql for Presence {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Ok(self.as_str().into())
    }
}

impl rusqlite::types::FromSql for Presence {
    fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        match value.as_str()? {
            "present" => Ok(Presence::Present),
            "missing" => Ok(Presence::Missing),
            "deleted" => Ok(Presence::Deleted),
            other => Err(rusqlite::types::FromSqlError::Other(format!("unknown presence {other:?}").into())),
        }
    }
}

/// The version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Opens (creating if needed) the database at `path` and upgrades it to
/// [`SCHEMA_VERSION`].
pub fn open(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path)?;
    configure(&conn)?;
    migrate(&conn, SCHEMA_VERSION)?;
    Ok(conn)
}

/// Connection settings every connection needs: WAL for concurrent readers, foreign
/// keys for cascades, and a busy timeout so two processes wait instead of failing.
pub fn configure(conn: &Connection) -> Result<()> {
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    set_cache_kib(conn, CACHE_KIB)?;
    Ok(())
}

/// SQLite's page cache between scans. Everyday reads (a 120-row grid page, one item's
/// detail) touch a few pages, and the OS caches the file as well; a bigger cache only
/// fills up as the user scrolls through a large album and stays full (docs/bench-grid.md).
pub const CACHE_KIB: i64 = 2048;

/// SQLite's page cache while a scan reconciles a folder: the scan touches the path
/// index all over, and 16 MB holds it for a 100k-file album (docs/bench-scan.md).
pub const SCAN_CACHE_KIB: i64 = 16384;

/// WAL pages after which a commit checkpoints them into the database (SQLite's default).
pub const WAL_PAGES: i64 = 1000;

/// The same while a scan writes: a 100k-file first scan writes ~45 MB, and checkpointing
/// every 4 MB wrote the pages every batch touches (index interiors, the tables' tails)
/// back into the database again and again.
pub const SCAN_WAL_PAGES: i64 = 16384;

/// Copies a writer's committed WAL pages into the database file from a connection of
/// its own until `writing` turns false, so the writer does not pay for it afterwards.
///
/// A first scan writes ~40 MB of WAL (100k files) with checkpoints held off
/// ([`SCAN_WAL_PAGES`]); copied at the end, that was ~75 ms on the writer's thread (the
/// CLI's last close, or the app's next commit holding the write lock). Run on the
/// walker's core once the walk is done (it is idle then), passive checkpoints copy most
/// of it while the writer is still inserting, and never block it (docs/bench-scan.md).
/// Best effort: a checkpoint that cannot run now is left for SQLite's own.
pub(crate) fn checkpoint_while(path: &Path, writing: &std::sync::atomic::AtomicBool) {
    let conn = match Connection::open(path) {
        Ok(conn) => conn,
        Err(e) => {
            tracing::debug!(error = %e, "no background checkpoint");
            return;
        }
    };
    while writing.load(std::sync::atomic::Ordering::Acquire) {
        // (busy, WAL frames, frames copied); busy only while another checkpoint runs.
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(0)) {
            tracing::debug!(error = %e, "background checkpoint");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Turns its flag false when dropped: the end of a [`checkpoint_while`], however the
/// writer stops.
pub(crate) struct StopOnDrop<'a>(pub(crate) &'a std::sync::atomic::AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(false, std::sync::atomic::Ordering::Release);
    }
}

/// Sets the connection's page cache size.
pub fn set_cache_kib(conn: &Connection, kib: i64) -> Result<()> {
    conn.pragma_update(None, "cache_size", -kib)?;
    Ok(())
}

/// The schema version of an open database.
pub fn version(conn: &Connection) -> Result<i64> {
    Ok(conn.pragma_query_value(None, "user_version", |r| r.get(0))?)
}

/// Applies migrations until the database is at `target`. Public so tests can build a
/// database at every earlier version.
pub fn migrate(conn: &Connection, target: i64) -> Result<()> {
    let current = version(conn)?;
    if current > SCHEMA_VERSION {
        return Err(LibraryError::TooNew { found: current, supported: SCHEMA_VERSION });
    }
    if current >= target.min(SCHEMA_VERSION) {
        return Ok(());
    }
    // Rebuilding a table (v3) drops the old one, which with foreign keys on would
    // cascade-delete every pick, cover and job. The pragma only works outside a
    // transaction, so it wraps the loop; each step checks the keys before committing.
    let fk_on: bool = conn.pragma_query_value(None, "foreign_keys", |r| r.get(0))?;
    conn.pragma_update(None, "foreign_keys", "OFF")?;
    let result = (|| -> Result<()> {
        for v in current..target.min(SCHEMA_VERSION) {
            let tx = conn.unchecked_transaction()?;
            tx.execute_batch(MIGRATIONS[v as usize])?;
            let broken: i64 = tx.query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |r| r.get(0))?;
            if broken > 0 {
                return Err(LibraryError::Migration {
                    version: v + 1,
                    reason: format!("{broken} broken foreign key(s)"),
                });
            }
            tx.pragma_update(None, "user_version", v + 1)?;
            tx.commit()?;
            tracing::info!(version = v + 1, "migrated library database");
        }
        Ok(())
    })();
    if fk_on {
        conn.pragma_update(None, "foreign_keys", "ON")?;
    }
    result
}

/// Opens a connection that only reads, on the database a writer already opened (and
/// upgraded) at `path`: the window's reads go through such connections so they never
/// wait behind a scan's write transaction (WAL lets readers see the last commit while
/// a writer writes). `query_only` makes any write on it an error; it gets no events
/// triggers (`crate::events::install`), which only matter for writes.
pub fn open_reader(path: &Path) -> Result<Connection> {
    use rusqlite::OpenFlags;
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(Duration::from_secs(10))?;
    set_cache_kib(&conn, CACHE_KIB)?;
    conn.pragma_update(None, "query_only", true)?;
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// While a writer holds SQLite's own checkpoints off, [`checkpoint_while`] copies
    /// what it commits into the database file from another thread, and stops when the
    /// writer's [`StopOnDrop`] goes.
    #[test]
    fn committed_pages_reach_the_database_while_the_writer_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DB_FILE);
        let conn = open(&path).unwrap();
        conn.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
        conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); CREATE TABLE t (x BLOB)").unwrap();
        let writing = std::sync::atomic::AtomicBool::new(true);
        let db_bytes = || std::fs::metadata(&path).unwrap().len();
        std::thread::scope(|scope| {
            let checkpoints = scope.spawn(|| checkpoint_while(&path, &writing));
            let _stop = StopOnDrop(&writing);
            let before = db_bytes();
            conn.execute_batch(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
                                INSERT INTO t SELECT zeroblob(1000) FROM n",
            )
            .unwrap();
            // Still writing (the flag is up): the ~2 MB committed reach the file anyway.
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            while db_bytes() < before + 2_000_000 && std::time::Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
            assert!(db_bytes() >= before + 2_000_000, "{} bytes in the database file", db_bytes());
            assert!(!checkpoints.is_finished(), "checkpoints go on while the writer writes");
        });
        // The scope ended: the guard dropped and the checkpoint thread returned.
        assert!(!writing.load(std::sync::atomic::Ordering::Acquire));
    }

    /// Data a user could have at version `v`, written with that version's columns.
    fn seed(conn: &Connection, v: i64) {
        if v >= 1 {
            conn.execute_batch(
                "INSERT INTO roots (id, path, name, added_at) VALUES (1, '/album', 'album', 0);
                 INSERT INTO media (id, root_id, path, name, kind, size, mtime_ms, taken_at, state)
                   VALUES (7, 1, '/album/a.mp4', 'a.mp4', 'video', 10, 1000, 1, 'ready');
                 INSERT INTO picks VALUES (7, 1, 2.5, 0.9, 'frames/7/1.jpg', 64, 48, '{}');
                 INSERT INTO cover_overrides VALUES (7, 'time', NULL, 3.0, 'covers/7.jpg', 0);
                 INSERT INTO jobs (media_id, state, created_ms, error) VALUES (7, 'failed', 0, 'worker hung');",
            )
            .unwrap();
        }
    }

    #[test]
    fn upgrades_from_every_earlier_version_keeping_data() {
        for start in 0..SCHEMA_VERSION {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join(DB_FILE);
            {
                let conn = Connection::open(&path).unwrap();
                configure(&conn).unwrap();
                migrate(&conn, start).unwrap();
                assert_eq!(version(&conn).unwrap(), start);
                seed(&conn, start);
            }
            let conn = open(&path).unwrap();
            assert_eq!(version(&conn).unwrap(), SCHEMA_VERSION, "from v{start}");
            let ok: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
            assert_eq!(ok, "ok");
            if start >= 1 {
                let (presence, t): (String, f64) = conn
                    .query_row(
                        "SELECT m.presence, c.time FROM media m JOIN cover_overrides c ON c.media_id = m.id WHERE m.id = 7",
                        [],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .unwrap();
                assert_eq!(presence, "present", "from v{start}");
                assert_eq!(t, 3.0);
                // Rebuilding the media table (v3) must not cascade into its children.
                let children: (i64, i64) = conn
                    .query_row(
                        "SELECT (SELECT COUNT(*) FROM picks), (SELECT COUNT(*) FROM jobs WHERE kind = 'analyse')",
                        [],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .unwrap();
                assert_eq!(children, (1, 1), "from v{start}");
                // v8: the failure's message stays; its kind is unknown (NULL), not guessed.
                let (error, kind): (String, Option<String>) = conn
                    .query_row("SELECT error, error_kind FROM jobs WHERE media_id = 7", [], |r| {
                        Ok((r.get(0)?, r.get(1)?))
                    })
                    .unwrap();
                assert_eq!((error.as_str(), kind), ("worker hung", None), "from v{start}");
                // v9: the analysis job is kept as one of kind `analyse`; the analysed video
                // without a score gets a score job, filled from its picks.
                let jobs: Vec<(String, String)> = conn
                    .prepare("SELECT kind, state FROM jobs WHERE media_id = 7 ORDER BY kind")
                    .unwrap()
                    .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                    .unwrap()
                    .map(|r| r.unwrap())
                    .collect();
                let want = [("analyse", "failed"), ("score", "queued")].map(|(k, s)| (k.to_owned(), s.to_owned()));
                assert_eq!(jobs, want, "from v{start}");
            }
            // Foreign keys are on again and the constraints still hold.
            let fk: bool = conn.pragma_query_value(None, "foreign_keys", |r| r.get(0)).unwrap();
            assert!(fk, "from v{start}");
            conn.execute("INSERT OR IGNORE INTO roots (id, path, name, added_at) VALUES (1, '/album', 'album', 0)", [])
                .unwrap();
            let bad_kind = conn.execute(
                "INSERT INTO media (root_id, path, name, kind, size, mtime_ms, taken_at) VALUES (1, '/album/x', 'x', 'sound', 1, 1, 1)",
                [],
            );
            assert!(bad_kind.is_err(), "from v{start}: a kind outside photo/video was accepted");
            // Opening again is a no-op.
            drop(conn);
            assert_eq!(version(&open(&path).unwrap()).unwrap(), SCHEMA_VERSION);
        }
    }

    #[test]
    fn refuses_a_newer_database() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DB_FILE);
        {
            let conn = open(&path).unwrap();
            conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1).unwrap();
        }
        match open(&path) {
            Err(LibraryError::TooNew { found, .. }) => assert_eq!(found, SCHEMA_VERSION + 1),
            other => panic!("expected TooNew, got {other:?}"),
        }
    }
}
