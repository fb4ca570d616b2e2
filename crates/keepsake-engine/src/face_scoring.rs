//! Faces as a frame feature: wraps the face detector (`faces.rs`, its own module) and
//! turns its boxes into a count and a score (largest face area × confidence).
//!
//! Loading happens once, in [`crate::Engine::new`]; any failure (no ONNX Runtime, no
//! model, wrong version) becomes [`crate::FaceAvailability::Unavailable`] with the reason.

use image::RgbImage;

use crate::EngineConfig;

/// Minimum detector confidence for a face to count.
#[allow(dead_code)]
pub(crate) const MIN_FACE_SCORE: f32 = 0.6;

/// A loaded face detector, ready to score frames.
pub(crate) struct FaceScorer {
    _private: (),
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
        if !runtime.is_file() {
            return Err(format!("no ONNX Runtime library at {}", runtime.display()));
        }
        Err("face detection is not part of this build yet".into())
    }

    /// (faces found, largest face area × confidence).
    pub fn score(&self, _img: &RgbImage) -> (u32, f32) {
        (0, 0.0)
    }
}
