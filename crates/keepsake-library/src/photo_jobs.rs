//! [`PhotoJobs`]: the photos' background jobs, run from the job queue ([`crate::jobs`])
//! by the [`crate::Analyzer`]'s photo thread, one step of a photo's job after another:
//! reading its date, size, place and embedded video ([`JobKind::PhotoFacts`]: a bulk
//! scan opens no photo, and a changed file's facts may have changed), making its grid
//! copy ahead of the first view ([`JobKind::GridCopy`]), and scoring it for events and
//! memories ([`JobKind::Score`]; how, in [`crate::scoring`]).

use std::path::PathBuf;

use rusqlite::{params, OptionalExtension};

use std::sync::Arc;
use std::time::Duration;

use crate::core::Core;
use crate::db::Presence;
use crate::error::{LibraryError, Result};
use crate::helper::HelperWorker;
use crate::images::ImageStore;
use crate::jobs::{ClaimedJob, JobQueue};
use crate::model::{FailureKind, ImageKey, JobKind, MediaId, MediaKind, Reasons};
use crate::protocol::{PictureScoreResult, WorkerRequest};
use crate::scoring::dhash;
use crate::taken::TakenSource;

/// The photos' background jobs, a step at a time ([`crate::Library::photo_jobs`]).
#[derive(Clone)]
pub struct PhotoJobs {
    core: Arc<Core>,
    queue: JobQueue,
    images: ImageStore,
}

/// Photos scored per worker request (about 20-60 ms each in the worker, so a batch is
/// a second or so of background work; the batch is cut short when the window shows
/// something).
pub(crate) const SCORE_BATCH: usize = 16;
/// Fixed part of a batch's deadline (starting a worker and loading the face model).
const SCORE_TIMEOUT_BASE: Duration = Duration::from_secs(30);
/// Extra deadline per picture in a batch.
const SCORE_TIMEOUT_PER_PICTURE: Duration = Duration::from_secs(5);

/// One photo of a batch: what is needed to store its result safely.
struct Candidate {
    job: ClaimedJob,
    size: i64,
    mtime_ms: i64,
    grid: PathBuf,
    dhash: Option<i64>,
}

/// Attempts at scoring a picture before its job fails for good (a worker that crashes
/// on a batch fails each of its pictures' attempts; one of them may be what crashes it).
const SCORE_ATTEMPTS: u32 = 3;
/// First retry delay of a failed batch, doubled each attempt.
const SCORE_BACKOFF_MS: i64 = 30_000;

impl PhotoJobs {
    pub(crate) fn new(core: Arc<Core>, queue: JobQueue, images: ImageStore) -> PhotoJobs {
        PhotoJobs { core, queue, images }
    }

    fn queue(&self) -> &JobQueue {
        &self.queue
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, rusqlite::Connection> {
        self.core.conn()
    }

    fn helper(&self) -> &HelperWorker {
        &self.core.helper
    }

    fn image_path(&self, key: &ImageKey) -> Result<PathBuf> {
        self.images.image_path(key)
    }

    /// Makes the grid copies of up to `max` photos whose [`JobKind::GridCopy`] job is
    /// queued, exactly as a first view would ([`ImageStore::image_path`]): a 12-MP photo
    /// costs ~160 ms to render and ~0.3 ms to serve once made, so a freshly added album
    /// scrolls at once instead of a screen of tiles taking seconds
    /// (`docs/bench-album.md`). Stops early as soon as the window shows something
    /// (`viewing`), so it never competes with the grid, and gives the jobs it did not get
    /// to back. Returns how many it did and those found unreadable (now marked `failed`,
    /// for an event); 0 done: nothing was queued.
    pub fn make_grid_copies(&self, max: usize, viewing: &dyn Fn() -> bool) -> Result<(usize, Vec<MediaId>)> {
        let queue = self.queue();
        let jobs = queue.claim(JobKind::GridCopy, max)?;
        let (mut done, mut unreadable) = (Vec::new(), Vec::new());
        let mut rest = jobs.iter();
        for job in rest.by_ref() {
            if viewing() {
                break;
            }
            match self.image_path(&ImageKey::Photo(job.media_id)) {
                Err(LibraryError::Unreadable { id, reason }) => {
                    queue.fail_attempt(job, &reason, FailureKind::Undecodable, 1, 0)?;
                    unreadable.push(id);
                }
                // Gone since, or a file the next scan will sort out: the first view says.
                Err(e) => {
                    tracing::debug!("grid copy of photo {} not made ahead: {e}", job.media_id);
                    done.push(job.clone());
                }
                Ok(_) => done.push(job.clone()),
            }
        }
        let left: Vec<ClaimedJob> = rest.cloned().collect();
        queue.release(&left)?;
        queue.finish(&done)?;
        Ok((done.len() + unreadable.len(), unreadable))
    }

    /// Reads the EXIF dates (and offsets, see [`crate::taken`]), upright sizes and places
    /// of up to `max` photos whose [`JobKind::PhotoFacts`] job is queued, and stores them
    /// with the jobs done in one transaction. Says how many were checked (0 when none were
    /// queued) and which had a date that could not be read, with why: those are logged
    /// and keep their mtime, and are not read again until the file changes. Run in the
    /// background by the [`crate::Analyzer`].
    pub fn read_facts(&self, max: usize) -> Result<crate::taken::PhotoDates> {
        let jobs = self.queue().claim(JobKind::PhotoFacts, max)?;
        /// A photo's date taken, upright width and height, place (each if readable), and
        /// embedded video (a motion photo's).
        type PhotoFacts = (
            std::result::Result<Option<crate::taken::Taken>, crate::taken::DateError>,
            Option<u32>,
            Option<u32>,
            Option<(f64, f64)>,
            crate::motion::Motion,
        );
        // Naive EXIF dates are wall time in this machine's zone, read once per batch.
        let zone = jiff::tz::TimeZone::system();
        // Read outside the database lock: the window's queries go on meanwhile.
        let facts: Vec<PhotoFacts> = jobs
            .iter()
            .map(|job| {
                let size = keepsake_imaging::photo_info(&job.path).ok();
                let taken = crate::taken::exif_taken_in(&job.path, &zone);
                let place = crate::taken::exif_place(&job.path);
                let motion = crate::motion::still_motion(&job.path);
                (taken, size.map(|s| s.width), size.map(|s| s.height), place, motion)
            })
            .collect();
        let mut report =
            crate::taken::PhotoDates { checked: jobs.len(), unreadable: Vec::new(), motion_changed: Vec::new() };
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        for ((date, w, h, place, motion), job) in facts.into_iter().zip(&jobs) {
            let id = job.media_id;
            // The embedded video, stamped with the file's size and time it was read at (so
            // a file changed since is not served from a stale range).
            let before: Option<crate::motion::Motion> = tx
                .prepare_cached("SELECT motion_offset, motion_length, motion_note FROM media WHERE id = ?1")?
                .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .optional()?;
            if before.is_some_and(|b| b != motion) {
                report.motion_changed.push(id);
            }
            tx.prepare_cached(
                "UPDATE media SET motion_offset = ?2, motion_length = ?3, motion_note = ?4,
                   facts_stamp = size || ':' || mtime_ms WHERE id = ?1",
            )?
            .execute(params![id, motion.0, motion.1, motion.2])?;
            tx.execute(
                "UPDATE media SET width = COALESCE(?2, width), height = COALESCE(?3, height),
                   latitude = ?4, longitude = ?5 WHERE id = ?1",
                params![id, w, h, place.map(|p| p.0), place.map(|p| p.1)],
            )?;
            match date {
                Ok(Some(t)) => tx.execute(
                    "UPDATE media SET taken_at = ?2, taken_offset = ?3, taken_source = ?4 WHERE id = ?1",
                    params![id, t.at, t.offset_minutes, TakenSource::Exif.as_str()],
                )?,
                Ok(None) => tx.execute(
                    "UPDATE media SET taken_at = mtime_ms / 1000, taken_offset = NULL, taken_source = ?2 WHERE id = ?1",
                    params![id, TakenSource::Mtime.as_str()],
                )?,
                Err(e) => {
                    let path = job.path.display();
                    tracing::warn!("date of {path}: {e}; it sorts by the file's modification time");
                    report.unreadable.push((id, PathBuf::from(&job.path), e.to_string()));
                    tx.execute(
                        "UPDATE media SET taken_at = mtime_ms / 1000, taken_offset = NULL, taken_source = ?2 WHERE id = ?1",
                        params![id, TakenSource::Mtime.as_str()],
                    )?
                }
            };
            crate::jobs::finish_tx(&tx, job)?;
        }
        tx.commit()?;
        Ok(report)
    }

    /// Scores up to `max` pictures whose [`JobKind::Score`] job is queued: a video (one
    /// analysed before scores existed) from its stored best pick; a photo from its grid
    /// copy, made if missing (as a first view would), its difference hash computed here
    /// and the batch scored in one worker request. Stops early, giving back the jobs it
    /// did not get to, as soon as `viewing` says the window shows something. Returns how
    /// many pictures it looked at (0: nothing was queued).
    pub fn score(&self, max: usize, viewing: &dyn Fn() -> bool) -> Result<usize> {
        let queue = self.queue();
        let jobs = queue.claim(JobKind::Score, max)?;
        let mut batch: Vec<Candidate> = Vec::with_capacity(jobs.len());
        let (mut looked, mut left) = (0, Vec::new());
        for job in jobs {
            if viewing() {
                left.push(job);
                continue;
            }
            looked += 1;
            let Some((kind, size, mtime_ms)) = self.scoring_facts(job.media_id)? else {
                queue.finish(std::slice::from_ref(&job))?; // gone since it was queued
                continue;
            };
            if kind == MediaKind::Video {
                self.score_video_from_pick(&job)?;
                continue;
            }
            match self.image_path(&ImageKey::Photo(job.media_id)) {
                Ok(grid) => {
                    let dhash = dhash(&grid)
                        .map_err(|e| tracing::debug!("photo {}: no difference hash: {e}", job.media_id))
                        .ok();
                    batch.push(Candidate { job, size, mtime_ms, grid, dhash });
                }
                // Unreadable photos are marked failed by image_path: nothing to score.
                Err(LibraryError::Unreadable { reason, .. }) => {
                    queue.fail_attempt(&job, &reason, FailureKind::Undecodable, 1, 0)?;
                }
                Err(e) => {
                    tracing::debug!("photo {}: no grid copy to score: {e}", job.media_id);
                    queue.fail_attempt(
                        &job,
                        &e.to_string(),
                        FailureKind::Internal,
                        SCORE_ATTEMPTS,
                        SCORE_BACKOFF_MS,
                    )?;
                }
            }
        }
        queue.release(&left)?;
        if batch.is_empty() {
            return Ok(looked);
        }
        let pictures: Vec<PathBuf> = batch.iter().map(|c| c.grid.clone()).collect();
        let timeout = SCORE_TIMEOUT_BASE + SCORE_TIMEOUT_PER_PICTURE * pictures.len() as u32;
        let started = std::time::Instant::now();
        let answer = self.helper().request_refusable(&WorkerRequest::ScorePictures { pictures }, timeout)?;
        let scores = match answer {
            Ok(response) => response.scores.unwrap_or_default(),
            Err(reason) => {
                // A worker that crashed or hung on this batch: each photo's attempt fails
                // and is retried later, a few times (one of them may be what crashes it);
                // the rest of the album goes on.
                tracing::warn!("scoring {} photos failed: {reason}", batch.len());
                let (kind, reason) = (reason.kind(), reason.to_string());
                for c in &batch {
                    queue.fail_attempt(&c.job, &reason, kind, SCORE_ATTEMPTS, SCORE_BACKOFF_MS)?;
                }
                return Ok(looked);
            }
        };
        tracing::debug!(photos = batch.len(), ms = started.elapsed().as_millis() as u64, "scored a batch of photos");
        self.store_photo_scores(&batch, &scores)?;
        Ok(looked)
    }

    /// A queued picture's kind, size and modification time, if it is still present.
    fn scoring_facts(&self, id: MediaId) -> Result<Option<(MediaKind, i64, i64)>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT kind, size, mtime_ms FROM media WHERE id = ?1 AND presence = ?2",
                params![id, Presence::Present],
                |r| Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?
            .map(|(kind, size, mtime)| {
                (if kind == "video" { MediaKind::Video } else { MediaKind::Photo }, size, mtime)
            }))
    }

    /// Stores a batch's answers, each with its job done. Only where the file is still the
    /// one whose grid copy was scored (same size and modification time): a photo changed
    /// meanwhile has its job queued again and is scored again.
    fn store_photo_scores(&self, batch: &[Candidate], scores: &[PictureScoreResult]) -> Result<()> {
        let mut failed = Vec::new();
        {
            let mut conn = self.conn();
            let tx = conn.transaction()?;
            for c in batch {
                let result = scores.iter().find(|s| s.path == c.grid);
                match result.and_then(|r| r.score.filter(|s| s.is_finite()).map(|s| (s, r.faces))) {
                    Some((score, faces)) => {
                        tx.execute(
                            "UPDATE media SET score = ?2, faces = ?3, dhash = ?4 WHERE id = ?1 AND size = ?5 AND mtime_ms = ?6",
                            params![c.job.media_id, score, faces, c.dhash, c.size, c.mtime_ms],
                        )?;
                        crate::jobs::finish_tx(&tx, &c.job)?;
                    }
                    None => {
                        let reason = result.and_then(|r| r.error.clone()).unwrap_or_else(|| "no answer for it".into());
                        tracing::warn!("photo {}: not scored: {reason}", c.job.media_id);
                        failed.push((c, reason));
                    }
                }
            }
            tx.commit()?;
        }
        for (c, reason) in failed {
            self.queue().fail_attempt(&c.job, &reason, FailureKind::Internal, SCORE_ATTEMPTS, SCORE_BACKOFF_MS)?;
        }
        Ok(())
    }

    /// Fills a video's score, faces and hash from its stored best pick (a video analysed
    /// before these columns existed; a new analysis stores them itself), and finishes its
    /// job. A video without picks (not analysed, or failed) has nothing to give.
    fn score_video_from_pick(&self, job: &ClaimedJob) -> Result<()> {
        let best: Option<(f64, String, String)> = self
            .conn()
            .prepare_cached(
                "SELECT p.score, p.reasons, p.image FROM picks p WHERE p.media_id = ?1 ORDER BY p.rank LIMIT 1",
            )?
            .query_row([job.media_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        if let Some((score, reasons, image)) = best {
            let faces = serde_json::from_str::<Reasons>(&reasons).ok().and_then(|r| r.faces);
            let hash = self.images.pick_dhash(&self.core.data_dir.join(image));
            // A score that is not a number is stored as 0, the worst.
            let score = if score.is_finite() { score } else { 0.0 };
            self.conn().execute(
                "UPDATE media SET score = ?2, faces = ?3, dhash = ?4 WHERE id = ?1 AND score IS NULL",
                params![job.media_id, score, faces, hash],
            )?;
        }
        self.queue().finish(std::slice::from_ref(job))
    }
}
