//! Face detection, so the engine can prefer moments that show people.
//!
//! Two MediaPipe BlazeFace models run on ONNX Runtime (CPU), as a cascade:
//! 1. **Propose.** The back model (256×256, faces of all sizes) sees the whole frame
//!    letterboxed, and for elongated frames (16:9 video, 9:16 phone video) also
//!    overlapping full-height square tiles, so a small face gets 1.8× more model pixels.
//!    The front model (128×128, trained on close-ups) sees the whole frame too, for
//!    faces that fill it.
//! 2. **Confirm.** The front model looks again at a crop three times each proposal's
//!    size, where a real face fills the view the way the model was trained for. Only
//!    confirmed faces are reported, with the crop's (sharper) box and score.
//!
//! Why a cascade: on its own the back model scores faces and face-like things alike
//! (a face 0.89, a cat 0.80, a coffee cup 0.67), while the confirmation separates them
//! (faces 0.85–0.96; cat, cup, cartoon characters and street scenes at most 0.73), so
//! "faces: 1" can be trusted. Cost per frame: one 128 run, one to four 256 runs (square
//! to very elongated frames), and one 128 run per proposal (usually 0–3).

mod blazeface;
mod onnx;

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use image::imageops::FilterType;
use image::RgbImage;
use ort::session::builder::GraphOptimizationLevel;
use ort::session::Session;
use ort::value::Tensor;
use serde::{Deserialize, Serialize};

use blazeface::{Candidate, Square};
pub use onnx::{load_onnxruntime, LoadedRuntime};

/// The full-frame proposal model (faces of all sizes).
pub const BACK_MODEL_FILE: &str = "face_detection_back_256x256.onnx";
/// The close-up model, used for large faces and to confirm proposals.
pub const FRONT_MODEL_FILE: &str = "face_detection_front_128x128.onnx";

/// Lowest model score at which a candidate is considered at all (proposal stage).
const PROPOSAL_SCORE: f32 = 0.5;
/// Lowest confirmation score for a reported face. Faces measured 0.85–0.97 on the test
/// media, the most face-like non-faces (a cat, cartoon characters) up to 0.71.
pub const FACE_SCORE_THRESHOLD: f32 = 0.75;
/// Frames at least this elongated (16:9 video, 9:16 phone video) are also searched in
/// overlapping square tiles, where small faces get 1.8× more model pixels than in the
/// letterboxed whole frame.
const TILE_ASPECT: f32 = 1.5;
/// Frames whose short side is below this are not tiled: a tile would only upscale what
/// the letterboxed view already shows (the engine's 256-px analysis frames).
const MIN_TILE_SIDE: u32 = 192;
/// The proposal model's input side.
const BACK_SIZE: u32 = 256;
/// The close-up model's input side.
const FRONT_SIZE: u32 = 128;
/// Overlap above which two candidates are the same face.
const NMS_IOU: f32 = 0.3;
/// The confirmation crop's side, in multiples of the proposed face's size.
const VERIFY_CONTEXT: f32 = 3.0;
/// At most this many proposals are confirmed per image (bounds the cost on crowds and
/// on noise); the best-scoring ones are kept.
const MAX_PROPOSALS: usize = 12;

/// A face found in an image, in fractions of the image's width/height (0..1), top-left
/// origin, so it applies to the frame at any resolution it is later decoded at.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FaceBox {
    /// Left edge, as a fraction of the image width.
    pub x: f32,
    /// Top edge, as a fraction of the image height.
    pub y: f32,
    /// Width, as a fraction of the image width.
    pub w: f32,
    /// Height, as a fraction of the image height (a square face in a 16:9 frame has
    /// `h` ≈ 1.8 × `w`).
    pub h: f32,
    /// Confidence in 0..1 (the close-up model's confirmation score); at least
    /// [`FACE_SCORE_THRESHOLD`].
    pub score: f32,
}

impl FaceBox {
    /// The box's area as a fraction of the image: how prominent the face is.
    pub fn area(&self) -> f32 {
        self.w * self.h
    }

    /// The box's centre, in fractions of the image.
    pub fn centre(&self) -> (f32, f32) {
        (self.x + self.w / 2.0, self.y + self.h / 2.0)
    }
}

/// Why faces could not be detected; the engine then falls back to image features only.
#[derive(Debug, thiserror::Error)]
pub enum FaceError {
    /// No file at the runtime path: ONNX Runtime was never fetched (`make setup`).
    #[error("ONNX Runtime library not found at {path}")]
    RuntimeMissing { path: PathBuf },
    /// The file is there but is not a usable ONNX Runtime (not a library, too old, or a
    /// different runtime is already loaded in this process).
    #[error("cannot load ONNX Runtime from {path}: {message}")]
    RuntimeLoad { path: PathBuf, message: String },
    /// A BlazeFace model file is missing from the models folder.
    #[error("face model not found at {path}")]
    ModelMissing { path: PathBuf },
    /// A model file is there but ONNX Runtime cannot use it (corrupt or not BlazeFace).
    #[error("cannot load face model {path}: {message}")]
    ModelLoad { path: PathBuf, message: String },
    /// Running a model failed; the frame is then treated as showing no known faces.
    #[error("face detection failed: {message}")]
    Inference { message: String },
}

/// One BlazeFace model in its ONNX Runtime session. A session runs one inference at a
/// time (`run` takes `&mut`), hence the lock.
struct Model {
    session: Mutex<Session>,
    input_name: String,
    size: u32,
}

impl Model {
    fn load(runtime: &LoadedRuntime, path: &Path, size: u32) -> Result<Model, FaceError> {
        if !path.is_file() {
            return Err(FaceError::ModelMissing { path: path.to_owned() });
        }
        let load_error = |message: String| FaceError::ModelLoad { path: path.to_owned(), message };
        let session = Session::builder(runtime.environment())
            .map_err(|e| load_error(e.to_string()))?
            .with_optimization_level(GraphOptimizationLevel::Level3)
            .map_err(|e| load_error(e.to_string()))?
            // One thread per inference: the engine parallelises across frames, and the
            // models are small enough that intra-op threads cost more than they save.
            .with_intra_threads(1)
            .map_err(|e| load_error(e.to_string()))?
            .commit_from_file(path)
            .map_err(|e| load_error(e.to_string()))?;
        let input_name = match session.inputs() {
            [input] => input.name().to_owned(),
            other => return Err(load_error(format!("expected 1 input, found {}", other.len()))),
        };
        if session.outputs().len() != 4 {
            return Err(load_error(format!(
                "expected 4 outputs (scores and boxes of two heads), found {}",
                session.outputs().len()
            )));
        }
        Ok(Model { session: Mutex::new(session), input_name, size })
    }

    /// Runs the model on `region` of `image`; returns the 896 logits and the 896×16
    /// regression values, heads joined (16×16 grid first, then 8×8).
    fn run(&self, image: &RgbImage, region: Square) -> Result<(Vec<f32>, Vec<f32>), FaceError> {
        let n = self.size as usize;
        let pixels = blazeface::input_tensor(image, region, self.size);
        let input = Tensor::from_array(([1usize, n, n, 3], pixels)).map_err(inference_error)?;
        let mut session = self.session.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let outputs = session.run(ort::inputs![self.input_name.as_str() => input]).map_err(inference_error)?;
        let mut heads: Vec<&[f32]> = Vec::with_capacity(4);
        for i in 0..4 {
            let (_, data) = outputs[i].try_extract_tensor::<f32>().map_err(inference_error)?;
            heads.push(data);
        }
        let expected = [512, 384, 512 * blazeface::REGRESSION_LEN, 384 * blazeface::REGRESSION_LEN];
        if heads.iter().map(|h| h.len()).ne(expected) {
            return Err(FaceError::Inference {
                message: format!(
                    "unexpected output sizes {:?} (expected {expected:?})",
                    heads.iter().map(|h| h.len()).collect::<Vec<_>>()
                ),
            });
        }
        Ok(([heads[0], heads[1]].concat(), [heads[2], heads[3]].concat()))
    }

    fn detect(
        &self,
        image: &RgbImage,
        region: Square,
        anchors: &[(f32, f32)],
        min_score: f32,
    ) -> Result<Vec<Candidate>, FaceError> {
        let (scores, boxes) = self.run(image, region)?;
        Ok(blazeface::decode(&scores, &boxes, anchors, self.size, region, min_score))
    }
}

fn inference_error(e: impl std::fmt::Display) -> FaceError {
    FaceError::Inference { message: e.to_string() }
}

/// Finds faces in frames. Load once and share (it is `Send + Sync`); concurrent calls are
/// safe and serialise per model.
pub struct FaceDetector {
    runtime: LoadedRuntime,
    back: Model,
    front: Model,
    anchors: Vec<(f32, f32)>,
}

impl std::fmt::Debug for FaceDetector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaceDetector").field("runtime", &self.runtime).finish_non_exhaustive()
    }
}

impl FaceDetector {
    /// Loads ONNX Runtime from `onnxruntime` (once per process; see [`load_onnxruntime`])
    /// and both BlazeFace models from `models_dir`. Never panics on a missing or broken
    /// runtime or model: each is a distinct [`FaceError`] the caller can report.
    pub fn load(onnxruntime: &Path, models_dir: &Path) -> Result<FaceDetector, FaceError> {
        let back_path = models_dir.join(BACK_MODEL_FILE);
        let front_path = models_dir.join(FRONT_MODEL_FILE);
        // Report missing models before touching the runtime, so a bad install names
        // every missing piece without loading a library first.
        for path in [&back_path, &front_path] {
            if !path.is_file() {
                return Err(FaceError::ModelMissing { path: path.clone() });
            }
        }
        let runtime = load_onnxruntime(onnxruntime)?;
        let back = Model::load(&runtime, &back_path, BACK_SIZE)?;
        let front = Model::load(&runtime, &front_path, FRONT_SIZE)?;
        Ok(FaceDetector { runtime, back, front, anchors: blazeface::anchors() })
    }

    /// The ONNX Runtime this detector runs on.
    pub fn runtime(&self) -> &LoadedRuntime {
        &self.runtime
    }

    /// The faces in `image`, most confident first. An empty image has no faces.
    ///
    /// Pass upright frames (BlazeFace finds faces tilted up to about ±45°, sideways ones
    /// only sometimes). Any size works: large frames are shrunk once; faces down to about
    /// 6 % of the long side are found even in the engine's 256-px analysis frames.
    pub fn detect(&self, image: &RgbImage) -> Result<Vec<FaceBox>, FaceError> {
        let (width, height) = image.dimensions();
        if width == 0 || height == 0 {
            return Ok(Vec::new());
        }
        let regions = blazeface::proposal_regions(width, height, TILE_ASPECT, MIN_TILE_SIDE);
        // Shrink a large frame once, to where its finest region just fills the 256 model,
        // instead of resampling the full frame for every region.
        let finest = regions.iter().map(|r| r.side).fold(f32::INFINITY, f32::min);
        let shrink = BACK_SIZE as f32 / finest;
        let working: Cow<'_, RgbImage> = if shrink < 1.0 {
            let (w, h) = ((width as f32 * shrink).round().max(1.0), (height as f32 * shrink).round().max(1.0));
            Cow::Owned(image::imageops::resize(image, w as u32, h as u32, FilterType::Triangle))
        } else {
            Cow::Borrowed(image)
        };
        let scale = if shrink < 1.0 { shrink } else { 1.0 };
        let (ww, wh) = working.dimensions();
        let mut proposals = self.front.detect(&working, Square::letterbox(ww, wh), &self.anchors, PROPOSAL_SCORE)?;
        for region in regions {
            proposals.extend(self.back.detect(&working, region.scaled(scale), &self.anchors, PROPOSAL_SCORE)?);
        }
        let proposals = proposals.into_iter().map(|c| c.scaled(1.0 / scale)).collect();
        let mut proposals = blazeface::weighted_nms(proposals, NMS_IOU);
        proposals.truncate(MAX_PROPOSALS);

        let mut faces = Vec::new();
        for proposal in proposals {
            let (cx, cy) = proposal.centre();
            let side = proposal.width().max(proposal.height()) * VERIFY_CONTEXT;
            let crop = Square::centred(cx, cy, side);
            let confirmed = self.front.detect(image, crop, &self.anchors, PROPOSAL_SCORE)?;
            // The confirmation must be about the same face, not another one in the crop.
            // Its box is kept: the crop (taken from the full-resolution frame) shows the
            // face larger than the whole-frame view did, so it is the more precise one.
            let same_face = confirmed.into_iter().filter(|c| c.iou(&proposal) > NMS_IOU).collect();
            let best = blazeface::weighted_nms(same_face, NMS_IOU).into_iter().next();
            if let Some(face) = best.filter(|c| c.score >= FACE_SCORE_THRESHOLD) {
                faces.push(face);
            }
        }
        // Confirmation can make two proposals land on one face; merge them again.
        let faces = blazeface::weighted_nms(faces, NMS_IOU);
        Ok(faces.into_iter().map(|c| to_face_box(c, width, height)).collect())
    }
}

/// A pixel candidate as fractions of the image, clipped to it (a face cut by the frame
/// edge is reported as its visible part).
fn to_face_box(c: Candidate, width: u32, height: u32) -> FaceBox {
    let (w, h) = (width as f32, height as f32);
    let x0 = (c.x0 / w).clamp(0.0, 1.0);
    let y0 = (c.y0 / h).clamp(0.0, 1.0);
    let x1 = (c.x1 / w).clamp(0.0, 1.0);
    let y1 = (c.y1 / h).clamp(0.0, 1.0);
    FaceBox { x: x0, y: y0, w: x1 - x0, h: y1 - y0, score: c.score }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detector_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<FaceDetector>();
    }

    #[test]
    fn boxes_are_clipped_to_the_image() {
        let c = Candidate { x0: -10.0, y0: 20.0, x1: 30.0, y1: 120.0, score: 0.9 };
        let b = to_face_box(c, 100, 100);
        assert_eq!((b.x, b.y, b.w, b.h), (0.0, 0.2, 0.3, 0.8));
    }
}
