//! Images the library renders. Photo and tile thumbnails are made in this process (still
//! images only, through `keepsake-imaging`, which is Rust: the grid asks for them by the
//! hundred); HEIC/HEIF and AVIF photos need libheif and its codecs, which are C, and
//! moments of videos need FFmpeg, so a helper worker renders those ([`crate::helper`]):
//! a decoder that crashes on a hostile file fails that one photo, not the window.
//!
//! Below [`crate::library`]: these functions are given the helper worker they need, and
//! what becomes of a result (a photo marked failed, a preview kept) is the library's.

use std::path::Path;
use std::time::Duration;

use crate::error::{LibraryError, Result};
use crate::helper::HelperWorker;
use crate::model::MediaId;
use crate::protocol::WorkerRequest;
use crate::worker_process::WorkerFailure;

/// Longest side of covers rendered from a moment.
const COVER_SIDE: u32 = 1920;
/// Longest side of photo thumbnails for the grid.
const THUMB_SIDE: u32 = 512;
/// Longest side of a photo's copy for the full-window viewer: a 2560x1600 screen shows
/// it at fit without upscaling, and a 12-MP JPEG becomes ~5 MP (about 1 MB).
const VIEW_SIDE: u32 = 2560;
/// Longest side of a timeline scrubber preview.
pub(crate) const PREVIEW_SIDE: u32 = 960;
/// Longest a worker may take to render one moment (a seek and one decoded frame).
const MOMENT_TIMEOUT: Duration = Duration::from_secs(60);
/// Longest a worker may take to thumbnail one HEIF photo (a 48-MP HEIC: about 2 s).
const PHOTO_TIMEOUT: Duration = Duration::from_secs(60);

/// Which upright copy of a photo to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PhotoCopy {
    /// The grid's thumbnail ([`THUMB_SIDE`]).
    Grid,
    /// The viewer's screen-size copy ([`VIEW_SIDE`]).
    Screen,
}

impl PhotoCopy {
    fn side(self) -> u32 {
        match self {
            PhotoCopy::Grid => THUMB_SIDE,
            PhotoCopy::Screen => VIEW_SIDE,
        }
    }

    /// What the copy's file name carries after `<id>-<size>`.
    pub(crate) fn suffix(self) -> &'static str {
        match self {
            PhotoCopy::Grid => "",
            PhotoCopy::Screen => "-view",
        }
    }
}

/// Whether `photo` is a HEIF image (HEIC, AVIF, …), which only a worker decodes. By
/// content, not by name: phones and converters write HEIC into `.jpg` files and JPEG
/// into `.heic` ones. An unreadable file is not (the in-process path says why).
pub fn photo_needs_worker(photo: &Path) -> bool {
    keepsake_imaging::sniff(photo).is_ok_and(|format| format.needs_worker())
}

/// Whether a thumbnail failed because of the photo's contents (as opposed to a missing
/// file or a full disk, which a later try may not meet).
fn the_files_fault(e: &keepsake_imaging::ImagingError) -> bool {
    use keepsake_imaging::ImagingError as E;
    matches!(e, E::NotImage { .. } | E::Undecodable { .. } | E::TooLarge { .. } | E::Empty { .. } | E::NoPreview { .. })
}

/// Renders an upright thumbnail of a photo into `dest`. The photo must be a regular
/// file where the album says (not a link, not a named pipe, whose opening would block
/// an image thread forever): checked right before `keepsake-imaging` opens it, which
/// then reads at most that file.
pub(crate) fn photo_thumbnail(photo: &Path, dest: &Path) -> Result<()> {
    upright_copy(photo, dest, THUMB_SIDE)
}

/// [`photo_thumbnail`] no longer than `side`.
fn upright_copy(photo: &Path, dest: &Path, side: u32) -> Result<()> {
    crate::util::open_regular(photo, false).map_err(|e| LibraryError::io(photo, e))?;
    thumbnail(photo, dest, side)
}

/// Renders an upright copy of an image no longer than `side` into `dest`.
pub(crate) fn thumbnail(image: &Path, dest: &Path, side: u32) -> Result<()> {
    keepsake_imaging::thumbnail(image, dest, side, keepsake_imaging::DEFAULT_MAX_PIXELS)?;
    Ok(())
}

/// An upright copy of photo `id` at `dest` (the grid's thumbnail or the viewer's
/// screen-size copy): HEIF in a worker, the rest here. A photo that cannot be read for
/// a reason of its own (damaged, truncated, too large, not what its name says, a RAW
/// without a preview) is [`LibraryError::Unreadable`] with that reason (the library
/// then marks it failed).
///
/// The viewer's copy ([`PhotoCopy::Screen`]) is made the same way, so HEIC and RAW
/// open full-window too.
pub(crate) fn photo_copy(helper: &HelperWorker, id: MediaId, photo: &Path, dest: &Path, copy: PhotoCopy) -> Result<()> {
    if photo_needs_worker(photo) {
        let req =
            WorkerRequest::PhotoThumbnail { photo: photo.to_owned(), out: dest.to_owned(), max_side: copy.side() };
        helper.request_refusable(&req, PHOTO_TIMEOUT).and_then(|answer| match answer {
            Ok(_) if dest.is_file() => Ok(()),
            Ok(_) => Err(not_written(dest)),
            Err(failure) => Err(LibraryError::Unreadable { id, reason: failure.to_string() }),
        })
    } else {
        upright_copy(photo, dest, copy.side()).map_err(|e| match e {
            LibraryError::Image(e) if the_files_fault(&e) => LibraryError::Unreadable { id, reason: e.to_string() },
            other => other,
        })
    }
}

/// Renders the frame at `t` seconds of `video` into `dest` as a cover (JPEG, upright).
pub(crate) fn cover_moment(helper: &HelperWorker, video: &Path, t: f64, dest: &Path) -> Result<()> {
    moment(helper, video, t, dest, COVER_SIDE)
}

/// Renders the frame at `time` seconds of `video` into `out`, at most `max_side` pixels
/// (covers: [`cover_moment`]; the timeline scrubber: [`PREVIEW_SIDE`]).
pub(crate) fn moment(helper: &HelperWorker, video: &Path, time: f64, out: &Path, max_side: u32) -> Result<()> {
    let req = WorkerRequest::RenderMoment { video: video.to_owned(), time, out: out.to_owned(), max_side };
    helper.request(&req, MOMENT_TIMEOUT)?;
    if !out.is_file() {
        return Err(not_written(out));
    }
    Ok(())
}

/// A worker that said it wrote `path`, which is not there: it broke the protocol.
fn not_written(path: &Path) -> LibraryError {
    LibraryError::Worker(WorkerFailure::Protocol(format!(
        "the worker reported {} written, but it is not there",
        path.display()
    )))
}
