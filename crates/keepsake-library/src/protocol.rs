//! The worker protocol: one JSON object per line on the worker's stdin (a request) and
//! stdout (its response). The library speaks it to `keepsake worker` processes for all
//! FFmpeg and ONNX work (analysis, and the renders, exports and checks the app asks
//! for), so a crash, hang or out-of-memory in decoding or inference never takes the app
//! down, and the app's own process never loads FFmpeg.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use ts_rs::TS;

/// What the supervisor asks a worker to do.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum WorkerRequest {
    /// Duration and stream facts, fast; used to scale the analysis timeout.
    Probe { video: PathBuf },
    /// Choose `count` frames and write their images into `out_dir`.
    Analyze { video: PathBuf, out_dir: PathBuf, count: u32 },
    /// Write the frame at `time` seconds, upright, no longer than `max_side`, as a JPEG
    /// at `out` (a cover chosen on the timeline, a scrubber preview).
    RenderMoment { video: PathBuf, time: f64, out: PathBuf, max_side: u32 },
    /// Write an upright copy of the photo at `photo`, no longer than `max_side`, as a
    /// JPEG at `out`: HEIC/HEIF and AVIF, whose decoders (libheif, libde265, dav1d) are
    /// C and run here rather than in the window's process.
    PhotoThumbnail { photo: PathBuf, out: PathBuf, max_side: u32 },
    /// Encode `images`, in order, as a cross-faded slideshow file at `out`.
    ExportSlideshow { images: Vec<PathBuf>, out: PathBuf, format: SlideshowFormat },
    /// Generate the first-launch demo album into the folder `dir`.
    CreateDemo { dir: PathBuf },
    /// What the engine can use on this machine, as `keepsake doctor` reports it.
    InspectRuntime,
    /// Judge each of `pictures` (photos' grid copies in the data directory) by the
    /// measures a video's picks are judged by, faces included: many in one request, so
    /// a worker loads the face model once for a batch. Answered per picture, in order
    /// ([`WorkerResponse::scores`]); one picture that cannot be read fails only itself.
    ScorePictures { pictures: Vec<PathBuf> },
}

/// The file types a slideshow can be exported as (`ExportFormat` on the page).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, TS)]
#[serde(rename_all = "snake_case")]
#[ts(rename = "ExportFormat")]
pub enum SlideshowFormat {
    /// H.264 in MP4: plays everywhere, TVs included.
    Mp4,
    /// Looping animated WebP: small, shareable in chats and web pages.
    Webp,
}

impl SlideshowFormat {
    /// The format named by `name` ("mp4", "webp"; any case), as the app and CLI take it.
    pub fn parse(name: &str) -> Option<SlideshowFormat> {
        match name.to_ascii_lowercase().as_str() {
            "mp4" => Some(SlideshowFormat::Mp4),
            "webp" => Some(SlideshowFormat::Webp),
            _ => None,
        }
    }

    /// The file extension of this format.
    pub fn extension(self) -> &'static str {
        match self {
            SlideshowFormat::Mp4 => "mp4",
            SlideshowFormat::Webp => "webp",
        }
    }
}

/// A worker's answer to one request: `ok` with a result, or `error` with a reason.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct WorkerResponse {
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// With `error`: the engine's kind of failure (`EngineError::kind()`: `not_media`,
    /// `undecodable`, …), so the supervisor need not read the message to act on it. An
    /// unknown name (or one that is not the engine's) is [`Refused`](crate::model::FailureKind::Refused).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "engine_kind")]
    pub error_kind: Option<crate::model::FailureKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe: Option<ProbeResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analysis: Option<AnalysisResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub export: Option<ExportResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<RuntimeResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scores: Option<Vec<PictureScoreResult>>,
}

/// A refusal's kind as a worker named it: one of the engine's kinds, else `Refused`
/// (a newer worker's kind must not fail the whole reply, nor may a worker claim a kind
/// that is the supervisor's to say, such as `worker_hung`).
fn engine_kind<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<crate::model::FailureKind>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.map(|name| crate::model::FailureKind::from_engine(&name)))
}

impl WorkerResponse {
    /// A failure with a user-readable reason and its kind.
    pub fn failure(kind: crate::model::FailureKind, reason: impl Into<String>) -> Self {
        WorkerResponse { ok: false, error: Some(reason.into()), error_kind: Some(kind), ..Default::default() }
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
    /// What the engine had to do to show the pictures right, in words (HDR tone-mapped,
    /// deinterlaced, non-square pixels stretched); empty for plain video.
    #[serde(default)]
    pub picture: Vec<String>,
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
    pub curve: Vec<crate::model::CurvePoint>,
}

/// A written slideshow, and the images it had to leave out.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ExportResult {
    pub path: PathBuf,
    pub slides: usize,
    /// Unreadable images with the reason; the export went on without them.
    #[serde(default)]
    pub skipped: Vec<(PathBuf, String)>,
}

/// The engine's set-up (`keepsake doctor --json`'s report) and whether it is complete;
/// passed through as JSON so the library need not link the engine to show it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct RuntimeResult {
    pub complete: bool,
    pub report: serde_json::Value,
}

/// The part of a [`RuntimeResult::report`] the app's about panel shows: the shape of
/// `keepsake_engine::runtime::RuntimeReport`, which the library does not link. The
/// worker's report carries more (its sandbox, test probes); the page gets only this.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, TS)]
pub struct RuntimeReport {
    pub ffmpeg: FfmpegVersions,
    /// Where ONNX Runtime was found, if anywhere.
    pub onnxruntime: Option<PathBuf>,
    /// Why ONNX Runtime is unusable, when it is.
    pub onnxruntime_problem: Option<String>,
    /// The version ONNX Runtime reported once actually loaded (e.g. "1.31.1").
    #[serde(default)]
    #[ts(optional = nullable)]
    pub onnxruntime_version: Option<String>,
    /// The model manifest the assets were checked against.
    pub manifest: PathBuf,
    pub assets: Vec<AssetReport>,
}

/// FFmpeg library versions, as linked by the worker.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, TS)]
pub struct FfmpegVersions {
    pub avformat: String,
    pub avcodec: String,
    pub avutil: String,
    pub swscale: String,
}

/// One file of the model manifest as found on disk.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, TS)]
pub struct AssetReport {
    pub name: String,
    /// `models` or `runtime`.
    pub group: String,
    pub path: PathBuf,
    pub status: AssetStatus,
}

/// Whether one manifest file is present and intact.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, TS)]
#[serde(rename_all = "snake_case")]
pub enum AssetStatus {
    Ok,
    Missing,
    ChecksumMismatch,
}

/// One picture of a [`WorkerRequest::ScorePictures`]: its score and faces, or why it
/// could not be judged.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct PictureScoreResult {
    /// The picture, as the request named it.
    pub path: PathBuf,
    /// 0..1, the engine's quality of the picture; `None` with `error`.
    #[serde(default)]
    pub score: Option<f64>,
    /// Faces seen; `None` when the worker has no face detector (not looked for) or with
    /// `error`.
    #[serde(default)]
    pub faces: Option<u32>,
    /// Why this picture could not be judged (unreadable, gone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}
