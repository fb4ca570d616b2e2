//! Single images rendered in-process with the engine: a chosen moment of a video (a
//! cover) and photo thumbnails. One frame each, so no worker process is needed, and
//! no face model is loaded (none is needed to render).

use std::path::Path;

use keepsake_engine::{Engine, EngineConfig};

use crate::error::{LibraryError, Result};

/// Longest side of covers rendered from a moment.
const COVER_SIDE: u32 = 1920;
/// Longest side of photo thumbnails for the grid.
const THUMB_SIDE: u32 = 512;

fn engine() -> Engine {
    Engine::new(EngineConfig::without_faces())
}

fn ensure_parent(dest: &Path) -> Result<()> {
    if let Some(dir) = dest.parent() {
        std::fs::create_dir_all(dir).map_err(|e| LibraryError::io(dir, e))?;
    }
    Ok(())
}

/// Renders the frame at `t` seconds of `video` into `dest` (JPEG, upright).
pub(crate) fn render_moment(video: &Path, t: f64, dest: &Path) -> Result<()> {
    ensure_parent(dest)?;
    engine().render_moment(video, t, dest, Some(COVER_SIDE)).map_err(|e| LibraryError::Engine(e.to_string()))?;
    Ok(())
}

/// Renders an upright thumbnail of a photo into `dest`.
pub(crate) fn photo_thumbnail(photo: &Path, dest: &Path) -> Result<()> {
    thumbnail(photo, dest, THUMB_SIDE)
}

/// Renders an upright copy of an image no longer than `side` into `dest`.
pub(crate) fn thumbnail(image: &Path, dest: &Path, side: u32) -> Result<()> {
    ensure_parent(dest)?;
    engine().photo_thumbnail(image, dest, side).map_err(|e| LibraryError::Engine(e.to_string()))?;
    Ok(())
}
