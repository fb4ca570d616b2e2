//! Turning pixels into files: upright orientation, and output through `keepsake-imaging`.

use std::path::Path;

use image::RgbImage;

use crate::EngineError;

/// Turns a stored frame upright: `rotation` is clockwise degrees (0/90/180/270).
pub(crate) fn upright(img: RgbImage, rotation: i32) -> RgbImage {
    match rotation.rem_euclid(360) {
        90 => image::imageops::rotate90(&img),
        180 => image::imageops::rotate180(&img),
        270 => image::imageops::rotate270(&img),
        _ => img,
    }
}

/// Writes an image as JPEG (quality 1..100) or, for `.png`/`.webp` paths, in that format,
/// never half-written (see [`keepsake_imaging::write_image`]).
pub(crate) fn write_image(img: &RgbImage, path: &Path, jpeg_quality: u8) -> Result<(), EngineError> {
    Ok(keepsake_imaging::write_image(img, path, jpeg_quality)?)
}
