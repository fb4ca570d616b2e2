//! What a photo is and how big it looks, from its header: [`sniff`] (the format, by
//! content), [`photo_info`] (upright display size) and [`exif_facts`] (the date and GPS
//! place in JPEG, RAW and HEIF/AVIF EXIF).
//!
//! Why header-only: the index records every photo's size and date in a background pass
//! over the whole album; decoding pixels for that would cost seconds per RAW. Each format
//! is read as far as its size and orientation and no further (a JPEG to its frame
//! header, a RAW's IFDs, a HEIF's `meta` box).

use std::path::Path;

use crate::container::{self, FileSource, ReadAt, Tiff};
use crate::raw::{self, RawKind};
use crate::{ImagingError, Place};

/// A photo's format, by its content (the extension is only a hint for TIFF-based RAWs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhotoFormat {
    Jpeg,
    Png,
    Webp,
    Gif,
    Bmp,
    Tiff,
    /// A camera RAW (DNG, CR2, CR3, NEF, ARW, RAF, ORF, RW2...), shown by its embedded
    /// JPEG preview.
    Raw,
    /// HEIF/HEIC (HEVC-coded): pixels come from the worker, not this crate.
    Heif,
    /// AVIF (AV1-coded HEIF): pixels come from the worker, not this crate.
    Avif,
    /// Anything else.
    Unknown,
}

impl PhotoFormat {
    /// Whether this crate cannot decode the pixels and the libheif worker must.
    pub fn needs_worker(self) -> bool {
        matches!(self, PhotoFormat::Heif | PhotoFormat::Avif)
    }
}

/// A photo's size as shown: after EXIF orientation (or HEIF `irot`) has turned it upright.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhotoInfo {
    pub format: PhotoFormat,
    pub width: u32,
    pub height: u32,
}

/// RAW extensions whose files start like a TIFF.
const TIFF_RAW_EXT: &[&str] = &[
    "dng", "cr2", "nef", "nrw", "arw", "srf", "sr2", "pef", "srw", "orf", "rw2", "raw", "rwl", "3fr", "erf", "mef",
    "mos", "kdc", "dcr", "iiq",
];
const HEIF_BRANDS: &[&[u8; 4]] = &[b"heic", b"heix", b"hevc", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1"];
const AVIF_BRANDS: &[&[u8; 4]] = &[b"avif", b"avis"];

/// Whether `path` can be read as a photo at all: a regular file (a named pipe would
/// block the reader forever) that exists and is not empty, each refusal typed. Every
/// decoder checks this first, libheif's in the worker included.
pub fn check_photo_file(path: &Path) -> Result<(), ImagingError> {
    let meta = std::fs::metadata(path).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => ImagingError::NotFound { path: path.to_owned() },
        _ => ImagingError::Io { path: path.to_owned(), source },
    })?;
    if !meta.is_file() {
        return Err(ImagingError::NotImage { path: path.to_owned(), reason: "not a regular file".into() });
    }
    if meta.len() == 0 {
        return Err(ImagingError::Empty { path: path.to_owned() });
    }
    Ok(())
}

/// Opens a photo for header reads, after [`check_photo_file`].
pub(crate) fn open(path: &Path) -> Result<FileSource, ImagingError> {
    check_photo_file(path)?;
    let io = |source| ImagingError::Io { path: path.to_owned(), source };
    FileSource::new(std::fs::File::open(path).map_err(io)?).map_err(io)
}

/// The format and, for RAWs, the container kind.
pub(crate) fn detect(path: &Path, src: &mut dyn ReadAt) -> (PhotoFormat, Option<RawKind>) {
    let n = src.size().min(64) as usize;
    let Ok(head) = src.read_at(0, n) else { return (PhotoFormat::Unknown, None) };
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    if head.starts_with(b"FUJIFILMCCD-RAW") {
        return (PhotoFormat::Raw, Some(RawKind::Raf));
    }
    if let Some(brands) = container::brands(&head) {
        let major = &brands[0];
        if major == b"crx " {
            return (PhotoFormat::Raw, Some(RawKind::Cr3));
        }
        if AVIF_BRANDS.contains(&major) {
            return (PhotoFormat::Avif, None);
        }
        if HEIF_BRANDS.contains(&major) && major != b"mif1" && major != b"msf1" {
            return (PhotoFormat::Heif, None);
        }
        if brands.iter().any(|b| AVIF_BRANDS.contains(&b)) {
            return (PhotoFormat::Avif, None);
        }
        if brands.iter().any(|b| HEIF_BRANDS.contains(&b)) {
            return (PhotoFormat::Heif, None);
        }
        return (PhotoFormat::Unknown, None);
    }
    if head.len() >= 8 && (head.starts_with(b"II") || head.starts_with(b"MM")) {
        let Ok(tiff) = Tiff::at(src, 0) else { return (PhotoFormat::Unknown, None) };
        let standard = matches!(&head[2..4], [42, 0] | [0, 42]);
        let canon = head.len() >= 10 && &head[8..10] == b"CR";
        let mut dng = || tiff.ifd(src, tiff.ifd0).is_ok_and(|(entries, _)| entries.iter().any(|e| e.tag == 0xC612));
        if !standard || canon || TIFF_RAW_EXT.contains(&ext.as_str()) || dng() {
            return (PhotoFormat::Raw, Some(RawKind::Tiff));
        }
        return (PhotoFormat::Tiff, None);
    }
    let format = match image::guess_format(&head) {
        Ok(image::ImageFormat::Jpeg) => PhotoFormat::Jpeg,
        Ok(image::ImageFormat::Png) => PhotoFormat::Png,
        Ok(image::ImageFormat::WebP) => PhotoFormat::Webp,
        Ok(image::ImageFormat::Gif) => PhotoFormat::Gif,
        Ok(image::ImageFormat::Bmp) => PhotoFormat::Bmp,
        _ => PhotoFormat::Unknown,
    };
    (format, None)
}

/// A photo's format by its first bytes (and, for a TIFF-shaped file, its IFD0 or a RAW
/// extension). HEIF/AVIF ([`PhotoFormat::needs_worker`]) go to the worker.
pub fn sniff(path: &Path) -> Result<PhotoFormat, ImagingError> {
    let mut src = open(path)?;
    Ok(detect(path, &mut src).0)
}

/// A RAW's headers, with errors naming the file.
pub(crate) fn raw_scan(path: &Path, src: &mut dyn ReadAt, kind: RawKind) -> Result<raw::RawScan, ImagingError> {
    raw::scan(src, kind).map_err(|reason| ImagingError::Undecodable { path: path.to_owned(), reason })
}

/// Width and height as displayed (after orientation), read from the header only: raster
/// formats to their frame header, RAWs from the developed picture's IFD (else the
/// preview), HEIF/AVIF from the primary item's `ispe` and `irot`.
pub fn photo_info(path: &Path) -> Result<PhotoInfo, ImagingError> {
    let mut src = open(path)?;
    let (format, raw_kind) = detect(path, &mut src);
    let bad = |reason: String| ImagingError::Undecodable { path: path.to_owned(), reason };
    let not_image = |reason: String| ImagingError::NotImage { path: path.to_owned(), reason };
    let (width, height, turned) = match format {
        PhotoFormat::Unknown => return Err(not_image("unrecognised image format".into())),
        PhotoFormat::Heif | PhotoFormat::Avif => {
            let h = crate::heif::info(&mut src).map_err(bad)?;
            (h.width, h.height, h.quarter_turns % 2 == 1)
        }
        PhotoFormat::Raw => {
            let scan = raw_scan(path, &mut src, raw_kind.unwrap_or(RawKind::Tiff))?;
            let preview = scan.previews.first().map(|p| (p.head.width, p.head.height));
            let (w, h) = scan.raw_size.or(preview).ok_or_else(|| no_preview(path, &scan))?;
            (w, h, scan.orientation.is_some_and(|o| o >= 5))
        }
        PhotoFormat::Jpeg => {
            let len = src.size();
            let head = container::jpeg_head(&mut src, 0, len).map_err(bad)?;
            let orientation =
                head.exif.and_then(|(off, len)| src.read_at(off, len.min(1 << 20) as usize).ok()).and_then(|block| {
                    let mut bytes = container::Bytes(&block);
                    let tiff = Tiff::at(&mut bytes, 0).ok()?;
                    container::orientation(&mut bytes, &tiff).ok()?
                });
            (head.width, head.height, orientation.is_some_and(|o| o >= 5))
        }
        _ => {
            use image::ImageDecoder;
            let reader = image::ImageReader::open(path)
                .map_err(|source| ImagingError::Io { path: path.to_owned(), source })?
                .with_guessed_format()
                .map_err(|source| ImagingError::Io { path: path.to_owned(), source })?;
            let mut decoder = reader.into_decoder().map_err(|e| not_image(e.to_string()))?;
            let (w, h) = decoder.dimensions();
            let orientation = decoder.orientation().unwrap_or(NoTransforms);
            use image::metadata::Orientation::*;
            (w, h, matches!(orientation, Rotate90 | Rotate270 | Rotate90FlipH | Rotate270FlipH))
        }
    };
    if width == 0 || height == 0 {
        return Err(bad(format!("{width}x{height} pixels")));
    }
    let (width, height) = if turned { (height, width) } else { (width, height) };
    Ok(PhotoInfo { format, width, height })
}

/// The error for a RAW with nothing to show.
pub(crate) fn no_preview(path: &Path, scan: &raw::RawScan) -> ImagingError {
    let reason = if scan.refused.is_empty() { "none found".to_string() } else { scan.refused.join("; ") };
    ImagingError::NoPreview { path: path.to_owned(), reason }
}

/// What a photo's EXIF says about when and where it was taken, from one read of its
/// header ([`exif_facts`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExifFacts {
    /// EXIF DateTimeOriginal (else DateTime) as written (`YYYY:MM:DD HH:MM:SS`),
    /// followed by its UTC offset where the file has one (OffsetTimeOriginal, else
    /// OffsetTime: `2021:07:08 09:10:11+02:00`).
    pub date: Option<String>,
    /// The GPS IFD's coordinates, when present and believable (see [`Place`]).
    pub place: Option<Place>,
}

/// The date and place in a JPEG's, RAW's or HEIF/AVIF photo's EXIF, read in one pass
/// over its header: a JPEG's APP1 segment; a RAW's own IFDs (RAF: inside the preview
/// JPEG; CR3: the `CMT1`/`CMT2` boxes for the date, `CMT4` for GPS), where general EXIF
/// readers do not look or would read the whole 20-60 MB file; HEIF's `Exif` item.
/// Empty facts for other formats (PNG, WebP, TIFF: read their EXIF with an EXIF library
/// and [`Place::from_gps`]) and for files without either.
///
/// A damaged EXIF block (IFD0 unreadable, no TIFF header) is an error; a damaged GPS IFD
/// only costs the place, never the date.
pub fn exif_facts(path: &Path) -> Result<ExifFacts, ImagingError> {
    let mut src = open(path)?;
    let bad = |reason: String| ImagingError::Undecodable { path: path.to_owned(), reason };
    let block = match detect(path, &mut src) {
        (PhotoFormat::Raw, Some(kind)) => {
            let scan = raw_scan(path, &mut src, kind)?;
            return Ok(ExifFacts { date: scan.date, place: scan.place });
        }
        (PhotoFormat::Heif | PhotoFormat::Avif, _) => crate::heif::exif(&mut src).map_err(bad)?,
        (PhotoFormat::Jpeg, _) => {
            let len = src.size();
            match container::jpeg_head(&mut src, 0, len).map_err(bad)?.exif {
                // An APP1 segment is at most 64 KiB.
                Some((off, len)) => Some(src.read_at(off, len.min(1 << 16) as usize).map_err(bad)?),
                None => None,
            }
        }
        _ => None,
    };
    let Some(block) = block else { return Ok(ExifFacts::default()) };
    let mut bytes = container::Bytes(&block);
    let tiff = Tiff::at(&mut bytes, 0).map_err(bad)?;
    let date = container::exif_date(&mut bytes, &tiff).map_err(bad)?;
    Ok(ExifFacts { date, place: container::gps_place(&mut bytes, &tiff) })
}

/// [`exif_facts`]'s date alone.
pub fn exif_date(path: &Path) -> Result<Option<String>, ImagingError> {
    Ok(exif_facts(path)?.date)
}
