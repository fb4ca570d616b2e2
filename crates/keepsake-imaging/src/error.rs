//! Why an image could not be read or written; every variant names the file.

use std::path::PathBuf;

/// One variant per kind of unusable input or failed output.
#[derive(Debug, thiserror::Error)]
pub enum ImagingError {
    /// The path does not exist (moved or deleted since it was indexed).
    #[error("{}: no such file", path.display())]
    NotFound { path: PathBuf },
    /// A zero-byte file: usually a copy still in progress or a failed download.
    #[error("{}: empty file (0 bytes)", path.display())]
    Empty { path: PathBuf },
    /// The contents are not an image format this build reads.
    #[error("{}: not a photo this app can read ({reason})", path.display())]
    NotImage { path: PathBuf, reason: String },
    /// The header was read but the pixels were not (truncated or corrupt).
    #[error("{}: the image could not be decoded ({reason})", path.display())]
    Undecodable { path: PathBuf, reason: String },
    /// More pixels than the limit (decompression-bomb guard).
    #[error("{}: image too large ({width}x{height} pixels, limit {limit} pixels)", path.display())]
    TooLarge { path: PathBuf, width: u32, height: u32, limit: u64 },
    /// Reading the input or writing the output failed.
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    /// A camera RAW without a JPEG preview this crate can show (its sensor data is not
    /// developed here).
    #[error("{}: RAW photo has no embedded preview ({reason})", path.display())]
    NoPreview { path: PathBuf, reason: String },
    /// HEIF/HEIC/AVIF: the pixels are decoded by the libheif worker process, not in this
    /// process ([`crate::PhotoFormat::needs_worker`]).
    #[error("{}: HEIF/AVIF photos are decoded by the worker, not in this process", path.display())]
    NeedsWorker { path: PathBuf },
    /// Encoding the output failed.
    #[error("{}: cannot write image: {message}", path.display())]
    Encode { path: PathBuf, message: String },
}
