//! Keepsake's thumbnail engine: turns a video into its best frames (photo thumbnails are
//! `keepsake-imaging`'s, which needs no FFmpeg). Free of SQLite and Tauri so it builds,
//! tests and benchmarks alone.
//!
//! # Public surface
//! - [`Engine`]: built once from an [`EngineConfig`] (never fails; missing face models are
//!   a reported state, [`FaceAvailability`]), then:
//!   - [`Engine::probe`] → [`VideoInfo`] (duration, upright size, rotation, codec, fps, date),
//!   - [`Engine::analyze`] → [`Selection`]: ranked [`Pick`]s with [`Reasons`], the quality
//!     [`CurvePoint`]s along the timeline and every [`CandidateReport`],
//!   - [`Engine::render_moment`] → any moment as an upright image (manual cover override),
//!   - [`Engine::preview`] → a looping animated GIF/WebP of the best moments,
//!   - [`Engine::score_picture`] / [`Engine::score_image`] → [`PictureScore`]: one still
//!     picture (a photo's grid copy) judged by the measures the picks are (quality 0..1,
//!     faces), so photos and videos can be compared,
//! - [`EngineError`]: one variant per kind of unusable input, each naming the file.
//! - [`runtime`]: what the engine can use on this machine, for `keepsake doctor`.
//! - [`faces`]: [`FaceDetector`] finds faces in frames (BlazeFace on ONNX Runtime), so
//!   the engine can prefer moments that show people.
//!
//! # Pipeline (see `analysis.rs`)
//! probe → a bounded set of candidate keyframes spread over the whole video → keyframe-only
//! decode at analysis size → per-frame features → rejection relative to the video's own
//! distribution → scenes → rank and pick from different scenes → refine around each pick
//! → decode the picks at full size, upright → JPEGs.

mod analysis;
mod colour;
mod config;
mod decode;
mod engine;
mod error;
mod face_scoring;
pub mod faces;
mod features;
mod picture;
mod preview;
mod probe;
mod render;
pub mod runtime;
mod scenes;
mod select;
mod sheet;
mod types;

pub use config::EngineConfig;
pub use engine::Engine;
pub use error::EngineError;
pub use faces::{FaceBox, FaceDetector, FaceError};
pub use picture::{PictureScore, STILL_DETAIL_REF};
pub use runtime::{AssetStatus, ModelManifest, RuntimeReport};
pub use types::{
    AnalyzeOptions, CandidateReport, CurvePoint, DynamicRange, FaceAvailability, Features, Pick, PictureFormat,
    PreviewOptions, Reasons, RejectReason, RenderedImage, RenderedPreview, Selection, VideoInfo,
};
