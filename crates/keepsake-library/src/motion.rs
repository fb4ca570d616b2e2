//! Live Photos and motion photos: stills that move.
//!
//! - A **Live Photo** is a still (HEIC/HEIF/JPEG) and a short movie (MOV/MP4) side by
//!   side. They pair by Apple's content identifier (the still's Apple maker note, tag
//!   0x0011; the movie's QuickTime `moov/meta` key `com.apple.quicktime.content.identifier`),
//!   else by the same file stem in the same folder with a movie of at most
//!   [`LIVE_MAX_MS`]. The paired movie stays indexed but is hidden from the grid, is not
//!   analysed, and is the still's motion (`media.live_of` = the still's id).
//! - A **motion photo** (Pixel, Samsung) is a JPEG with an MP4 appended: Google's XMP
//!   (`GCamera:MotionPhoto` + `Container:Directory`, or the older `GCamera:MicroVideo`
//!   with `MicroVideoOffset`) or Samsung's `MotionPhoto_Data` trailer. Its video's byte
//!   range is stored (`media.motion_offset`, `motion_length`) and served in place;
//!   a broken one leaves a plain photo and the reason (`media.motion_note`).
//!
//! Everything here is pure Rust with bounded reads (box and segment headers, a few KiB
//! of metadata); files are only ever opened for reading. Pairing is recomputed per
//! folder whenever a scan or the watcher changes something in it ([`pair_folders`]), and
//! what was read from each file is kept with a `size:mtime` stamp so unchanged files are
//! never read twice.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{params, Connection};

use crate::db::Presence;
use crate::error::Result;
use crate::model::{JobState, LibraryEvent, MediaId, MediaState};
use crate::util::lock;

/// The longest movie that pairs with a still by name alone (Live Photos are ~3 s).
pub const LIVE_MAX_MS: i64 = 4000;
/// QuickTime metadata key of Apple's content identifier.
const CONTENT_ID_KEY: &[u8] = b"com.apple.quicktime.content.identifier";
/// The most bytes of a `moov/meta` box read for the identifier.
const MAX_META: u64 = 1 << 20;
/// The most boxes walked at one level of a movie (a real one has a handful).
const MAX_BOXES: usize = 512;
/// Samsung's marker before the appended MP4.
const SAMSUNG_MARKER: &[u8] = b"MotionPhoto_Data";
/// The largest file searched for [`SAMSUNG_MARKER`] (in 1-MiB chunks).
const MAX_MARKER_SCAN: u64 = 512 << 20;

/// Why a motion photo's video could not be used; the photo stays a plain photo and the
/// detail panel shows this.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MotionError {
    #[error("motion photo's video offset points past the end of the file ({offset} of {len} bytes)")]
    PastEnd { offset: u64, len: u64 },
    #[error("motion photo's video offset points before the start of the file (a {length}-byte video in {len} bytes)")]
    BeforeStart { length: u64, len: u64 },
    #[error("motion photo's video does not start an MP4 (no ftyp box at byte {offset})")]
    NotMp4 { offset: u64 },
    #[error("motion photo's metadata names no video length")]
    NoLength,
    #[error("motion photo could not be read: {0}")]
    Io(String),
}

/// Where a still's motion lies, for serving: a byte range of a file inside an album
/// (a Live Photo's whole movie, or a motion photo's embedded MP4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MotionSource {
    pub path: PathBuf,
    pub offset: u64,
    pub length: u64,
    pub mime: &'static str,
}

// ---- movies -----------------------------------------------------------------------

/// What a movie says about itself: its duration (`mvhd`) and Apple's content identifier.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MovieFacts {
    pub duration_ms: Option<i64>,
    pub content_id: Option<String>,
}

/// One ISO-BMFF box: its type, where its payload starts and ends.
#[derive(Debug, Clone, Copy)]
struct BoxAt {
    kind: [u8; 4],
    payload: u64,
    end: u64,
}

/// Reads the box header at `at` (ending no later than `limit`); None when it is not a
/// sane box.
fn box_at(f: &mut File, at: u64, limit: u64) -> Option<BoxAt> {
    if at.checked_add(8)? > limit {
        return None;
    }
    let mut h = [0u8; 16];
    f.seek(SeekFrom::Start(at)).ok()?;
    f.read_exact(&mut h[..8]).ok()?;
    let size32 = u32::from_be_bytes([h[0], h[1], h[2], h[3]]) as u64;
    let kind = [h[4], h[5], h[6], h[7]];
    let (size, header) = match size32 {
        0 => (limit - at, 8),
        1 => {
            f.read_exact(&mut h[8..16]).ok()?;
            (u64::from_be_bytes([h[8], h[9], h[10], h[11], h[12], h[13], h[14], h[15]]), 16)
        }
        n => (n, 8),
    };
    if size < header || at.checked_add(size)? > limit {
        return None;
    }
    Some(BoxAt { kind, payload: at + header, end: at + size })
}

fn read_payload(f: &mut File, b: &BoxAt, max: u64) -> Option<Vec<u8>> {
    let n = (b.end - b.payload).min(max);
    let mut buf = vec![0u8; n as usize];
    f.seek(SeekFrom::Start(b.payload)).ok()?;
    f.read_exact(&mut buf).ok()?;
    Some(buf)
}

/// The children of box `parent` (or the top level, `0..len`).
fn children(f: &mut File, from: u64, to: u64) -> Vec<BoxAt> {
    let mut out = Vec::new();
    let mut at = from;
    while out.len() < MAX_BOXES {
        let Some(b) = box_at(f, at, to) else { break };
        out.push(b);
        if b.end == at {
            break;
        }
        at = b.end;
    }
    out
}

/// Reads a movie's duration and content identifier: box headers down to `moov`, then
/// `mvhd` and `meta` only (the sample tables are skipped).
pub fn movie_facts(path: &Path) -> MovieFacts {
    let Ok(mut f) = crate::util::open_regular(path, false) else { return MovieFacts::default() };
    let Ok(len) = f.metadata().map(|m| m.len()) else { return MovieFacts::default() };
    let mut facts = MovieFacts::default();
    let top = children(&mut f, 0, len);
    let Some(moov) = top.iter().find(|b| &b.kind == b"moov").copied() else { return facts };
    for b in children(&mut f, moov.payload, moov.end) {
        match &b.kind {
            b"mvhd" => {
                if let Some(p) = read_payload(&mut f, &b, 128) {
                    facts.duration_ms = mvhd_duration_ms(&p);
                }
            }
            b"meta" if facts.content_id.is_none() => {
                if let Some(p) = read_payload(&mut f, &b, MAX_META) {
                    facts.content_id = meta_content_id(&p);
                }
            }
            _ => {}
        }
    }
    facts
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at.checked_add(4)?)?.try_into().ok()?))
}

fn be64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(b.get(at..at.checked_add(8)?)?.try_into().ok()?))
}

/// Duration in ms from an `mvhd` payload (version 0 or 1).
pub(crate) fn mvhd_duration_ms(p: &[u8]) -> Option<i64> {
    let (timescale, duration) = match p.first()? {
        0 => (be32(p, 12)? as u64, be32(p, 16)? as u64),
        1 => (be32(p, 20)? as u64, be64(p, 24)?),
        _ => return None,
    };
    if timescale == 0 || duration == u32::MAX as u64 || duration == u64::MAX {
        return None;
    }
    i64::try_from(u128::from(duration) * 1000 / u128::from(timescale)).ok()
}

/// Boxes inside a byte slice: (type, payload).
fn boxes_in(b: &[u8]) -> Vec<([u8; 4], &[u8])> {
    let mut out = Vec::new();
    let mut at = 0usize;
    while out.len() < MAX_BOXES && at + 8 <= b.len() {
        let Some(size) = be32(b, at).map(|s| s as usize) else { break };
        if size < 8 || at + size > b.len() {
            break;
        }
        let kind = [b[at + 4], b[at + 5], b[at + 6], b[at + 7]];
        out.push((kind, &b[at + 8..at + size]));
        at += size;
    }
    out
}

/// The content identifier in a QuickTime `meta` payload: its `keys` list gives the
/// key's 1-based index, and `ilst` holds a `data` box under that index.
pub(crate) fn meta_content_id(p: &[u8]) -> Option<String> {
    // QuickTime's `meta` is a plain box; ISO's is a full box (4 bytes of version/flags).
    let body = if p.get(4..8) == Some(b"hdlr") || p.get(4..8) == Some(b"keys") { p } else { p.get(4..)? };
    let items = boxes_in(body);
    let keys = items.iter().find(|(k, _)| k == b"keys")?.1;
    let count = be32(keys, 4)? as usize;
    let mut at = 8usize;
    let mut index = None;
    for i in 1..=count.min(MAX_BOXES) {
        let size = be32(keys, at)? as usize;
        if size < 8 || at.checked_add(size)? > keys.len() {
            return None;
        }
        if &keys[at + 8..at + size] == CONTENT_ID_KEY {
            index = Some(i as u32);
            break;
        }
        at += size;
    }
    let index = index?;
    let ilst = items.iter().find(|(k, _)| k == b"ilst")?.1;
    let item = boxes_in(ilst).into_iter().find(|(k, _)| u32::from_be_bytes(*k) == index)?.1;
    let data = boxes_in(item).into_iter().find(|(k, _)| k == b"data")?.1;
    clean_id(data.get(8..)?)
}

/// An identifier as text: UTF-8, NULs and spaces trimmed, non-empty, not absurdly long.
fn clean_id(b: &[u8]) -> Option<String> {
    let s = std::str::from_utf8(b).ok()?.trim_matches(|c: char| c == '\0' || c.is_whitespace());
    (!s.is_empty() && s.len() <= 256).then(|| s.to_owned())
}

// ---- stills -----------------------------------------------------------------------

/// Apple's content identifier of a still (JPEG or HEIC), from its EXIF maker note.
pub fn still_content_id(path: &Path) -> Option<String> {
    let file = crate::util::open_regular(path, false).ok()?;
    let mut reader = std::io::BufReader::with_capacity(64 * 1024, file);
    let exif = exif::Reader::new().read_from_container(&mut reader).ok()?;
    let field = exif.get_field(exif::Tag::MakerNote, exif::In::PRIMARY)?;
    match &field.value {
        exif::Value::Undefined(bytes, _) => apple_content_id(bytes),
        _ => None,
    }
}

/// Tag 0x0011 of an Apple maker note: `Apple iOS\0`, a 2-byte version, `MM`, then a
/// big-endian IFD whose offsets count from the maker note's start.
pub fn apple_content_id(note: &[u8]) -> Option<String> {
    if !note.starts_with(b"Apple iOS\0") || note.get(12..14) != Some(b"MM") {
        return None;
    }
    let be16 = |at: usize| -> Option<u16> { Some(u16::from_be_bytes(note.get(at..at + 2)?.try_into().ok()?)) };
    let count = be16(14)? as usize;
    for i in 0..count.min(1024) {
        let e = 16 + 12 * i;
        if be16(e)? != 0x0011 {
            continue;
        }
        if be16(e + 2)? != 2 {
            return None; // not ASCII
        }
        let n = be32(note, e + 4)? as usize;
        let bytes = if n <= 4 {
            note.get(e + 8..e + 8 + n)?
        } else {
            let off = be32(note, e + 8)? as usize;
            note.get(off..off.checked_add(n)?)?
        };
        return clean_id(bytes);
    }
    None
}

/// The video inside a motion photo, where it lies in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Embedded {
    pub offset: u64,
    pub length: u64,
}

/// Finds a JPEG's embedded motion video. `Ok(None)`: a plain photo (the common case,
/// decided from its last two bytes: a JPEG that ends in EOI has nothing appended).
pub fn embedded_video(path: &Path) -> std::result::Result<Option<Embedded>, MotionError> {
    let io = |e: std::io::Error| MotionError::Io(e.to_string());
    let mut f = crate::util::open_regular(path, false).map_err(io)?;
    let len = f.metadata().map_err(io)?.len();
    if len < 4 {
        return Ok(None);
    }
    let mut soi = [0u8; 2];
    f.read_exact(&mut soi).map_err(io)?;
    if soi != [0xFF, 0xD8] {
        return Ok(None);
    }
    let mut tail = [0u8; 2];
    f.seek(SeekFrom::Start(len - 2)).map_err(io)?;
    f.read_exact(&mut tail).map_err(io)?;
    if tail == [0xFF, 0xD9] {
        return Ok(None);
    }
    let (xmp, body_start) = jpeg_xmp(&mut f, len);
    if let Some(xmp) = xmp {
        let length = if prop(&xmp, "GCamera:MotionPhoto").as_deref() == Some("1") {
            Some(container_video_length(&xmp).ok_or(MotionError::NoLength)?)
        } else if prop(&xmp, "GCamera:MicroVideo").as_deref() == Some("1") {
            let off = prop(&xmp, "GCamera:MicroVideoOffset").ok_or(MotionError::NoLength)?;
            Some(off.trim().parse::<u64>().map_err(|_| MotionError::NoLength)?)
        } else {
            None
        };
        if let Some(length) = length {
            if length > len {
                return Err(MotionError::BeforeStart { length, len });
            }
            let offset = len - length;
            if offset >= len {
                return Err(MotionError::PastEnd { offset, len });
            }
            check_ftyp(&mut f, offset)?;
            return Ok(Some(Embedded { offset, length }));
        }
    }
    // Samsung: the MP4 follows a `MotionPhoto_Data` marker after the image.
    let Some(marker) = find_marker(&mut f, body_start, len).map_err(io)? else { return Ok(None) };
    let offset = marker + SAMSUNG_MARKER.len() as u64;
    if offset >= len {
        return Err(MotionError::PastEnd { offset, len });
    }
    check_ftyp(&mut f, offset)?;
    // The MP4 is as long as its boxes (a Samsung trailer may follow it).
    let boxes = children(&mut f, offset, len);
    let end = boxes.last().map_or(len, |b| b.end);
    Ok(Some(Embedded { offset, length: end - offset }))
}

fn check_ftyp(f: &mut File, offset: u64) -> std::result::Result<(), MotionError> {
    let mut h = [0u8; 8];
    let ok = f.seek(SeekFrom::Start(offset)).is_ok() && f.read_exact(&mut h).is_ok() && &h[4..8] == b"ftyp";
    if ok {
        Ok(())
    } else {
        Err(MotionError::NotMp4 { offset })
    }
}

/// The XMP packet of a JPEG (walking its segment headers up to the image data) and
/// where the segments end.
fn jpeg_xmp(f: &mut File, len: u64) -> (Option<String>, u64) {
    const XMP_NS: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";
    let mut at = 2u64;
    let mut xmp = None;
    for _ in 0..256 {
        let mut h = [0u8; 4];
        if f.seek(SeekFrom::Start(at)).is_err() || f.read_exact(&mut h).is_err() || h[0] != 0xFF {
            break;
        }
        let marker = h[1];
        if marker == 0xDA || marker == 0xD9 {
            break; // image data (or the end)
        }
        let seg_len = u16::from_be_bytes([h[2], h[3]]) as u64;
        if seg_len < 2 || at + 2 + seg_len > len {
            break;
        }
        if marker == 0xE1 && xmp.is_none() && seg_len - 2 > XMP_NS.len() as u64 {
            let mut body = vec![0u8; (seg_len - 2) as usize];
            if f.read_exact(&mut body).is_ok() && body.starts_with(XMP_NS) {
                xmp = Some(String::from_utf8_lossy(&body[XMP_NS.len()..]).into_owned());
            }
        }
        at += 2 + seg_len;
    }
    (xmp, at)
}

/// An XMP property's value, written as an attribute (`name="v"`) or an element
/// (`<name>v</name>`).
fn prop(xmp: &str, name: &str) -> Option<String> {
    for quote in ['"', '\''] {
        let key = format!("{name}={quote}");
        if let Some(i) = xmp.find(&key) {
            let rest = &xmp[i + key.len()..];
            return rest.find(quote).map(|j| rest[..j].to_owned());
        }
    }
    let open = format!("<{name}>");
    let i = xmp.find(&open)?;
    let rest = &xmp[i + open.len()..];
    rest.find('<').map(|j| rest[..j].trim().to_owned())
}

/// `Item:Length` of the `Container:Directory` item whose semantic is `MotionPhoto`.
fn container_video_length(xmp: &str) -> Option<u64> {
    for part in xmp.split("<Container:Item").skip(1) {
        // Up to the item's end: the next item, whichever form it was written in.
        if prop(part, "Item:Semantic").as_deref() == Some("MotionPhoto") {
            return prop(part, "Item:Length")?.trim().parse().ok();
        }
    }
    None
}

/// Where `MotionPhoto_Data` starts, searching from `from` in 1-MiB chunks.
fn find_marker(f: &mut File, from: u64, len: u64) -> std::io::Result<Option<u64>> {
    const CHUNK: usize = 1 << 20;
    let overlap = SAMSUNG_MARKER.len() - 1;
    let stop = len.min(from.saturating_add(MAX_MARKER_SCAN));
    let mut buf = vec![0u8; CHUNK + overlap];
    let mut at = from;
    while at < stop {
        let n = ((stop - at) as usize).min(buf.len());
        f.seek(SeekFrom::Start(at))?;
        f.read_exact(&mut buf[..n])?;
        if let Some(i) = buf[..n].windows(SAMSUNG_MARKER.len()).position(|w| w == SAMSUNG_MARKER) {
            return Ok(Some(at + i as u64));
        }
        if n < buf.len() {
            break;
        }
        at += CHUNK as u64;
    }
    Ok(None)
}

// ---- pairing ----------------------------------------------------------------------

/// A name's stem and extension (as written: compare it with `eq_ignore_ascii_case`).
fn ext_of(name: &str) -> Option<(&str, &str)> {
    name.rsplit_once('.')
}

fn has_ext(name: &str, exts: &[&str]) -> bool {
    ext_of(name).is_some_and(|(_, e)| exts.iter().any(|x| x.eq_ignore_ascii_case(e)))
}

fn is_live_still(name: &str) -> bool {
    has_ext(name, &["heic", "heif", "jpg", "jpeg"])
}

/// A movie that can be a Live Photo's by its name (the pairing reads its facts).
pub(crate) fn is_live_movie(name: &str) -> bool {
    has_ext(name, &["mov", "mp4"])
}

fn is_jpeg(name: &str) -> bool {
    has_ext(name, &["jpg", "jpeg"])
}

/// The folder of an indexed path (paths are stored with `/`).
pub(crate) fn folder_of(path: &str) -> Option<String> {
    path.rsplit_once('/').map(|(dir, _)| dir.to_owned())
}

/// A motion photo's stored facts: video offset, length, and why it was not usable.
/// A still's embedded video range and why it could not be used (see [`still_motion`]).
pub(crate) type Motion = (Option<i64>, Option<i64>, Option<String>);

/// A Live Photo candidate in a folder (a still or movie by its extension).
struct Row {
    id: MediaId,
    path: String,
    /// Where the name starts in `path`.
    name_at: usize,
    video: bool,
    /// The file's `size:mtime` is the one its facts were read at.
    stamp_ok: bool,
    size: i64,
    mtime_ms: i64,
    live_key: Option<String>,
    clip_ms: Option<i64>,
    live_of: Option<MediaId>,
}

impl Row {
    fn name(&self) -> &str {
        &self.path[self.name_at..]
    }
}

/// A still's embedded video, as stored in `media.motion_offset`, `motion_length` and
/// `motion_note`: a JPEG motion photo's MP4 range, or why its metadata could not be
/// used. Read by the photo-facts job with the photo's date (a bulk scan opens no photo).
pub(crate) fn still_motion(path: &Path) -> Motion {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if !is_jpeg(name) {
        return (None, None, None);
    }
    match embedded_video(path) {
        Ok(Some(e)) => (Some(e.offset as i64), Some(e.length as i64), None),
        Ok(None) | Err(MotionError::Io(_)) => (None, None, None),
        Err(e) => (None, None, Some(e.to_string())),
    }
}

/// Re-pairs the Live Photos in each folder (direct children only) and refreshes what
/// was read from movies that changed. Returns an event for every item whose pairing
/// changed. File reads happen without the database lock; what a run of folders changed
/// is written in one transaction ([`FOLDERS_PER_WRITE`]).
pub(crate) fn pair_folders(db: &Mutex<Connection>, folders: &BTreeSet<String>) -> Result<Vec<LibraryEvent>> {
    let mut events = Vec::new();
    let mut planned = Vec::new();
    for dir in folders {
        planned.extend(plan_folder(db, dir)?);
        if planned.len() >= FOLDERS_PER_WRITE {
            write_plans(db, &mut planned, &mut events)?;
        }
    }
    write_plans(db, &mut planned, &mut events)?;
    Ok(events)
}

/// Whether a movie with these facts can be a Live Photo's at all: by its content
/// identifier, or by name when it is short (the two ways [`plan_folder`] pairs).
pub(crate) fn may_pair(facts: &MovieFacts) -> bool {
    facts.content_id.as_deref().is_some_and(|k| !k.is_empty()) || facts.duration_ms.is_some_and(|ms| ms <= LIVE_MAX_MS)
}

/// The `size:mtime` stamp a movie's facts (`facts_stamp`) were read at.
pub(crate) fn facts_stamp(size: u64, mtime_ms: i64) -> String {
    format!("{size}:{mtime_ms}")
}

/// Folders whose pairing is written per transaction: a commit per folder was a tenth of
/// a 100k-file first scan (1000 folders); 64 keep the lock short for the window's writes.
const FOLDERS_PER_WRITE: usize = 64;

/// The Live Photo candidates of one folder, in path order: only stills and movies by
/// name, read without building what the rest would need.
fn folder_rows(conn: &Connection, dir: &str) -> Result<Vec<Row>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, path, kind, size, mtime_ms, facts_stamp, live_key, clip_ms, live_of
         FROM media WHERE presence != ?2 AND path >= ?1 || '/' AND path < ?1 || '0'
           AND instr(substr(path, length(?1) + 2), '/') = 0
         ORDER BY path",
    )?;
    let mut rows = stmt.query(params![dir, Presence::Deleted])?;
    let mut out = Vec::new();
    let mut stamp = String::new();
    while let Some(r) = rows.next()? {
        let video = r.get_ref(2)?.as_str().map_err(rusqlite::Error::from)? == "video";
        let path = r.get_ref(1)?.as_str().map_err(rusqlite::Error::from)?;
        let name_at = path.rfind('/').map_or(0, |i| i + 1);
        let name = &path[name_at..];
        if !(if video { is_live_movie(name) } else { is_live_still(name) }) {
            continue;
        }
        let (size, mtime_ms): (i64, i64) = (r.get(3)?, r.get(4)?);
        stamp.clear();
        use std::fmt::Write as _;
        let _ = write!(stamp, "{size}:{mtime_ms}"); // facts_stamp's, without a String per row
        let old = r.get_ref(5)?.as_str_or_null().map_err(rusqlite::Error::from)?;
        out.push(Row {
            id: r.get(0)?,
            path: path.to_owned(),
            name_at,
            video,
            stamp_ok: old == Some(stamp.as_str()),
            size,
            mtime_ms,
            live_key: r.get(6)?,
            clip_ms: r.get(7)?,
            live_of: r.get(8)?,
        });
    }
    Ok(out)
}

/// What pairing one folder found, to be written.
struct Plan {
    rows: Vec<Row>,
    /// Movies whose facts were read now.
    fresh: Vec<usize>,
    /// Stills whose content identifier was read now.
    keys_read: Vec<(MediaId, String)>,
    /// Movie -> still.
    pairs: HashMap<MediaId, MediaId>,
    movies: Vec<usize>,
}

/// Reads one folder's rows (under the lock) and its changed movies' facts (without it)
/// and pairs them. None when the folder has no movie: nothing to pair (and a still's own
/// facts, its embedded video, are read with its date by the photo-facts job:
/// `still_motion`).
fn plan_folder(db: &Mutex<Connection>, dir: &str) -> Result<Option<Plan>> {
    let mut rows = folder_rows(&lock(db), dir)?;
    if !rows.iter().any(|r| r.video) {
        return Ok(None);
    }
    // Facts of movies that changed (or were never read): no lock held while reading.
    let fresh: Vec<usize> = (0..rows.len()).filter(|&i| rows[i].video && !rows[i].stamp_ok).collect();
    for &i in &fresh {
        let r = &mut rows[i];
        let facts = movie_facts(Path::new(&r.path));
        r.live_key = Some(facts.content_id.unwrap_or_default());
        r.clip_ms = facts.duration_ms;
    }
    // A still whose file changed has its content identifier read again when needed.
    for r in rows.iter_mut().filter(|r| !r.video && !r.stamp_ok) {
        r.live_key = None;
    }
    // Pairing: by identifier first, then by name for short movies.
    let movies: Vec<usize> = (0..rows.len()).filter(|&i| rows[i].video).collect();
    let stills: Vec<usize> = (0..rows.len()).filter(|&i| !rows[i].video).collect();
    let mut keys_read: Vec<(MediaId, String)> = Vec::new();
    let mut pairs: HashMap<MediaId, MediaId> = HashMap::new();
    let mut taken: HashSet<MediaId> = HashSet::new();
    let any_keyed_movie = movies.iter().any(|&m| rows[m].live_key.as_deref().is_some_and(|k| !k.is_empty()));
    if any_keyed_movie {
        for &s in &stills {
            if rows[s].live_key.is_none() {
                let key = still_content_id(Path::new(&rows[s].path)).unwrap_or_default();
                keys_read.push((rows[s].id, key.clone()));
                rows[s].live_key = Some(key);
            }
        }
    }
    for &m in &movies {
        let Some(key) = rows[m].live_key.as_deref().filter(|k| !k.is_empty()) else { continue };
        let same = |s: usize| !taken.contains(&rows[s].id) && rows[s].live_key.as_deref() == Some(key);
        if let Some(&s) = stills.iter().find(|&&s| same(s)) {
            pairs.insert(rows[m].id, rows[s].id);
            taken.insert(rows[s].id);
        }
    }
    for &m in &movies {
        let movie = &rows[m];
        if pairs.contains_key(&movie.id) || !movie.clip_ms.is_some_and(|ms| ms <= LIVE_MAX_MS) {
            continue;
        }
        let Some((stem, _)) = ext_of(movie.name()) else { continue };
        let mkey = movie.live_key.as_deref().unwrap_or("");
        let found = stills.iter().find(|&&s| {
            let still = &rows[s];
            let skey = still.live_key.as_deref().unwrap_or("");
            !taken.contains(&still.id)
                && ext_of(still.name()).is_some_and(|(st, _)| st.eq_ignore_ascii_case(stem))
                && (mkey.is_empty() || skey.is_empty() || mkey == skey)
        });
        if let Some(&s) = found {
            pairs.insert(movie.id, rows[s].id);
            taken.insert(rows[s].id);
        }
    }
    Ok(Some(Plan { rows, fresh, keys_read, pairs, movies }))
}

/// Writes what [`plan_folder`] found for some folders, in one transaction, and says
/// which items' pairing changed.
fn write_plans(db: &Mutex<Connection>, plans: &mut Vec<Plan>, events: &mut Vec<LibraryEvent>) -> Result<()> {
    if plans.is_empty() {
        return Ok(());
    }
    let mut conn = lock(db);
    let tx = conn.transaction()?;
    for plan in plans.drain(..) {
        write_plan(&tx, &plan, events)?;
    }
    tx.commit()?;
    Ok(())
}

fn write_plan(tx: &Connection, plan: &Plan, events: &mut Vec<LibraryEvent>) -> Result<()> {
    let Plan { rows, fresh, keys_read, pairs, movies } = plan;
    for &i in fresh {
        let Row { id, size, mtime_ms, live_key: key, clip_ms: clip, .. } = &rows[i];
        let stamp = facts_stamp(*size as u64, *mtime_ms);
        tx.prepare_cached("UPDATE media SET facts_stamp = ?2, live_key = ?3, clip_ms = ?4 WHERE id = ?1")?
            .execute(params![id, stamp, key, clip])?;
    }
    for (id, key) in keys_read {
        tx.prepare_cached("UPDATE media SET live_key = ?2 WHERE id = ?1")?.execute(params![id, key])?;
    }
    for &m in movies {
        let movie = &rows[m];
        let want = pairs.get(&movie.id).copied();
        if want == movie.live_of {
            continue;
        }
        tx.execute("UPDATE media SET live_of = ?2 WHERE id = ?1", params![movie.id, want])?;
        match want {
            // The still is the cover: the movie's analysis is not needed.
            Some(_) => {
                tx.execute("DELETE FROM jobs WHERE media_id = ?1 AND state = ?2", params![movie.id, JobState::Queued])?;
            }
            // An ordinary video again: analysed like any other.
            None => {
                let needs_job: bool = tx.query_row(
                    "SELECT m.state != ?2 AND NOT EXISTS
                       (SELECT 1 FROM jobs j WHERE j.media_id = m.id AND (j.state = ?3 OR j.state = ?4))
                     FROM media m WHERE m.id = ?1",
                    params![movie.id, MediaState::Ready, JobState::Queued, JobState::Running],
                    |r| r.get(0),
                )?;
                if needs_job {
                    tx.execute(
                        "UPDATE media SET state = ?2, error = NULL WHERE id = ?1",
                        params![movie.id, MediaState::Pending],
                    )?;
                    crate::jobs::enqueue_tx(tx, movie.id, 0)?;
                }
            }
        }
        events.push(LibraryEvent::MediaChanged { id: movie.id, path: PathBuf::from(&movie.path) });
        for still in [movie.live_of, want].into_iter().flatten() {
            if let Some(r) = rows.iter().find(|r| r.id == still) {
                events.push(LibraryEvent::MediaChanged { id: r.id, path: PathBuf::from(&r.path) });
            }
        }
    }
    Ok(())
}

/// Folders of `paths`, for [`pair_folders`].
pub(crate) fn folders_of<'a>(paths: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
    paths.into_iter().filter_map(folder_of).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An Apple maker note holding `id` as tag 0x0011 (and one other tag before it).
    pub(crate) fn apple_note(id: &str) -> Vec<u8> {
        let mut n = b"Apple iOS\0".to_vec();
        n.extend_from_slice(&[0, 1]);
        n.extend_from_slice(b"MM");
        n.extend_from_slice(&2u16.to_be_bytes());
        let data_at = 16 + 2 * 12 + 4;
        let mut value = id.as_bytes().to_vec();
        value.push(0);
        // tag 0x0001 (SLONG 1, inline), then 0x0011 (ASCII, at data_at).
        for (tag, ty, count, v) in [(1u16, 9u16, 1u32, 7u32), (0x11, 2, value.len() as u32, data_at as u32)] {
            n.extend_from_slice(&tag.to_be_bytes());
            n.extend_from_slice(&ty.to_be_bytes());
            n.extend_from_slice(&count.to_be_bytes());
            n.extend_from_slice(&v.to_be_bytes());
        }
        n.extend_from_slice(&0u32.to_be_bytes());
        n.extend_from_slice(&value);
        n
    }

    #[test]
    fn reads_apple_maker_notes_and_refuses_others() {
        assert_eq!(apple_content_id(&apple_note("A1B2-C3")).as_deref(), Some("A1B2-C3"));
        assert_eq!(apple_content_id(b"Nikon\0\x02\x10\0\0MM*\0"), None);
        let mut cut = apple_note("A1B2-C3");
        cut.truncate(30);
        assert_eq!(apple_content_id(&cut), None, "a truncated note");
        let mut far = apple_note("X");
        let at = 16 + 12 + 8;
        far[at..at + 4].copy_from_slice(&u32::MAX.to_be_bytes());
        let at = 16 + 12 + 4;
        far[at..at + 4].copy_from_slice(&100u32.to_be_bytes());
        assert_eq!(apple_content_id(&far), None, "an offset past the note");
    }

    #[test]
    fn mvhd_durations() {
        let mut v0 = vec![0u8; 100];
        v0[12..16].copy_from_slice(&600u32.to_be_bytes());
        v0[16..20].copy_from_slice(&1800u32.to_be_bytes());
        assert_eq!(mvhd_duration_ms(&v0), Some(3000));
        let mut v1 = vec![0u8; 112];
        v1[0] = 1;
        v1[20..24].copy_from_slice(&1000u32.to_be_bytes());
        v1[24..32].copy_from_slice(&10_500u64.to_be_bytes());
        assert_eq!(mvhd_duration_ms(&v1), Some(10_500));
        assert_eq!(mvhd_duration_ms(&[0u8; 10]), None);
        let mut zero = v0.clone();
        zero[12..16].copy_from_slice(&0u32.to_be_bytes());
        assert_eq!(mvhd_duration_ms(&zero), None);
    }

    #[test]
    fn xmp_properties_in_both_forms() {
        let xmp = r#"<rdf:Description GCamera:MotionPhoto="1"><GCamera:MicroVideoOffset>123</GCamera:MicroVideoOffset>
            <Container:Directory><rdf:Seq>
            <rdf:li rdf:parseType="Resource">
              <Container:Item Item:Mime="image/jpeg" Item:Semantic="Primary" Item:Length="0"/></rdf:li>
            <rdf:li rdf:parseType="Resource">
              <Container:Item Item:Mime="video/mp4" Item:Semantic="MotionPhoto" Item:Length="4567"/></rdf:li>
            </rdf:Seq></Container:Directory>"#;
        assert_eq!(prop(xmp, "GCamera:MotionPhoto").as_deref(), Some("1"));
        assert_eq!(prop(xmp, "GCamera:MicroVideoOffset").as_deref(), Some("123"));
        assert_eq!(container_video_length(xmp), Some(4567));
        assert_eq!(container_video_length("<Container:Item Item:Semantic=\"Primary\"/>"), None);
    }
}
