//! What the library works out about one picture itself, without a worker: its
//! difference hash ([`dhash`]), and a video's score and faces from its best pick. Below
//! both the library (which stores them with an analysis) and the scoring pass (which
//! fills them in the background), so neither has to use the other.

use std::path::Path;

use image::imageops::FilterType;

use crate::error::{LibraryError, Result};
use crate::model::Frame;

/// Largest image [`dhash`] decodes, in bytes of decoded pixels: a pick of an 8K video is
/// 100 MB as RGB; a worker's reply naming something larger is refused.
const DHASH_MAX_ALLOC: u64 = 256 << 20;

/// The 64-bit difference hash of an image file (a grid copy or a pick): the picture
/// shrunk to 9×8 grey; bit `8·row + column` is set where a pixel is brighter than its
/// right-hand neighbour. Stored as `i64` (the same bits).
pub fn dhash(path: &Path) -> Result<i64> {
    let fail = |reason: String| LibraryError::NoImage(format!("difference hash of {}: {reason}", path.display()));
    let mut reader = image::ImageReader::open(path)
        .map_err(|e| LibraryError::io(path, e))?
        .with_guessed_format()
        .map_err(|e| LibraryError::io(path, e))?;
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(DHASH_MAX_ALLOC);
    reader.limits(limits);
    let img = reader.decode().map_err(|e| fail(e.to_string()))?;
    Ok(dhash_of(&img.to_luma8()))
}

/// [`dhash`] of pixels already decoded.
pub fn dhash_of(grey: &image::GrayImage) -> i64 {
    if grey.width() == 0 || grey.height() == 0 {
        return 0;
    }
    // Triangle resampling widens with the scale, so each of the 72 cells is an average
    // of its area, not one sampled pixel.
    let small = image::imageops::resize(grey, 9, 8, FilterType::Triangle);
    let mut bits = 0u64;
    for y in 0..8 {
        for x in 0..8 {
            if small.get_pixel(x, y).0[0] > small.get_pixel(x + 1, y).0[0] {
                bits |= 1 << (8 * y + x);
            }
        }
    }
    bits as i64
}

/// How many of the 64 bits two difference hashes differ in: at most a handful for the
/// same shot taken twice, around 32 for unrelated pictures.
pub fn dhash_distance(a: i64, b: i64) -> u32 {
    (a ^ b).count_ones()
}

/// A video's score and faces from its best pick: the pick's score (the engine's rank
/// score, 0..1) and the faces the engine saw in that frame (`reasons.faces`; `None`
/// when the reasons do not say, as in results from before faces were reported).
pub(crate) fn best_pick_scores(frames: &[Frame]) -> Option<(f64, Option<u32>, &Path)> {
    let best = frames.iter().min_by_key(|f| f.rank)?;
    Some((best.score, best.reasons.faces, &best.path))
}
