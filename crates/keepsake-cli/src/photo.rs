//! Photo thumbnails in this process, whatever the format: HEIC/HEIF and AVIF through
//! libheif (`keepsake-heif`), everything else through `keepsake-imaging`. The worker
//! answers the window's requests for HEIF thumbnails with this, and `keepsake
//! thumbnail` uses it, so both read a photo the same way.

use std::path::Path;

use keepsake_imaging::{ImagingError, Thumbnail, DEFAULT_MAX_PIXELS};

/// An upright copy of `photo`, at most `max_side` on its longest side, at `out`.
pub fn thumbnail(photo: &Path, out: &Path, max_side: u32) -> Result<Thumbnail, ImagingError> {
    if keepsake_library::photo_needs_worker(photo) {
        keepsake_heif::thumbnail(photo, out, max_side, DEFAULT_MAX_PIXELS)
    } else {
        keepsake_imaging::thumbnail(photo, out, max_side, DEFAULT_MAX_PIXELS)
    }
}
