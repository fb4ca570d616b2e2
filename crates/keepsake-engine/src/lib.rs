//! Keepsake's thumbnail engine: turns a video into its best frames, and photos into
//! upright thumbnails. Free of SQLite and Tauri so it builds, tests and benchmarks alone.
//!
//! Public surface:
//! - [`runtime`]: what the engine can use on this machine (FFmpeg, ONNX Runtime, models),
//!   found once and reported by `keepsake doctor`.
//! - [`faces`]: [`FaceDetector`] finds faces in frames (BlazeFace on ONNX Runtime), so
//!   the engine can prefer moments that show people.

pub mod faces;
pub mod runtime;

pub use faces::{FaceBox, FaceDetector, FaceError};
pub use runtime::{AssetStatus, ModelManifest, RuntimeReport};
