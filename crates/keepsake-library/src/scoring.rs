//! How good each picture is, for events and memories (`media.score`, `media.faces`,
//! `media.dhash`): which shot of an event to show, which of a burst to keep.
//!
//! - **Photos** are scored in the background ([`Library::score_pictures`], run by the
//!   [`crate::Analyzer`] after the grid copies are made, yielding to the window like the
//!   passes before it): a batch of grid copies goes to one `keepsake worker` through the
//!   helper ([`crate::helper`]), whose engine judges each by the measures a video's picks
//!   are judged by and counts faces ([`WorkerRequest::ScorePictures`]). One request per
//!   batch, and the helper keeps its worker between batches, so the face model loads
//!   once, not once a photo. The worker's sandbox is the grid copies' folder, read only.
//! - **Videos** take their best pick's: its score and the faces the engine saw in it,
//!   stored with the analysis (`crate::picture::best_pick_scores`); videos analysed before scores
//!   existed are filled from their stored picks by the same pass.
//! - **Difference hashes** are computed in-process (`crate::picture`), with the `image` crate (the
//!   library never links FFmpeg or ONNX Runtime): the grid copy, or the best pick's
//!   image, shrunk to 9×8 grey, one bit per horizontal neighbour pair. Near-identical
//!   shots differ in a few bits, unrelated ones in about half of the 64.
//!
//! A file that changes has its three columns cleared where the scan and the watcher
//! notice the change (the `UPDATE`s that mark it `pending`), so it is scored again.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Duration;

use rusqlite::params;

use crate::error::{LibraryError, Result};
use crate::library::Library;
use crate::model::{ImageKey, MediaId, Reasons};
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
/// Where the background pass stands between batches: the last photo id looked at, and
/// photos that could not be scored this session (their grid copy unreadable, a worker
/// that failed on them), so they are not sent again and again.
#[derive(Debug, Default)]
pub struct ScoringPass {
    after: MediaId,
    skipped: HashSet<MediaId>,
}

/// One photo of a batch: what is needed to store its result safely.
struct Candidate {
    id: MediaId,
    size: i64,
    mtime_ms: i64,
    grid: PathBuf,
    dhash: Option<i64>,
}

impl Library {
    /// Scores up to `max` pictures: first videos analysed before scores existed (from
    /// their stored best pick), then photos with no score yet, in id order from where
    /// the last call stopped (from the start again once past the end, for photos that
    /// changed). Each photo's grid copy is made if missing (as a first view would), its
    /// difference hash computed here, and the batch scored in one worker request. Stops
    /// early, with what it did, as soon as `viewing` says the window shows something.
    /// Returns how many pictures it looked at (0: nothing left to score).
    pub fn score_pictures(&self, pass: &mut ScoringPass, max: usize, viewing: &dyn Fn() -> bool) -> Result<usize> {
        let videos = self.backfill_video_scores(max)?;
        if videos > 0 || viewing() {
            return Ok(videos);
        }
        let mut todo = self.unscored_photos(pass, max)?;
        if todo.is_empty() && pass.after > 0 {
            pass.after = 0;
            todo = self.unscored_photos(pass, max)?;
        }
        let mut batch: Vec<Candidate> = Vec::with_capacity(todo.len());
        let mut looked = 0;
        for (id, size, mtime_ms) in todo {
            if viewing() {
                break;
            }
            pass.after = id;
            looked += 1;
            match self.image_path(&ImageKey::Photo(id)) {
                Ok(grid) => {
                    let dhash = dhash(&grid).map_err(|e| tracing::debug!("photo {id}: no difference hash: {e}")).ok();
                    batch.push(Candidate { id, size, mtime_ms, grid, dhash });
                }
                // Unreadable photos are marked failed by image_path and leave the query.
                Err(LibraryError::Unreadable { .. }) => {}
                Err(e) => {
                    tracing::debug!("photo {id}: no grid copy to score: {e}");
                    pass.skipped.insert(id);
                }
            }
        }
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
                // A worker that crashed or hung on this batch: not these photos again this
                // session (one of them may be what crashes it); the rest of the album goes on.
                tracing::warn!("scoring {} photos failed: {reason}", batch.len());
                pass.skipped.extend(batch.iter().map(|c| c.id));
                return Ok(looked);
            }
        };
        tracing::debug!(photos = batch.len(), ms = started.elapsed().as_millis() as u64, "scored a batch of photos");
        self.store_photo_scores(pass, &batch, &scores)?;
        Ok(looked)
    }

    /// Photos to score after `pass.after`: present, readable, not yet scored.
    fn unscored_photos(&self, pass: &ScoringPass, max: usize) -> Result<Vec<(MediaId, i64, i64)>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT id, size, mtime_ms FROM media
             WHERE id > ?1 AND kind = 'photo' AND presence = 'present' AND state != 'failed' AND score IS NULL
             ORDER BY id LIMIT ?2",
        )?;
        // Skipped photos are filtered here, so a long run of them cannot stall the pass.
        let limit = (max + pass.skipped.len()) as i64;
        let rows = stmt.query_map(params![pass.after, limit], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        let mut out = Vec::with_capacity(max);
        for row in rows {
            let row: (MediaId, i64, i64) = row?;
            if !pass.skipped.contains(&row.0) {
                out.push(row);
            }
            if out.len() >= max {
                break;
            }
        }
        Ok(out)
    }

    /// Stores a batch's answers. Only where the file is still the one whose grid copy
    /// was scored (same size and modification time): a photo changed meanwhile keeps
    /// its cleared columns and is scored again.
    fn store_photo_scores(
        &self,
        pass: &mut ScoringPass,
        batch: &[Candidate],
        scores: &[PictureScoreResult],
    ) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        for c in batch {
            let result = scores.iter().find(|s| s.path == c.grid);
            match result.and_then(|r| r.score.filter(|s| s.is_finite()).map(|s| (s, r.faces))) {
                Some((score, faces)) => {
                    tx.execute(
                        "UPDATE media SET score = ?2, faces = ?3, dhash = ?4 WHERE id = ?1 AND size = ?5 AND mtime_ms = ?6",
                        params![c.id, score, faces, c.dhash, c.size, c.mtime_ms],
                    )?;
                }
                None => {
                    let reason = result.and_then(|r| r.error.clone()).unwrap_or_else(|| "no answer for it".into());
                    tracing::warn!("photo {}: not scored: {reason}", c.id);
                    pass.skipped.insert(c.id);
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Fills score, faces and hash of up to `max` analysed videos that have none, from
    /// their stored best pick (videos analysed before these columns existed; a new
    /// analysis stores them itself). Returns how many it filled.
    fn backfill_video_scores(&self, max: usize) -> Result<usize> {
        let rows: Vec<(MediaId, f64, String, String)> = {
            let conn = self.conn();
            let mut stmt = conn.prepare_cached(
                "SELECT m.id, p.score, p.reasons, p.image FROM media m JOIN picks p ON p.media_id = m.id
                 WHERE m.kind = 'video' AND m.state = 'ready' AND m.score IS NULL
                   AND p.rank = (SELECT MIN(rank) FROM picks WHERE media_id = m.id)
                 ORDER BY m.id LIMIT ?1",
            )?;
            let rows = stmt.query_map([max as i64], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
            rows.collect::<std::result::Result<_, _>>()?
        };
        for (id, score, reasons, image) in &rows {
            let faces = serde_json::from_str::<Reasons>(reasons).ok().and_then(|r| r.faces);
            let hash = self.pick_dhash(&self.data_dir().join(image));
            // A score that is not a number must still leave the query (0: the worst).
            let score = if score.is_finite() { *score } else { 0.0 };
            self.conn().execute(
                "UPDATE media SET score = ?2, faces = ?3, dhash = ?4 WHERE id = ?1 AND score IS NULL",
                params![id, score, faces, hash],
            )?;
        }
        Ok(rows.len())
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
