//! Faces as a frame feature: wraps [`FaceDetector`] (the `faces` module) and turns its
//! boxes into a count and a score (largest face area × confidence).
//!
//! Loading happens once, in [`crate::Engine::new`]; any failure (no ONNX Runtime, no
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
