//! Why a slideshow or demo could not be written.

use std::path::PathBuf;

/// Errors from encoding slideshows and generating the demo album.
#[derive(Debug, thiserror::Error)]
pub enum SlideshowError {
    #[error("FFmpeg could not {action}: {source}")]
    Ffmpeg { action: &'static str, source: ffmpeg_next::Error },
    #[error("this FFmpeg has no {0} encoder")]
    MissingEncoder(&'static str),
    #[error("cannot write {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("cannot write image {path}: {source}")]
    Image { path: PathBuf, source: image::ImageError },
    #[error("nothing to show: none of the {0} images could be read")]
    NoUsableImages(usize),
    #[error("invalid size {0}×{1}: width and height must be even and at least 16")]
    BadSize(u32, u32),
}

impl SlideshowError {
    pub(crate) fn ffmpeg(action: &'static str) -> impl FnOnce(ffmpeg_next::Error) -> SlideshowError {
        move |source| SlideshowError::Ffmpeg { action, source }
    }
}
