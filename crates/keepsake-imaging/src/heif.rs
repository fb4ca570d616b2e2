//! HEIF/AVIF headers in pure Rust: the primary picture's size and rotation, and its EXIF
//! block, from the `meta` box, without decoding pixels.
//!
//! Why here and not in the worker: the index needs every photo's size and date, and
//! starting a worker (libheif) per file just to read a few hundred header bytes would
//! cost more than the scan itself. Pixels stay with the worker
//! ([`crate::ImagingError::NeedsWorker`]).
//!
//! The path through the boxes (ISO/IEC 23008-12): `meta` → `pitm` (primary item id) →
//! `iprp/ipco` (the property boxes, numbered from 1) + `iprp/ipma` (which properties each
//! item has) → the primary item's `ispe` (width, height; a grid item's own `ispe` is the
//! full picture) and `irot` (quarter turns anticlockwise). EXIF: `iinf/infe` names the
//! `Exif` item, `iloc` says where its bytes are (in the file or in `idat`); they start
//! with a 4-byte offset to the TIFF header.

use crate::container::{self, BmffBox, ReadAt};

/// How many bytes of `meta` child boxes are read into memory (real files: a few KB; a
/// 1000-tile grid: ~40 KB).
const MAX_META_BOX: u64 = 4 << 20;

/// What the primary picture's properties say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HeifInfo {
    /// As coded (before `irot`).
    pub(crate) width: u32,
    pub(crate) height: u32,
    /// Quarter turns anticlockwise (0..=3) from `irot`.
    pub(crate) quarter_turns: u8,
}

/// A big-endian cursor over a box's payload that fails instead of panicking.
struct Cur<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Cur<'a> {
    fn new(b: &'a [u8]) -> Self {
        Cur { b, at: 0 }
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.b.len()).ok_or("box ends early")?;
        let s = &self.b[self.at..end];
        self.at = end;
        Ok(s)
    }
    fn uint(&mut self, n: usize) -> Result<u64, String> {
        if n > 8 {
            return Err(format!("{n}-byte field"));
        }
        Ok(self.take(n)?.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
    }
    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.uint(1)? as u8)
    }
    fn u16(&mut self) -> Result<u16, String> {
        Ok(self.uint(2)? as u16)
    }
    fn u32(&mut self) -> Result<u32, String> {
        Ok(self.uint(4)? as u32)
    }
    /// A full box's version (flags dropped).
    fn version(&mut self) -> Result<(u8, u32), String> {
        let v = self.u32()?;
        Ok(((v >> 24) as u8, v & 0xFF_FFFF))
    }
}

/// The children of the file's top-level `meta` box.
fn meta_children(src: &mut dyn ReadAt) -> Result<Vec<BmffBox>, String> {
    let size = src.size();
    let top = container::boxes(src, 0, size)?;
    let meta = top.iter().find(|b| &b.kind == b"meta").ok_or("no 'meta' box")?;
    // A full box: 4 bytes of version and flags before its children.
    container::boxes(src, (meta.start + 4).min(meta.end), meta.end)
}

fn read_box(src: &mut dyn ReadAt, b: &BmffBox) -> Result<Vec<u8>, String> {
    if b.end - b.start > MAX_META_BOX {
        return Err(format!("'{}' box of {} bytes", container::fourcc(&b.kind), b.end - b.start));
    }
    src.read_at(b.start, (b.end - b.start) as usize)
}

fn find<'b>(boxes: &'b [BmffBox], kind: &[u8; 4]) -> Result<&'b BmffBox, String> {
    boxes.iter().find(|b| &b.kind == kind).ok_or_else(|| format!("no '{}' box", container::fourcc(kind)))
}

fn primary_item(src: &mut dyn ReadAt, children: &[BmffBox]) -> Result<u32, String> {
    let pitm = read_box(src, find(children, b"pitm")?)?;
    let mut c = Cur::new(&pitm);
    let (version, _) = c.version()?;
    if version == 0 {
        Ok(u32::from(c.u16()?))
    } else {
        c.u32()
    }
}

/// The primary picture's `ispe` and `irot`.
pub(crate) fn info(src: &mut dyn ReadAt) -> Result<HeifInfo, String> {
    let children = meta_children(src)?;
    let primary = primary_item(src, &children)?;
    let iprp = find(&children, b"iprp")?;
    let iprp_children = container::boxes(src, iprp.start, iprp.end)?;
    let ipco = find(&iprp_children, b"ipco")?;
    let properties = container::boxes(src, ipco.start, ipco.end)?;
    let mut indices = Vec::new();
    for ipma in iprp_children.iter().filter(|b| &b.kind == b"ipma") {
        let data = read_box(src, ipma)?;
        let mut c = Cur::new(&data);
        let (version, flags) = c.version()?;
        let entries = c.u32()?;
        for _ in 0..entries {
            let item = if version < 1 { u32::from(c.u16()?) } else { c.u32()? };
            let n = c.u8()?;
            for _ in 0..n {
                let index = if flags & 1 == 1 { usize::from(c.u16()? & 0x7FFF) } else { usize::from(c.u8()? & 0x7F) };
                if item == primary {
                    indices.push(index);
                }
            }
        }
    }
    let (mut size, mut quarter_turns) = (None, 0);
    for index in indices {
        // Numbered from 1; 0 means "no property".
        let Some(prop) = index.checked_sub(1).and_then(|i| properties.get(i)) else { continue };
        match &prop.kind {
            b"ispe" => {
                let data = read_box(src, prop)?;
                let mut c = Cur::new(&data);
                c.version()?;
                size = Some((c.u32()?, c.u32()?));
            }
            b"irot" => quarter_turns = read_box(src, prop)?.first().copied().ok_or("empty 'irot'")? & 3,
            _ => {}
        }
    }
    let (width, height) = size.ok_or_else(|| format!("primary item {primary} has no 'ispe' (size) property"))?;
    if width == 0 || height == 0 {
        return Err(format!("primary item {primary} is {width}x{height}"));
    }
    Ok(HeifInfo { width, height, quarter_turns })
}

/// The `Exif` item's TIFF structure (byte-order mark first), if the file has one.
pub(crate) fn exif(src: &mut dyn ReadAt) -> Result<Option<Vec<u8>>, String> {
    let children = meta_children(src)?;
    let Some(exif_id) = exif_item(src, &children)? else { return Ok(None) };
    let iloc = read_box(src, find(&children, b"iloc")?)?;
    let mut c = Cur::new(&iloc);
    let (version, _) = c.version()?;
    let sizes = c.u16()?;
    let field = |shift: u16| usize::from((sizes >> shift) & 15);
    let (offset_size, length_size, base_size) = (field(12), field(8), field(4));
    let index_size = if version >= 1 { usize::from(sizes & 15) } else { 0 };
    let count = if version < 2 { u32::from(c.u16()?) } else { c.u32()? };
    for _ in 0..count {
        let id = if version < 2 { u32::from(c.u16()?) } else { c.u32()? };
        let method = if version >= 1 { c.u16()? & 15 } else { 0 };
        c.u16()?; // data_reference_index
        let base = c.uint(base_size)?;
        let extents = c.u16()?;
        let mut first = None;
        for _ in 0..extents {
            c.uint(index_size)?;
            let (off, len) = (c.uint(offset_size)?, c.uint(length_size)?);
            first = first.or(Some((off, len)));
        }
        if id != exif_id {
            continue;
        }
        let (off, len) = first.ok_or("Exif item has no extent")?;
        let start = match method {
            0 => base.checked_add(off),
            1 => {
                let idat = find(&children, b"idat")?;
                idat.start.checked_add(base).and_then(|s| s.checked_add(off))
            }
            m => return Err(format!("Exif item stored with construction method {m}")),
        }
        .ok_or("Exif item offset overflows")?;
        if !(4..=MAX_META_BOX).contains(&len) {
            return Err(format!("Exif item of {len} bytes"));
        }
        let data = src.read_at(start, len as usize)?;
        let skip = u32::from_be_bytes([data[0], data[1], data[2], data[3]]) as usize;
        return Ok(data.get(4usize.saturating_add(skip)..).map(<[u8]>::to_vec));
    }
    Ok(None)
}

/// The id of the item whose type is `Exif`.
fn exif_item(src: &mut dyn ReadAt, children: &[BmffBox]) -> Result<Option<u32>, String> {
    let Ok(iinf) = find(children, b"iinf") else { return Ok(None) };
    let (version, _) = Cur::new(&src.read_at(iinf.start, 4)?).version()?;
    let first = iinf.start + if version == 0 { 6 } else { 8 };
    for infe in container::boxes(src, first.min(iinf.end), iinf.end)? {
        if &infe.kind != b"infe" {
            continue;
        }
        let data = read_box(src, &infe)?;
        let mut c = Cur::new(&data);
        let (version, _) = c.version()?;
        if version < 2 {
            continue;
        }
        let id = if version == 2 { u32::from(c.u16()?) } else { c.u32()? };
        c.u16()?; // protection index
        if c.take(4)? == b"Exif" {
            return Ok(Some(id));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::Bytes;

    fn bx(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
        let mut v = ((payload.len() + 8) as u32).to_be_bytes().to_vec();
        v.extend_from_slice(kind);
        v.extend_from_slice(payload);
        v
    }

    fn full(kind: &[u8; 4], version: u8, flags: u32, payload: &[u8]) -> Vec<u8> {
        let mut p = ((u32::from(version) << 24) | flags).to_be_bytes().to_vec();
        p.extend_from_slice(payload);
        bx(kind, &p)
    }

    /// A `meta` box: primary item 7 is a grid with ispe 4032x3024 and irot 1 (a quarter
    /// turn); item 1 (a tile) has its own 512x512 ispe, which must not be taken.
    fn heif(irot: Option<u8>) -> Vec<u8> {
        let mut ftyp = b"heic\0\0\0\0mif1heic".to_vec();
        ftyp = bx(b"ftyp", &std::mem::take(&mut ftyp));
        let pitm = full(b"pitm", 0, 0, &7u16.to_be_bytes());
        let mut ispe_tile = 512u32.to_be_bytes().to_vec();
        ispe_tile.extend_from_slice(&512u32.to_be_bytes());
        let mut ispe_full = 4032u32.to_be_bytes().to_vec();
        ispe_full.extend_from_slice(&3024u32.to_be_bytes());
        let mut ipco = full(b"ispe", 0, 0, &ispe_tile);
        ipco.extend(full(b"ispe", 0, 0, &ispe_full));
        if let Some(r) = irot {
            ipco.extend(bx(b"irot", &[r]));
        }
        // ipma: item 1 → property 1; item 7 → properties 2 (essential) and 3.
        let mut ipma = 2u32.to_be_bytes().to_vec();
        ipma.extend_from_slice(&1u16.to_be_bytes());
        ipma.extend_from_slice(&[1, 0x01]);
        ipma.extend_from_slice(&7u16.to_be_bytes());
        ipma.extend_from_slice(&[2, 0x82, 0x03]);
        let mut iprp = bx(b"ipco", &ipco);
        iprp.extend(full(b"ipma", 0, 0, &ipma));
        let mut hdlr = vec![0; 4];
        hdlr.extend_from_slice(b"pict");
        hdlr.extend_from_slice(&[0; 13]);
        let mut meta = full(b"hdlr", 0, 0, &hdlr);
        meta.extend(pitm);
        meta.extend(bx(b"iprp", &iprp));
        let mut file = ftyp;
        file.extend(full(b"meta", 0, 0, &meta));
        file
    }

    #[test]
    fn primary_item_ispe_and_irot_from_a_hand_built_box_tree() {
        let f = heif(Some(1));
        assert_eq!(info(&mut Bytes(&f)).unwrap(), HeifInfo { width: 4032, height: 3024, quarter_turns: 1 });
        let f = heif(None);
        assert_eq!(info(&mut Bytes(&f)).unwrap().quarter_turns, 0);
        let f = heif(Some(2));
        assert_eq!(info(&mut Bytes(&f)).unwrap().quarter_turns, 2);
    }

    #[test]
    fn truncated_or_lying_meta_boxes_are_errors_not_panics() {
        let f = heif(Some(1));
        for cut in (0..f.len()).step_by(3) {
            let _ = info(&mut Bytes(&f[..cut]));
            let _ = exif(&mut Bytes(&f[..cut]));
        }
        // Every byte of the box tree flipped in turn: never a panic.
        for k in 0..f.len() {
            let mut g = f.clone();
            g[k] ^= 0xFF;
            let _ = info(&mut Bytes(&g));
            let _ = exif(&mut Bytes(&g));
        }
    }
}
