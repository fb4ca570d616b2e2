//! HEIC and AVIF photos made by real encoders (`heif-enc` with x265 and libaom, FFmpeg's
//! libaom), decoded through libheif: the thumbnail shows the photo's own colours at the
//! right size, and damaged or hostile files are refused with a reason.

use std::path::{Path, PathBuf};
use std::process::Command;

use keepsake_imaging::ImagingError;

fn media(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/media").join(name)
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e} (scripts/setup.sh installs it)"));
    assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A 1200x900 copy of a registry photo as PNG, and its HEIF/AVIF encodings.
fn source(dir: &Path) -> PathBuf {
    let png = dir.join("cat.png");
    image::open(media("chelsea.png"))
        .unwrap()
        .resize_exact(1200, 900, image::imageops::FilterType::Triangle)
        .save(&png)
        .unwrap();
    png
}

fn heif_enc(src: &Path, out: &Path, extra: &[&str]) {
    run(Command::new("heif-enc").args(["-q", "80"]).args(extra).arg(src).arg("-o").arg(out));
}

/// Mean RGB of each cell of a 4x3 grid: where the picture's colours are.
fn cells(img: &image::RgbImage) -> Vec<[f64; 3]> {
    let (w, h) = (img.width(), img.height());
    let mut out = Vec::new();
    for cy in 0..3 {
        for cx in 0..4 {
            let mut sum = [0f64; 3];
            let mut n = 0.0;
            for y in (cy * h / 3)..((cy + 1) * h / 3) {
                for x in (cx * w / 4)..((cx + 1) * w / 4) {
                    let p = img.get_pixel(x, y);
                    for c in 0..3 {
                        sum[c] += f64::from(p[c]);
                    }
                    n += 1.0;
                }
            }
            out.push(sum.map(|s| s / n));
        }
    }
    out
}

fn worst_cell_difference(a: &image::RgbImage, b: &image::RgbImage) -> f64 {
    let b = image::imageops::resize(b, a.width(), a.height(), image::imageops::FilterType::Triangle);
    cells(a).iter().zip(cells(&b)).flat_map(|(x, y)| (0..3).map(move |c| (x[c] - y[c]).abs())).fold(0.0, f64::max)
}

fn check_thumbnail(photo: &Path, src: &Path, dir: &Path) {
    let out = dir.join(format!("{}.jpg", photo.file_name().unwrap().to_string_lossy()));
    let t = keepsake_heif::thumbnail(photo, &out, 512, 50_000_000).unwrap();
    assert_eq!((t.width, t.height), (512, 384));
    assert_eq!(keepsake_heif::dimensions(photo).unwrap(), (1200, 900));
    let thumb = image::open(&out).unwrap().to_rgb8();
    assert_eq!(thumb.dimensions(), (512, 384));
    let diff = worst_cell_difference(&thumb, &image::open(src).unwrap().to_rgb8());
    // A swapped channel, a wrong matrix or range would move some cell by 20 or more.
    assert!(diff < 8.0, "{}: a region's colour is {diff:.1} off the original", photo.display());
}

#[test]
fn heic_and_avif_from_real_encoders_show_their_own_colours() {
    let dir = tempfile::tempdir().unwrap();
    let src = source(dir.path());
    let heic = dir.path().join("IMG_0042.HEIC");
    heif_enc(&src, &heic, &[]);
    check_thumbnail(&heic, &src, dir.path());

    let avif = dir.path().join("photo.avif");
    heif_enc(&src, &avif, &["-A"]);
    check_thumbnail(&avif, &src, dir.path());

    // 10-bit AVIF written by FFmpeg's libaom, limited range BT.709.
    let avif10 = dir.path().join("photo10.avif");
    run(Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i"])
        .arg(&src)
        .args([
            "-c:v",
            "libaom-av1",
            "-still-picture",
            "1",
            "-cpu-used",
            "8",
            "-crf",
            "20",
            "-pix_fmt",
            "yuv420p10le",
            "-color_primaries",
            "bt709",
            "-color_trc",
            "bt709",
            "-colorspace",
            "bt709",
            "-frames:v",
            "1",
        ])
        .arg(&avif10));
    check_thumbnail(&avif10, &src, dir.path());
    assert!(keepsake_heif::libheif_version().starts_with("1."));
}

#[test]
fn damaged_and_hostile_heif_files_are_refused_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let src = source(dir.path());
    let heic = dir.path().join("good.heic");
    heif_enc(&src, &heic, &[]);
    let bytes = std::fs::read(&heic).unwrap();
    let out = dir.path().join("out.jpg");
    let limit = 50_000_000;

    // Truncated mid-picture (a copy still in progress).
    let truncated = dir.path().join("truncated.heic");
    std::fs::write(&truncated, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let err = keepsake_heif::thumbnail(&truncated, &out, 512, limit).unwrap_err();
    assert!(matches!(err, ImagingError::Undecodable { .. } | ImagingError::NotImage { .. }), "{err}");
    assert!(!err.to_string().contains('\n'), "{err:?}");

    // Declares 30 000 x 30 000 pixels in its `ispe`: refused before anything is decoded;
    // past libheif's own limit (32 768 a side) libheif refuses it while reading.
    let declaring = |side: u32, name: &str| {
        let mut huge = bytes.clone();
        let at = huge.windows(4).position(|w| w == b"ispe").expect("heif-enc writes an ispe") + 8;
        huge[at..at + 4].copy_from_slice(&side.to_be_bytes());
        huge[at + 4..at + 8].copy_from_slice(&side.to_be_bytes());
        let bomb = dir.path().join(name);
        std::fs::write(&bomb, &huge).unwrap();
        keepsake_heif::thumbnail(&bomb, &out, 512, limit)
    };
    match declaring(30_000, "bomb.heic") {
        Err(ImagingError::TooLarge { width: 30_000, height: 30_000, .. }) => {}
        other => panic!("expected TooLarge, got {other:?}"),
    }
    let err = declaring(60_000, "bigger.heic").unwrap_err();
    assert!(err.to_string().contains("exceeds the maximum image size"), "{err}");
    assert!(!err.to_string().contains('\n'), "one line, as a tile shows it: {err:?}");

    // An AVIF whose coded picture is garbage.
    let avif = dir.path().join("broken.avif");
    heif_enc(&src, &avif, &["-A"]);
    let mut broken = std::fs::read(&avif).unwrap();
    let mdat = broken.windows(4).position(|w| w == b"mdat").unwrap() + 4;
    for (i, b) in broken[mdat + 16..].iter_mut().enumerate() {
        *b = (i * 7919 % 251) as u8;
    }
    std::fs::write(&avif, &broken).unwrap();
    assert!(keepsake_heif::thumbnail(&avif, &out, 512, limit).is_err());

    // Not HEIF at all, empty, missing, a directory.
    let jpeg = dir.path().join("lying.heic");
    std::fs::copy(media("rocket.jpg"), &jpeg).unwrap();
    assert!(matches!(keepsake_heif::thumbnail(&jpeg, &out, 512, limit), Err(ImagingError::NotImage { .. })));
    let empty = dir.path().join("empty.heic");
    std::fs::write(&empty, b"").unwrap();
    assert!(matches!(keepsake_heif::thumbnail(&empty, &out, 512, limit), Err(ImagingError::Empty { .. })));
    let missing = dir.path().join("missing.heic");
    assert!(matches!(keepsake_heif::thumbnail(&missing, &out, 512, limit), Err(ImagingError::NotFound { .. })));
    assert!(matches!(keepsake_heif::thumbnail(dir.path(), &out, 512, limit), Err(ImagingError::NotImage { .. })));
    assert!(!out.exists(), "nothing was written for a refused photo");
}

/// The top-level or child boxes of `b[start..end]`: (type, offset, size).
fn boxes(b: &[u8], start: usize, end: usize) -> Vec<([u8; 4], usize, usize)> {
    let mut out = Vec::new();
    let mut i = start;
    while i + 8 <= end {
        let size = u32::from_be_bytes(b[i..i + 4].try_into().unwrap()) as usize;
        out.push((b[i + 4..i + 8].try_into().unwrap(), i, size));
        i += size;
    }
    out
}

fn read_be(b: &[u8], at: usize, n: usize) -> u64 {
    b[at..at + n].iter().fold(0, |v, &x| (v << 8) | u64::from(x))
}

fn write_be(b: &mut [u8], at: usize, n: usize, v: u64) {
    for k in 0..n {
        b[at + k] = (v >> (8 * (n - 1 - k))) as u8;
    }
}

/// `heic` (as heif-enc writes it: ftyp, meta, mdat) with an `irot` property (`quarter_turns`
/// anticlockwise, as phones write it) associated with the primary item: the property is
/// appended to `ipco`, its index to item 1's `ipma` entry, the enclosing boxes grow, and
/// `iloc`'s file offsets move past the bigger `meta`.
fn with_irot(heic: &[u8], quarter_turns: u8) -> Vec<u8> {
    let top = boxes(heic, 0, heic.len());
    let &(_, meta_at, meta_size) = top.iter().find(|b| &b.0 == b"meta").unwrap();
    assert!(top.iter().any(|b| &b.0 == b"mdat" && b.1 > meta_at), "mdat after meta");
    let children = boxes(heic, meta_at + 12, meta_at + meta_size);
    let &(_, iprp_at, iprp_size) = children.iter().find(|b| &b.0 == b"iprp").unwrap();
    let props = boxes(heic, iprp_at + 8, iprp_at + iprp_size);
    let &(_, ipco_at, ipco_size) = props.iter().find(|b| &b.0 == b"ipco").unwrap();
    let &(_, ipma_at, ipma_size) = props.iter().find(|b| &b.0 == b"ipma").unwrap();
    let index = boxes(heic, ipco_at + 8, ipco_at + ipco_size).len() + 1;
    // ipma: version, flags, entry count, then per item: id, count, associations.
    let ipma = &heic[ipma_at..ipma_at + ipma_size];
    let (version, wide) = (ipma[8], ipma[11] & 1 == 1);
    let id_len = if version < 1 { 2 } else { 4 };
    let mut at = 16;
    let mut new_ipma = ipma[..16].to_vec();
    for _ in 0..read_be(ipma, 12, 4) {
        let id = read_be(ipma, at, id_len);
        let count = ipma[at + id_len] as usize;
        let len = id_len + 1 + count * if wide { 2 } else { 1 };
        let mut entry = ipma[at..at + len].to_vec();
        if id == 1 {
            entry[id_len] += 1;
            if wide {
                entry.extend_from_slice(&(0x8000u16 | index as u16).to_be_bytes());
            } else {
                entry.push(0x80 | index as u8);
            }
        }
        new_ipma.extend_from_slice(&entry);
        at += len;
    }
    let grow_ipma = new_ipma.len() - ipma_size;
    let ipma_len = new_ipma.len() as u64;
    write_be(&mut new_ipma, 0, 4, ipma_len);
    let irot = [0, 0, 0, 9, b'i', b'r', b'o', b't', quarter_turns];
    let grow = irot.len() + grow_ipma;

    let mut out = heic[..ipco_at + ipco_size].to_vec();
    out.extend_from_slice(&irot);
    out.extend_from_slice(&heic[ipco_at + ipco_size..ipma_at]);
    out.extend_from_slice(&new_ipma);
    out.extend_from_slice(&heic[ipma_at + ipma_size..]);
    for (at, size, by) in [(ipco_at, ipco_size, irot.len()), (iprp_at, iprp_size, grow), (meta_at, meta_size, grow)] {
        write_be(&mut out, at, 4, (size + by) as u64);
    }
    // iloc (before iprp, so at the same place): every item's file offset moves by `grow`.
    let &(_, iloc_at, _) = children.iter().find(|b| &b.0 == b"iloc").unwrap();
    let version = out[iloc_at + 8];
    let (off_len, len_len) = ((out[iloc_at + 12] >> 4) as usize, (out[iloc_at + 12] & 15) as usize);
    let (base_len, index_len) = ((out[iloc_at + 13] >> 4) as usize, (out[iloc_at + 13] & 15) as usize);
    let (count, mut at) = if version < 2 {
        (read_be(&out, iloc_at + 14, 2), iloc_at + 16)
    } else {
        (read_be(&out, iloc_at + 14, 4), iloc_at + 18)
    };
    for _ in 0..count {
        at += if version < 2 { 2 } else { 4 };
        let method = if version >= 1 {
            let m = read_be(&out, at, 2) & 15;
            at += 2;
            m
        } else {
            0
        };
        at += 2; // data reference index
        let base_at = at;
        at += base_len;
        let extents = read_be(&out, at, 2);
        at += 2;
        for _ in 0..extents {
            if version >= 1 {
                at += index_len;
            }
            if method == 0 && base_len == 0 {
                let v = read_be(&out, at, off_len);
                write_be(&mut out, at, off_len, v + grow as u64);
            }
            at += off_len + len_len;
        }
        if method == 0 && base_len > 0 {
            let v = read_be(&out, base_at, base_len);
            write_be(&mut out, base_at, base_len, v + grow as u64);
        }
    }
    out
}

/// A phone held upright stores its picture sideways and says so in `irot`; libheif turns
/// it (EXIF orientation in a HEIF is ignored, as the format says): a 1200x900 picture
/// with a quarter turn comes out 900x1200, its top-left corner where a person sees it.
#[test]
fn heif_rotation_is_applied() {
    let dir = tempfile::tempdir().unwrap();
    let src = source(dir.path());
    let heic = dir.path().join("flat.heic");
    heif_enc(&src, &heic, &[]);
    let turned = dir.path().join("turned.heic");
    std::fs::write(&turned, with_irot(&std::fs::read(&heic).unwrap(), 1)).unwrap();
    assert_eq!(keepsake_heif::dimensions(&turned).unwrap(), (900, 1200));
    // The index's header-only reading (pure Rust, in the app) agrees.
    let info = keepsake_imaging::photo_info(&turned).unwrap();
    assert_eq!((info.width, info.height), (900, 1200));
    let out = dir.path().join("turned.jpg");
    let t = keepsake_heif::thumbnail(&turned, &out, 512, 50_000_000).unwrap();
    assert_eq!((t.width, t.height), (384, 512));
    // irot 1 is a quarter turn anticlockwise: the original's top-right corner is now
    // top-left. Compare the thumbnail with the source turned the same way.
    let want = image::imageops::rotate270(&image::open(&src).unwrap().to_rgb8());
    let got = image::open(&out).unwrap().to_rgb8();
    let diff = worst_cell_difference(&got, &want);
    assert!(diff < 8.0, "turned the wrong way: a region is {diff:.1} off");
    let wrong = worst_cell_difference(&got, &image::imageops::rotate90(&image::open(&src).unwrap().to_rgb8()));
    assert!(wrong > 20.0, "the test picture must tell the two turns apart ({wrong:.1})");
}
