//! The persistent job queue: one analysis job per video, in SQLite so it survives
//! restarts and is shared by every Keepsake process on the same data directory.
//!
//! Order: highest `priority` first (what the user is looking at gets a fresh, higher
//! priority each time), then newest media first. A job whose owner process died while
//! running is queued again. Failures retry with exponential back-off.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use rusqlite::{params, Connection, OptionalExtension};

use crate::db::Presence;
use crate::error::Result;
use crate::model::{FailureKind, JobInfo, JobState, MediaId, QueueProgress};
use crate::util::{lock, now_ms, process_alive};

use JobState::{Cancelled, Done, Failed, Queued, Running};

/// A job's state is stored by its name; a name this Keepsake does not know (a newer
/// version's, a hand edit) is an error when read, never taken for `queued`.
impl ToSql for JobState {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.as_str()))
    }
}

impl FromSql for JobState {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let name = value.as_str()?;
        JobState::parse(name).ok_or_else(|| FromSqlError::Other(format!("unknown job state {name:?}").into()))
    }
}

/// Stored by name, like [`JobState`]; an unknown name is an error when read.
impl ToSql for FailureKind {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.as_str()))
    }
}

impl FromSql for FailureKind {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let name = value.as_str()?;
        FailureKind::parse(name).ok_or_else(|| FromSqlError::Other(format!("unknown failure kind {name:?}").into()))
    }
}

/// Queues (or re-queues) the analysis of one media item inside the caller's transaction.
pub(crate) fn enqueue_tx(conn: &Connection, media_id: MediaId, priority: i64) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO jobs (media_id, state, priority, created_ms) VALUES (?1, ?4, ?2, ?3)
         ON CONFLICT(media_id) DO UPDATE SET
           state = CASE WHEN jobs.state = ?5 THEN ?5 ELSE ?4 END,
           attempts = 0, error = NULL, error_kind = NULL, not_before_ms = 0,
           priority = MAX(jobs.priority, excluded.priority)",
    )?
    .execute(params![media_id, priority, now_ms(), Queued, Running])?;
    Ok(())
}

/// Queues the background work a file needs after it was indexed or changed, inside the
/// caller's transaction: every path that (re)indexes a file (scan, the watcher) calls
/// this one function, so what a new file gets is decided here only.
pub(crate) fn enqueue_indexed(conn: &Connection, media_id: MediaId) -> Result<()> {
    let kind: Option<String> =
        conn.prepare_cached("SELECT kind FROM media WHERE id = ?1")?.query_row([media_id], |r| r.get(0)).optional()?;
    if kind.as_deref() == Some("video") {
        enqueue_tx(conn, media_id, 0)?;
    }
    Ok(())
}

/// A job handed to a worker thread.
#[derive(Debug, Clone)]
pub(crate) struct ClaimedJob {
    pub job_id: i64,
    pub media_id: MediaId,
    pub path: PathBuf,
    pub attempts: u32,
}

/// Job counts by state, for media still present. The window polls it every 0.7 s, so
/// it must walk the jobs (one per video) and look each media row up; left to itself
/// SQLite 3.50 walks all of `media` instead, which on 100k photos took 50 ms, held the
/// database lock and filled the page cache. CROSS JOIN fixes the order.
const PROGRESS_COUNTS: &str = "SELECT j.state, COUNT(*) FROM jobs j CROSS JOIN media m ON m.id = j.media_id
     WHERE m.presence = ?1 GROUP BY j.state";

/// Handle on the queue; cheap to clone, shares the library's connection.
#[derive(Clone)]
pub struct JobQueue {
    db: Arc<Mutex<Connection>>,
    /// Recent job durations (seconds) for the ETA.
    timing: Arc<Mutex<Timing>>,
}

#[derive(Default)]
struct Timing {
    avg_s: Option<f64>,
    workers: usize,
}

impl JobQueue {
    pub(crate) fn new(db: Arc<Mutex<Connection>>) -> Self {
        JobQueue { db, timing: Arc::default() }
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
        Ok(())
    }

    /// Whether the queue is paused.
    pub fn is_paused(&self) -> Result<bool> {
        let v: Option<String> = lock(&self.db)
            .query_row("SELECT value FROM settings WHERE key = 'queue_paused'", [], |r| r.get(0))
            .optional()?;
        Ok(v.as_deref() == Some("1"))
    }

    /// Cancels queued jobs for these media (all queued jobs when `ids` is empty).
    pub fn cancel(&self, ids: &[MediaId]) -> Result<u64> {
        let conn = lock(&self.db);
        if ids.is_empty() {
            return Ok(conn.execute("UPDATE jobs SET state = ?1 WHERE state = ?2", params![Cancelled, Queued])? as u64);
        }
        let mut n = 0;
        for id in ids {
            n += conn.execute(
                "UPDATE jobs SET state = ?2 WHERE media_id = ?1 AND state = ?3",
                params![id, Cancelled, Queued],
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
            "UPDATE media SET state = 'pending', error = NULL
             WHERE id IN (SELECT media_id FROM jobs WHERE state = ?1) AND state = 'failed'",
            params![Queued],
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
            let rows = stmt.query_map([Presence::Present], |r| Ok((r.get::<_, JobState>(0)?, r.get::<_, u64>(1)?)))?;
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
            "SELECT m.path FROM jobs j JOIN media m ON m.id = j.media_id WHERE j.state = ?1 ORDER BY j.started_ms",
        )?;
        p.running =
            stmt.query_map([Running], |r| r.get::<_, String>(0))?.filter_map(|r| r.ok()).map(PathBuf::from).collect();
        let timing = lock(&self.timing);
        if let Some(avg) = timing.avg_s {
            let left = (p.queued + p.running.len() as u64) as f64;
            p.eta_s = Some(avg * left / timing.workers.max(1) as f64);
        }
        Ok(p)
    }

    /// Jobs for `keepsake jobs`: all, or only failed ones.
    pub fn list(&self, only_failed: bool) -> Result<Vec<JobInfo>> {
        let conn = lock(&self.db);
        let mut stmt = conn.prepare(
            "SELECT j.id, j.media_id, m.path, j.state, j.priority, j.attempts, j.error, j.error_kind
             FROM jobs j JOIN media m ON m.id = j.media_id
             WHERE m.presence != ?2 AND (?1 = 0 OR j.state = ?3)
             ORDER BY j.priority DESC, m.taken_at DESC",
        )?;
        let rows = stmt.query_map(params![only_failed as i64, Presence::Deleted, Failed], |r| {
            Ok(JobInfo {
                id: r.get(0)?,
                media_id: r.get(1)?,
                path: PathBuf::from(r.get::<_, String>(2)?),
                state: r.get(3)?,
                priority: r.get(4)?,
                attempts: r.get(5)?,
                error: r.get(6)?,
                error_kind: r.get(7)?,
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

    /// Takes the next runnable job for this process, marking it running.
    pub(crate) fn claim(&self) -> Result<Option<ClaimedJob>> {
        let mut conn = lock(&self.db);
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let job = tx
            .query_row(
                "SELECT j.id, j.media_id, m.path, j.attempts
                 FROM jobs j JOIN media m ON m.id = j.media_id
                 WHERE j.state = ?2 AND j.not_before_ms <= ?1 AND m.presence = ?3
                 ORDER BY j.priority DESC, m.taken_at DESC, m.id DESC LIMIT 1",
                params![now_ms(), Queued, Presence::Present],
                |r| {
                    Ok(ClaimedJob {
                        job_id: r.get(0)?,
                        media_id: r.get(1)?,
                        path: PathBuf::from(r.get::<_, String>(2)?),
                        attempts: r.get(3)?,
                    })
                },
            )
            .optional()?;
        if let Some(job) = &job {
            tx.execute(
                "UPDATE jobs SET state = ?4, attempts = attempts + 1, owner_pid = ?2, started_ms = ?3 WHERE id = ?1",
                params![job.job_id, std::process::id(), now_ms(), Running],
            )?;
        }
        tx.commit()?;
        Ok(job.map(|mut j| {
            j.attempts += 1;
            j
        }))
    }

    /// Whether anything is queued (now or after a back-off) or running.
    pub(crate) fn has_work(&self) -> Result<bool> {
        let n: i64 = lock(&self.db).query_row(
            "SELECT COUNT(*) FROM jobs j JOIN media m ON m.id = j.media_id
             WHERE j.state IN (?1, ?2) AND m.presence = ?3",
            params![Queued, Running, Presence::Present],
            |r| r.get(0),
        )?;
        Ok(n > 0)
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
            conn.execute("UPDATE media SET state = 'failed', error = ?2 WHERE id = ?1", params![job.media_id, reason])?;
        } else {
            let delay = backoff_ms.saturating_mul(1 << (job.attempts.saturating_sub(1)).min(10));
            conn.execute(
                "UPDATE jobs SET state = ?4, error = ?2, error_kind = ?5, owner_pid = NULL, not_before_ms = ?3 WHERE id = ?1",
                params![job.job_id, reason, now_ms() + delay, Queued, kind],
            )?;
        }
        Ok(final_failure)
    }

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
            "INSERT INTO jobs (media_id, state, created_ms) VALUES (5001, 'queued', 0), (5002, 'done', 0), (5003, 'failed', 0)",
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
            let rows = stmt.query_map([Presence::Present], |r| r.get::<_, String>(3)).unwrap();
            rows.map(|r| r.unwrap()).collect()
        };
        assert!(plan[0].starts_with("SCAN j"), "jobs must be the outer loop: {plan:?}");
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
        for p in [Presence::Present, Presence::Missing, Presence::Deleted] {
            let back: Presence = conn.query_row("SELECT ?1", [p], |r| r.get(0)).unwrap();
            assert_eq!(back, p);
        }
        assert!(conn.query_row("SELECT 'gone'", [], |r| r.get::<_, Presence>(0)).is_err());
    }
}
