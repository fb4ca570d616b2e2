//! Where the engine finds its optional pieces (ONNX Runtime, face models) and how hard
//! it may work. `discover()` is what the CLI, the app and the library's workers use.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::runtime;

/// Engine settings. Everything optional really is optional: a config pointing at a
/// missing runtime still analyses videos, on image features alone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EngineConfig {
    /// `libonnxruntime.so` to load for face detection; `None` = no face detection.
    pub onnxruntime: Option<PathBuf>,
    /// Folder holding `face_detection_*.onnx`.
    pub models_dir: PathBuf,
    /// FFmpeg decoder threads per video (0 = FFmpeg chooses). Library workers that run
    /// several videos at once set this low.
    pub analysis_threads: usize,
    /// Longest side of frames decoded for analysis (features are computed at this size).
    pub analysis_side: u32,
    /// Whether to try face detection at all.
    pub faces_enabled: bool,
}

impl EngineConfig {
    /// The pinned runtime and models from `models/manifest.toml` under
    /// [`runtime::asset_root`] (or `ORT_DYLIB_PATH`), default limits.
    pub fn discover() -> Self {
        let manifest = runtime::ModelManifest::load(&runtime::manifest_path()).ok();
        let onnxruntime = runtime::onnxruntime_candidate(manifest.as_ref());
        EngineConfig { onnxruntime, faces_enabled: true, ..EngineConfig::without_faces() }
    }

    /// Image features only: no ONNX Runtime is touched.
    pub fn without_faces() -> Self {
        EngineConfig {
            onnxruntime: None,
            models_dir: runtime::asset_root().join("models"),
            analysis_threads: 0,
            analysis_side: 256,
            faces_enabled: false,
        }
    }
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig::discover()
    }
}
