//! Keepsake's thumbnail engine: turns a video into its best frames, and photos into
//! upright thumbnails. Free of SQLite and Tauri so it builds, tests and benchmarks alone.
//!
//! Public surface:
//! - [`runtime`]: what the engine can use on this machine (FFmpeg, ONNX Runtime, models),
//!   found once and reported by `keepsake doctor`.

pub mod runtime;

pub use runtime::{AssetStatus, ModelManifest, RuntimeReport};
