//! The persistent job queue: every piece of background work on a file is a job of one
//! [`JobKind`] (a video's analysis; a photo's facts, grid copy and score), one per file
//! and kind, in SQLite so it survives restarts and is shared by every Keepsake process
//! on the same data directory. What a newly indexed or changed file needs is decided in
//! one place, [`enqueue_indexed`].
//!
//! Order within a kind: highest `priority` first (what the user is looking at gets a
//! fresh, higher priority each time), then newest videos first, photos in index order.
//! A job whose owner process died while running is queued again. Failures retry with
//! exponential back-off. Which kinds run where, and how many at once, is the
//! [`crate::Analyzer`]'s business.
//!
//! The queue tells whoever waits ([`JobQueue::wait_for_change`]) when its table
//! changes, from SQLite's own hooks on the library's connection (a write to `jobs`
//! noted, told once at the commit): a scan's thousand new jobs, a claim, a finish. The window's progress is sent on those changes
//! instead of being polled.

use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use rusqlite::{params, Connection, OptionalExtension};

use crate::db::Presence;
use crate::error::Result;
use crate::model::{FailureKind, JobInfo, JobKind, JobState, MediaId, MediaKind, MediaState, QueueProgress};
use crate::util::{lock, now_ms, process_alive};

use JobState::{Cancelled, Done, Failed, Queued, Running};

/// Stores a type by its name (`as_str`); a name this Keepsake does not know (a newer
/// version's, a hand edit) is an error when read (`parse`), never taken for a default:
/// an unknown job state is not `queued`.
macro_rules! stored_by_name {
    ($type:ty, $what:literal) => {
        impl ToSql for $type {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                Ok(ToSqlOutput::from(self.as_str()))
            }
        }

        impl FromSql for $type {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                let name = value.as_str()?;
                <$type>::parse(name)
                    .ok_or_else(|| FromSqlError::Other(format!(concat!("unknown ", $what, " {:?}"), name).into()))
            }
        }
    };
}

stored_by_name!(JobState, "job state");
stored_by_name!(FailureKind, "failure kind");
stored_by_name!(JobKind, "job kind");

/// Queues (or re-queues) the analysis of one video inside the caller's transaction.
pub(crate) fn enqueue_tx(conn: &Connection, media_id: MediaId, priority: i64) -> Result<()> {
    enqueue_kind_tx(conn, media_id, JobKind::Analyse, priority)
}

/// Queues (or re-queues) one job inside the caller's transaction: fresh attempts; a
/// running one stays running (its result is checked against the file when stored).
pub(crate) fn enqueue_kind_tx(conn: &Connection, media_id: MediaId, kind: JobKind, priority: i64) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO jobs (media_id, kind, state, priority, created_ms) VALUES (?1, ?6, ?4, ?2, ?3)
         ON CONFLICT(media_id, kind) DO UPDATE SET
           state = CASE WHEN jobs.state = ?5 THEN ?5 ELSE ?4 END,
           attempts = 0, error = NULL, error_kind = NULL, not_before_ms = 0,
           priority = MAX(jobs.priority, excluded.priority)",
    )?
    .execute(params![media_id, priority, now_ms(), Queued, Running, kind])?;
    Ok(())
}

/// Queues the background work a file needs after it was indexed or changed, inside the
/// caller's transaction: every path that (re)indexes a file (scan, the watcher) calls
/// this one function, so what a new file gets is decided here only.
pub(crate) fn enqueue_indexed(conn: &Connection, media_id: MediaId, kind: MediaKind) -> Result<()> {
    let job = first_job(kind);
    if kind == MediaKind::Photo {
        // A changed photo starts over: whatever step its one job had reached goes.
        conn.prepare_cached("DELETE FROM jobs WHERE media_id = ?1 AND kind != ?2")?.execute(params![media_id, job])?;
    }
    enqueue_kind_tx(conn, media_id, job, 0)
}

/// The job a file starts with when it is indexed: a video's analysis; a photo's one job
/// starts at its facts (the timeline needs the date) and moves on to its grid copy, then
/// its score (see `finish_tx`): one row per photo, not three, which a 100k-photo scan
/// writes in its transaction.
fn first_job(kind: MediaKind) -> JobKind {
    match kind {
        MediaKind::Video => JobKind::Analyse,
        MediaKind::Photo => JobKind::PhotoFacts,
    }
}

/// [`enqueue_indexed`] for media rows the caller has just inserted (the bulk scan), in
/// one statement: every row with an id in `first..=last`, which holds only rows inserted
/// in the caller's transaction (a new row's id is above every existing one). Such a row
/// has no job of any kind, so a plain INSERT does (no DELETE probe of other kinds, no
/// upsert); one the single-file path inserted in between has its job from
/// [`enqueue_indexed`] already and keeps it. One INSERT ... SELECT instead of a
/// DELETE and an upsert per file, which were a fifth of a 100k-file `keepsake add`.
pub(crate) fn enqueue_new_range(conn: &Connection, first: MediaId, last: MediaId) -> Result<()> {
    conn.prepare_cached(
        "INSERT OR IGNORE INTO jobs (media_id, kind, state, priority, created_ms)
         SELECT id, CASE kind WHEN ?3 THEN ?4 ELSE ?5 END, ?6, 0, ?7 FROM media WHERE id BETWEEN ?1 AND ?2",
    )?
    .execute(params![
        first,
        last,
        MediaKind::Video.as_str(),
        first_job(MediaKind::Video),
        first_job(MediaKind::Photo),
        Queued,
        now_ms()
    ])?;
    Ok(())
}

/// A job handed to a worker thread.
#[derive(Debug, Clone)]
pub(crate) struct ClaimedJob {
    pub job_id: i64,
    pub media_id: MediaId,
    pub kind: JobKind,
    pub path: PathBuf,
    pub attempts: u32,
}

/// Analysis job counts by state, for media still present. Asked after every change to
/// the queue, so it must walk the analysis jobs (one per video) and look each media row
/// up; left to itself SQLite 3.50 walks all of `media` instead, which on 100k photos
/// took 50 ms, held the database lock and filled the page cache. CROSS JOIN fixes the
/// order.
const PROGRESS_COUNTS: &str = "SELECT j.state, COUNT(*) FROM jobs j CROSS JOIN media m ON m.id = j.media_id
     WHERE j.kind = ?2 AND m.presence = ?1 GROUP BY j.state";

/// Counts changes to the `jobs` table (SQLite's update hook) so waiters wake on them.
/// The count starts at 1, so a waiter that has seen nothing (0) returns at once.
struct Changes {
    generation: Mutex<u64>,
    changed: Condvar,
}

impl Default for Changes {
    fn default() -> Self {
        Changes { generation: Mutex::new(1), changed: Condvar::new() }
    }
}

impl Changes {
    fn bump(&self) {
        *lock(&self.generation) += 1;
        self.changed.notify_all();
    }
}

/// Handle on the queue; cheap to clone, shares the library's connection.
#[derive(Clone)]
pub struct JobQueue {
    db: Arc<Mutex<Connection>>,
    /// Recent job durations (seconds) for the ETA.
    timing: Arc<Mutex<Timing>>,
    changes: Arc<Changes>,
}

#[derive(Default)]
struct Timing {
    avg_s: Option<f64>,
    workers: usize,
}

impl JobQueue {
    /// The queue on the library's connection, whose writes to `jobs` it hears of.
    pub(crate) fn new(db: Arc<Mutex<Connection>>) -> Self {
        let changes = Arc::new(Changes::default());
        // A write to `jobs` is noted (a flag: a scan writes 100k rows) and told when its
        // transaction commits, once; waiters then read through this same connection's
        // lock, so they see what was committed.
        let touched = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (noted, committed, heard) = (touched.clone(), touched, changes.clone());
        let conn = lock(&db);
        conn.update_hook(Some(move |_: rusqlite::hooks::Action, _: &str, table: &str, _: i64| {
            if table == "jobs" {
                noted.store(true, std::sync::atomic::Ordering::Relaxed);
            }
        }));
        conn.commit_hook(Some(move || {
            if committed.swap(false, std::sync::atomic::Ordering::Relaxed) {
                heard.bump();
            }
            false // never veto the commit
        }));
        drop(conn);
        JobQueue { db, timing: Arc::default(), changes }
    }

    /// Waits until the queue has changed since generation `seen` (or `timeout` passes)
    /// and returns the generation now. A change is a write to the `jobs` table through
    /// this library (scans, the watcher, claims, results), or a pause or resume; the
    /// first call, with 0, returns at once. Writes by another process on the same data
    /// directory (a `keepsake` command) are not heard.
    pub fn wait_for_change(&self, seen: u64, timeout: Duration) -> u64 {
        let generation = lock(&self.changes.generation);
        let (generation, _) = self
            .changes
            .changed
            .wait_timeout_while(generation, timeout, |g| *g == seen)
            .unwrap_or_else(|e| e.into_inner());
        *generation
    }

    /// Queues analysis of these media (e.g. after the user asks for a re-analysis).
    pub fn enqueue(&self, ids: &[MediaId]) -> Result<()> {
        let mut conn = lock(&self.db);
        let tx = conn.transaction()?;
        for id in ids {
            enqueue_tx(&tx, *id, 0)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Moves these media to the front of the queue (the tiles the user is looking at);
    /// a later call outranks an earlier one.
    pub fn prioritize(&self, ids: &[MediaId]) -> Result<()> {
        let mut conn = lock(&self.db);
        let tx = conn.transaction()?;
        let top: i64 = tx.query_row("SELECT COALESCE(MAX(priority), 0) + 1 FROM jobs", [], |r| r.get(0))?;
        for id in ids {
            tx.execute(
                "UPDATE jobs SET priority = ?2, not_before_ms = 0 WHERE media_id = ?1 AND state = ?3",
                params![id, top, Queued],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Stops handing out new jobs (running ones finish). Persistent and shared.
    pub fn pause(&self) -> Result<()> {
        self.set_paused(true)
    }

    /// Undoes [`JobQueue::pause`].
    pub fn resume(&self) -> Result<()> {
        self.set_paused(false)
    }

    fn set_paused(&self, paused: bool) -> Result<()> {
        lock(&self.db).execute(
            "INSERT INTO settings (key, value) VALUES ('queue_paused', ?1)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [if paused { "1" } else { "0" }],
        )?;
        self.changes.bump();
        Ok(())
    }

    /// Whether the queue is paused.
    pub fn is_paused(&self) -> Result<bool> {
        let v: Option<String> = lock(&self.db)
            .query_row("SELECT value FROM settings WHERE key = 'queue_paused'", [], |r| r.get(0))
            .optional()?;
        Ok(v.as_deref() == Some("1"))
    }

    /// Cancels queued analyses of these videos (all queued analyses when `ids` is
    /// empty). Photos' passes are not the user's to cancel: they are cheap and the grid
    /// needs them.
    pub fn cancel(&self, ids: &[MediaId]) -> Result<u64> {
        let conn = lock(&self.db);
        if ids.is_empty() {
            return Ok(conn.execute(
                "UPDATE jobs SET state = ?1 WHERE state = ?2 AND kind = ?3",
                params![Cancelled, Queued, JobKind::Analyse],
            )? as u64);
        }
        let mut n = 0;
        for id in ids {
            n += conn.execute(
                "UPDATE jobs SET state = ?2 WHERE media_id = ?1 AND state = ?3 AND kind = ?4",
                params![id, Cancelled, Queued, JobKind::Analyse],
            )?;
        }
        Ok(n as u64)
    }

    /// Queues every failed (and cancelled) job again with fresh attempts.
    pub fn retry_failed(&self) -> Result<u64> {
        let conn = lock(&self.db);
        let n = conn.execute(
            "UPDATE jobs SET state = ?1, attempts = 0, not_before_ms = 0, error = NULL, error_kind = NULL
             WHERE state IN (?2, ?3)",
            params![Queued, Failed, Cancelled],
        )?;
        conn.execute(
            "UPDATE media SET state = ?3, error = NULL
             WHERE id IN (SELECT media_id FROM jobs WHERE state = ?1 AND kind = ?2) AND state = ?4",
            params![Queued, JobKind::Analyse, MediaState::Pending, MediaState::Failed],
        )?;
        Ok(n as u64)
    }

    /// Counts, what is running, an ETA, and whether paused.
    pub fn progress(&self) -> Result<QueueProgress> {
        let paused = self.is_paused()?;
        let conn = lock(&self.db);
        let mut p = QueueProgress { paused, ..Default::default() };
        {
            let mut stmt = conn.prepare(PROGRESS_COUNTS)?;
            let rows = stmt.query_map(params![Presence::Present, JobKind::Analyse], |r| {
                Ok((r.get::<_, JobState>(0)?, r.get::<_, u64>(1)?))
            })?;
            for row in rows {
                let (state, n) = row?;
                match state {
                    Done => p.done += n,
                    Failed => p.failed += n,
                    Queued => p.queued += n,
                    Running | Cancelled => {}
                }
                if state != Cancelled {
                    p.total += n;
                }
            }
        }
        let mut stmt = conn.prepare(
            "SELECT m.path FROM jobs j JOIN media m ON m.id = j.media_id WHERE j.state = ?1 AND j.kind = ?2
             ORDER BY j.started_ms",
        )?;
        p.running = stmt
            .query_map(params![Running, JobKind::Analyse], |r| r.get::<_, String>(0))?
            .filter_map(|r| r.ok())
            .map(PathBuf::from)
            .collect();
        let timing = lock(&self.timing);
        if let Some(avg) = timing.avg_s {
            let left = (p.queued + p.running.len() as u64) as f64;
            p.eta_s = Some(avg * left / timing.workers.max(1) as f64);
        }
        Ok(p)
    }

    /// Jobs for `keepsake jobs`: every video's analysis, or (`only_failed`) the failed
    /// jobs of every kind (a photo that could not be read, scored or copied too).
    pub fn list(&self, only_failed: bool) -> Result<Vec<JobInfo>> {
        let conn = lock(&self.db);
        let mut stmt = conn.prepare(
            "SELECT j.id, j.media_id, j.kind, m.path, j.state, j.priority, j.attempts, j.error, j.error_kind
             FROM jobs j JOIN media m ON m.id = j.media_id
             WHERE m.presence != ?2 AND (?1 = 0 AND j.kind = ?4 OR ?1 = 1 AND j.state = ?3)
             ORDER BY j.priority DESC, m.taken_at DESC, j.kind",
        )?;
        let rows = stmt.query_map(params![only_failed as i64, Presence::Deleted, Failed, JobKind::Analyse], |r| {
            Ok(JobInfo {
                id: r.get(0)?,
                media_id: r.get(1)?,
                kind: r.get(2)?,
                path: PathBuf::from(r.get::<_, String>(3)?),
                state: r.get(4)?,
                priority: r.get(5)?,
                attempts: r.get(6)?,
                error: r.get(7)?,
                error_kind: r.get(8)?,
            })
        })?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// Queues again the jobs left `running` by processes that no longer exist
    /// (killed, crashed, powered off): restart safety.
    pub fn recover_interrupted(&self) -> Result<u64> {
        let conn = lock(&self.db);
        let running: Vec<(i64, Option<i64>)> = {
            let mut stmt = conn.prepare("SELECT id, owner_pid FROM jobs WHERE state = ?1")?;
            let rows = stmt.query_map([Running], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<std::result::Result<_, _>>()?
        };
        let mut n = 0;
        for (id, pid) in running {
            if !pid.is_some_and(process_alive) {
                n += conn.execute("UPDATE jobs SET state = ?2, owner_pid = NULL WHERE id = ?1", params![id, Queued])?;
            }
        }
        if n > 0 {
            tracing::info!("re-queued {n} interrupted job(s)");
        }
        Ok(n as u64)
    }

    /// Takes up to `max` runnable jobs of `kind` for this process, marking them running:
    /// the highest priority first, then the newest videos or the photos in index order.
    pub(crate) fn claim(&self, kind: JobKind, max: usize) -> Result<Vec<ClaimedJob>> {
        // Videos are few and go newest first; photos are many and go in index order, which
        // the `jobs_next` index gives without sorting every queued photo at each claim.
        let order = match kind {
            JobKind::Analyse => "j.priority DESC, m.taken_at DESC, m.id DESC",
            _ => "j.priority DESC, j.id",
        };
        let mut conn = lock(&self.db);
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let jobs: Vec<ClaimedJob> = {
            let mut stmt = tx.prepare_cached(&format!(
                "SELECT j.id, j.media_id, m.path, j.attempts
                 FROM jobs j JOIN media m ON m.id = j.media_id
                 WHERE j.kind = ?4 AND j.state = ?2 AND j.not_before_ms <= ?1 AND m.presence = ?3
                 ORDER BY {order} LIMIT ?5"
            ))?;
            let rows = stmt.query_map(params![now_ms(), Queued, Presence::Present, kind, max as i64], |r| {
                Ok(ClaimedJob {
                    job_id: r.get(0)?,
                    media_id: r.get(1)?,
                    kind,
                    path: PathBuf::from(r.get::<_, String>(2)?),
                    attempts: r.get::<_, u32>(3)? + 1,
                })
            })?;
            rows.collect::<std::result::Result<_, _>>()?
        };
        {
            let mut mark = tx.prepare_cached(
                "UPDATE jobs SET state = ?4, attempts = attempts + 1, owner_pid = ?2, started_ms = ?3 WHERE id = ?1",
            )?;
            for job in &jobs {
                mark.execute(params![job.job_id, std::process::id(), now_ms(), Running])?;
            }
        }
        tx.commit()?;
        Ok(jobs)
    }

    /// Marks these jobs done (a kind whose result is stored elsewhere in the same
    /// transaction uses [`finish_tx`]).
    pub(crate) fn finish(&self, jobs: &[ClaimedJob]) -> Result<()> {
        let mut conn = lock(&self.db);
        let tx = conn.transaction()?;
        for job in jobs {
            finish_tx(&tx, job)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Gives claimed jobs back untried (the window needed the machine first): queued
    /// again, the attempt not counted.
    pub(crate) fn release(&self, jobs: &[ClaimedJob]) -> Result<()> {
        let mut conn = lock(&self.db);
        let tx = conn.transaction()?;
        for job in jobs {
            tx.execute(
                "UPDATE jobs SET state = ?2, attempts = MAX(attempts - 1, 0), owner_pid = NULL
                 WHERE id = ?1 AND state = ?3",
                params![job.job_id, Queued, Running],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Whether any job of these kinds is queued (now or after a back-off) or running.
    pub(crate) fn has_work(&self, kinds: &[JobKind]) -> Result<bool> {
        let conn = lock(&self.db);
        for kind in kinds {
            let any: bool = conn.query_row(
                "SELECT EXISTS (SELECT 1 FROM jobs j JOIN media m ON m.id = j.media_id
                 WHERE j.kind = ?4 AND j.state IN (?1, ?2) AND m.presence = ?3)",
                params![Queued, Running, Presence::Present, kind],
                |r| r.get(0),
            )?;
            if any {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Records a failed attempt, with its reason and kind: queued again after a
    /// back-off, or failed for good (with the reason on the media) once `max_attempts`
    /// is reached.
    pub(crate) fn fail_attempt(
        &self,
        job: &ClaimedJob,
        reason: &str,
        kind: FailureKind,
        max_attempts: u32,
        backoff_ms: i64,
    ) -> Result<bool> {
        let conn = lock(&self.db);
        let final_failure = job.attempts >= max_attempts;
        if final_failure {
            conn.execute(
                "UPDATE jobs SET state = ?4, error = ?2, error_kind = ?5, owner_pid = NULL, finished_ms = ?3 WHERE id = ?1",
                params![job.job_id, reason, now_ms(), Failed, kind],
            )?;
            // A video that cannot be analysed shows why on its tile; a photo whose score
            // or copy failed is still a photo to show (an unreadable one was marked by
            // the render itself).
            if job.kind == JobKind::Analyse {
                conn.execute(
                    "UPDATE media SET state = ?3, error = ?2 WHERE id = ?1",
                    params![job.media_id, reason, MediaState::Failed],
                )?;
            }
        } else {
            let delay = backoff_ms.saturating_mul(1 << (job.attempts.saturating_sub(1)).min(10));
            conn.execute(
                "UPDATE jobs SET state = ?4, error = ?2, error_kind = ?5, owner_pid = NULL, not_before_ms = ?3 WHERE id = ?1",
                params![job.job_id, reason, now_ms() + delay, Queued, kind],
            )?;
        }
        Ok(final_failure)
    }
}

/// Marks one job done inside the caller's transaction, or, for a photo's job with a
/// next step ([`JobKind::next_for_photo`]), queues that step in its place.
pub(crate) fn finish_tx(conn: &Connection, job: &ClaimedJob) -> Result<()> {
    match job.kind.next_for_photo() {
        Some(next) => conn
            .prepare_cached(
                "UPDATE jobs SET kind = ?3, state = ?4, attempts = 0, not_before_ms = 0, error = NULL,
                   error_kind = NULL, owner_pid = NULL, finished_ms = ?2 WHERE id = ?1",
            )?
            .execute(params![job.job_id, now_ms(), next, Queued])?,
        None => conn
            .prepare_cached(
                "UPDATE jobs SET state = ?3, error = NULL, error_kind = NULL, owner_pid = NULL, finished_ms = ?2
                 WHERE id = ?1",
            )?
            .execute(params![job.job_id, now_ms(), Done])?,
    };
    Ok(())
}

impl JobQueue {
    pub(crate) fn record_duration(&self, secs: f64, workers: usize) {
        let mut t = lock(&self.timing);
        t.workers = workers;
        t.avg_s = Some(match t.avg_s {
            Some(a) => a * 0.8 + secs * 0.2,
            None => secs,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 5,000 photos and three videos with jobs in three states, as a scan leaves them.
    fn album() -> (tempfile::TempDir, Arc<Mutex<Connection>>) {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::db::open(&dir.path().join("t.sqlite3")).unwrap();
        conn.execute_batch("INSERT INTO roots (id, path, name, added_at) VALUES (1, '/album', 'album', 0)").unwrap();
        let mut insert = conn
            .prepare(
                "INSERT INTO media (id, root_id, path, name, kind, size, mtime_ms, taken_at) VALUES (?1, 1, ?2, ?3, ?4, 1, 0, 0)",
            )
            .unwrap();
        for id in 1..=5003i64 {
            let kind = if id > 5000 { "video" } else { "photo" };
            insert.execute(params![id, format!("/album/{id}.x"), format!("{id}.x"), kind]).unwrap();
        }
        drop(insert);
        conn.execute_batch(
            "INSERT INTO jobs (media_id, kind, state, created_ms)
             VALUES (5001, 'analyse', 'queued', 0), (5002, 'analyse', 'done', 0), (5003, 'analyse', 'failed', 0)",
        )
        .unwrap();
        (dir, Arc::new(Mutex::new(conn)))
    }

    #[test]
    fn progress_walks_the_jobs_not_every_media_row() {
        let (_dir, db) = album();
        let plan: Vec<String> = {
            let conn = lock(&db);
            let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {PROGRESS_COUNTS}")).unwrap();
            let rows = stmt.query_map(params![Presence::Present, JobKind::Analyse], |r| r.get::<_, String>(3)).unwrap();
            rows.map(|r| r.unwrap()).collect()
        };
        // Through the analyses only (by the `jobs_next` index), not every photo's jobs.
        assert!(plan[0].starts_with("SEARCH j USING"), "jobs must be the outer loop: {plan:?}");
        assert!(plan.iter().any(|s| s.starts_with("SEARCH m USING INTEGER PRIMARY KEY")), "{plan:?}");
        let p = JobQueue::new(db).progress().unwrap();
        assert_eq!((p.queued, p.done, p.failed, p.total), (1, 1, 1, 3));
    }

    /// A state this Keepsake does not know (a newer version's, a hand edit) is an error
    /// where it is read, never taken for `queued`.
    #[test]
    fn an_unknown_job_state_is_an_error_not_queued() {
        let (_dir, db) = album();
        lock(&db).execute("UPDATE jobs SET state = 'paused' WHERE media_id = 5001", []).unwrap();
        let queue = JobQueue::new(db.clone());
        for err in [queue.progress().unwrap_err(), queue.list(false).unwrap_err()] {
            assert!(err.to_string().contains("unknown job state \"paused\""), "{err}");
        }
        lock(&db)
            .execute("UPDATE jobs SET state = 'failed', error_kind = 'gremlins' WHERE media_id = 5001", [])
            .unwrap();
        let err = queue.list(true).unwrap_err();
        assert!(err.to_string().contains("unknown failure kind \"gremlins\""), "{err}");
        lock(&db).execute("UPDATE jobs SET error_kind = 'out_of_memory' WHERE media_id = 5001", []).unwrap();
        let failed = queue.list(true).unwrap();
        let kinds: Vec<_> = failed.iter().map(|j| (j.media_id, j.state, j.error_kind)).collect();
        assert_eq!(kinds, [(5001, Failed, Some(FailureKind::OutOfMemory)), (5003, Failed, None)]);
    }

    /// Every state and kind has one name, the same in SQL and JSON, and reads back.
    #[test]
    fn states_and_kinds_read_back_as_written() {
        let conn = Connection::open_in_memory().unwrap();
        for (state, name) in JobState::ALL {
            assert_eq!(serde_json::to_value(state).unwrap(), name);
            let back: (String, JobState) =
                conn.query_row("SELECT ?1, ?1", [state], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
            assert_eq!(back, (name.to_owned(), state));
        }
        for (kind, name) in FailureKind::ALL {
            assert_eq!(serde_json::to_value(kind).unwrap(), name);
            let back: FailureKind = conn.query_row("SELECT ?1", [kind], |r| r.get(0)).unwrap();
            assert_eq!(back, kind);
        }
        for (kind, name) in JobKind::ALL {
            assert_eq!(serde_json::to_value(kind).unwrap(), name);
            let back: JobKind = conn.query_row("SELECT ?1", [kind], |r| r.get(0)).unwrap();
            assert_eq!(back, kind);
        }
        assert!(conn.query_row("SELECT 'dance'", [], |r| r.get::<_, JobKind>(0)).is_err());
        for p in [Presence::Present, Presence::Missing, Presence::Deleted] {
            let back: Presence = conn.query_row("SELECT ?1", [p], |r| r.get(0)).unwrap();
            assert_eq!(back, p);
        }
        assert!(conn.query_row("SELECT 'gone'", [], |r| r.get::<_, Presence>(0)).is_err());
    }

    /// Every photo indexed gets its three passes queued and every video its analysis,
    /// through the one function all index paths call; each kind is claimed on its own,
    /// photos in index order, a batch at a time; released jobs come back untried and
    /// finished ones do not come back, until the file changes and is queued again.
    #[test]
    fn each_kind_is_claimed_on_its_own_and_a_change_queues_again() {
        let (_dir, db) = album();
        let queue = JobQueue::new(db.clone());
        {
            let conn = lock(&db);
            for id in [3, 1, 2] {
                enqueue_indexed(&conn, id, MediaKind::Photo).unwrap();
            }
            enqueue_indexed(&conn, 5001, MediaKind::Video).unwrap();
        }
        let count = |kind: JobKind| -> i64 {
            lock(&db).query_row("SELECT COUNT(*) FROM jobs WHERE kind = ?1", [kind], |r| r.get(0)).unwrap()
        };
        assert_eq!(count(JobKind::PhotoFacts), 3, "a photo's one job starts at its facts");
        assert_eq!(count(JobKind::GridCopy) + count(JobKind::Score), 0);
        assert_eq!(count(JobKind::Analyse), 3, "the video's job is the one it had: still one per file and kind");

        let facts = queue.claim(JobKind::PhotoFacts, 2).unwrap();
        let ids: Vec<_> = facts.iter().map(|j| (j.media_id, j.kind, j.attempts)).collect();
        assert_eq!(ids, [(3, JobKind::PhotoFacts, 1), (1, JobKind::PhotoFacts, 1)], "queued order, by job");
        let video = queue.claim(JobKind::Analyse, 5).unwrap();
        assert_eq!(video.iter().map(|j| j.media_id).collect::<Vec<_>>(), [5001], "only analyses, only queued ones");

        queue.release(&facts[1..]).unwrap();
        queue.finish(&facts[..1]).unwrap();
        let next = queue.claim(JobKind::PhotoFacts, 5).unwrap();
        let ids: Vec<_> = next.iter().map(|j| (j.media_id, j.attempts)).collect();
        assert_eq!(ids, [(1, 1), (2, 1)], "a released job comes back untried; a finished one does not");
        queue.finish(&next).unwrap();
        assert!(queue.claim(JobKind::PhotoFacts, 5).unwrap().is_empty());
        assert!(!queue.has_work(&[JobKind::PhotoFacts]).unwrap());

        // Done with its facts, a photo's job moves on to its grid copy, then its score.
        let copies = queue.claim(JobKind::GridCopy, 5).unwrap();
        assert_eq!(copies.iter().map(|j| (j.media_id, j.attempts)).collect::<Vec<_>>(), [(3, 1), (1, 1), (2, 1)]);
        queue.finish(&copies[..2]).unwrap();
        queue.release(&copies[2..]).unwrap();
        assert_eq!((count(JobKind::GridCopy), count(JobKind::Score)), (1, 2));

        enqueue_indexed(&lock(&db), 3, MediaKind::Photo).unwrap(); // the file changed: it starts over
        assert_eq!((count(JobKind::PhotoFacts), count(JobKind::GridCopy), count(JobKind::Score)), (1, 1, 1));
        let again = queue.claim(JobKind::PhotoFacts, 5).unwrap();
        assert_eq!(again.iter().map(|j| j.media_id).collect::<Vec<_>>(), [3]);
        queue.finish(&again).unwrap();
        assert_eq!((count(JobKind::PhotoFacts), count(JobKind::GridCopy), count(JobKind::Score)), (0, 2, 1));

        // A photo's score failing for good leaves the photo as it was.
        let score = queue.claim(JobKind::Score, 5).unwrap();
        assert_eq!(score.iter().map(|j| j.media_id).collect::<Vec<_>>(), [1]);
        assert!(queue.fail_attempt(&score[0], "the worker hung", FailureKind::WorkerHung, 1, 0).unwrap());
        let state: String =
            lock(&db).query_row("SELECT state FROM media WHERE id = ?1", [score[0].media_id], |r| r.get(0)).unwrap();
        assert_ne!(state, "failed");
        let failed: Vec<_> = queue.list(true).unwrap().into_iter().map(|j| (j.media_id, j.kind)).collect();
        assert_eq!(
            failed,
            [(5003, JobKind::Analyse), (score[0].media_id, JobKind::Score)],
            "failed jobs of every kind"
        );
    }

    /// Waiters hear of every write to the queue's table, however it was made (here a
    /// scan-like insert in a transaction of its own), and of a pause; nothing else wakes
    /// them before their timeout.
    #[test]
    fn waiters_hear_of_changes_to_the_queue_and_only_of_them() {
        let (_dir, db) = album();
        let queue = JobQueue::new(db.clone());
        let seen = queue.wait_for_change(0, Duration::ZERO);
        assert!(seen > 0, "the first call returns at once");
        let started = std::time::Instant::now();
        assert_eq!(queue.wait_for_change(seen, Duration::from_millis(150)), seen, "no change: the timeout");
        assert!(started.elapsed() >= Duration::from_millis(140));
        lock(&db).execute("UPDATE media SET name = 'x' WHERE id = 1", []).unwrap();
        assert_eq!(queue.wait_for_change(seen, Duration::from_millis(50)), seen, "other tables do not count");

        let waiter = {
            let queue = queue.clone();
            std::thread::spawn(move || queue.wait_for_change(seen, Duration::from_secs(20)))
        };
        std::thread::sleep(Duration::from_millis(50));
        {
            let mut conn = lock(&db);
            let tx = conn.transaction().unwrap();
            enqueue_indexed(&tx, 4, MediaKind::Photo).unwrap();
            enqueue_indexed(&tx, 5, MediaKind::Photo).unwrap();
            assert_eq!(queue.wait_for_change(seen, Duration::ZERO), seen, "told at the commit, not before");
            tx.commit().unwrap();
        }
        let started = std::time::Instant::now();
        let after_scan = waiter.join().unwrap();
        assert!(after_scan > seen && started.elapsed() < Duration::from_secs(5));
        assert_eq!(after_scan, seen + 1, "one commit, one change, however many rows");
        queue.pause().unwrap();
        assert!(queue.wait_for_change(after_scan, Duration::from_secs(5)) > after_scan, "a pause is a change");
    }
}
