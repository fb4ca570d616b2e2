//! Photo thumbnails: decoded with the `image` crate under a pixel limit (a 100 KB PNG can
//! claim 50 000 × 50 000 pixels), turned upright by its EXIF orientation, shrunk, saved.

use std::path::Path;

use image::{DynamicImage, ImageDecoder};

use crate::ImagingError;

/// The pixel limit callers use unless they have a reason to choose another: 200
/// megapixels, well above any camera, far below what would exhaust memory.
pub const DEFAULT_MAX_PIXELS: u64 = 200_000_000;

/// A thumbnail as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thumbnail {
    pub width: u32,
    pub height: u32,
}

/// Writes an upright copy of `photo` whose longest side is at most `max_side` (never
/// enlarged) into `out`, through [`crate::write_image`]. Photos over `max_pixels` are
/// refused before their pixels are decoded.
pub fn thumbnail(photo: &Path, out: &Path, max_side: u32, max_pixels: u64) -> Result<Thumbnail, ImagingError> {
    let io = |source| ImagingError::Io { path: photo.to_owned(), source };
    let meta = std::fs::metadata(photo).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => ImagingError::NotFound { path: photo.to_owned() },
        _ => io(source),
    })?;
    if meta.len() == 0 {
        return Err(ImagingError::Empty { path: photo.to_owned() });
    }
    let not_image = |e: &dyn std::fmt::Display| ImagingError::NotImage { path: photo.to_owned(), reason: e.to_string() };
    let reader = image::ImageReader::open(photo).map_err(io)?.with_guessed_format().map_err(io)?;
    if reader.format().is_none() {
        return Err(not_image(&"unrecognised image format"));
    }
    let mut decoder = reader.into_decoder().map_err(|e| not_image(&e))?;
    let (w, h) = decoder.dimensions();
    if u64::from(w) * u64::from(h) > max_pixels {
        return Err(ImagingError::TooLarge { path: photo.to_owned(), width: w, height: h, limit: max_pixels });
    }
    let mut limits = image::Limits::default();
    // Room for the decoded image in its widest (16-bit RGBA) form, plus decoder slack.
    limits.max_alloc = Some(max_pixels.saturating_mul(8).saturating_add(64 << 20));
    decoder.set_limits(limits).map_err(|e| not_image(&e))?;
    let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = DynamicImage::from_decoder(decoder)
        .map_err(|e| ImagingError::Undecodable { path: photo.to_owned(), reason: e.to_string() })?;
    img.apply_orientation(orientation);
    let thumb = if img.width().max(img.height()) > max_side && max_side > 0 {
        img.thumbnail(max_side, max_side)
    } else {
        img
    };
    let rgb = thumb.to_rgb8();
    crate::write_image(&rgb, out, 88)?;
    Ok(Thumbnail { width: rgb.width(), height: rgb.height() })
}
