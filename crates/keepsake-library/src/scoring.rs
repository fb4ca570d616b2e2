//! How good each picture is, for events and memories (`media.score`, `media.faces`,
//! `media.dhash`): which shot of an event to show, which of a burst to keep.
//!
//! - **Photos** are scored in the background ([`crate::PhotoJobs::score`], the last step
//!   of a photo's job in the queue, run by the [`crate::Analyzer`] after its grid copy
//!   is made, yielding to the window like the steps before it): a batch of grid copies
//!   goes to one `keepsake worker` through the helper ([`crate::helper`]), whose engine
//!   judges each by the measures a video's picks are judged by and counts faces
//!   ([`crate::protocol::WorkerRequest::ScorePictures`]). One request per batch, and the
//!   helper keeps its worker between batches, so the face model loads once, not once a
//!   photo. The worker's sandbox is the grid copies' folder, read only.
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

pub use crate::picture::{dhash, dhash_distance, dhash_of};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::library::Library;
    use crate::model::{Frame, Reasons};
    use crate::picture::best_pick_scores;
    use crate::protocol::WorkerRequest;
    use image::{GrayImage, Luma};
    use std::path::Path;
    use std::path::PathBuf;

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
        lib.index().add_root(&album, &|_| {}).unwrap();
        let scored = "UPDATE media SET score = 0.5, faces = 0, dhash = 7";
        lib.conn().execute(scored, []).unwrap();
        let columns = |lib: &Library| -> (Option<f64>, Option<i64>, Option<i64>) {
            lib.conn()
                .query_row("SELECT score, faces, dhash FROM media", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .unwrap()
        };
        assert!(lib.index().index_file(&photo).unwrap().is_empty(), "unchanged: nothing to do");
        assert_eq!(columns(&lib), (Some(0.5), Some(0), Some(7)), "an unchanged file keeps them");
        std::fs::copy(crate::test_support::media_dir().join("coffee.png"), &photo).unwrap();
        assert_eq!(lib.index().index_file(&photo).unwrap().len(), 1, "the change is reported");
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
