//! Still images in and out, without FFmpeg: the part of rendering that the app's own
//! process does (photo and tile thumbnails for the grid, served on request), kept apart
//! from the engine so the app never loads FFmpeg's ~60 shared libraries. The engine
//! writes its frames through the same functions.
//!
//! Public surface:
//! - [`thumbnail`]: an EXIF-upright, shrunk copy of a JPEG/PNG/WebP/GIF, decoded under
//!   a pixel limit ([`DEFAULT_MAX_PIXELS`]).
//! - [`write_image`]: RGB pixels to a JPEG (or PNG/WebP by extension), written under a
//!   temporary name first so no reader ever sees half a file.
//! - [`ImagingError`]: why, naming the file.
//! - [`PIXELS_IN_FLIGHT`]: how many decoded pixels all threads may hold at once.

mod budget;
mod error;
mod thumbnail;
mod write;

pub use budget::PIXELS_IN_FLIGHT;
pub use error::ImagingError;
pub use thumbnail::{thumbnail, Thumbnail, DEFAULT_MAX_PIXELS};
pub use write::write_image;
