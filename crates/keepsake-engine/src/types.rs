//! The engine's data: what it reports about a video and the frames it picked.
//! All of it is plain serde data — the library stores a [`Selection`] as JSON and the UI
//! draws `reasons` and `curve` from it — so field names are part of the contract.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// What the container says about a video, with the size as the viewer sees it (upright).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VideoInfo {
    /// Seconds; 0 when the container does not know and no frame could tell.
    pub duration: f64,
    /// Display width: the stored width stretched by the pixel aspect ratio (anamorphic
    /// DV and DVD), then `rotation` applied.
    pub width: u32,
    /// Display height, `rotation` applied.
    pub height: u32,
    /// Clockwise degrees (0, 90, 180, 270) the stored frames must turn to be upright.
    pub rotation: i32,
    /// FFmpeg codec name, e.g. `h264`, `hevc`, `vp9`.
    pub codec: String,
    /// Average frames per second (0 when unknown).
    pub frame_rate: f64,
    /// QuickTime/Matroska `creation_time` tag, as written by the camera.
    pub created_at: Option<String>,
    /// Container format name(s) as FFmpeg reports them, e.g. `mov,mp4,m4a,3gp,3g2,mj2`.
    pub container: String,
    /// Stored (coded) frame size before rotation.
    pub coded_width: u32,
    /// Stored (coded) frame size before rotation.
    pub coded_height: u32,
    /// Whether the file has an audio stream (the UI shows a speaker icon).
    pub has_audio: bool,
    /// How the pictures are encoded (colour, fields, pixel shape) and what the engine
    /// does about it: tone mapping, deinterlacing, aspect correction.
    #[serde(default)]
    pub picture: PictureFormat,
}

impl PictureFormat {
    /// What the engine had to do to show these pictures right, in words for a person
    /// ("HDR (HLG), tone-mapped to SDR", "interlaced, deinterlaced", ...); empty for plain
    /// square-pixel progressive SDR video. `coded` is the stored frame size.
    pub fn notes(&self, coded: (u32, u32)) -> Vec<String> {
        let mut notes = Vec::new();
        match self.dynamic_range {
            DynamicRange::Sdr => {}
            DynamicRange::Hlg => notes.push("HDR (HLG), tone-mapped to SDR".to_owned()),
            DynamicRange::Pq => notes.push("HDR (PQ/HDR10), tone-mapped to SDR".to_owned()),
        }
        if self.interlaced {
            notes.push("interlaced, deinterlaced".to_owned());
        }
        if self.pixel_aspect != [1, 1] && self.pixel_aspect[0] > 0 && self.pixel_aspect[1] > 0 {
            let (w, h) = coded;
            let shown = (f64::from(w) * f64::from(self.pixel_aspect[0]) / f64::from(self.pixel_aspect[1])).round();
            notes.push(format!("stored {w}×{h} with non-square pixels, shown {shown}×{h}"));
        }
        notes
    }
}

/// A video's dynamic range, as its transfer function says.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DynamicRange {
    /// Standard dynamic range: shown as decoded.
    #[default]
    Sdr,
    /// Hybrid log-gamma (phones' HDR): tone-mapped to SDR.
    Hlg,
    /// PQ / HDR10 (SMPTE ST 2084): tone-mapped to SDR.
    Pq,
}

/// How the engine reads a video's pictures. Every picture it makes (analysis frames,
/// picks, moments, previews, the contact sheet) follows this.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PictureFormat {
    /// SDR, or the HDR kind that is tone-mapped to SDR (BT.2390, reference white 203 cd/m²).
    pub dynamic_range: DynamicRange,
    /// Colour primaries, e.g. `bt709`, `bt2020` (FFmpeg's names; `unknown` when untagged).
    pub primaries: String,
    /// Transfer function, e.g. `bt709`, `arib-std-b67`, `smpte2084`.
    pub transfer: String,
    /// Y'CbCr matrix used to make RGB, e.g. `BT.709`.
    pub matrix: String,
    /// Full-range (0–255) samples rather than video range.
    pub full_range: bool,
    /// Brightest light the content holds (cd/m²), HDR only: MaxCLL or the mastering
    /// display's peak, else assumed.
    pub peak_nits: Option<f32>,
    /// Stored as interlaced fields: every picture is deinterlaced.
    pub interlaced: bool,
    /// Shape of a stored pixel, `[width, height]`; `[1, 1]` is square. Pictures are
    /// stretched to the display aspect.
    pub pixel_aspect: [u32; 2],
    /// What the engine assumed where the file's tags were missing or contradictory.
    pub assumptions: Vec<String>,
}

/// Why a candidate frame was refused as a cover. The UI colours the timeline with these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectReason {
    /// Nearly all pixels near black.
    Black,
    /// Too dark to show anything, relative to the video and absolutely.
    UnderExposed,
    /// Washed out: large share of clipped highlights / very bright.
    OverExposed,
    /// A uniform frame: title card, solid colour, blank wall.
    Flat,
    /// Out of focus: far less detail than the video's typical frame, evenly soft.
    Defocus,
    /// Smeared by motion: directional loss of detail.
    MotionBlur,
    /// A fade or cross-dissolve: a frame blended between neighbours.
    Transition,
    /// Sitting on a shot boundary (decoded frame straddles a cut).
    Cut,
}

impl RejectReason {
    /// Short human label for tables and contact sheets.
    pub fn label(&self) -> &'static str {
        match self {
            RejectReason::Black => "black",
            RejectReason::UnderExposed => "too dark",
            RejectReason::OverExposed => "too bright",
            RejectReason::Flat => "flat/title",
            RejectReason::Defocus => "out of focus",
            RejectReason::MotionBlur => "motion blur",
            RejectReason::Transition => "fade/transition",
            RejectReason::Cut => "cut",
        }
    }
}

/// Whether face detection ran. Missing runtime or models is a normal state, not an error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum FaceAvailability {
    Available,
    Unavailable { reason: String },
}

impl FaceAvailability {
    /// True when faces were looked for.
    pub fn is_available(&self) -> bool {
        matches!(self, FaceAvailability::Available)
    }
}

/// Measurements of one analysed frame, all normalised to roughly 0..1 so they compare
/// across videos. See `features.rs` for how each is computed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Features {
    /// Mean luma, 0 = black, 1 = white.
    pub luma: f32,
    /// Share of pixels with luma ≤ 16/255.
    pub dark_clip: f32,
    /// Share of pixels with luma ≥ 245/255.
    pub bright_clip: f32,
    /// Mean gradient magnitude (Sobel), scaled so typical sharp footage is ~0.3..1.
    pub sharpness: f32,
    /// Variance of the Laplacian, scaled; fine detail.
    pub detail: f32,
    /// Ratio of weaker to stronger gradient direction (1 = isotropic, ~0 = smeared one way).
    pub isotropy: f32,
    /// Share of pixels in the 5 % most populated luma bins (hecate's uniformity).
    pub uniformity: f32,
    /// Hasler–Süsstrunk colourfulness, scaled.
    pub colourfulness: f32,
    /// Luma standard deviation.
    pub contrast: f32,
    /// Estimated noise (median absolute high-pass residual), scaled.
    pub noise: f32,
    /// Number of faces found (0 when face detection is unavailable).
    pub faces: u32,
    /// Largest face's area as a fraction of the frame, times its confidence.
    pub face_score: f32,
}

/// One point of the per-candidate quality curve drawn along the UI's timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurvePoint {
    pub time: f64,
    /// 0..1; 0 for rejected candidates.
    pub quality: f32,
    pub rejected: Option<RejectReason>,
}

/// Everything the engine knows about one candidate frame: for `--explain`, `--sheet` and
/// debugging why a frame lost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CandidateReport {
    pub time: f64,
    pub features: Features,
    /// Combined score, 0..1 (before scene weighting).
    pub quality: f32,
    pub rejected: Option<RejectReason>,
    /// Scene index (0-based, in time order) this candidate belongs to.
    pub scene: u32,
    /// Rank of the pick made from this candidate, if any.
    pub picked: Option<u32>,
}

/// Why a pick won, in numbers the UI can show as badges. The first four keys are the
/// CLI contract's `reasons`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Reasons {
    /// 0..1, relative to the sharpest frames of this video.
    pub sharpness: f32,
    /// 0..1, 1 = well exposed (mid luma, no clipping).
    pub exposure: f32,
    /// Faces in the written frame (0 when detection is unavailable).
    pub faces: u32,
    /// Scene number (1-based, in time order) the pick comes from.
    pub scene: u32,
    /// 0..1, colour and contrast.
    pub aesthetics: f32,
    /// 0..1, share of the video's length the scene covers.
    pub scene_weight: f32,
    /// Number of scenes found.
    pub scenes: u32,
    /// One-line human explanation.
    pub summary: String,
}

/// One chosen cover frame and the image written for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pick {
    /// 1 = best.
    pub rank: u32,
    /// Presentation time (seconds) of the frame written to `path`.
    pub time: f64,
    /// 0..1.
    pub score: f32,
    pub path: PathBuf,
    /// Written image's size, upright.
    pub width: u32,
    pub height: u32,
    pub reasons: Reasons,
}

/// The result of analysing one video: the picks, plus what the UI needs to explain them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Selection {
    pub video: PathBuf,
    pub info: VideoInfo,
    /// Best first; up to `AnalyzeOptions::count`.
    pub frames: Vec<Pick>,
    /// One point per analysed candidate, in time order.
    pub curve: Vec<CurvePoint>,
    pub candidates: Vec<CandidateReport>,
    /// Every candidate was poor; the picks are the least bad. The UI suggests a manual cover.
    pub low_confidence: bool,
    pub faces: FaceAvailability,
    pub elapsed_ms: u64,
}

/// What [`crate::Engine::analyze`] should produce.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnalyzeOptions {
    /// Number of picks (default 3).
    pub count: usize,
    /// Folder for the written JPEGs (created if missing).
    pub out_dir: PathBuf,
    /// Longest side of written images; `None` keeps the video's display size.
    pub max_side: Option<u32>,
    /// Output file names are `<stem>_<rank>.jpg`; default: the video's file stem.
    pub file_stem: Option<String>,
    /// How many candidate frames to analyse (bounded: cost follows this, not duration).
    pub candidates: usize,
    /// JPEG quality 1..100.
    pub jpeg_quality: u8,
}

impl AnalyzeOptions {
    /// Defaults (3 picks, 40 candidates, full size, quality 90) writing into `out_dir`.
    pub fn new(out_dir: impl Into<PathBuf>) -> Self {
        AnalyzeOptions {
            count: 3,
            out_dir: out_dir.into(),
            max_side: None,
            file_stem: None,
            candidates: 40,
            jpeg_quality: 90,
        }
    }
}

/// What [`crate::Engine::preview`] should produce.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreviewOptions {
    /// Longest side of the animation (default 320).
    pub max_side: u32,
    /// Number of moments shown (default 4).
    pub moments: usize,
    /// Seconds of each moment (default 1.0).
    pub moment_seconds: f64,
    /// Frames per second of the animation (default 8).
    pub fps: u32,
}

impl Default for PreviewOptions {
    fn default() -> Self {
        PreviewOptions { max_side: 320, moments: 4, moment_seconds: 1.0, fps: 8 }
    }
}

/// An image the engine wrote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RenderedImage {
    pub path: PathBuf,
    pub width: u32,
    pub height: u32,
    /// The video moment it shows (None for photos).
    pub time: Option<f64>,
}

/// An animated preview the engine wrote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RenderedPreview {
    pub path: PathBuf,
    pub width: u32,
    pub height: u32,
    pub frames: u32,
    /// Start times of the moments shown.
    pub moments: Vec<f64>,
    pub bytes: u64,
}
