//! How good each picture is, for events and memories (`media.score`, `media.faces`,
//! `media.dhash`): which shot of an event to show, which of a burst to keep.
//!
//! - **Photos** are scored in the background ([`Library::score_pictures`], run from the
//!   job queue's [`JobKind::Score`] jobs by the [`crate::Analyzer`] after the grid copies
//!   are made, yielding to the window like the passes before it): a batch of grid copies goes to one `keepsake worker` through the
//!   helper ([`crate::helper`]), whose engine judges each by the measures a video's picks
//!   are judged by and counts faces ([`WorkerRequest::ScorePictures`]). One request per
//!   batch, and the helper keeps its worker between batches, so the face model loads
//!   once, not once a photo. The worker's sandbox is the grid copies' folder, read only.
//! - **Videos** take their best pick's: its score and the faces the engine saw in it,
//!   stored with the analysis (`crate::picture::best_pick_scores`); videos analysed before scores
//!   existed have a score job (schema v9) that fills them from their stored picks.
//! - **Difference hashes** are computed in-process (`crate::picture`), with the `image` crate (the
//!   library never links FFmpeg or ONNX Runtime): the grid copy, or the best pick's
//!   image, shrunk to 9×8 grey, one bit per horizontal neighbour pair. Near-identical
//!   shots differ in a few bits, unrelated ones in about half of the 64.
//!
//! A file that changes has its three columns cleared where the scan and the watcher
//! notice the change (the `UPDATE`s that mark it `pending`) and its jobs queued again
//! (`crate::jobs::enqueue_indexed`), so it is scored again.

use std::path::PathBuf;
use std::time::Duration;

use rusqlite::{params, OptionalExtension};

use crate::error::{LibraryError, Result};
use crate::jobs::ClaimedJob;
use crate::library::Library;
use crate::model::{FailureKind, ImageKey, JobKind, MediaId, MediaKind, Reasons};
use crate::protocol::{PictureScoreResult, WorkerRequest};

pub use crate::picture::{dhash, dhash_distance, dhash_of};

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

impl Library {
    /// Scores up to `max` pictures whose [`JobKind::Score`] job is queued: a video (one
    /// analysed before scores existed) from its stored best pick; a photo from its grid
    /// copy, made if missing (as a first view would), its difference hash computed here
    /// and the batch scored in one worker request. Stops early, giving back the jobs it
    /// did not get to, as soon as `viewing` says the window shows something. Returns how
    /// many pictures it looked at (0: nothing was queued).
    pub fn score_pictures(&self, max: usize, viewing: &dyn Fn() -> bool) -> Result<usize> {
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
            .query_row("SELECT kind, size, mtime_ms FROM media WHERE id = ?1 AND presence = 'present'", [id], |r| {
                Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?))
            })
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
            let hash = self.pick_dhash(&self.data_dir().join(image));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Frame;
    use crate::picture::best_pick_scores;
    use image::{GrayImage, Luma};
    use std::path::Path;

    fn scene(seed: u32, shift: u32, gain: f32) -> GrayImage {
        GrayImage::from_fn(512, 384, |x, y| {
            let (u, v) = (x + shift, y);
            let base = ((u * (3 + seed % 5) + v * (2 + seed % 7)) / 4 + seed * 37) % 256;
            let blob = if ((u / (40 + seed)) + (v / (30 + seed * 2))) % 2 == 0 { 60 } else { 0 };
            Luma([(((base + blob) % 256) as f32 * gain).clamp(0.0, 255.0) as u8])
        })
    }

    #[test]
    fn the_same_shot_hashes_alike_and_different_shots_do_not() {
        let a = dhash_of(&scene(1, 0, 1.0));
        let shifted = dhash_of(&scene(1, 3, 1.0));
        let brighter = dhash_of(&scene(1, 0, 1.1));
        assert!(dhash_distance(a, shifted) <= 6, "{}", dhash_distance(a, shifted));
        assert!(dhash_distance(a, brighter) <= 6, "{}", dhash_distance(a, brighter));
        for seed in 2..6 {
            let other = dhash_of(&scene(seed, 0, 1.0));
            assert!(dhash_distance(a, other) >= 16, "seed {seed}: {}", dhash_distance(a, other));
        }
    }

    /// A scoring worker may read the grid copies' folder and write nowhere: it is given
    /// neither the albums nor the rest of the data directory.
    #[test]
    fn a_scoring_worker_reads_the_grid_copies_folder_only() {
        use crate::worker_process::Sandbox;
        let dir = tempfile::tempdir().unwrap();
        let thumbs = std::fs::canonicalize(dir.path()).unwrap().join("data/thumbs");
        std::fs::create_dir_all(&thumbs).unwrap();
        let pictures = vec![thumbs.join("1-100.jpg"), thumbs.join("2-200.jpg")];
        let need = Sandbox::for_request(&WorkerRequest::ScorePictures { pictures });
        assert_eq!(need, Sandbox { read: vec![thumbs.clone()], write: vec![] });
        let album = Sandbox { read: vec![dir.path().join("album")], write: vec![] };
        assert!(!album.covers(&need), "a worker for an album's files cannot read the grid copies");
    }

    /// The watcher's path (a file it saw change) forgets the scores as the scan does
    /// (the scan's is tested with the real worker in keepsake-cli's library_scores).
    #[test]
    fn a_file_the_watcher_sees_change_loses_its_scores() {
        let tmp = tempfile::tempdir().unwrap();
        let album = std::fs::canonicalize(tmp.path()).unwrap().join("album");
        std::fs::create_dir_all(&album).unwrap();
        let photo = album.join("cat.png");
        std::fs::copy(crate::test_support::media_dir().join("chelsea.png"), &photo).unwrap();
        let lib = Library::open(&tmp.path().join("data")).unwrap();
        lib.add_root(&album, &|_| {}).unwrap();
        let scored = "UPDATE media SET score = 0.5, faces = 0, dhash = 7";
        lib.conn().execute(scored, []).unwrap();
        let columns = |lib: &Library| -> (Option<f64>, Option<i64>, Option<i64>) {
            lib.conn()
                .query_row("SELECT score, faces, dhash FROM media", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .unwrap()
        };
        assert!(lib.index_file(&photo).unwrap().is_empty(), "unchanged: nothing to do");
        assert_eq!(columns(&lib), (Some(0.5), Some(0), Some(7)), "an unchanged file keeps them");
        std::fs::copy(crate::test_support::media_dir().join("coffee.png"), &photo).unwrap();
        assert_eq!(lib.index_file(&photo).unwrap().len(), 1, "the change is reported");
        assert_eq!(columns(&lib), (None, None, None));
    }

    #[test]
    fn a_videos_best_pick_gives_its_score_and_faces() {
        let frame = |rank: u32, score: f64, faces: u32| Frame {
            rank,
            time: 0.0,
            score,
            path: PathBuf::from(format!("/d/{rank}.jpg")),
            width: 1,
            height: 1,
            reasons: Reasons { faces: Some(faces), sharpness: Some(0.9), ..Reasons::default() },
        };
        let frames = [frame(2, 0.9, 0), frame(1, 0.7, 2), frame(3, 0.5, 0)];
        let (score, faces, path) = best_pick_scores(&frames).unwrap();
        assert_eq!((score, faces, path), (0.7, Some(2), Path::new("/d/1.jpg")));
        let old = Frame { reasons: Reasons::default(), ..frame(1, 0.4, 0) };
        assert_eq!(best_pick_scores(&[old]).map(|s| s.1), Some(None));
        assert!(best_pick_scores(&[]).is_none());
    }
}
