//! Faces as a frame feature: wraps [`FaceDetector`] (the `faces` module) and turns its
//! boxes into a count and a score (largest face area × confidence).
//!
//! Loading starts in [`crate::Engine::new`] on a background thread ([`LazyFaces`]); any failure (no ONNX Runtime, no
//! model, wrong version) becomes [`crate::FaceAvailability::Unavailable`] with the reason.

use image::RgbImage;

use crate::faces::FaceDetector;
use crate::EngineConfig;

/// A loaded face detector, ready to score frames.
pub(crate) struct FaceScorer {
    detector: FaceDetector,
}

impl FaceScorer {
    /// Loads the detector the config names, or says why it cannot.
    pub fn load(config: &EngineConfig) -> Result<FaceScorer, String> {
        if !config.faces_enabled {
            return Err("face detection is turned off".into());
        }
        let Some(runtime) = config.onnxruntime.as_ref() else {
            return Err("no ONNX Runtime configured".into());
        };
        FaceDetector::load(runtime, &config.models_dir)
            .map(|detector| FaceScorer { detector })
            .map_err(|e| e.to_string())
    }

    /// (faces found, largest face area × confidence). A failed inference counts as no
    /// faces: the frame is still judged on its image features.
    pub fn score(&self, img: &RgbImage) -> (u32, f32) {
        match self.detector.detect(img) {
            Ok(boxes) => {
                let best = boxes.iter().map(|b| b.area() * b.score).fold(0.0f32, f32::max);
                (boxes.len() as u32, best)
            }
            Err(e) => {
                tracing::debug!(error = %e, "face detection failed on a frame");
                (0, 0.0)
            }
        }
    }
}

/// The face detector, loaded on a background thread from [`crate::Engine::new`] so that
/// loading ONNX Runtime and the models overlaps with the first video's decoding; the
/// first caller that needs it waits for the load to finish. Dropping it waits too (see
/// the `Drop` impl): a process must not exit while that thread is inside ONNX Runtime.
pub(crate) struct LazyFaces {
    loaded: std::sync::OnceLock<(crate::FaceAvailability, Option<FaceScorer>)>,
    pending: std::sync::Mutex<Option<std::thread::JoinHandle<Result<FaceScorer, String>>>>,
    /// True while the loader thread runs (for the test that dropping waits for it).
    #[cfg_attr(not(test), allow(dead_code))]
    loading: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl LazyFaces {
    /// Starts loading what `config` names; never fails (failures surface from `get`).
    pub fn start(config: &EngineConfig) -> LazyFaces {
        let config = config.clone();
        let loading = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let flag = loading.clone();
        let spawned = std::thread::Builder::new().name("keepsake-face-load".into()).spawn(move || {
            let t0 = std::time::Instant::now();
            let r = FaceScorer::load(&config);
            tracing::debug!(stage = "face_model_load", ms = t0.elapsed().as_millis() as u64, "timing");
            flag.store(false, std::sync::atomic::Ordering::SeqCst);
            r
        });
        let pending = match spawned {
            Ok(handle) => Some(handle),
            Err(e) => {
                tracing::debug!(error = %e, "could not start the face loader thread");
                loading.store(false, std::sync::atomic::Ordering::SeqCst);
                None
            }
        };
        LazyFaces { loaded: std::sync::OnceLock::new(), pending: std::sync::Mutex::new(pending), loading }
    }

    /// Waits for the load (once) and returns its outcome.
    pub fn get(&self) -> (&crate::FaceAvailability, Option<&FaceScorer>) {
        let (status, scorer) = self.loaded.get_or_init(|| {
            let handle = self.pending.lock().ok().and_then(|mut g| g.take());
            let result = match handle.map(|h| h.join()) {
                Some(Ok(r)) => r,
                Some(Err(_)) => Err("the face detector failed to load (loader thread panicked)".into()),
                None => Err("the face detector could not be loaded (no loader thread)".into()),
            };
            match result {
                Ok(s) => (crate::FaceAvailability::Available, Some(s)),
                Err(reason) => {
                    tracing::info!(%reason, "face detection unavailable; using image features only");
                    (crate::FaceAvailability::Unavailable { reason }, None)
                }
            }
        });
        (status, scorer.as_ref())
    }
}

/// Waits for a load still under way. Without this, a caller that fails early (a refused
/// file: `keepsake thumbs` on a damaged video) drops the engine and exits while the
/// loader thread is inside ONNX Runtime's initialisation; the process's teardown then
/// unloads what that thread is running and it dies of SIGSEGV after printing the right
/// error. The wait is bounded by the load itself (tens to a few hundred milliseconds).
impl Drop for LazyFaces {
    fn drop(&mut self) {
        let pending = match self.pending.get_mut() {
            Ok(p) => p.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        };
        if let Some(handle) = pending {
            let _ = handle.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::Ordering;

    /// The SIGSEGV of a refused file: the engine was dropped (and the process exited)
    /// while the loader thread was still inside ONNX Runtime. Dropping must wait for it.
    #[test]
    fn dropping_waits_for_the_face_loader() {
        let config = EngineConfig::discover();
        for _ in 0..3 {
            let faces = LazyFaces::start(&config);
            let loading = faces.loading.clone();
            drop(faces);
            assert!(!loading.load(Ordering::SeqCst), "the loader thread outlived the engine");
        }
    }
}
