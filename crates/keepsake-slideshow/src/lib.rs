//! Keepsake's slideshow side: encoding a sequence of album images into a shareable
//! MP4 (H.264) or animated WebP, and generating the first-launch demo album. Free of
//! SQLite and Tauri; the app hands it image files and a destination.
//!
//! Public surface:
//! - [`VideoWriter`]: RGB frames in, an H.264 MP4 or animated WebP out (FFmpeg).
//! - [`export_slideshow`] + [`SlideshowOptions`]: images → a cross-faded slideshow file.
//! - [`demo::generate`]: a small album of synthetic videos and photos, for a first launch.

pub mod demo;
mod error;
mod paint;
mod slideshow;
mod writer;

pub use error::SlideshowError;
pub use slideshow::{export_slideshow, ExportReport, SlideshowOptions};
pub use writer::{OutputFormat, VideoWriter};
