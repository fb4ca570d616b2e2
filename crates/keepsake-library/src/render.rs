//! Single images rendered in-process with the engine: a chosen moment of a video (a
//! cover) and photo thumbnails. One frame each, so a worker process is not needed.

use std::path::Path;

use crate::error::{LibraryError, Result};

/// Renders the frame at `t` seconds of `video` into `dest` (JPEG, at most 1920 px).
pub(crate) fn render_moment(video: &Path, t: f64, dest: &Path) -> Result<()> {
    let _ = (video, t, dest);
    Err(LibraryError::Engine("rendering a moment needs the engine, which is not wired in yet".into()))
}

/// Renders an upright thumbnail of a photo into `dest`.
pub(crate) fn photo_thumbnail(photo: &Path, dest: &Path) -> Result<()> {
    let _ = (photo, dest);
    Err(LibraryError::Engine("photo thumbnails need the engine, which is not wired in yet".into()))
}
