//! Why a video or photo could not be used. Every variant names the file, so one line
//! on stderr (`keepsake: <file>: <reason>`) or one row in the library explains it.

use std::path::PathBuf;

/// Everything that can go wrong turning a file into covers. Callers (the library's job
/// queue, the CLI) keep going with the next file; nothing here is fatal to the process.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The path does not exist (moved or deleted since it was indexed).
    #[error("{}: no such file", path.display())]
    NotFound { path: PathBuf },
    /// A zero-byte file: usually a copy still in progress or a failed download.
    #[error("{}: empty file (0 bytes)", path.display())]
    Empty { path: PathBuf },
    /// FFmpeg / the image decoder does not recognise the contents as media.
    #[error("{}: not a video or photo FFmpeg can read ({reason})", path.display())]
    NotMedia { path: PathBuf, reason: String },
    /// A media container with no video stream (e.g. audio only).
    #[error("{}: has no video stream (audio only?)", path.display())]
    NoVideoStream { path: PathBuf },
    /// The container opened but not one frame decoded.
    #[error("{}: no frame could be decoded ({reason})", path.display())]
    Undecodable { path: PathBuf, reason: String },
    /// A photo whose pixel count exceeds the engine's limit (decompression bomb guard).
    #[error("{}: image too large ({width}x{height} pixels, limit {limit} pixels)", path.display())]
    TooLarge { path: PathBuf, width: u32, height: u32, limit: u64 },
    /// Media the engine recognises but cannot show correctly (e.g. Dolby Vision profile 5,
    /// which has no standard picture layer): refused with the reason rather than shown wrong.
    #[error("{}: {reason}", path.display())]
    Unsupported { path: PathBuf, reason: String },
    /// Reading the input or writing an output failed.
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    /// An FFmpeg call failed in a way not covered above.
    #[error("{}: FFmpeg: {message}", path.display())]
    Ffmpeg { path: PathBuf, message: String },
    /// Encoding an output image or animation failed.
    #[error("{}: cannot write image: {message}", path.display())]
    Encode { path: PathBuf, message: String },
    /// The caller asked for something the engine cannot do (e.g. unknown preview format).
    #[error("{}: {message}", path.display())]
    InvalidRequest { path: PathBuf, message: String },
}

impl EngineError {
    /// The file the error is about, for callers that record failures per file.
    pub fn path(&self) -> &std::path::Path {
        match self {
            EngineError::NotFound { path }
            | EngineError::Empty { path }
            | EngineError::NotMedia { path, .. }
            | EngineError::NoVideoStream { path }
            | EngineError::Undecodable { path, .. }
            | EngineError::Unsupported { path, .. }
            | EngineError::TooLarge { path, .. }
            | EngineError::Io { path, .. }
            | EngineError::Ffmpeg { path, .. }
            | EngineError::Encode { path, .. }
            | EngineError::InvalidRequest { path, .. } => path,
        }
    }

    /// A short stable name of the kind of failure, for storing in the index and for UIs.
    pub fn kind(&self) -> &'static str {
        match self {
            EngineError::NotFound { .. } => "not_found",
            EngineError::Empty { .. } => "empty",
            EngineError::NotMedia { .. } => "not_media",
            EngineError::NoVideoStream { .. } => "no_video_stream",
            EngineError::Undecodable { .. } => "undecodable",
            EngineError::Unsupported { .. } => "unsupported",
            EngineError::TooLarge { .. } => "too_large",
            EngineError::Io { .. } => "io",
            EngineError::Ffmpeg { .. } => "ffmpeg",
            EngineError::Encode { .. } => "encode",
            EngineError::InvalidRequest { .. } => "invalid_request",
        }
    }

    /// The reason without the path prefix, for the CLI's `keepsake: <file>: <reason>`.
    pub fn reason(&self) -> String {
        let full = self.to_string();
        let prefix = format!("{}: ", self.path().display());
        full.strip_prefix(&prefix).map(str::to_owned).unwrap_or(full)
    }
}

/// A photo or image file refused or not written by `keepsake-imaging`: the same kinds,
/// named the engine's way.
impl From<keepsake_imaging::ImagingError> for EngineError {
    fn from(e: keepsake_imaging::ImagingError) -> Self {
        use keepsake_imaging::ImagingError as I;
        match e {
            I::NotFound { path } => EngineError::NotFound { path },
            I::Empty { path } => EngineError::Empty { path },
            I::NotImage { path, reason } => EngineError::NotMedia { path, reason },
            I::Undecodable { path, reason } | I::NoPreview { path, reason } => {
                EngineError::Undecodable { path, reason }
            }
            I::NeedsWorker { path } => {
                EngineError::NotMedia { path, reason: "a HEIF/AVIF photo, which the engine does not read".into() }
            }
            I::TooLarge { path, width, height, limit } => EngineError::TooLarge { path, width, height, limit },
            I::Io { path, source } => EngineError::Io { path, source },
            I::Encode { path, message } => EngineError::Encode { path, message },
        }
    }
}
