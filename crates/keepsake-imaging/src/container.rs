//! Bounded readers for the containers photos come in: TIFF IFDs (TIFF, DNG and the
//! TIFF-based RAWs, EXIF blocks), ISO BMFF boxes (HEIF/AVIF, CR3) and JPEG marker
//! segments.
//!
//! Why by hand, and why so careful: these parsers run inside the app's process on files
//! from anywhere (a camera card, a download, a damaged disk), and a RAW can be 60 MB
//! when all we want is its header or the preview inside it. Every read names its offset
//! and length, is checked against the file's size and a cap, and every walk has a limit
//! (entries per IFD, IFDs per file, boxes per level, nesting depth); a file that breaks
//! one gets an error with a reason, never a panic, a huge allocation or an endless loop.

use std::io::{Read, Seek, SeekFrom};

/// The most bytes one read may ask for (a preview or an EXIF block, never pixels).
pub(crate) const MAX_READ: usize = 16 << 20;

/// Random access to bytes with a known length: a file, or a block already in memory.
pub(crate) trait ReadAt {
    fn size(&self) -> u64;
    fn read_at_raw(&mut self, off: u64, buf: &mut [u8]) -> Result<(), String>;

    /// `len` bytes at `off`; an error when they are not all inside the source.
    fn read_at(&mut self, off: u64, len: usize) -> Result<Vec<u8>, String> {
        if len > MAX_READ {
            return Err(format!("a {len}-byte read at offset {off} is over the {MAX_READ}-byte limit"));
        }
        let end = off.checked_add(len as u64).ok_or_else(|| format!("offset {off} overflows"))?;
        if end > self.size() {
            return Err(format!("{len} bytes at offset {off} run past the end ({} bytes)", self.size()));
        }
        let mut buf = vec![0u8; len];
        self.read_at_raw(off, &mut buf)?;
        Ok(buf)
    }
}

/// A file read in pieces.
pub(crate) struct FileSource {
    file: std::fs::File,
    len: u64,
}

impl FileSource {
    pub(crate) fn new(file: std::fs::File) -> std::io::Result<FileSource> {
        let len = file.metadata()?.len();
        Ok(FileSource { file, len })
    }
}

impl ReadAt for FileSource {
    fn size(&self) -> u64 {
        self.len
    }
    fn read_at_raw(&mut self, off: u64, buf: &mut [u8]) -> Result<(), String> {
        self.file.seek(SeekFrom::Start(off)).map_err(|e| e.to_string())?;
        self.file.read_exact(buf).map_err(|e| e.to_string())
    }
}

/// A block already in memory (an EXIF item, a CR3 metadata box).
pub(crate) struct Bytes<'a>(pub(crate) &'a [u8]);

impl ReadAt for Bytes<'_> {
    fn size(&self) -> u64 {
        self.0.len() as u64
    }
    fn read_at_raw(&mut self, off: u64, buf: &mut [u8]) -> Result<(), String> {
        let start = usize::try_from(off).map_err(|_| "offset too large".to_string())?;
        let src = start.checked_add(buf.len()).and_then(|end| self.0.get(start..end)).ok_or("read past the end")?;
        buf.copy_from_slice(src);
        Ok(())
    }
}

// ---- TIFF ------------------------------------------------------------------------

/// Entries one IFD may have (real files: a few dozen; DNGs ~100).
const MAX_ENTRIES: u16 = 1000;
/// Values one array tag may hold (strip offsets of an uncompressed raw: thousands).
const MAX_VALUES: u32 = 1 << 16;

/// One IFD entry, its value not yet read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry {
    pub(crate) tag: u16,
    pub(crate) typ: u16,
    pub(crate) count: u32,
    /// The value itself when it fits in 4 bytes, else its offset.
    pub(crate) field: [u8; 4],
}

/// A TIFF structure: byte order and where offsets count from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tiff {
    pub(crate) le: bool,
    /// Absolute position of the byte-order mark (offsets are relative to it).
    pub(crate) base: u64,
    /// Absolute position of IFD0.
    pub(crate) ifd0: u64,
}

impl Tiff {
    /// Reads a TIFF header at `base`. Accepts the standard magic (42) and the RAW
    /// variants: Olympus ORF (`IIRO`, `MMOR`, `IIRS`) and Panasonic RW2 (`IIU\0`).
    pub(crate) fn at(src: &mut dyn ReadAt, base: u64) -> Result<Tiff, String> {
        let h = src.read_at(base, 8)?;
        let le = match &h[0..2] {
            b"II" => true,
            b"MM" => false,
            _ => return Err("not a TIFF structure (no II/MM byte order)".into()),
        };
        let t = Tiff { le, base, ifd0: 0 };
        let magic = t.u16(&h[2..4]);
        if !matches!(magic, 42 | 0x4F52 | 0x5352 | 0x0055) {
            return Err(format!("not a TIFF structure (magic {magic:#06x})"));
        }
        let ifd0 = base + u64::from(t.u32(&h[4..8]));
        Ok(Tiff { ifd0, ..t })
    }

    pub(crate) fn u16(&self, b: &[u8]) -> u16 {
        let b = [b[0], b[1]];
        if self.le {
            u16::from_le_bytes(b)
        } else {
            u16::from_be_bytes(b)
        }
    }

    pub(crate) fn u32(&self, b: &[u8]) -> u32 {
        let b = [b[0], b[1], b[2], b[3]];
        if self.le {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        }
    }

    /// The entries of the IFD at absolute position `at`, and the absolute position of
    /// the next IFD in its chain (None at the end).
    pub(crate) fn ifd(&self, src: &mut dyn ReadAt, at: u64) -> Result<(Vec<Entry>, Option<u64>), String> {
        let n = self.u16(&src.read_at(at, 2)?);
        if n > MAX_ENTRIES {
            return Err(format!("IFD at offset {at} claims {n} entries"));
        }
        let body = src.read_at(at + 2, usize::from(n) * 12 + 4)?;
        let entries = body
            .chunks_exact(12)
            .map(|e| Entry {
                tag: self.u16(&e[0..2]),
                typ: self.u16(&e[2..4]),
                count: self.u32(&e[4..8]),
                field: [e[8], e[9], e[10], e[11]],
            })
            .collect();
        let next = self.u32(&body[usize::from(n) * 12..]);
        Ok((entries, (next != 0).then(|| self.base + u64::from(next))))
    }

    /// Where an entry's value lies (absolute offset), or None when it is inline.
    fn value_offset(&self, e: &Entry, bytes: u64) -> Option<u64> {
        (bytes > 4).then(|| self.base + u64::from(self.u32(&e.field)))
    }

    /// An unsigned integer array (BYTE, SHORT, LONG or IFD).
    pub(crate) fn uints(&self, src: &mut dyn ReadAt, e: &Entry) -> Result<Vec<u32>, String> {
        let width: u64 = match e.typ {
            1 | 7 => 1,
            3 => 2,
            4 | 13 => 4,
            t => return Err(format!("tag {:#06x} has type {t}, not an integer", e.tag)),
        };
        if e.count > MAX_VALUES {
            return Err(format!("tag {:#06x} claims {} values", e.tag, e.count));
        }
        let bytes = width * u64::from(e.count);
        let data = match self.value_offset(e, bytes) {
            Some(off) => src.read_at(off, bytes as usize)?,
            None => e.field[..bytes as usize].to_vec(),
        };
        Ok(data
            .chunks_exact(width as usize)
            .map(|c| match width {
                1 => u32::from(c[0]),
                2 => u32::from(self.u16(c)),
                _ => self.u32(c),
            })
            .collect())
    }

    /// The first value of an integer tag.
    pub(crate) fn uint(&self, src: &mut dyn ReadAt, e: &Entry) -> Option<u32> {
        match e.typ {
            3 if e.count >= 1 => Some(u32::from(self.u16(&e.field))),
            4 | 13 if e.count >= 1 => Some(self.u32(&e.field)),
            _ => self.uints(src, e).ok()?.first().copied(),
        }
    }

    /// An ASCII value (at most 256 bytes), without its terminating NULs.
    pub(crate) fn ascii(&self, src: &mut dyn ReadAt, e: &Entry) -> Option<String> {
        if e.typ != 2 || e.count == 0 || e.count > 256 {
            return None;
        }
        let bytes = u64::from(e.count);
        let data = match self.value_offset(e, bytes) {
            Some(off) => src.read_at(off, bytes as usize).ok()?,
            None => e.field[..bytes as usize].to_vec(),
        };
        let text = String::from_utf8_lossy(&data);
        Some(text.trim_end_matches('\0').trim().to_string())
    }

    /// Absolute offset and length of an UNDEFINED/BYTE blob (RW2's JpgFromRaw).
    pub(crate) fn blob(&self, e: &Entry) -> Option<(u64, u64)> {
        let len = u64::from(e.count);
        (matches!(e.typ, 1 | 7) && len > 4).then(|| (self.base + u64::from(self.u32(&e.field)), len))
    }
}

pub(crate) const TAG_ORIENTATION: u16 = 0x0112;
pub(crate) const TAG_DATETIME: u16 = 0x0132;
pub(crate) const TAG_EXIF_IFD: u16 = 0x8769;
pub(crate) const TAG_DATETIME_ORIGINAL: u16 = 0x9003;
/// OffsetTime: the UTC offset (`+02:00`) of DateTime.
pub(crate) const TAG_OFFSET_TIME: u16 = 0x9010;
/// OffsetTimeOriginal: the UTC offset of DateTimeOriginal.
pub(crate) const TAG_OFFSET_TIME_ORIGINAL: u16 = 0x9011;

/// DateTimeOriginal, else DateTime, of a TIFF-structured EXIF block (IFD0 and its
/// EXIF IFD), followed by its UTC offset when the block has one: OffsetTimeOriginal
/// (else OffsetTime) for DateTimeOriginal, OffsetTime for DateTime, as in
/// `2021:07:08 09:10:11+02:00`. CR3's CMT2 box is an EXIF IFD stored as IFD0, so
/// 0x9003 and the offsets are looked for in both. An offset that is not `±HH:MM` is
/// left off (the date is then naive, as in files from before EXIF 2.31).
pub(crate) fn exif_date(src: &mut dyn ReadAt, tiff: &Tiff) -> Result<Option<String>, String> {
    let (ifd0, _) = tiff.ifd(src, tiff.ifd0)?;
    let find = |src: &mut dyn ReadAt, entries: &[Entry], tag: u16| {
        entries.iter().find(|e| e.tag == tag).and_then(|e| tiff.ascii(src, e)).filter(|s| !s.is_empty())
    };
    let exif = match ifd0.iter().find(|e| e.tag == TAG_EXIF_IFD).and_then(|e| tiff.uint(src, e)) {
        Some(at) => match tiff.ifd(src, tiff.base + u64::from(at)) {
            Ok((entries, _)) => entries,
            // A broken EXIF IFD costs only what it holds when IFD0 has the date.
            Err(_) if find(src, &ifd0, TAG_DATETIME_ORIGINAL).is_some() => Vec::new(),
            Err(e) => return Err(e),
        },
        None => Vec::new(),
    };
    let mut either = |tag: u16| find(src, &ifd0, tag).or_else(|| find(src, &exif, tag));
    let (date, offset) = match either(TAG_DATETIME_ORIGINAL) {
        Some(d) => (d, either(TAG_OFFSET_TIME_ORIGINAL).or_else(|| either(TAG_OFFSET_TIME))),
        None => match either(TAG_DATETIME) {
            Some(d) => (d, either(TAG_OFFSET_TIME)),
            None => return Ok(None),
        },
    };
    Ok(Some(match offset.filter(|o| is_utc_offset(o)) {
        Some(o) => format!("{date}{o}"),
        None => date,
    }))
}

/// The GPS IFD pointer in IFD0.
pub(crate) const TAG_GPS_IFD: u16 = 0x8825;
const TAG_GPS_LATITUDE_REF: u16 = 0x0001;
const TAG_GPS_LATITUDE: u16 = 0x0002;
const TAG_GPS_LONGITUDE_REF: u16 = 0x0003;
const TAG_GPS_LONGITUDE: u16 = 0x0004;
/// GPSStatus: `A` a measurement, `V` void (the receiver had no fix).
const TAG_GPS_STATUS: u16 = 0x0009;

/// Where a TIFF-structured EXIF block (IFD0 with its GPS IFD pointer) says the photo
/// was taken. None for a block without GPS and for GPS that cannot be trusted: an
/// unreadable or lying GPS IFD, coordinates that are not 1-3 RATIONALs, a zero
/// denominator, a hemisphere reference other than N/S and E/W, a value out of range,
/// GPSStatus void, or exactly 0°, 0° (what receivers without a fix write). A place is
/// a hint that can split an event, so anything doubtful is left out rather than guessed.
pub(crate) fn gps_place(src: &mut dyn ReadAt, tiff: &Tiff) -> Option<crate::Place> {
    let (ifd0, _) = tiff.ifd(src, tiff.ifd0).ok()?;
    let at = ifd0.iter().find(|e| e.tag == TAG_GPS_IFD).and_then(|e| tiff.uint(src, e))?;
    gps_ifd_place(src, tiff, tiff.base + u64::from(at))
}

/// The place in the GPS IFD at absolute position `at` (CR3's CMT4 box is one, stored
/// as its TIFF's IFD0). See [`gps_place`] for what is refused.
pub(crate) fn gps_ifd_place(src: &mut dyn ReadAt, tiff: &Tiff, at: u64) -> Option<crate::Place> {
    let (gps, _) = tiff.ifd(src, at).ok()?;
    let get = |tag: u16| gps.iter().find(|e| e.tag == tag);
    if let Some(status) = get(TAG_GPS_STATUS).and_then(|e| tiff.ascii(src, e)) {
        if status.eq_ignore_ascii_case("V") {
            return None;
        }
    }
    let mut text = |tag: u16| get(tag).and_then(|e| tiff.ascii(src, e));
    let (lat_ref, lon_ref) = (text(TAG_GPS_LATITUDE_REF)?, text(TAG_GPS_LONGITUDE_REF)?);
    let lat = rationals(src, tiff, get(TAG_GPS_LATITUDE)?)?;
    let lon = rationals(src, tiff, get(TAG_GPS_LONGITUDE)?)?;
    crate::Place::from_gps(&lat_ref, &lat, &lon_ref, &lon)
}

/// A GPS coordinate's 1 to 3 unsigned RATIONALs (numerator, denominator). None for
/// another type or count: at 8 bytes a value they are never inline, and a count over 3
/// is refused before anything is read, so a lying count costs nothing.
fn rationals(src: &mut dyn ReadAt, tiff: &Tiff, e: &Entry) -> Option<Vec<(u32, u32)>> {
    if e.typ != 5 || !(1..=3).contains(&e.count) {
        return None;
    }
    let at = tiff.base.checked_add(u64::from(tiff.u32(&e.field)))?;
    let data = src.read_at(at, 8 * e.count as usize).ok()?;
    Some(data.chunks_exact(8).map(|c| (tiff.u32(&c[0..4]), tiff.u32(&c[4..8]))).collect())
}

/// `±HH:MM`, as EXIF 2.31's offset tags are written.
fn is_utc_offset(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 6 && matches!(b[0], b'+' | b'-') && b[3] == b':' && [1, 2, 4, 5].iter().all(|&i| b[i].is_ascii_digit())
}

/// The Orientation (1..=8) in IFD0 of a TIFF structure, if any.
pub(crate) fn orientation(src: &mut dyn ReadAt, tiff: &Tiff) -> Result<Option<u8>, String> {
    let (ifd0, _) = tiff.ifd(src, tiff.ifd0)?;
    Ok(ifd0
        .iter()
        .find(|e| e.tag == TAG_ORIENTATION)
        .and_then(|e| tiff.uint(src, e))
        .and_then(|v| u8::try_from(v).ok())
        .filter(|v| (1..=8).contains(v)))
}

// ---- ISO BMFF ----------------------------------------------------------------------

/// Boxes one level may hold before the file is called hostile.
const MAX_BOXES: usize = 10_000;

/// One box: its type and where its payload lies (absolute offsets).
#[derive(Debug, Clone, Copy)]
pub(crate) struct BmffBox {
    pub(crate) kind: [u8; 4],
    pub(crate) start: u64,
    pub(crate) end: u64,
}

/// The boxes laid end to end in `[start, end)`, each checked to fit its parent.
pub(crate) fn boxes(src: &mut dyn ReadAt, start: u64, end: u64) -> Result<Vec<BmffBox>, String> {
    let mut out = Vec::new();
    let mut at = start;
    while at + 8 <= end {
        if out.len() >= MAX_BOXES {
            return Err(format!("more than {MAX_BOXES} boxes in one level"));
        }
        let h = src.read_at(at, 8)?;
        let size32 = u32::from_be_bytes([h[0], h[1], h[2], h[3]]);
        let kind = [h[4], h[5], h[6], h[7]];
        let (header, size) = match size32 {
            0 => (8, end - at),
            1 => {
                let l = src.read_at(at + 8, 8)?;
                (16, u64::from_be_bytes([l[0], l[1], l[2], l[3], l[4], l[5], l[6], l[7]]))
            }
            n => (8, u64::from(n)),
        };
        if size < header || at.checked_add(size).map_or(true, |e| e > end) {
            return Err(format!("box '{}' at offset {at} claims {size} bytes, past its parent", fourcc(&kind)));
        }
        out.push(BmffBox { kind, start: at + header, end: at + size });
        at += size;
    }
    Ok(out)
}

/// A four-character code for messages.
pub(crate) fn fourcc(k: &[u8; 4]) -> String {
    k.iter().map(|&b| if b.is_ascii_graphic() || b == b' ' { b as char } else { '?' }).collect()
}

/// The major and compatible brands of a file's leading `ftyp` box (None: not ISO BMFF).
pub(crate) fn brands(head: &[u8]) -> Option<Vec<[u8; 4]>> {
    if head.len() < 16 || &head[4..8] != b"ftyp" {
        return None;
    }
    let size = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
    let body = head.get(8..size.min(head.len()))?;
    let mut out = vec![[body[0], body[1], body[2], body[3]]];
    out.extend(body.get(8..)?.chunks_exact(4).map(|c| [c[0], c[1], c[2], c[3]]));
    Some(out)
}

// ---- JPEG --------------------------------------------------------------------------

/// What a JPEG's markers say before its pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct JpegHead {
    pub(crate) width: u32,
    pub(crate) height: u32,
    /// The SOF marker's low nibble: 0/1 baseline/extended, 2 progressive, 3 lossless...
    pub(crate) process: u8,
    /// An Adobe APP14 segment (whose CMYK is stored inverted).
    pub(crate) adobe: bool,
    /// The EXIF APP1 payload's TIFF structure: absolute offset and length.
    pub(crate) exif: Option<(u64, u64)>,
}

impl JpegHead {
    /// A JPEG a photo viewer can show (baseline, extended or progressive DCT), as opposed
    /// to the lossless or hierarchical JPEGs RAWs store sensor data in.
    pub(crate) fn is_picture(&self) -> bool {
        matches!(self.process, 0..=2) && self.width > 0 && self.height > 0
    }
}

/// Walks the marker segments of the JPEG at `start` (at most `len` bytes) up to its
/// frame header. Errors when it is not a JPEG or the segments run outside it.
pub(crate) fn jpeg_head(src: &mut dyn ReadAt, start: u64, len: u64) -> Result<JpegHead, String> {
    let end = start.checked_add(len).ok_or("JPEG length overflows")?;
    if src.read_at(start, 2)? != [0xFF, 0xD8] {
        return Err("not a JPEG (no FF D8)".into());
    }
    let (mut adobe, mut exif) = (false, None);
    let mut at = start + 2;
    for _ in 0..1024 {
        if at + 4 > end {
            break;
        }
        let m = src.read_at(at, 4)?;
        if m[0] != 0xFF {
            return Err(format!("JPEG marker expected at offset {at}"));
        }
        if m[1] == 0xFF {
            at += 1; // fill byte
            continue;
        }
        let seg = u64::from(u16::from_be_bytes([m[2], m[3]]));
        if seg < 2 || at + 2 + seg > end {
            return Err(format!("JPEG segment at offset {at} runs past the picture"));
        }
        let body = at + 4;
        let body_len = seg - 2;
        match m[1] {
            0xC0..=0xCF if !matches!(m[1], 0xC4 | 0xC8 | 0xCC) => {
                let f = src.read_at(body, 5)?;
                return Ok(JpegHead {
                    width: u32::from(u16::from_be_bytes([f[3], f[4]])),
                    height: u32::from(u16::from_be_bytes([f[1], f[2]])),
                    process: m[1] & 0x0F,
                    adobe,
                    exif,
                });
            }
            0xE1 if body_len > 14 && exif.is_none() && src.read_at(body, 6)? == b"Exif\0\0" => {
                exif = Some((body + 6, body_len - 6));
            }
            0xEE if body_len >= 5 => adobe |= src.read_at(body, 5)? == b"Adobe",
            0xDA | 0xD9 => break,
            _ => {}
        }
        at += 2 + seg;
    }
    Err("JPEG has no frame header".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boxes_that_claim_more_than_their_parent_are_refused() {
        let mut data = Vec::new();
        data.extend_from_slice(&16u32.to_be_bytes());
        data.extend_from_slice(b"free");
        data.extend_from_slice(&[0; 8]);
        data.extend_from_slice(&1000u32.to_be_bytes());
        data.extend_from_slice(b"meta");
        let len = data.len() as u64;
        let err = boxes(&mut Bytes(&data), 0, len).unwrap_err();
        assert!(err.contains("meta"), "{err}");
        // A 64-bit size of 2^64-1 must not overflow.
        let mut big = Vec::new();
        big.extend_from_slice(&1u32.to_be_bytes());
        big.extend_from_slice(b"mdat");
        big.extend_from_slice(&u64::MAX.to_be_bytes());
        assert!(boxes(&mut Bytes(&big), 0, 16).is_err());
    }

    #[test]
    fn tiff_reads_are_bounded() {
        // An IFD claiming 60 000 entries, and one whose strip offsets claim 2^31 values.
        let mut t = b"II*\0\x08\0\0\0".to_vec();
        t.extend_from_slice(&60_000u16.to_le_bytes());
        let tiff = Tiff::at(&mut Bytes(&t), 0).unwrap();
        assert!(tiff.ifd(&mut Bytes(&t), tiff.ifd0).unwrap_err().contains("60000 entries"));
        let e = Entry { tag: 0x111, typ: 4, count: 1 << 31, field: [8, 0, 0, 0] };
        assert!(tiff.uints(&mut Bytes(&t), &e).unwrap_err().contains("values"));
        assert!(Bytes(&t).read_at(u64::MAX - 1, 4).is_err());
    }
}
