//! Camera RAW files (DNG, CR2, CR3, NEF, ARW, RAF, ORF, RW2...), shown by the JPEG
//! preview every camera embeds, never by demosaicing the sensor data.
//!
//! Why previews: they are what the camera itself showed, already developed with its
//! colour science; decoding the sensor data would need a RAW developer per maker and
//! seconds per photo, for a thumbnail a few hundred pixels wide. The largest valid
//! preview wins (DNG/NEF/ARW keep a small one in IFD0 and a big one in a SubIFD).
//!
//! Where previews live:
//! - TIFF-based RAWs (DNG, CR2, NEF, ARW, PEF, SRW, ORF `IIRO`/`MMOR`, RW2 `IIU\0`):
//!   any IFD of IFD0's chain, its SubIFDs (0x014A) or the EXIF IFD, as
//!   JPEGInterchangeFormat/Length (0x0201/0x0202), as the single strip or tile of an IFD
//!   with Compression 6 or 7 whose data starts FF D8, or RW2's JpgFromRaw (0x002E).
//!   Lossless JPEGs (the sensor data of CR2 and many DNGs) are not previews and are
//!   skipped. The orientation is IFD0's Orientation tag (the preview has none).
//! - RAF: a JPEG whose offset and length are big-endian u32s at bytes 84 and 88; its own
//!   EXIF carries the orientation, the date and GPS.
//! - CR3 (ISO BMFF): the `PRVW` box inside a top-level `uuid` box (and the small `THMB`
//!   in `moov`); `moov/uuid/CMT1` is IFD0 (orientation), `CMT2` the EXIF IFD (date),
//!   `CMT4` the GPS IFD.
//!
//! Only headers and the chosen preview are read (never the whole file); see
//! [`crate::container`] for the limits.

use std::collections::HashSet;

use crate::container::{self, Bytes, JpegHead, ReadAt, Tiff};

/// The kinds of RAW container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RawKind {
    Tiff,
    Raf,
    Cr3,
}

/// An embedded JPEG.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Preview {
    pub(crate) offset: u64,
    pub(crate) len: u64,
    pub(crate) head: JpegHead,
}

/// What a RAW's headers say.
#[derive(Debug, Default)]
pub(crate) struct RawScan {
    /// Valid previews, largest first.
    pub(crate) previews: Vec<Preview>,
    /// Why candidates were refused (for the error when none is left).
    pub(crate) refused: Vec<String>,
    /// EXIF orientation 1..=8 from the RAW's own IFD0 (or CMT1 / the RAF preview's EXIF).
    pub(crate) orientation: Option<u8>,
    /// The developed picture's size before orientation: the largest full-resolution IFD
    /// (DNG's DefaultCropSize when it has one).
    pub(crate) raw_size: Option<(u32, u32)>,
    /// DateTimeOriginal (else DateTime) as written.
    pub(crate) date: Option<String>,
    /// The GPS IFD's place (CR3: the CMT4 box; RAF: the preview's EXIF).
    pub(crate) place: Option<crate::Place>,
}

/// IFDs one file may have (a DNG: 3-6) before it is called hostile.
const MAX_IFDS: usize = 256;
/// How deep SubIFDs may nest.
const MAX_DEPTH: u8 = 4;

/// Reads a RAW's headers. Errors for structures no camera writes (IFD loops, absurd
/// counts, offsets past the end of the file).
pub(crate) fn scan(src: &mut dyn ReadAt, kind: RawKind) -> Result<RawScan, String> {
    let mut scan = match kind {
        RawKind::Tiff => scan_tiff(src)?,
        RawKind::Raf => scan_raf(src)?,
        RawKind::Cr3 => scan_cr3(src)?,
    };
    scan.previews.sort_by_key(|p| std::cmp::Reverse((u64::from(p.head.width) * u64::from(p.head.height), p.len)));
    Ok(scan)
}

/// Offers the JPEG at `offset..offset+len` as a preview.
fn offer(src: &mut dyn ReadAt, scan: &mut RawScan, offset: u64, len: u64, what: &str) {
    if len < 4 || offset.checked_add(len).map_or(true, |end| end > src.size()) {
        scan.refused.push(format!("{what} at offset {offset} ({len} bytes) runs past the end of the file"));
        return;
    }
    match container::jpeg_head(src, offset, len) {
        Ok(head) if head.is_picture() => {
            if !scan.previews.iter().any(|p| p.offset == offset) {
                scan.previews.push(Preview { offset, len, head });
            }
        }
        Ok(_) => {} // lossless sensor data, not a picture
        Err(e) => scan.refused.push(format!("{what} at offset {offset}: {e}")),
    }
}

fn scan_tiff(src: &mut dyn ReadAt) -> Result<RawScan, String> {
    let tiff = Tiff::at(src, 0)?;
    let mut scan = RawScan::default();
    let mut seen = HashSet::new();
    let mut todo = vec![(tiff.ifd0, 0u8)];
    let mut biggest_raw = 0u64;
    while let Some((at, depth)) = todo.pop() {
        if !seen.insert(at) {
            return Err(format!("IFD at offset {at} is reached twice (a loop in the IFD chain)"));
        }
        if seen.len() > MAX_IFDS {
            return Err(format!("more than {MAX_IFDS} IFDs"));
        }
        let (entries, next) = tiff.ifd(src, at)?;
        if let Some(next) = next {
            todo.push((next, depth));
        }
        let get = |tag: u16| entries.iter().find(|e| e.tag == tag).copied();
        let uint = |src: &mut dyn ReadAt, tag: u16| get(tag).and_then(|e| tiff.uint(src, &e));
        if at == tiff.ifd0 {
            scan.orientation = container::orientation(src, &tiff)?;
            scan.date = container::exif_date(src, &tiff).unwrap_or(None);
            scan.place = container::gps_place(src, &tiff);
            if let Some(exif) = uint(src, container::TAG_EXIF_IFD) {
                todo.push((tiff.base + u64::from(exif), MAX_DEPTH));
            }
        }
        if let Some(sub) = get(0x014A) {
            if depth < MAX_DEPTH {
                for off in tiff.uints(src, &sub)? {
                    todo.push((tiff.base + u64::from(off), depth + 1));
                }
            }
        }
        // JPEGInterchangeFormat / Length.
        if let (Some(off), Some(len)) = (uint(src, 0x0201), uint(src, 0x0202)) {
            offer(src, &mut scan, tiff.base + u64::from(off), u64::from(len), "JPEGInterchangeFormat");
        }
        // RW2's JpgFromRaw.
        if let Some((off, len)) = get(0x002E).and_then(|e| tiff.blob(&e)) {
            offer(src, &mut scan, off, len, "JpgFromRaw");
        }
        let compression = uint(src, 0x0103);
        for (offs, counts) in [(0x0111, 0x0117), (0x0144, 0x0145)] {
            let (Some(o), Some(c)) = (get(offs), get(counts)) else { continue };
            if matches!(compression, Some(6 | 7)) && o.count == 1 && c.count == 1 {
                if let (Some(off), Some(len)) = (tiff.uint(src, &o), tiff.uint(src, &c)) {
                    offer(src, &mut scan, tiff.base + u64::from(off), u64::from(len), "JPEG strip");
                }
            }
        }
        let full_resolution = uint(src, 0x00FE).unwrap_or(0) & 1 == 0;
        let crop = get(0xC620).and_then(|e| tiff.uints(src, &e).ok()).filter(|v| v.len() == 2).map(|v| (v[0], v[1]));
        let size = crop.or(uint(src, 0x0100).zip(uint(src, 0x0101)));
        if let Some((w, h)) = size.filter(|&(w, h)| full_resolution && w > 0 && h > 0) {
            if u64::from(w) * u64::from(h) > biggest_raw {
                biggest_raw = u64::from(w) * u64::from(h);
                scan.raw_size = Some((w, h));
            }
        }
    }
    Ok(scan)
}

/// The EXIF of a JPEG (a RAF's preview): orientation, date and place.
fn jpeg_exif(src: &mut dyn ReadAt, head: &JpegHead) -> (Option<u8>, Option<String>, Option<crate::Place>) {
    let Some((off, len)) = head.exif else { return (None, None, None) };
    let Ok(block) = src.read_at(off, len.min(1 << 20) as usize) else { return (None, None, None) };
    let mut bytes = Bytes(&block);
    let Ok(tiff) = Tiff::at(&mut bytes, 0) else { return (None, None, None) };
    (
        container::orientation(&mut bytes, &tiff).unwrap_or(None),
        container::exif_date(&mut bytes, &tiff).unwrap_or(None),
        container::gps_place(&mut bytes, &tiff),
    )
}

fn scan_raf(src: &mut dyn ReadAt) -> Result<RawScan, String> {
    let h = src.read_at(0, 92)?;
    if !h.starts_with(b"FUJIFILMCCD-RAW") {
        return Err("not a RAF file".into());
    }
    let off = u64::from(u32::from_be_bytes([h[84], h[85], h[86], h[87]]));
    let len = u64::from(u32::from_be_bytes([h[88], h[89], h[90], h[91]]));
    let mut scan = RawScan::default();
    offer(src, &mut scan, off, len, "RAF preview");
    if let Some(p) = scan.previews.first().copied() {
        (scan.orientation, scan.date, scan.place) = jpeg_exif(src, &p.head);
    }
    Ok(scan)
}

/// Canon's metadata `uuid` in `moov` (CNCV, CMT1..4, THMB) and the preview's `uuid`.
const CANON_UUID: [u8; 16] =
    [0x85, 0xc0, 0xb6, 0x87, 0x82, 0x0f, 0x11, 0xe0, 0x81, 0x11, 0xf4, 0xce, 0x46, 0x2b, 0x6a, 0x48];
const PREVIEW_UUID: [u8; 16] =
    [0xea, 0xf4, 0x2b, 0x5e, 0x1c, 0x98, 0x4b, 0x88, 0xb9, 0xfb, 0xb7, 0xdc, 0x40, 0x6e, 0x4d, 0x16];

/// The JPEG inside a PRVW or THMB box: it starts within the box's first 32 bytes (after
/// a small header of sizes) and runs to the box's end.
fn offer_boxed_jpeg(
    src: &mut dyn ReadAt,
    scan: &mut RawScan,
    b: &container::BmffBox,
    what: &str,
) -> Result<(), String> {
    let head = src.read_at(b.start, (b.end - b.start).min(32) as usize)?;
    match head.windows(3).position(|w| w == [0xFF, 0xD8, 0xFF]) {
        Some(i) => offer(src, scan, b.start + i as u64, b.end - b.start - i as u64, what),
        None => scan.refused.push(format!("{what} box holds no JPEG")),
    }
    Ok(())
}

fn scan_cr3(src: &mut dyn ReadAt) -> Result<RawScan, String> {
    let mut scan = RawScan::default();
    let size = src.size();
    for top in container::boxes(src, 0, size)? {
        if &top.kind == b"uuid" && top.end - top.start >= 16 {
            if src.read_at(top.start, 16)? != PREVIEW_UUID {
                continue;
            }
            // 8 bytes of Canon's own, then the PRVW box.
            for b in container::boxes(src, (top.start + 24).min(top.end), top.end)? {
                if &b.kind == b"PRVW" {
                    offer_boxed_jpeg(src, &mut scan, &b, "PRVW")?;
                }
            }
        } else if &top.kind == b"moov" {
            for b in container::boxes(src, top.start, top.end)? {
                if &b.kind != b"uuid" || b.end - b.start < 16 || src.read_at(b.start, 16)? != CANON_UUID {
                    continue;
                }
                for inner in container::boxes(src, b.start + 16, b.end)? {
                    let cmt = |src: &mut dyn ReadAt| -> Option<Vec<u8>> {
                        src.read_at(inner.start, (inner.end - inner.start).min(4 << 20) as usize).ok()
                    };
                    match &inner.kind {
                        b"CMT1" => {
                            if let Some(block) = cmt(src) {
                                let mut bytes = Bytes(&block);
                                if let Ok(tiff) = Tiff::at(&mut bytes, 0) {
                                    scan.orientation = container::orientation(&mut bytes, &tiff).unwrap_or(None);
                                    let date = container::exif_date(&mut bytes, &tiff).unwrap_or(None);
                                    scan.date = scan.date.take().or(date);
                                }
                            }
                        }
                        b"CMT2" => {
                            if let Some(block) = cmt(src) {
                                let mut bytes = Bytes(&block);
                                if let Ok(tiff) = Tiff::at(&mut bytes, 0) {
                                    // DateTimeOriginal beats CMT1's DateTime.
                                    if let Ok(Some(d)) = container::exif_date(&mut bytes, &tiff) {
                                        scan.date = Some(d);
                                    }
                                }
                            }
                        }
                        // CMT4 is the GPS IFD, stored as its TIFF's IFD0.
                        b"CMT4" => {
                            if let Some(block) = cmt(src) {
                                let mut bytes = Bytes(&block);
                                if let Ok(tiff) = Tiff::at(&mut bytes, 0) {
                                    scan.place = container::gps_ifd_place(&mut bytes, &tiff, tiff.ifd0);
                                }
                            }
                        }
                        b"THMB" => offer_boxed_jpeg(src, &mut scan, &inner, "THMB")?,
                        _ => {}
                    }
                }
            }
        }
    }
    Ok(scan)
}
