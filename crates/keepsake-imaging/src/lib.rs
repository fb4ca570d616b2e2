//! Still images in and out, without FFmpeg: the part of rendering that the app's own
//! process does (photo and tile thumbnails for the grid, served on request), kept apart
//! from the engine so the app never loads FFmpeg's ~60 shared libraries. The engine
//! writes its frames through the same functions.
//!
//! Container parsing (TIFF IFDs, ISO BMFF boxes, JPEG markers) is in-house and bounded
//! (`container`), because it runs in the window's process on any file from any card.
//! See docs/photos.md for every format, where it is decoded and its limits.
//!
//! Public surface:
//! - [`thumbnail`]: an EXIF-upright, shrunk copy of a JPEG (also CMYK/YCCK, greyscale,
//!   progressive), PNG (8/16-bit), WebP, GIF, TIFF (8/16-bit, LZW/Deflate, first page),
//!   BMP or camera RAW (its embedded JPEG preview), decoded under a pixel limit
//!   ([`DEFAULT_MAX_PIXELS`]). HEIF/AVIF are refused with [`ImagingError::NeedsWorker`]:
//!   the libheif worker process decodes them, so libheif never runs in the app.
//! - [`check_photo_file`]: a regular, non-empty file, or a typed refusal (every decoder's
//!   first step, the worker's libheif included).
//! - [`sniff`] → [`PhotoFormat`]: a photo's format by content;
//!   [`PhotoFormat::needs_worker`] says which go to the worker.
//! - [`photo_info`] → [`PhotoInfo`]: upright display width and height from the header
//!   only, for every format above and HEIF/AVIF (parsed here, in pure Rust).
//! - [`exif_facts`] → [`ExifFacts`]: EXIF DateTimeOriginal text (with
//!   OffsetTimeOriginal's `±HH:MM` where present) and GPS [`Place`] of JPEG, RAW and
//!   HEIF/AVIF files in one read of the header (RAW and HEIF EXIF sits where general EXIF
//!   readers do not look, or would read the whole file for); [`exif_date`]: the date
//!   alone.
//! - [`Place`]: decimal degrees, and the one rule for which GPS tags make a place
//!   ([`Place::from_gps`]: zero denominators, bad hemispheres, out-of-range values and
//!   0°, 0° are none), also used by the library for the formats it reads itself.
//! - [`write_thumbnail`]: the last step of every photo thumbnail (shrink, write the
//!   grid's JPEG), also used by the worker for the pixels libheif decodes.
//! - [`write_image`]: RGB pixels to a JPEG (or PNG/WebP by extension), written under a
//!   temporary name first so no reader ever sees half a file.
//! - [`ImagingError`]: why, naming the file.
//! - [`PIXELS_IN_FLIGHT`]: how many decoded pixels all threads may hold at once.

mod budget;
mod container;
mod error;
mod heif;
mod info;
mod place;
mod raw;
mod thumbnail;
mod write;

pub use budget::PIXELS_IN_FLIGHT;
pub use error::ImagingError;
pub use info::{check_photo_file, exif_date, exif_facts, photo_info, sniff, ExifFacts, PhotoFormat, PhotoInfo};
pub use place::Place;
pub use thumbnail::{thumbnail, write_thumbnail, Thumbnail, DEFAULT_MAX_PIXELS};
pub use write::write_image;
