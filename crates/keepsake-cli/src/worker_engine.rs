//! The worker's bridge to the engine's and the slideshow crate's public APIs: their
//! types in, protocol types out.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use keepsake_engine::{AnalyzeOptions, Engine, EngineConfig, VideoInfo};
use keepsake_library::protocol::{
    AnalysisResult, ExportResult, FrameResult, PictureScoreResult, ProbeResult, RuntimeResult, SlideshowFormat,
};
use keepsake_library::{CurvePoint, Reasons, RejectReason};
use keepsake_slideshow::{OutputFormat, SlideshowOptions};

use crate::worker::Refusal;

/// The engine as the worker uses it: created on first use and reused for every request.
/// Analysis loads the face model (once per process); a worker that only renders
/// moments or encodes a slideshow for the app never does.
#[derive(Default)]
pub struct WorkerEngine {
    analysis: OnceLock<Engine>,
    plain: OnceLock<Engine>,
}

fn probe_result(info: &VideoInfo) -> ProbeResult {
    ProbeResult {
        duration: info.duration,
        width: info.width,
        height: info.height,
        rotation: info.rotation,
        codec: Some(info.codec.clone()).filter(|c| !c.is_empty()),
        created_at: info.created_at.as_deref().and_then(keepsake_library::taken::parse_datetime),
        picture: info.picture.notes((info.coded_width, info.coded_height)),
    }
}

/// A pick's reasons as the library stores them and the page shows them.
fn reasons(r: &keepsake_engine::Reasons) -> Reasons {
    Reasons {
        sharpness: Some(r.sharpness),
        exposure: Some(r.exposure),
        faces: Some(r.faces),
        scene: Some(r.scene),
        aesthetics: Some(r.aesthetics),
        scene_weight: Some(r.scene_weight),
        scenes: Some(r.scenes),
        summary: Some(r.summary.clone()),
    }
}

/// One point of the quality curve. A quality that is not a number (which JSON cannot
/// carry) is drawn as 0 rather than losing the whole analysis.
fn curve_point(p: &keepsake_engine::CurvePoint) -> CurvePoint {
    use keepsake_engine::RejectReason as E;
    let rejected = p.rejected.map(|r| match r {
        E::Black => RejectReason::Black,
        E::UnderExposed => RejectReason::UnderExposed,
        E::OverExposed => RejectReason::OverExposed,
        E::Flat => RejectReason::Flat,
        E::Defocus => RejectReason::Defocus,
        E::MotionBlur => RejectReason::MotionBlur,
        E::Transition => RejectReason::Transition,
        E::Cut => RejectReason::Cut,
    });
    CurvePoint { time: p.time, quality: if p.quality.is_finite() { p.quality } else { 0.0 }, rejected }
}

impl WorkerEngine {
    fn analysis(&self) -> &Engine {
        self.analysis.get_or_init(|| Engine::new(EngineConfig::discover()))
    }

    fn plain(&self) -> &Engine {
        self.plain.get_or_init(|| Engine::new(EngineConfig::without_faces()))
    }

    pub fn probe(&mut self, video: &Path) -> Result<ProbeResult, Refusal> {
        self.analysis().probe(video).map(|i| probe_result(&i)).map_err(Refusal::from)
    }

    pub fn analyze(&mut self, video: &Path, out_dir: &Path, count: u32) -> Result<AnalysisResult, Refusal> {
        let mut opts = AnalyzeOptions::new(out_dir);
        opts.count = count.max(1) as usize;
        let sel = self.analysis().analyze(video, &opts)?;
        Ok(AnalysisResult {
            info: probe_result(&sel.info),
            frames: sel
                .frames
                .iter()
                .map(|p| FrameResult {
                    rank: p.rank,
                    time: p.time,
                    score: p.score as f64,
                    path: p.path.clone(),
                    width: p.width,
                    height: p.height,
                    reasons: reasons(&p.reasons),
                })
                .collect(),
            curve: sel.curve.iter().map(curve_point).collect(),
        })
    }

    /// Scores each picture with the analysis engine (faces included, the model loaded
    /// once per worker); a picture that cannot be read fails alone, with the reason.
    pub fn score_pictures(&mut self, pictures: &[PathBuf]) -> Vec<PictureScoreResult> {
        let engine = self.analysis();
        let faces = engine.faces_status().is_available();
        pictures
            .iter()
            .map(|path| match engine.score_picture(path) {
                Ok(s) => PictureScoreResult {
                    path: path.clone(),
                    score: Some(f64::from(s.score)),
                    faces: s.faces.filter(|_| faces),
                    error: None,
                },
                Err(e) => PictureScoreResult { path: path.clone(), error: Some(e.to_string()), ..Default::default() },
            })
            .collect()
    }

    pub fn render_moment(&mut self, video: &Path, time: f64, out: &Path, max_side: u32) -> Result<(), Refusal> {
        self.plain().render_moment(video, time, out, Some(max_side)).map(|_| ()).map_err(Refusal::from)
    }
}

/// Encodes a slideshow with the slideshow crate's defaults for `format`.
pub fn export_slideshow(images: &[PathBuf], out: &Path, format: SlideshowFormat) -> Result<ExportResult, String> {
    let format = match format {
        SlideshowFormat::Mp4 => OutputFormat::Mp4,
        SlideshowFormat::Webp => OutputFormat::WebP,
    };
    let report = keepsake_slideshow::export_slideshow(images, out, &SlideshowOptions::for_format(format))
        .map_err(|e| e.to_string())?;
    Ok(ExportResult { path: report.path, slides: report.slides, skipped: report.skipped })
}

/// Generates the demo album into `dir`.
pub fn create_demo(dir: &Path) -> Result<(), String> {
    keepsake_slideshow::demo::generate(dir).map(|_| ()).map_err(|e| e.to_string())
}

/// The engine's set-up, as `keepsake doctor --json` reports it.
pub fn inspect_runtime() -> Result<RuntimeResult, String> {
    let report = keepsake_engine::runtime::inspect().map_err(|e| e.to_string())?;
    let complete = report.complete();
    Ok(RuntimeResult { complete, report: serde_json::to_value(&report).map_err(|e| e.to_string())? })
}
