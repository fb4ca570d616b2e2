//! Scoring one still picture (a photo's grid copy) with the measures a video's picks
//! are judged by, so the library can put photos and videos side by side: the best shot
//! of an event, a burst collapsed to its sharpest frame.
//!
//! The picture is shrunk to the engine's analysis size (as every video frame is), its
//! [`Features`] measured (`features.rs`), faces looked for on the picture as given
//! (`face_scoring.rs`), and its quality computed by the selector's own formula
//! ([`crate::select::quality`]). Two things differ from a video, because a still has no
//! neighbours to be compared with:
//! - sharpness is judged by detail against a fixed reference, [`STILL_DETAIL_REF`],
//!   where a video's frames are judged by mean gradient against that video's sharpest
//!   (its p90), and noise is not held against it (see [`score_image`]);
//! - only the rejections a frame earns on its own apply ([`crate::select::absolute_reject`],
//!   the picture's own luma standing in for the video's median), plus the absolute blur
//!   floor the selector uses; a rejected picture keeps half its score, as a rejected
//!   pick does, so it still sorts below every acceptable one of similar quality.

use std::path::Path;

use image::imageops::FilterType;
use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::face_scoring::FaceScorer;
use crate::features::measure;
use crate::select::{absolute_reject, aesthetics_score, exposure_score, quality};
use crate::{EngineError, Features, RejectReason};

/// Detail (the Laplacian variance, at the analysis size) at which a still earns full
/// marks for sharpness; below it the mark is √(detail / this). A video's frames are
/// marked against the video's own sharpest; a still has no such reference, and the mean
/// gradient the video uses barely moves with blur (a Gaussian blur of σ = 2 px on a
/// 512-px grid copy takes it from 1.7 to 1.2), while detail falls tenfold (2.0 to 0.2)
/// and differs far less between sharp photos of busy and smooth subjects than it does
/// between a photo and its blurred copy (the test photos: 0.27 for a cat to 2.0 for a
/// street, 0.02-0.2 for the same photos blurred by σ = 2 px, under 0.012 at σ = 6 px).
pub const STILL_DETAIL_REF: f32 = 0.5;

/// Under this mean gradient a picture is blurred whatever it shows (the selector's
/// absolute blur floor).
const BLUR_FLOOR: f32 = 0.015;

/// Largest picture [`crate::Engine::score_picture`] decodes, in pixels (grid copies are
/// at most 512 px; a screen-size copy is ~4 MP).
const MAX_PICTURE_PIXELS: u64 = 64_000_000;

/// How good one still picture is, by the measures a video's picks are judged by.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PictureScore {
    /// 0..1, the selector's quality (sharpness, exposure, colour/contrast, noise, faces),
    /// halved when the picture is rejected outright (`rejected`).
    pub score: f32,
    /// Faces found; `None` when face detection is unavailable (not looked for).
    pub faces: Option<u32>,
    /// 0..1, sharpness (from detail, relative to [`STILL_DETAIL_REF`]).
    pub sharpness: f32,
    /// 0..1, 1 = well exposed.
    pub exposure: f32,
    /// 0..1, colour and contrast.
    pub aesthetics: f32,
    /// Why the picture would be refused as a video's cover, if it would.
    pub rejected: Option<RejectReason>,
    /// Every measurement, for explaining the score.
    pub features: Features,
}

/// Scores `img` (upright RGB, any size): measured at `analysis_side`, faces looked for by
/// `faces` when given.
pub(crate) fn score_image(img: &RgbImage, analysis_side: u32, faces: Option<&FaceScorer>) -> PictureScore {
    let (w, h) = img.dimensions();
    let long = w.max(h);
    let side = analysis_side.max(16);
    let mut features = if long > side {
        let scale = side as f32 / long as f32;
        let (sw, sh) = (((w as f32 * scale).round() as u32).max(1), ((h as f32 * scale).round() as u32).max(1));
        measure(&image::imageops::resize(img, sw, sh, FilterType::Triangle)).0
    } else {
        measure(img).0
    };
    let found = faces.map(|scorer| scorer.score(img));
    if let Some((count, face_score)) = found {
        features.faces = count;
        features.face_score = face_score;
    }
    let rejected = absolute_reject(&features, features.luma).or_else(|| {
        (features.sharpness < BLUR_FLOOR).then_some(if features.isotropy < 0.5 {
            RejectReason::MotionBlur
        } else {
            RejectReason::Defocus
        })
    });
    let sharp = (features.detail / STILL_DETAIL_REF).max(0.0).sqrt().min(1.0);
    // Noise is left out: measured on a copy shrunk from the photo (a 12-MP photo's grid
    // copy is 8x smaller, which averages sensor noise away), it reads fine texture as
    // noise and would mark a photo down for being sharp.
    let q = quality(&features, sharp, 0.0);
    PictureScore {
        score: if rejected.is_some() { q * 0.5 } else { q },
        faces: found.map(|(count, _)| count),
        sharpness: sharp,
        exposure: exposure_score(&features),
        aesthetics: aesthetics_score(&features),
        rejected,
        features,
    }
}

/// Decodes the picture at `path` (JPEG, PNG, WebP: what the library's copies are); the
/// decoder may allocate no more than [`MAX_PICTURE_PIXELS`] RGBA pixels' worth.
pub(crate) fn open_picture(path: &Path) -> Result<RgbImage, EngineError> {
    let io = |source| EngineError::Io { path: path.to_owned(), source };
    let mut reader = image::ImageReader::open(path).map_err(io)?.with_guessed_format().map_err(io)?;
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(MAX_PICTURE_PIXELS * 4);
    reader.limits(limits);
    let img = reader.decode().map_err(|e| EngineError::Undecodable { path: path.to_owned(), reason: e.to_string() })?;
    Ok(img.to_rgb8())
}
