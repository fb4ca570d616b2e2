//! The worker protocol: one JSON object per line on the worker's stdin (a request) and
//! stdout (its response). The library speaks it to `keepsake worker` processes so a
//! crash, hang or out-of-memory in decoding or inference never takes the app down.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// What the supervisor asks a worker to do.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum WorkerRequest {
    /// Duration and stream facts, fast; used to scale the analysis timeout.
    Probe { video: PathBuf },
    /// Choose `count` frames and write their images into `out_dir`.
    Analyze { video: PathBuf, out_dir: PathBuf, count: u32 },
}

/// A worker's answer to one request: `ok` with a result, or `error` with a reason.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct WorkerResponse {
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe: Option<ProbeResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analysis: Option<AnalysisResult>,
}

impl WorkerResponse {
    /// A failure with a user-readable reason.
    pub fn failure(reason: impl Into<String>) -> Self {
        WorkerResponse { ok: false, error: Some(reason.into()), ..Default::default() }
    }
}

/// Facts about a video the index stores.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ProbeResult {
    pub duration: f64,
    pub width: u32,
    pub height: u32,
    #[serde(default)]
    pub rotation: i32,
    #[serde(default)]
    pub codec: Option<String>,
    /// Container creation time (QuickTime creation_time), unix seconds.
    #[serde(default)]
    pub created_at: Option<i64>,
}

/// One chosen frame as the worker wrote it: the same shape the index stores and the
/// app shows ([`Frame`]), so one type serves both.
pub type FrameResult = crate::model::Frame;

/// A finished analysis: the video's facts, its picks and the quality curve.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct AnalysisResult {
    pub info: ProbeResult,
    pub frames: Vec<FrameResult>,
    #[serde(default)]
    pub curve: serde_json::Value,
}
