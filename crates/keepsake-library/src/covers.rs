//! [`Covers`]: the cover a video shows when the user chose one (another pick, a moment,
//! an image of their own), kept apart from the engine's picks so it survives
//! re-analysis; and custom cover images: accepted only as PNG, JPEG or WebP recognised
//! by their bytes (never the name), with a pixel limit against decompression bombs,
//! re-encoded and downscaled into the data directory. The uploaded file is never
//! referenced again.

use std::io::{BufReader, Read, Seek};
use std::path::{Path, PathBuf};

use std::sync::Arc;

use image::{ImageFormat, ImageReader, Limits};
use rusqlite::{params, OptionalExtension};

use crate::core::Core;
use crate::error::{LibraryError, Result};
use crate::model::{Cover, CoverChoice, MediaId, MediaKind};
use crate::util::now_ms;

/// Users' cover choices: from [`crate::Library::covers`]; cheap to clone.
#[derive(Clone)]
pub struct Covers {
    core: Arc<Core>,
}

impl Covers {
    pub(crate) fn new(core: Arc<Core>) -> Covers {
        Covers { core }
    }

    /// Chooses the cover of a video: another pick, a moment (rendered now by a
    /// worker), or a custom image (validated and re-encoded; the original is never
    /// referenced again). Survives re-analysis.
    pub fn set_cover(&self, id: MediaId, choice: CoverChoice) -> Result<Cover> {
        let detail = self.core.detail(id)?;
        crate::index::ensure_fingerprint(&self.core, id, &detail.item.path);
        let (kind, rank, time, image): (&str, Option<u32>, Option<f64>, Option<String>) = match &choice {
            CoverChoice::Pick(rank) => {
                if !detail.frames.iter().any(|f| f.rank == *rank) {
                    let have: Vec<String> = detail.frames.iter().map(|f| f.rank.to_string()).collect();
                    return Err(LibraryError::InvalidCover(if have.is_empty() {
                        format!(
                            "{} has no picks yet (not analysed); run `keepsake analyze` first",
                            detail.item.path.display()
                        )
                    } else {
                        format!("{} has no pick {rank}; it has picks {}", detail.item.path.display(), have.join(", "))
                    }));
                }
                ("pick", Some(*rank), None, None)
            }
            CoverChoice::Time(t) => {
                if detail.item.kind != MediaKind::Video {
                    return Err(LibraryError::InvalidCover(format!(
                        "{} is a photo; only videos have moments",
                        detail.item.path.display()
                    )));
                }
                if !t.is_finite() || *t < 0.0 || detail.item.duration.is_some_and(|d| *t > d) {
                    return Err(LibraryError::InvalidCover(format!(
                        "{t} s is outside {} (duration {:.2} s)",
                        detail.item.path.display(),
                        detail.item.duration.unwrap_or(f64::NAN)
                    )));
                }
                let rel = format!("covers/{id}-time-{}.jpg", now_ms());
                let dest = self.core.data_dir.join(&rel);
                crate::render::cover_moment(&self.core.helper, &detail.item.path, *t, &dest)?;
                ("time", None, Some(*t), Some(rel))
            }
            CoverChoice::Image(src) => {
                let rel = format!("covers/{id}-image-{}.jpg", now_ms());
                import_cover_image(src, &self.core.data_dir.join(&rel))?;
                ("image", None, None, Some(rel))
            }
        };
        let old = self.override_image(id)?;
        {
            let conn = self.core.conn();
            conn.execute(
                "INSERT OR REPLACE INTO cover_overrides (media_id, kind, pick_rank, time, image, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![id, kind, rank, time, image, now_ms()],
            )?;
            conn.execute("UPDATE media SET cover_version = cover_version + 1 WHERE id = ?1", [id])?;
        }
        if let Some(old) = old {
            let _ = std::fs::remove_file(self.core.data_dir.join(old));
        }
        Ok(self.core.detail(id)?.cover)
    }

    /// Back to the engine's choice; removes a stored custom/moment image.
    pub fn reset_cover(&self, id: MediaId) -> Result<Cover> {
        self.core.detail(id)?;
        let old = self.override_image(id)?;
        {
            let conn = self.core.conn();
            conn.execute("DELETE FROM cover_overrides WHERE media_id = ?1", [id])?;
            conn.execute("UPDATE media SET cover_version = cover_version + 1 WHERE id = ?1", [id])?;
        }
        if let Some(old) = old {
            let _ = std::fs::remove_file(self.core.data_dir.join(old));
        }
        Ok(self.core.detail(id)?.cover)
    }

    fn override_image(&self, id: MediaId) -> Result<Option<String>> {
        Ok(self
            .core
            .conn()
            .query_row("SELECT image FROM cover_overrides WHERE media_id = ?1", [id], |r| r.get::<_, Option<String>>(0))
            .optional()?
            .flatten())
    }
}

/// Largest picture we decode: 50 megapixels (a 20000×20000 "PNG" of a few kB would
/// need 1.6 GB of memory).
pub const MAX_PIXELS: u64 = 50_000_000;
/// Covers are stored at most this big.
pub const MAX_COVER: (u32, u32) = (1920, 1080);

/// Validates `src`, downscales it to fit [`MAX_COVER`] and writes it as JPEG at `dest`
/// (atomically: a temp file renamed into place). On any error nothing is written. Only
/// a regular file is opened (a named pipe would block the request forever).
pub fn import_cover_image(src: &Path, dest: &Path) -> Result<(u32, u32)> {
    let name = src.display();
    let file = crate::util::open_regular(src, true).map_err(|e| LibraryError::io(src, e))?;
    let mut reader = BufReader::new(file);
    let mut head = [0u8; 64];
    let n = read_up_to(&mut reader, &mut head).map_err(|e| LibraryError::io(src, e))?;
    reader.rewind().map_err(|e| LibraryError::io(src, e))?;
    let format = match image::guess_format(&head[..n]) {
        Ok(f @ (ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::WebP)) => f,
        Ok(other) => {
            return Err(LibraryError::InvalidCover(format!(
                "{name} is a {other:?} image; covers must be PNG, JPEG or WebP"
            )))
        }
        Err(_) => {
            let looks = describe_non_image(&head[..n]);
            return Err(LibraryError::InvalidCover(format!(
                "{name} is not a PNG, JPEG or WebP image ({looks}); covers must be one of those"
            )));
        }
    };
    if format == ImageFormat::Jpeg {
        check_jpeg_complete(src)?;
    }
    let mut img_reader = ImageReader::with_format(reader, format);
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_PIXELS * 4 + 64 * 1024 * 1024);
    img_reader.limits(limits);
    let (w, h) = img_reader
        .into_dimensions()
        .map_err(|e| LibraryError::InvalidCover(format!("{name} is not a readable {format:?} image: {e}")))?;
    if w as u64 * h as u64 > MAX_PIXELS {
        return Err(LibraryError::InvalidCover(format!(
            "{name} is {w}×{h} ({} megapixels), more than the {} megapixel limit for covers",
            w as u64 * h as u64 / 1_000_000,
            MAX_PIXELS / 1_000_000
        )));
    }
    if w == 0 || h == 0 {
        return Err(LibraryError::InvalidCover(format!("{name} has no pixels")));
    }
    let file = crate::util::open_regular(src, true).map_err(|e| LibraryError::io(src, e))?;
    let mut img_reader = ImageReader::with_format(BufReader::new(file), format);
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_PIXELS * 4 + 64 * 1024 * 1024);
    img_reader.limits(limits);
    let img = img_reader
        .decode()
        .map_err(|e| LibraryError::InvalidCover(format!("{name} could not be decoded as {format:?}: {e}")))?;
    let img = if img.width() > MAX_COVER.0 || img.height() > MAX_COVER.1 {
        img.resize(MAX_COVER.0, MAX_COVER.1, image::imageops::FilterType::Triangle)
    } else {
        img
    };
    let rgb = img.to_rgb8();
    let dir = dest.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| LibraryError::io(dir, e))?;
    let tmp = tmp_path(dest);
    let result = (|| {
        let out = std::fs::File::create(&tmp).map_err(|e| LibraryError::io(&tmp, e))?;
        let mut out = std::io::BufWriter::new(out);
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
            .encode_image(&rgb)
            .map_err(|e| LibraryError::InvalidCover(format!("could not encode the cover: {e}")))?;
        std::io::Write::flush(&mut out).map_err(|e| LibraryError::io(&tmp, e))?;
        drop(out);
        std::fs::rename(&tmp, dest).map_err(|e| LibraryError::io(dest, e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map(|_| (rgb.width(), rgb.height()))
}

fn tmp_path(dest: &Path) -> PathBuf {
    let mut name = dest.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".part");
    dest.with_file_name(name)
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        let n = r.read(&mut buf[filled..])?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    Ok(filled)
}

/// A hint for the error message: what the bytes look like instead.
fn describe_non_image(head: &[u8]) -> &'static str {
    let text = String::from_utf8_lossy(head).to_ascii_lowercase();
    if head.is_empty() {
        "the file is empty"
    } else if text.contains("<svg") || text.contains("<?xml") {
        "it is SVG/XML, a vector format"
    } else if head.iter().all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace()) {
        "it is a text file"
    } else {
        "unrecognised content"
    }
}

/// JPEG decoders fill a cut-off file with grey and report success; a cover must be
/// whole, so require the end-of-image marker near the end.
fn check_jpeg_complete(src: &Path) -> Result<()> {
    let mut f = crate::util::open_regular(src, true).map_err(|e| LibraryError::io(src, e))?;
    let len = f.metadata().map_err(|e| LibraryError::io(src, e))?.len();
    let tail_len = len.min(4096);
    f.seek(std::io::SeekFrom::Start(len - tail_len)).map_err(|e| LibraryError::io(src, e))?;
    let mut tail = Vec::with_capacity(tail_len as usize);
    f.read_to_end(&mut tail).map_err(|e| LibraryError::io(src, e))?;
    if tail.windows(2).any(|w| w == [0xFF, 0xD9]) {
        Ok(())
    } else {
        Err(LibraryError::InvalidCover(format!(
            "{} is a truncated JPEG (no end-of-image marker); the file is incomplete",
            src.display()
        )))
    }
}
