//! Photo thumbnails, made by `keepsake-imaging` (the app's process makes them too, without
//! loading the engine's FFmpeg); here they get the engine's error type and result shape.

use std::path::Path;

use crate::{EngineError, RenderedImage};

/// Writes an upright thumbnail of `photo` whose longest side is at most `max_side`.
pub(crate) fn thumbnail(photo: &Path, out: &Path, max_side: u32, max_pixels: u64) -> Result<RenderedImage, EngineError> {
    let t = keepsake_imaging::thumbnail(photo, out, max_side, max_pixels)?;
    Ok(RenderedImage { path: out.to_owned(), width: t.width, height: t.height, time: None })
}
