//! [`Engine`]: the one object callers hold. Built once (face detector loaded once), then
//! shared by reference across videos.

use std::path::Path;

use crate::face_scoring::LazyFaces;
use crate::{
    AnalyzeOptions, EngineConfig, EngineError, FaceAvailability, PictureScore, PreviewOptions, RenderedImage,
    RenderedPreview, Selection, VideoInfo,
};

/// The thumbnail engine. Creating it never fails: a missing ONNX Runtime or face model
/// only turns faces off ([`Engine::faces_status`]).
pub struct Engine {
    config: EngineConfig,
    faces: LazyFaces,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("config", &self.config).field("faces", self.faces.get().0).finish()
    }
}

impl Engine {
    /// Loads what the config names; never fails. A missing face detector is logged once
    /// and reported by [`Engine::faces_status`].
    pub fn new(config: EngineConfig) -> Engine {
        crate::probe::init_ffmpeg();
        let faces = LazyFaces::start(&config);
        Engine { config, faces }
    }

    /// Container facts without decoding pictures (fast; for indexing).
    pub fn probe(&self, video: &Path) -> Result<VideoInfo, EngineError> {
        let input = crate::probe::open_input(video)?;
        let index = crate::probe::video_stream_index(&input, video)?;
        crate::probe::video_info(&input, index, video)
    }

    /// Picks the best frames of a video and writes them as JPEGs into `opts.out_dir`.
    pub fn analyze(&self, video: &Path, opts: &AnalyzeOptions) -> Result<Selection, EngineError> {
        crate::analysis::analyze(video, opts, self.config.analysis_threads, self.config.analysis_side, &self.faces)
    }

    /// Writes the frame shown at `time_s` as an upright JPEG (PNG for `.png`), for the
    /// manual cover override. Times past the end give the last frame.
    pub fn render_moment(
        &self,
        video: &Path,
        time_s: f64,
        out: &Path,
        max_side: Option<u32>,
    ) -> Result<RenderedImage, EngineError> {
        crate::analysis::render_moment(video, time_s, out, max_side, self.config.analysis_threads)
    }

    /// Writes a looping animation (`.gif`) of the video's best moments.
    pub fn preview(&self, video: &Path, out: &Path, opts: &PreviewOptions) -> Result<RenderedPreview, EngineError> {
        crate::preview::preview(video, out, opts, self.config.analysis_threads, self.config.analysis_side)
    }

    /// Writes a PNG contact sheet of every candidate of `selection` (scores, rejections,
    /// picks), to show why the picks won.
    pub fn contact_sheet(&self, selection: &Selection, out: &Path) -> Result<RenderedImage, EngineError> {
        crate::sheet::contact_sheet(selection, out, self.config.analysis_threads)
    }

    /// Scores the still picture at `path` (a photo's grid copy: JPEG, PNG or WebP) by
    /// the measures a video's picks are judged by, faces included when the detector is
    /// loaded (see `picture.rs`). The first call waits for the face model to load.
    pub fn score_picture(&self, path: &Path) -> Result<PictureScore, EngineError> {
        let img = crate::picture::open_picture(path)?;
        Ok(self.score_image(&img))
    }

    /// [`Engine::score_picture`] for pixels already decoded (upright RGB, any size).
    pub fn score_image(&self, img: &image::RgbImage) -> PictureScore {
        crate::picture::score_image(img, self.config.analysis_side, self.faces.get().1)
    }

    /// Whether faces are being looked for, and if not, why.
    pub fn faces_status(&self) -> &FaceAvailability {
        self.faces.get().0
    }

    /// The configuration this engine was built with.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }
}
