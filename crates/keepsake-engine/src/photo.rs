//! Photo thumbnails: decoded with the `image` crate under a pixel limit (a 100 KB PNG can
//! claim 50 000 × 50 000 pixels), turned upright by its EXIF orientation, shrunk, saved.

use std::path::Path;

use image::{DynamicImage, ImageDecoder};

use crate::{EngineError, RenderedImage};

/// Writes an upright thumbnail of `photo` whose longest side is at most `max_side`.
pub(crate) fn thumbnail(photo: &Path, out: &Path, max_side: u32, max_pixels: u64) -> Result<RenderedImage, EngineError> {
    let meta = std::fs::metadata(photo).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => EngineError::NotFound { path: photo.to_owned() },
        _ => EngineError::Io { path: photo.to_owned(), source },
    })?;
    if meta.len() == 0 {
        return Err(EngineError::Empty { path: photo.to_owned() });
    }
    let not_media = |e: &dyn std::fmt::Display| EngineError::NotMedia { path: photo.to_owned(), reason: e.to_string() };
    let reader = image::ImageReader::open(photo)
        .map_err(|source| EngineError::Io { path: photo.to_owned(), source })?
        .with_guessed_format()
        .map_err(|source| EngineError::Io { path: photo.to_owned(), source })?;
    if reader.format().is_none() {
        return Err(not_media(&"unrecognised image format"));
    }
    let mut decoder = reader.into_decoder().map_err(|e| not_media(&e))?;
    let (w, h) = decoder.dimensions();
    if u64::from(w) * u64::from(h) > max_pixels {
        return Err(EngineError::TooLarge { path: photo.to_owned(), width: w, height: h, limit: max_pixels });
    }
    let mut limits = image::Limits::default();
    // Room for the decoded image in its widest (16-bit RGBA) form, plus decoder slack.
    limits.max_alloc = Some(max_pixels.saturating_mul(8).saturating_add(64 << 20));
    decoder.set_limits(limits).map_err(|e| not_media(&e))?;
    let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = DynamicImage::from_decoder(decoder).map_err(|e| EngineError::Undecodable {
        path: photo.to_owned(),
        reason: e.to_string(),
    })?;
    img.apply_orientation(orientation);
    let thumb = if img.width().max(img.height()) > max_side && max_side > 0 {
        img.thumbnail(max_side, max_side)
    } else {
        img
    };
    let rgb = thumb.to_rgb8();
    crate::render::write_image(&rgb, out, 88)?;
    Ok(RenderedImage { path: out.to_owned(), width: rgb.width(), height: rgb.height(), time: None })
}
