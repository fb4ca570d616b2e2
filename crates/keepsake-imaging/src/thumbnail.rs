//! Photo thumbnails: decoded under a pixel limit (a 100 KB PNG can claim 50 000 × 50 000
//! pixels), turned upright by its EXIF orientation, shrunk, saved.
//!
//! JPEG — most of an album — is decoded already shrunk: the DCT lets a decoder produce
//! 1/2, 1/4 or 1/8 of the picture without computing the rest (`jpeg-decoder`'s scaled
//! decode, as libjpeg-turbo's and libvips's shrink-on-load), so a 512-px copy of a 12-MP
//! photo decodes 1/16 of its pixels at 1/4 scale. CMYK and YCCK scans take the same path
//! and are turned into RGB here (with Photoshop's inverted-ink convention when the file
//! has an Adobe segment), so scans are shrunk in the DCT too and their colours do not
//! depend on another decoder's CMYK handling. A camera RAW is its largest embedded JPEG preview, decoded the same way
//! and turned by the RAW's own orientation ([`crate::raw`]). Every other format (PNG,
//! WebP, GIF, TIFF, BMP), and JPEGs that path cannot read, goes through the `image` crate.
//! HEIF/AVIF are not decoded in this process at all ([`ImagingError::NeedsWorker`]).

use std::path::Path;

use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder};

use crate::container::ReadAt;
use crate::{ImagingError, PhotoFormat};

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
/// refused before their pixels are decoded. RAWs are shown by their embedded preview
/// ([`ImagingError::NoPreview`] when they have none); HEIF/AVIF are refused with
/// [`ImagingError::NeedsWorker`] (the libheif worker decodes them).
pub fn thumbnail(photo: &Path, out: &Path, max_side: u32, max_pixels: u64) -> Result<Thumbnail, ImagingError> {
    let io = |source| ImagingError::Io { path: photo.to_owned(), source };
    let mut src = crate::info::open(photo)?;
    let not_image =
        |e: &dyn std::fmt::Display| ImagingError::NotImage { path: photo.to_owned(), reason: e.to_string() };
    let (format, raw_kind) = crate::info::detect(photo, &mut src);
    match format {
        PhotoFormat::Heif | PhotoFormat::Avif => return Err(ImagingError::NeedsWorker { path: photo.to_owned() }),
        PhotoFormat::Unknown => return Err(not_image(&"unrecognised image format")),
        PhotoFormat::Raw => {
            let scan = crate::info::raw_scan(photo, &mut src, raw_kind.unwrap_or(crate::raw::RawKind::Tiff))?;
            let preview = scan.previews.first().ok_or_else(|| crate::info::no_preview(photo, &scan))?;
            let part = JpegPart { offset: preview.offset, len: preview.len, adobe: preview.head.adobe };
            let Some((mut img, own, _lease)) = scaled_jpeg(photo, part, max_side, max_pixels)? else {
                return Err(ImagingError::Undecodable {
                    path: photo.to_owned(),
                    reason: "the embedded preview JPEG could not be decoded".into(),
                });
            };
            // The RAW's IFD0 orientation covers its preview, which usually has none.
            let orientation = scan.orientation.and_then(Orientation::from_exif).unwrap_or(own);
            img.apply_orientation(orientation);
            return write_thumbnail(img, out, max_side);
        }
        PhotoFormat::Jpeg => {
            let len = src.size();
            let adobe = crate::container::jpeg_head(&mut src, 0, len).is_ok_and(|h| h.adobe);
            let part = JpegPart { offset: 0, len, adobe };
            if let Some((mut img, orientation, _lease)) = scaled_jpeg(photo, part, max_side, max_pixels)? {
                img.apply_orientation(orientation);
                return write_thumbnail(img, out, max_side);
            }
        }
        _ => {}
    }
    drop(src);
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
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    // Held until the copy is written: the decoded picture, its upright copy, the shrink.
    let _lease = crate::budget::DECODES.take(u64::from(w) * u64::from(h));
    let mut img = DynamicImage::from_decoder(decoder)
        .map_err(|e| ImagingError::Undecodable { path: photo.to_owned(), reason: e.to_string() })?;
    img.apply_orientation(orientation);
    write_thumbnail(img, out, max_side)
}

/// Where a JPEG lies in a file (all of a .jpg, or a RAW's preview) and whether it has an
/// Adobe APP14 segment (Photoshop's convention: CMYK stored inverted).
#[derive(Debug, Clone, Copy)]
struct JpegPart {
    offset: u64,
    len: u64,
    adobe: bool,
}

/// Shrinks an upright picture to at most `max_side` on its longest side (never enlarged)
/// and writes it as the grid's JPEG at `out`: the last step of every photo thumbnail,
/// whichever decoder made the pixels (this crate's, or libheif's in the worker).
pub fn write_thumbnail(img: DynamicImage, out: &Path, max_side: u32) -> Result<Thumbnail, ImagingError> {
    let thumb =
        if img.width().max(img.height()) > max_side && max_side > 0 { img.thumbnail(max_side, max_side) } else { img };
    let rgb = thumb.to_rgb8();
    crate::write_image(&rgb, out, 88)?;
    Ok(Thumbnail { width: rgb.width(), height: rgb.height() })
}

/// Decodes a JPEG at the smallest DCT scale (1, 1/2, 1/4, 1/8) whose longest side still
/// reaches `max_side`, with its EXIF orientation. CMYK and YCCK scans come out as RGB
/// ([`cmyk_to_rgb`]). `Ok(None)` for JPEGs this path cannot read (damaged, or not JPEG
/// at all): the caller decodes those with the `image` crate, which says what is wrong.
fn scaled_jpeg(
    photo: &Path,
    part: JpegPart,
    max_side: u32,
    max_pixels: u64,
) -> Result<Option<(DynamicImage, Orientation, crate::budget::Lease<'static>)>, ImagingError> {
    use jpeg_decoder::PixelFormat;
    use std::io::{Read, Seek};
    let io = |source| ImagingError::Io { path: photo.to_owned(), source };
    let mut file = std::fs::File::open(photo).map_err(io)?;
    file.seek(std::io::SeekFrom::Start(part.offset)).map_err(io)?;
    let mut decoder = jpeg_decoder::Decoder::new(std::io::BufReader::new(file.take(part.len)));
    if decoder.read_info().is_err() {
        return Ok(None);
    }
    let Some(info) = decoder.info() else { return Ok(None) };
    let (w, h) = (u32::from(info.width), u32::from(info.height));
    if u64::from(w) * u64::from(h) > max_pixels {
        return Err(ImagingError::TooLarge { path: photo.to_owned(), width: w, height: h, limit: max_pixels });
    }
    if w == 0 || h == 0 {
        return Ok(None);
    }
    let longest = w.max(h);
    let mut decoded = u64::from(w) * u64::from(h);
    if max_side > 0 && longest > max_side {
        let want =
            |side: u32| ((u64::from(side) * u64::from(max_side)).div_ceil(u64::from(longest))).clamp(1, 65_535) as u16;
        match decoder.scale(want(w), want(h)) {
            Ok((sw, sh)) => decoded = u64::from(sw) * u64::from(sh),
            Err(_) => return Ok(None),
        }
    }
    // Held until the copy is written: the decoded picture, its upright copy, the shrink.
    let lease = crate::budget::DECODES.take(decoded);
    let Ok(pixels) = decoder.decode() else { return Ok(None) };
    let Some(info) = decoder.info() else { return Ok(None) };
    let (sw, sh) = (u32::from(info.width), u32::from(info.height));
    let short = || ImagingError::Undecodable {
        path: photo.to_owned(),
        reason: "decoded picture is shorter than its size".into(),
    };
    let img = match info.pixel_format {
        PixelFormat::RGB24 => DynamicImage::ImageRgb8(image::RgbImage::from_raw(sw, sh, pixels).ok_or_else(short)?),
        PixelFormat::L8 => DynamicImage::ImageLuma8(image::GrayImage::from_raw(sw, sh, pixels).ok_or_else(short)?),
        PixelFormat::L16 => {
            let wide: Vec<u16> = pixels.chunks_exact(2).map(|b| u16::from_be_bytes([b[0], b[1]])).collect();
            DynamicImage::ImageLuma16(image::ImageBuffer::from_raw(sw, sh, wide).ok_or_else(short)?)
        }
        PixelFormat::CMYK32 => {
            let rgb = cmyk_to_rgb(&pixels, part.adobe);
            DynamicImage::ImageRgb8(image::RgbImage::from_raw(sw, sh, rgb).ok_or_else(short)?)
        }
    };
    let orientation = decoder.exif_data().and_then(Orientation::from_exif_chunk).unwrap_or(Orientation::NoTransforms);
    Ok(Some((img, orientation, lease)))
}

/// RGB from `jpeg-decoder`'s 4-channel output, which is 255 minus each stored value (for
/// YCCK, after the YCC→RGB step). Adobe files store ink inverted (255 = no ink), so there
/// the stored values are the light let through: R = stored C × stored K / 255. Files
/// without the Adobe segment store ink as is: R = (255 − C)(255 − K) / 255.
fn cmyk_to_rgb(pixels: &[u8], adobe: bool) -> Vec<u8> {
    let mut rgb = Vec::with_capacity(pixels.len() / 4 * 3);
    for px in pixels.chunks_exact(4) {
        let light = |v: u8| if adobe { 255 - u16::from(v) } else { u16::from(v) };
        let k = light(px[3]);
        for &c in &px[..3] {
            rgb.push(((light(c) * k + 127) / 255) as u8);
        }
    }
    rgb
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jpegs_decode_at_the_smallest_dct_scale_that_still_covers_the_copy() {
        let dir = tempfile::tempdir().unwrap();
        let photo = dir.path().join("big.jpg");
        image::RgbImage::from_fn(4000, 3000, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 90]))
            .save(&photo)
            .unwrap();
        // 512 px: 1/8 would give 500 (too small), so 1/4: 1000×750, 1/16 of the pixels.
        let part = JpegPart { offset: 0, len: std::fs::metadata(&photo).unwrap().len(), adobe: false };
        let scaled = scaled_jpeg(&photo, part, 512, DEFAULT_MAX_PIXELS).unwrap();
        let (img, _, _) = scaled.expect("the scaled path takes RGB JPEGs");
        assert_eq!((img.width(), img.height()), (1000, 750));
        let (img, _, _) = scaled_jpeg(&photo, part, 256, DEFAULT_MAX_PIXELS).unwrap().unwrap();
        assert_eq!((img.width(), img.height()), (500, 375), "1/8 for a 256-px copy");
        let (img, _, _) = scaled_jpeg(&photo, part, 5000, DEFAULT_MAX_PIXELS).unwrap().unwrap();
        assert_eq!((img.width(), img.height()), (4000, 3000), "never enlarged, never shrunk below the copy");
        assert!(matches!(scaled_jpeg(&photo, part, 512, 1_000_000), Err(ImagingError::TooLarge { .. })));
    }
}

#[cfg(test)]
mod budget_tests {
    use super::*;

    /// Four threads (as the app's protocol pool) thumbnail big PNGs at once: each decode
    /// holds its pixels in the process's budget, so at most three 30-MP pictures are in
    /// memory together, never the four a 100-MP budget cannot hold.
    #[test]
    fn concurrent_big_decodes_stay_within_the_pixels_in_flight() {
        let dir = tempfile::tempdir().unwrap();
        let photo = dir.path().join("scan.png");
        image::RgbImage::from_pixel(6000, 5000, image::Rgb([200, 180, 90])).save(&photo).unwrap();
        std::thread::scope(|scope| {
            for k in 0..4 {
                let (photo, out) = (&photo, dir.path().join(format!("t{k}.jpg")));
                scope.spawn(move || thumbnail(photo, &out, 256, DEFAULT_MAX_PIXELS).unwrap());
            }
        });
        let peak = crate::budget::DECODES.peak();
        assert!(peak >= 30_000_000, "each decode holds its pixels ({peak})");
        assert!(peak <= crate::PIXELS_IN_FLIGHT, "{peak} pixels in flight");
    }
}
