//! Every still format a family album holds, made at test time with ImageMagick, exiftool
//! and heif-enc, thumbnailed and checked for what a person would see: the colours of
//! each region, and which way up the picture is.

use std::path::{Path, PathBuf};
use std::process::Command;

use image::metadata::Orientation;
use image::{DynamicImage, RgbImage};
use keepsake_imaging::{
    exif_date, exif_facts, photo_info, sniff, thumbnail, ImagingError, PhotoFormat, Place, DEFAULT_MAX_PIXELS,
};

/// Red, green / blue, yellow quadrants with a white stripe at the top: a wrong CMYK
/// inversion turns red cyan, swapped channels turn it blue, a wrong turn moves them.
fn source() -> RgbImage {
    RgbImage::from_fn(400, 300, |x, y| {
        if y < 30 {
            return image::Rgb([255, 255, 255]);
        }
        match (x < 200, y < 165) {
            (true, true) => image::Rgb([220, 30, 30]),
            (false, true) => image::Rgb([30, 200, 40]),
            (true, false) => image::Rgb([30, 40, 210]),
            (false, false) => image::Rgb([230, 220, 40]),
        }
    })
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
}

fn convert(args: &[&str]) {
    run(Command::new("convert").args(args));
}

fn exiftool(args: &[&str]) -> String {
    let out = Command::new("exiftool").args(args).output().expect("exiftool");
    assert!(out.status.success(), "exiftool {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Mean colour of the cell (i, j) of a 4×4 grid, with a margin so edges blur nothing.
fn cell(img: &RgbImage, i: u32, j: u32) -> [f64; 3] {
    let (w, h) = (img.width(), img.height());
    let (x0, x1) = (w * (4 * i + 1) / 16, w * (4 * i + 3) / 16);
    let (y0, y1) = (h * (4 * j + 1) / 16, h * (4 * j + 3) / 16);
    let mut sum = [0f64; 3];
    let mut n = 0f64;
    for y in y0..y1.max(y0 + 1) {
        for x in x0..x1.max(x0 + 1) {
            let p = img.get_pixel(x, y);
            for c in 0..3 {
                sum[c] += f64::from(p[c]);
            }
            n += 1.0;
        }
    }
    sum.map(|s| s / n)
}

/// The thumbnail at `thumb` shows `expected`: same aspect, same colours in every cell
/// of a 4×4 grid within `tolerance` per channel.
fn assert_looks_like(thumb: &Path, expected: &RgbImage, tolerance: f64, what: &str) {
    let got = image::open(thumb).unwrap().to_rgb8();
    let (ew, eh) = (f64::from(expected.width()), f64::from(expected.height()));
    let (gw, gh) = (f64::from(got.width()), f64::from(got.height()));
    assert!((ew / eh - gw / gh).abs() < 0.02, "{what}: {}x{} is not the shape of {ew}x{eh}", got.width(), got.height());
    for i in 0..4 {
        for j in 0..4 {
            let (e, g) = (cell(expected, i, j), cell(&got, i, j));
            let off = (0..3).map(|c| (e[c] - g[c]).abs()).fold(0.0, f64::max);
            assert!(off <= tolerance, "{what}: cell ({i},{j}) is {g:?}, expected {e:?}");
        }
    }
}

fn upright(img: &RgbImage, orientation: Orientation) -> RgbImage {
    let mut d = DynamicImage::ImageRgb8(img.clone());
    d.apply_orientation(orientation);
    d.to_rgb8()
}

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        source().save(dir.path().join("src.png")).unwrap();
        Fixture { dir }
    }
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    fn s(&self, name: &str) -> String {
        self.path(name).to_string_lossy().into_owned()
    }
    /// Thumbnails `name` at 200 px and checks it against the source turned by `o`.
    fn check(&self, name: &str, o: Orientation, tolerance: f64) {
        let out = self.path(&format!("{name}.thumb.jpg"));
        let t = thumbnail(&self.path(name), &out, 200, DEFAULT_MAX_PIXELS).unwrap_or_else(|e| panic!("{name}: {e}"));
        let expected = upright(&source(), o);
        assert_eq!(t.width.max(t.height), 200, "{name}");
        assert_eq!(t.width > t.height, expected.width() > expected.height(), "{name} upright");
        assert_looks_like(&out, &expected, tolerance, name);
        let info = photo_info(&self.path(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        if info.format == PhotoFormat::Raw {
            // A RAW's size is its sensor picture's (the fixtures' is 64×48), same shape.
            assert_eq!(info.width * expected.height(), info.height * expected.width(), "{name} photo_info");
        } else {
            assert_eq!((info.width, info.height), (expected.width(), expected.height()), "{name} photo_info");
        }
    }
}

#[test]
fn raster_formats_come_out_with_the_right_colours() {
    let f = Fixture::new();
    let src = f.s("src.png");
    convert(&[&src, "-colorspace", "CMYK", "-quality", "95", &f.s("cmyk.jpg")]);
    convert(&[&src, "-interlace", "Plane", "-quality", "92", &f.s("progressive.jpg")]);
    convert(&[&src, "-depth", "16", &f.s("deep.png")]);
    convert(&[&src, "-depth", "16", "-compress", "LZW", &f.s("deep-lzw.tif")]);
    convert(&[&src, "-compress", "Zip", &f.s("zip.tif")]);
    convert(&[&src, "-compress", "LZW", &f.s("lzw.tif")]);
    convert(&[&src, "-rotate", "90", &f.s("turned.png")]);
    convert(&[&src, &f.s("turned.png"), &f.s("two-pages.tif")]);
    run(Command::new("convert").args([&src, &f.s("plain.bmp")]));
    for (name, tolerance) in [
        ("cmyk.jpg", 25.0),
        ("progressive.jpg", 16.0),
        ("deep.png", 8.0),
        ("deep-lzw.tif", 8.0),
        ("zip.tif", 8.0),
        ("lzw.tif", 8.0),
        ("two-pages.tif", 8.0),
        ("plain.bmp", 8.0),
    ] {
        f.check(name, Orientation::NoTransforms, tolerance);
    }
    assert_eq!(sniff(&f.path("cmyk.jpg")).unwrap(), PhotoFormat::Jpeg);
    assert_eq!(sniff(&f.path("zip.tif")).unwrap(), PhotoFormat::Tiff);
    assert_eq!(sniff(&f.path("plain.bmp")).unwrap(), PhotoFormat::Bmp);
}

/// YCCK, as Photoshop writes CMYK JPEGs, with its inverted (Adobe) ink values; checked
/// against ImageMagick's (libjpeg's) own reading of the same file.
#[test]
fn ycck_jpegs_come_out_with_the_right_colours() {
    let f = Fixture::new();
    let src = source();
    // Ink from light: C = 255 − R, ..., no black.
    let ink: Vec<u8> = src.pixels().flat_map(|p| [255 - p[0], 255 - p[1], 255 - p[2], 0]).collect();
    let path = f.path("ycck.jpg");
    let enc = jpeg_encoder::Encoder::new_file(&path, 95).unwrap();
    enc.encode(&ink, 400, 300, jpeg_encoder::ColorType::CmykAsYcck).unwrap();
    f.check("ycck.jpg", Orientation::NoTransforms, 25.0);
    // ImageMagick agrees on what the file shows.
    convert(&[&f.s("ycck.jpg"), "-colorspace", "sRGB", &f.s("ycck-im.png")]);
    assert_looks_like(&f.path("ycck-im.png"), &src, 25.0, "ImageMagick's reading");
    // Plain CMYK with the Adobe segment, as jpeg-encoder writes it.
    let enc = jpeg_encoder::Encoder::new_file(f.path("adobe-cmyk.jpg"), 95).unwrap();
    enc.encode(&ink, 400, 300, jpeg_encoder::ColorType::Cmyk).unwrap();
    f.check("adobe-cmyk.jpg", Orientation::NoTransforms, 25.0);
}

#[test]
fn greyscale_photos_stay_grey() {
    let f = Fixture::new();
    let grey = image::GrayImage::from_fn(400, 300, |x, y| {
        image::Luma([if x < 200 { 40 } else { 200 } + if y < 150 { 0 } else { 30 }])
    });
    grey.save(f.path("grey.png")).unwrap();
    convert(&[&f.s("grey.png"), "-colorspace", "Gray", "-quality", "95", &f.s("grey.jpg")]);
    let expected = DynamicImage::ImageLuma8(grey).to_rgb8();
    for name in ["grey.png", "grey.jpg"] {
        let out = f.path(&format!("{name}.thumb.jpg"));
        thumbnail(&f.path(name), &out, 200, DEFAULT_MAX_PIXELS).unwrap();
        assert_looks_like(&out, &expected, 8.0, name);
    }
}

#[test]
fn exif_and_tiff_orientation_turn_every_format_upright() {
    let f = Fixture::new();
    let src = f.s("src.png");
    convert(&[&src, "-quality", "95", &f.s("turned.jpg")]);
    exiftool(&["-overwrite_original", "-Orientation#=6", &f.s("turned.jpg")]);
    convert(&[&src, "-quality", "95", &f.s("cmyk-turned.jpg")]);
    convert(&[&src, "-colorspace", "CMYK", "-quality", "95", &f.s("cmyk-turned.jpg")]);
    exiftool(&["-overwrite_original", "-Orientation#=8", &f.s("cmyk-turned.jpg")]);
    convert(&[&src, "-orient", "RightTop", "-compress", "LZW", &f.s("turned.tif")]);
    assert_eq!(exiftool(&["-Orientation#", "-s3", &f.s("turned.tif")]), "6");
    convert(&[&src, "-interlace", "Plane", &f.s("turned-progressive.jpg")]);
    exiftool(&["-overwrite_original", "-Orientation#=3", &f.s("turned-progressive.jpg")]);
    f.check("turned.jpg", Orientation::Rotate90, 16.0);
    f.check("cmyk-turned.jpg", Orientation::Rotate270, 25.0);
    f.check("turned.tif", Orientation::Rotate90, 16.0);
    f.check("turned-progressive.jpg", Orientation::Rotate180, 16.0);
}

#[test]
fn pixel_limit_applies_to_every_format() {
    let f = Fixture::new();
    let src = f.s("src.png");
    for name in ["a.tif", "a.bmp", "a.jpg", "a.png"] {
        convert(&[&src, &f.s(name)]);
        let err = thumbnail(&f.path(name), &f.path("t.jpg"), 200, 10_000).unwrap_err();
        assert!(matches!(err, ImagingError::TooLarge { .. }), "{name}: {err}");
    }
}

// ---- RAW -------------------------------------------------------------------------

enum Val {
    Short(Vec<u16>),
    Long(Vec<u32>),
    Byte(Vec<u8>),
    Ascii(&'static str),
    Rational(Vec<(u32, u32)>),
}

/// Appends a little-endian IFD at an even offset; returns its offset and where its
/// next-IFD field is.
fn write_ifd(buf: &mut Vec<u8>, entries: &mut [(u16, Val)]) -> (u32, usize) {
    if buf.len() % 2 == 1 {
        buf.push(0);
    }
    entries.sort_by_key(|e| e.0);
    let at = buf.len();
    let mut extra_at = at + 2 + entries.len() * 12 + 4;
    let mut extra = Vec::new();
    buf.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    for (tag, val) in entries.iter() {
        let (typ, count, bytes): (u16, usize, Vec<u8>) = match val {
            Val::Short(v) => (3, v.len(), v.iter().flat_map(|x| x.to_le_bytes()).collect()),
            Val::Long(v) => (4, v.len(), v.iter().flat_map(|x| x.to_le_bytes()).collect()),
            Val::Byte(v) => (1, v.len(), v.clone()),
            Val::Ascii(s) => (2, s.len() + 1, [s.as_bytes(), &[0]].concat()),
            Val::Rational(v) => {
                (5, v.len(), v.iter().flat_map(|(n, d)| [n.to_le_bytes(), d.to_le_bytes()]).flatten().collect())
            }
        };
        buf.extend_from_slice(&tag.to_le_bytes());
        buf.extend_from_slice(&typ.to_le_bytes());
        buf.extend_from_slice(&(count as u32).to_le_bytes());
        if bytes.len() <= 4 {
            let mut field = bytes.clone();
            field.resize(4, 0);
            buf.extend_from_slice(&field);
        } else {
            buf.extend_from_slice(&(extra_at as u32).to_le_bytes());
            extra.extend_from_slice(&bytes);
            if extra.len() % 2 == 1 {
                extra.push(0);
            }
            extra_at = at + 2 + entries.len() * 12 + 4 + extra.len();
        }
    }
    let next_at = buf.len();
    buf.extend_from_slice(&[0; 4]);
    buf.extend_from_slice(&extra);
    (at as u32, next_at)
}

/// A JPEG of the source, 400×300, optionally with EXIF written by exiftool.
fn preview_jpeg(f: &Fixture, exif: &[&str]) -> Vec<u8> {
    let path = f.path("preview.jpg");
    convert(&[&f.s("src.png"), "-quality", "90", &path.to_string_lossy()]);
    if !exif.is_empty() {
        let mut args = vec!["-overwrite_original"];
        args.extend_from_slice(exif);
        let p = path.to_string_lossy().into_owned();
        args.push(&p);
        exiftool(&args);
    }
    std::fs::read(&path).unwrap()
}

/// A DNG as a camera or converter writes one: IFD0 the preview (a JPEG strip,
/// Compression 7, NewSubFileType 1) with DNGVersion 1.4 and Orientation; a SubIFD with a
/// 64×48 uncompressed 16-bit CFA raw.
fn dng(jpeg: Option<&[u8]>, orientation: u16) -> Vec<u8> {
    let mut buf = b"II*\0\0\0\0\0".to_vec();
    let raw_at = buf.len() as u32;
    buf.extend([0x10u8, 0x02].repeat(64 * 48));
    let jpeg_at = buf.len() as u32;
    if let Some(j) = jpeg {
        buf.extend_from_slice(j);
    }
    let (sub, _) = write_ifd(
        &mut buf,
        &mut [
            (0x00FE, Val::Long(vec![0])),
            (0x0100, Val::Long(vec![64])),
            (0x0101, Val::Long(vec![48])),
            (0x0102, Val::Short(vec![16])),
            (0x0103, Val::Short(vec![1])),
            (0x0106, Val::Short(vec![32803])),
            (0x0111, Val::Long(vec![raw_at])),
            (0x0115, Val::Short(vec![1])),
            (0x0116, Val::Long(vec![48])),
            (0x0117, Val::Long(vec![64 * 48 * 2])),
            (0x828D, Val::Short(vec![2, 2])),
            (0x828E, Val::Byte(vec![0, 1, 1, 2])),
        ],
    );
    let mut ifd0 = vec![
        (0x00FE, Val::Long(vec![1])),
        (0x010F, Val::Ascii("Keepsake")),
        (0x0110, Val::Ascii("Test Camera")),
        (0x0112, Val::Short(vec![orientation])),
        (0x0132, Val::Ascii("2019:08:07 06:05:04")),
        (0x014A, Val::Long(vec![sub])),
        (0xC612, Val::Byte(vec![1, 4, 0, 0])),
        (0xC614, Val::Ascii("Keepsake Test Camera")),
    ];
    match jpeg {
        Some(j) => ifd0.extend([
            (0x0100, Val::Long(vec![400])),
            (0x0101, Val::Long(vec![300])),
            (0x0102, Val::Short(vec![8, 8, 8])),
            (0x0103, Val::Short(vec![7])),
            (0x0106, Val::Short(vec![6])),
            (0x0111, Val::Long(vec![jpeg_at])),
            (0x0115, Val::Short(vec![3])),
            (0x0116, Val::Long(vec![300])),
            (0x0117, Val::Long(vec![j.len() as u32])),
        ]),
        None => ifd0.extend([
            // An uncompressed 8×6 thumbnail: nothing a JPEG path can show.
            (0x0100, Val::Long(vec![8])),
            (0x0101, Val::Long(vec![6])),
            (0x0103, Val::Short(vec![1])),
            (0x0111, Val::Long(vec![raw_at])),
            (0x0117, Val::Long(vec![8 * 6 * 3])),
        ]),
    }
    let (ifd0_at, _) = write_ifd(&mut buf, &mut ifd0);
    buf[4..8].copy_from_slice(&ifd0_at.to_le_bytes());
    buf
}

#[test]
fn a_dng_is_shown_by_its_preview_upright() {
    let f = Fixture::new();
    let jpeg = preview_jpeg(&f, &[]);
    std::fs::write(f.path("photo.dng"), dng(Some(&jpeg), 6)).unwrap();
    assert_eq!(exiftool(&["-FileType", "-s3", &f.s("photo.dng")]), "DNG");
    assert_eq!(sniff(&f.path("photo.dng")).unwrap(), PhotoFormat::Raw);
    // Named .tif, it is still a RAW (its DNGVersion says so).
    std::fs::copy(f.path("photo.dng"), f.path("photo-dng.tif")).unwrap();
    assert_eq!(sniff(&f.path("photo-dng.tif")).unwrap(), PhotoFormat::Raw);
    let out = f.path("dng.thumb.jpg");
    let t = thumbnail(&f.path("photo.dng"), &out, 200, DEFAULT_MAX_PIXELS).unwrap();
    assert_eq!((t.width, t.height), (150, 200));
    assert_looks_like(&out, &upright(&source(), Orientation::Rotate90), 16.0, "dng");
    // The size is the raw's (64×48), turned upright.
    let info = photo_info(&f.path("photo.dng")).unwrap();
    assert_eq!((info.format, info.width, info.height), (PhotoFormat::Raw, 48, 64));
    assert_eq!(exif_date(&f.path("photo.dng")).unwrap().as_deref(), Some("2019:08:07 06:05:04"));
    // The pixel limit counts the preview's pixels.
    assert!(matches!(thumbnail(&f.path("photo.dng"), &out, 200, 1000), Err(ImagingError::TooLarge { .. })));
}

#[test]
fn a_raw_without_a_preview_says_so() {
    let f = Fixture::new();
    std::fs::write(f.path("bare.dng"), dng(None, 1)).unwrap();
    let err = thumbnail(&f.path("bare.dng"), &f.path("t.jpg"), 200, DEFAULT_MAX_PIXELS).unwrap_err();
    assert!(matches!(err, ImagingError::NoPreview { .. }), "{err}");
    assert!(err.to_string().contains("no embedded preview"), "{err}");
    // Its size is still known.
    let info = photo_info(&f.path("bare.dng")).unwrap();
    assert_eq!((info.width, info.height), (64, 48));
}

#[test]
fn hostile_raws_are_errors_not_panics() {
    let f = Fixture::new();
    let jpeg = preview_jpeg(&f, &[]);
    // The preview's strip offset points past the end of the file.
    let mut past = dng(Some(&jpeg), 1);
    let ifd0 = u32::from_le_bytes(past[4..8].try_into().unwrap()) as usize;
    let n = u16::from_le_bytes([past[ifd0], past[ifd0 + 1]]) as usize;
    for k in 0..n {
        let e = ifd0 + 2 + 12 * k;
        if u16::from_le_bytes([past[e], past[e + 1]]) == 0x0111 {
            past[e + 8..e + 12].copy_from_slice(&1_000_000_000u32.to_le_bytes());
        }
    }
    std::fs::write(f.path("past.dng"), &past).unwrap();
    let err = thumbnail(&f.path("past.dng"), &f.path("t.jpg"), 200, DEFAULT_MAX_PIXELS).unwrap_err();
    assert!(matches!(err, ImagingError::NoPreview { .. }) && err.to_string().contains("past the end"), "{err}");
    // IFD0's chain points back at IFD0.
    let mut looped = dng(Some(&jpeg), 1);
    let next = ifd0 + 2 + 12 * n;
    looped[next..next + 4].copy_from_slice(&(ifd0 as u32).to_le_bytes());
    std::fs::write(f.path("loop.dng"), &looped).unwrap();
    let err = thumbnail(&f.path("loop.dng"), &f.path("t.jpg"), 200, DEFAULT_MAX_PIXELS).unwrap_err();
    assert!(err.to_string().contains("loop"), "{err}");
    assert!(photo_info(&f.path("loop.dng")).is_err());
    // Cut anywhere, or any header byte flipped: an answer or an error, never a panic.
    let good = dng(Some(&jpeg), 6);
    let header_end = good.len();
    for cut in (0..header_end).step_by(97).chain(header_end - 300..header_end) {
        std::fs::write(f.path("cut.dng"), &good[..cut]).unwrap();
        let _ = photo_info(&f.path("cut.dng"));
        let _ = exif_date(&f.path("cut.dng"));
    }
    for k in (header_end - 260..header_end).chain(0..8) {
        let mut g = good.clone();
        g[k] ^= 0xA5;
        std::fs::write(f.path("flip.dng"), &g).unwrap();
        let _ = photo_info(&f.path("flip.dng"));
        let _ = thumbnail(&f.path("flip.dng"), &f.path("t.jpg"), 64, DEFAULT_MAX_PIXELS);
    }
}

#[test]
fn a_raf_is_shown_by_its_preview_with_the_preview_s_exif() {
    let f = Fixture::new();
    let jpeg = preview_jpeg(&f, &["-Orientation#=6", "-DateTimeOriginal=2018:03:04 05:06:07"]);
    let mut raf = b"FUJIFILMCCD-RAW 0201FF383501".to_vec();
    raf.resize(160, 0);
    raf[84..88].copy_from_slice(&160u32.to_be_bytes());
    raf[88..92].copy_from_slice(&(jpeg.len() as u32).to_be_bytes());
    raf.extend_from_slice(&jpeg);
    raf.extend_from_slice(&[0; 4096]); // where the sensor data would be
    std::fs::write(f.path("photo.raf"), &raf).unwrap();
    assert_eq!(sniff(&f.path("photo.raf")).unwrap(), PhotoFormat::Raw);
    f.check("photo.raf", Orientation::Rotate90, 16.0);
    assert_eq!(exif_date(&f.path("photo.raf")).unwrap().as_deref(), Some("2018:03:04 05:06:07"));
    // An offset past the end.
    raf[84..88].copy_from_slice(&u32::MAX.to_be_bytes());
    std::fs::write(f.path("bad.raf"), &raf).unwrap();
    let err = thumbnail(&f.path("bad.raf"), &f.path("t.jpg"), 200, DEFAULT_MAX_PIXELS).unwrap_err();
    assert!(matches!(err, ImagingError::NoPreview { .. }), "{err}");
}

fn bx(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
    let mut v = ((payload.len() + 8) as u32).to_be_bytes().to_vec();
    v.extend_from_slice(kind);
    v.extend_from_slice(payload);
    v
}

/// A TIFF block (as CR3's CMT boxes hold) with these IFD0 entries.
fn tiff_block(entries: &mut [(u16, Val)]) -> Vec<u8> {
    let mut buf = b"II*\0\x08\0\0\0".to_vec();
    write_ifd(&mut buf, entries);
    buf
}

#[test]
fn a_cr3_is_shown_by_its_prvw_preview() {
    let f = Fixture::new();
    let jpeg = preview_jpeg(&f, &[]);
    let canon: [u8; 16] =
        [0x85, 0xc0, 0xb6, 0x87, 0x82, 0x0f, 0x11, 0xe0, 0x81, 0x11, 0xf4, 0xce, 0x46, 0x2b, 0x6a, 0x48];
    let prvw_uuid: [u8; 16] =
        [0xea, 0xf4, 0x2b, 0x5e, 0x1c, 0x98, 0x4b, 0x88, 0xb9, 0xfb, 0xb7, 0xdc, 0x40, 0x6e, 0x4d, 0x16];
    let cmt1 = tiff_block(&mut [(0x0112, Val::Short(vec![8])), (0x0132, Val::Ascii("2017:01:01 00:00:00"))]);
    let cmt2 = tiff_block(&mut [(0x9003, Val::Ascii("2017:02:03 04:05:06"))]);
    let mut canon_box = canon.to_vec();
    canon_box.extend(bx(b"CNCV", b"CanonCR3_001/01.09.00.00"));
    canon_box.extend(bx(b"CMT1", &cmt1));
    canon_box.extend(bx(b"CMT2", &cmt2));
    let mut prvw = vec![0, 0, 0, 0, 0, 1];
    prvw.extend_from_slice(&400u16.to_be_bytes());
    prvw.extend_from_slice(&300u16.to_be_bytes());
    prvw.extend_from_slice(&[0, 1]);
    prvw.extend_from_slice(&(jpeg.len() as u32).to_be_bytes());
    prvw.extend_from_slice(&jpeg);
    let mut preview_box = prvw_uuid.to_vec();
    preview_box.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0]);
    preview_box.extend(bx(b"PRVW", &prvw));
    let mut file = bx(b"ftyp", b"crx \0\0\0\x01crx isom");
    file.extend(bx(b"moov", &bx(b"uuid", &canon_box)));
    file.extend(bx(b"uuid", &preview_box));
    file.extend(bx(b"mdat", &[0; 2048]));
    std::fs::write(f.path("photo.cr3"), &file).unwrap();
    assert_eq!(exiftool(&["-FileType", "-s3", &f.s("photo.cr3")]), "CR3");
    assert_eq!(sniff(&f.path("photo.cr3")).unwrap(), PhotoFormat::Raw);
    f.check("photo.cr3", Orientation::Rotate270, 16.0);
    assert_eq!(exif_date(&f.path("photo.cr3")).unwrap().as_deref(), Some("2017:02:03 04:05:06"));
}

// ---- HEIF/AVIF ---------------------------------------------------------------------

#[test]
fn heif_and_avif_are_sized_and_dated_here_and_decoded_by_the_worker() {
    let f = Fixture::new();
    run(Command::new("heif-enc").args(["-q", "80", &f.s("src.png"), "-o", &f.s("photo.heic")]));
    exiftool(&["-overwrite_original", "-DateTimeOriginal=2022:12:24 18:30:00", &f.s("photo.heic")]);
    let heic = f.path("photo.heic");
    assert_eq!(sniff(&heic).unwrap(), PhotoFormat::Heif);
    assert!(sniff(&heic).unwrap().needs_worker());
    let info = photo_info(&heic).unwrap();
    assert_eq!((info.format, info.width, info.height), (PhotoFormat::Heif, 400, 300));
    assert_eq!(exif_date(&heic).unwrap().as_deref(), Some("2022:12:24 18:30:00"));
    let err = thumbnail(&heic, &f.path("t.jpg"), 200, DEFAULT_MAX_PIXELS).unwrap_err();
    assert!(matches!(err, ImagingError::NeedsWorker { .. }), "{err}");
    assert!(err.to_string().contains("decoded by the worker"), "{err}");

    // AVIF: heif-enc -A where its AV1 encoder works; else the same box tree under the
    // `avif` brand (this crate reads only boxes, never the coded pixels).
    let avif = f.path("photo.avif");
    let made = Command::new("heif-enc").args(["-A", &f.s("src.png"), "-o", &f.s("photo.avif")]).output();
    if !made.is_ok_and(|o| o.status.success()) {
        let mut bytes = std::fs::read(&heic).unwrap();
        assert_eq!(&bytes[8..12], b"heic");
        bytes[8..12].copy_from_slice(b"avif");
        std::fs::write(&avif, bytes).unwrap();
    }
    exiftool(&["-overwrite_original", "-DateTimeOriginal=2023:01:02 03:04:05", &f.s("photo.avif")]);
    assert_eq!(sniff(&avif).unwrap(), PhotoFormat::Avif);
    let info = photo_info(&avif).unwrap();
    assert_eq!((info.width, info.height), (400, 300));
    assert_eq!(exif_date(&avif).unwrap().as_deref(), Some("2023:01:02 03:04:05"));
    let err = thumbnail(&avif, &f.path("t.jpg"), 200, DEFAULT_MAX_PIXELS);
    assert!(matches!(err, Err(ImagingError::NeedsWorker { .. })));
}

/// EXIF 2.31's offsets ride along with the date: OffsetTimeOriginal with
/// DateTimeOriginal, OffsetTime when that is the only one, nothing when the file has
/// none (a naive date) or an offset that is not `±HH:MM`.
#[test]
fn exif_dates_carry_their_utc_offset_where_the_file_has_one() {
    let f = Fixture::new();
    run(Command::new("heif-enc").args(["-q", "80", &f.s("src.png"), "-o", &f.s("photo.heic")]));
    let heic = f.path("photo.heic");
    exiftool(&[
        "-overwrite_original",
        "-DateTimeOriginal=2022:12:24 23:30:00",
        "-OffsetTimeOriginal=-07:00",
        &f.s("photo.heic"),
    ]);
    assert_eq!(exif_date(&heic).unwrap().as_deref(), Some("2022:12:24 23:30:00-07:00"));

    RgbImage::from_pixel(64, 48, image::Rgb([200, 100, 50]))
        .save_with_format(f.path("photo.nef"), image::ImageFormat::Tiff)
        .unwrap();
    let nef = f.path("photo.nef");
    exiftool(&[
        "-overwrite_original",
        "-DateTimeOriginal=2021:07:08 09:10:11",
        "-OffsetTime=+05:30",
        &f.s("photo.nef"),
    ]);
    assert_eq!(exif_date(&nef).unwrap().as_deref(), Some("2021:07:08 09:10:11+05:30"), "OffsetTime stands in");
    exiftool(&["-overwrite_original", "-OffsetTimeOriginal=+02:00", &f.s("photo.nef")]);
    assert_eq!(exif_date(&nef).unwrap().as_deref(), Some("2021:07:08 09:10:11+02:00"), "the original's own wins");
    exiftool(&["-overwrite_original", "-OffsetTimeOriginal=", "-OffsetTime=", &f.s("photo.nef")]);
    assert_eq!(exif_date(&nef).unwrap().as_deref(), Some("2021:07:08 09:10:11"), "naive");
    exiftool(&["-overwrite_original", "-OffsetTimeOriginal#=later", &f.s("photo.nef")]);
    assert_eq!(exif_date(&nef).unwrap().as_deref(), Some("2021:07:08 09:10:11"), "not an offset");
}

#[test]
fn missing_empty_and_unknown_files_have_typed_errors() {
    let f = Fixture::new();
    std::fs::write(f.path("empty.jpg"), b"").unwrap();
    std::fs::write(f.path("text.jpg"), b"hello, not a photo at all").unwrap();
    assert!(matches!(photo_info(&f.path("none.jpg")), Err(ImagingError::NotFound { .. })));
    assert!(matches!(photo_info(&f.path("empty.jpg")), Err(ImagingError::Empty { .. })));
    assert!(matches!(photo_info(&f.path("text.jpg")), Err(ImagingError::NotImage { .. })));
    let err = thumbnail(&f.path("text.jpg"), &f.path("t.jpg"), 64, DEFAULT_MAX_PIXELS);
    assert!(matches!(err, Err(ImagingError::NotImage { .. })));
    assert_eq!(exif_date(&f.path("src.png")).unwrap(), None);
}

#[test]
fn orf_and_rw2_headers_and_rw2_jpg_from_raw_are_read() {
    let f = Fixture::new();
    let jpeg = preview_jpeg(&f, &[]);
    // ORF: the same IFDs under Olympus's `IIRO` magic.
    let mut orf = dng(Some(&jpeg), 8);
    orf[2..4].copy_from_slice(b"RO");
    std::fs::write(f.path("photo.orf"), &orf).unwrap();
    assert_eq!(sniff(&f.path("photo.orf")).unwrap(), PhotoFormat::Raw);
    f.check("photo.orf", Orientation::Rotate270, 16.0);
    // RW2: `IIU\0`, the big preview as JpgFromRaw (0x002E, UNDEFINED bytes).
    let mut rw2 = b"IIU\0\x08\0\0\0".to_vec();
    let mut entries = [
        (0x0002, Val::Long(vec![400])),
        (0x0003, Val::Long(vec![300])),
        (0x0112, Val::Short(vec![1])),
        (0x002E, Val::Byte(jpeg.clone())),
    ];
    write_ifd(&mut rw2, &mut entries);
    // Val::Byte writes type 1 (BYTE); Panasonic writes 7 (UNDEFINED): patch it.
    let n = u16::from_le_bytes([rw2[8], rw2[9]]) as usize;
    for k in 0..n {
        let e = 10 + 12 * k;
        if u16::from_le_bytes([rw2[e], rw2[e + 1]]) == 0x002E {
            rw2[e + 2..e + 4].copy_from_slice(&7u16.to_le_bytes());
        }
    }
    std::fs::write(f.path("photo.rw2"), &rw2).unwrap();
    assert_eq!(sniff(&f.path("photo.rw2")).unwrap(), PhotoFormat::Raw);
    f.check("photo.rw2", Orientation::NoTransforms, 16.0);
}

// ---- GPS ---------------------------------------------------------------------------

/// The place `path`'s EXIF gives, checked to within about 10 m of `(lat, lon)`.
fn assert_place(path: &Path, lat: f64, lon: f64) {
    let place = exif_facts(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).place;
    let Some(Place { latitude, longitude }) = place else { panic!("{}: no place", path.display()) };
    assert!(
        (latitude - lat).abs() < 1e-4 && (longitude - lon).abs() < 1e-4,
        "{}: {latitude}, {longitude} is not {lat}, {lon}",
        path.display()
    );
}

fn gps_args(lat: f64, lon: f64) -> Vec<String> {
    vec![
        format!("-GPSLatitude={}", lat.abs()),
        format!("-GPSLatitudeRef={}", if lat < 0.0 { "S" } else { "N" }),
        format!("-GPSLongitude={}", lon.abs()),
        format!("-GPSLongitudeRef={}", if lon < 0.0 { "W" } else { "E" }),
    ]
}

fn exiftool_on(path: &Path, args: &[String]) {
    let mut all = vec!["-overwrite_original".to_string()];
    all.extend_from_slice(args);
    all.push(path.to_string_lossy().into_owned());
    exiftool(&all.iter().map(String::as_str).collect::<Vec<_>>());
}

/// A real camera JPEG (tests/media/rocket.jpg, which has no EXIF of its own) copied to
/// `dest`, tagged by exiftool with a date and `args`.
fn tagged_jpeg(dest: &Path, args: &[String]) {
    let rocket = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/media/rocket.jpg");
    assert!(rocket.is_file(), "missing {} (scripts/fetch_assets.py tests/media/manifest.toml)", rocket.display());
    std::fs::copy(&rocket, dest).unwrap();
    let mut all = vec!["-DateTimeOriginal=2021:07:08 09:10:11".to_string()];
    all.extend_from_slice(args);
    exiftool_on(dest, &all);
}

/// GPS written by exiftool into every container this crate reads EXIF from, in all
/// four hemispheres: a sign lost on the way would put a photo on another continent.
#[test]
fn gps_places_are_read_from_jpeg_heic_raw_and_raf_with_their_hemispheres() {
    let f = Fixture::new();
    // London (N, W): a JPEG's APP1.
    let jpeg = f.path("london.jpg");
    tagged_jpeg(&jpeg, &gps_args(51.5074, -0.1278));
    assert_place(&jpeg, 51.5074, -0.1278);
    assert_eq!(exif_facts(&jpeg).unwrap().date.as_deref(), Some("2021:07:08 09:10:11"), "the same read has the date");
    assert_eq!(exif_date(&jpeg).unwrap().as_deref(), Some("2021:07:08 09:10:11"));

    // Sydney (S, E): HEIC's Exif item.
    run(Command::new("heif-enc").args(["-q", "80", &f.s("src.png"), "-o", &f.s("sydney.heic")]));
    exiftool_on(&f.path("sydney.heic"), &gps_args(-33.8568, 151.2153));
    assert_place(&f.path("sydney.heic"), -33.8568, 151.2153);

    // New York (N, W): a TIFF-based RAW's IFD0 → GPS IFD.
    RgbImage::from_pixel(64, 48, image::Rgb([200, 100, 50]))
        .save_with_format(f.path("nyc.nef"), image::ImageFormat::Tiff)
        .unwrap();
    exiftool_on(&f.path("nyc.nef"), &gps_args(40.6892, -74.0445));
    assert_place(&f.path("nyc.nef"), 40.6892, -74.0445);

    // Rio (S, W): a RAF, whose EXIF is its preview JPEG's.
    let mut args = vec!["-DateTimeOriginal=2018:03:04 05:06:07".to_string()];
    args.extend(gps_args(-22.9068, -43.1729));
    let preview = preview_jpeg(&f, &args.iter().map(String::as_str).collect::<Vec<_>>());
    let mut raf = b"FUJIFILMCCD-RAW 0201FF383501".to_vec();
    raf.resize(160, 0);
    raf[84..88].copy_from_slice(&160u32.to_be_bytes());
    raf[88..92].copy_from_slice(&(preview.len() as u32).to_be_bytes());
    raf.extend_from_slice(&preview);
    std::fs::write(f.path("rio.raf"), &raf).unwrap();
    assert_place(&f.path("rio.raf"), -22.9068, -43.1729);

    // No GPS, a void fix, and 0°, 0° are no place; the date stays.
    let plain = f.path("plain.jpg");
    tagged_jpeg(&plain, &[]);
    assert_eq!(exif_facts(&plain).unwrap().place, None);
    exiftool_on(&jpeg, &["-GPSStatus#=V".to_string()]);
    assert_eq!(exif_facts(&jpeg).unwrap().place, None, "GPSStatus void");
    let island = f.path("island.jpg");
    tagged_jpeg(&island, &gps_args(0.0, 0.0));
    let facts = exif_facts(&island).unwrap();
    assert_eq!((facts.place, facts.date.is_some()), (None, true), "null island");
    // PNG is left to the library's EXIF reader.
    assert_eq!(exif_facts(&f.path("src.png")).unwrap(), Default::default());
}

/// Replaces the 4 bytes after the first `pattern` in `bytes` (an IFD entry's tag, type
/// and, for `at` 8, count: what follows is its value or offset).
fn patch_after(bytes: &mut [u8], pattern: &[u8], at: usize, value: [u8; 4]) {
    let i = bytes.windows(pattern.len()).position(|w| w == pattern).expect("entry not found");
    bytes[i + at..i + at + 4].copy_from_slice(&value);
}

/// A GPS IFD that lies (a pointer past the end, a coordinate claiming 4 billion values,
/// its values past the end, a zero denominator) costs the place and nothing else: the
/// date is still read, and nothing panics or allocates what the file claims.
#[test]
fn a_hostile_gps_ifd_is_no_place_and_keeps_the_date() {
    let f = Fixture::new();
    let good = f.path("good.jpg");
    tagged_jpeg(&good, &gps_args(48.8584, 2.2945));
    assert_place(&good, 48.8584, 2.2945);
    let bytes = std::fs::read(&good).unwrap();
    // exiftool writes a new EXIF block big-endian: the entries as they are in the file.
    assert_eq!(exiftool(&["-ExifByteOrder", "-s3", &f.s("good.jpg")]), "Big-endian (Motorola, MM)");
    let gps_pointer: &[u8] = &[0x88, 0x25, 0, 4, 0, 0, 0, 1];
    let latitude: &[u8] = &[0, 2, 0, 5, 0, 0, 0, 3];
    let cases: [(&str, &[u8], usize, [u8; 4]); 4] = [
        ("pointer past the end", gps_pointer, 8, 0xFFFF_FF00u32.to_be_bytes()),
        ("a huge count", &latitude[..4], 4, u32::MAX.to_be_bytes()),
        ("values past the end", latitude, 8, 0x7FFF_FFF0u32.to_be_bytes()),
        ("the GPS IFD on the TIFF header", gps_pointer, 8, 0u32.to_be_bytes()),
    ];
    for (what, pattern, at, value) in cases {
        let mut b = bytes.clone();
        patch_after(&mut b, pattern, at, value);
        let path = f.path("hostile.jpg");
        std::fs::write(&path, &b).unwrap();
        let facts = exif_facts(&path).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(facts.place, None, "{what}");
        assert_eq!(facts.date.as_deref(), Some("2021:07:08 09:10:11"), "{what}");
    }
    // A zero denominator in the latitude's degrees: find its value by the offset field.
    let mut b = bytes.clone();
    let i = b.windows(latitude.len()).position(|w| w == latitude).unwrap();
    let tiff_start = b.windows(6).position(|w| w == b"Exif\0\0").unwrap() + 6;
    let off = u32::from_be_bytes([b[i + 8], b[i + 9], b[i + 10], b[i + 11]]) as usize;
    b[tiff_start + off + 4..tiff_start + off + 8].copy_from_slice(&[0; 4]);
    std::fs::write(f.path("zero.jpg"), &b).unwrap();
    let facts = exif_facts(&f.path("zero.jpg")).unwrap();
    assert_eq!((facts.place, facts.date.is_some()), (None, true), "zero denominator");
}

/// A CR3's GPS is its `CMT4` box, a GPS IFD stored as a TIFF's IFD0; one whose
/// latitude claims 4 billion values is no place.
#[test]
fn a_cr3_s_place_is_its_cmt4_box() {
    let f = Fixture::new();
    let jpeg = preview_jpeg(&f, &[]);
    let canon: [u8; 16] =
        [0x85, 0xc0, 0xb6, 0x87, 0x82, 0x0f, 0x11, 0xe0, 0x81, 0x11, 0xf4, 0xce, 0x46, 0x2b, 0x6a, 0x48];
    let cr3 = |cmt4: Vec<u8>| {
        let mut canon_box = canon.to_vec();
        canon_box.extend(bx(b"CMT2", &tiff_block(&mut [(0x9003, Val::Ascii("2017:02:03 04:05:06"))])));
        canon_box.extend(bx(b"CMT4", &cmt4));
        canon_box.extend(bx(b"THMB", &[[0u8; 16].as_slice(), &jpeg].concat()));
        let mut file = bx(b"ftyp", b"crx \0\0\0\x01crx isom");
        file.extend(bx(b"moov", &bx(b"uuid", &canon_box)));
        file.extend(bx(b"mdat", &[0; 256]));
        file
    };
    // 35°39'31.2"N 139°42'3.6"E (Tokyo).
    let gps = |count_lie: bool| {
        let mut block = tiff_block(&mut [
            (0x0001, Val::Ascii("N")),
            (0x0002, Val::Rational(vec![(35, 1), (39, 1), (312, 10)])),
            (0x0003, Val::Ascii("E")),
            (0x0004, Val::Rational(vec![(139, 1), (42, 1), (36, 10)])),
        ]);
        if count_lie {
            patch_after(&mut block, &[2, 0, 5, 0], 4, u32::MAX.to_le_bytes());
        }
        block
    };
    std::fs::write(f.path("tokyo.cr3"), cr3(gps(false))).unwrap();
    assert_place(&f.path("tokyo.cr3"), 35.6587, 139.701);
    std::fs::write(f.path("lying.cr3"), cr3(gps(true))).unwrap();
    let facts = exif_facts(&f.path("lying.cr3")).unwrap();
    assert_eq!(facts.place, None);
    assert_eq!(facts.date.as_deref(), Some("2017:02:03 04:05:06"));
}
