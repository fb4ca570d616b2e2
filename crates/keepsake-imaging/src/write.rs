//! Turning pixels into files: JPEG by default, PNG or WebP by extension.

use std::path::Path;

use image::{DynamicImage, RgbImage};

use crate::ImagingError;

/// Writes an image as JPEG (quality 1..100) or, for `.png`/`.webp` paths, in that format.
/// Creates the parent folder. Writes to a temporary name first so a reader never sees a
/// half-written cover.
pub fn write_image(img: &RgbImage, path: &Path, jpeg_quality: u8) -> Result<(), ImagingError> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|source| ImagingError::Io { path: parent.to_owned(), source })?;
    }
    let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).unwrap_or_else(|| "jpg".into());
    // Unique per writer: two requests rendering the same image at once must not write
    // into, or rename, each other's half-finished file.
    static WRITERS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = WRITERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = path.with_extension(format!("{ext}.{}-{n}.part", std::process::id()));
    let encode_err = |e: image::ImageError| ImagingError::Encode { path: path.to_owned(), message: e.to_string() };
    let file = std::fs::File::create(&tmp).map_err(|source| ImagingError::Io { path: tmp.clone(), source })?;
    let mut writer = std::io::BufWriter::new(file);
    let result = match ext.as_str() {
        "png" => {
            DynamicImage::ImageRgb8(img.clone()).write_to(&mut writer, image::ImageFormat::Png).map_err(encode_err)
        }
        "webp" => {
            DynamicImage::ImageRgb8(img.clone()).write_to(&mut writer, image::ImageFormat::WebP).map_err(encode_err)
        }
        _ => encode_jpeg(img, &mut writer, jpeg_quality)
            .map_err(|message| ImagingError::Encode { path: path.to_owned(), message }),
    };
    let flushed = std::io::Write::flush(&mut writer).map_err(|source| ImagingError::Io { path: tmp.clone(), source });
    drop(writer);
    if let Err(e) = result.and(flushed) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::rename(&tmp, path).map_err(|source| ImagingError::Io { path: path.to_owned(), source })
}

/// Baseline 4:2:0 JPEG through `jpeg-encoder` (AVX2 when the CPU has it): several times
/// faster than the `image` crate's encoder on full-HD covers.
fn encode_jpeg(img: &RgbImage, writer: &mut impl std::io::Write, quality: u8) -> Result<(), String> {
    let (w, h) = (img.width(), img.height());
    let (Ok(w16), Ok(h16)) = (u16::try_from(w), u16::try_from(h)) else {
        return Err(format!("{w}x{h} is too large for JPEG (65535 px per side at most)"));
    };
    let mut enc = jpeg_encoder::Encoder::new(writer, quality.clamp(1, 100));
    enc.set_sampling_factor(jpeg_encoder::SamplingFactor::F_2_2);
    enc.encode(img.as_raw(), w16, h16, jpeg_encoder::ColorType::Rgb).map_err(|e| e.to_string())
}
