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
    image::open(media("chelsea.png")).unwrap().resize_exact(1200, 900, image::imageops::FilterType::Triangle).save(&png).unwrap();
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
    run(Command::new("ffmpeg").args(["-v", "error", "-y", "-i"]).arg(&src).args([
        "-c:v", "libaom-av1", "-still-picture", "1", "-cpu-used", "8", "-crf", "20", "-pix_fmt", "yuv420p10le",
        "-color_primaries", "bt709", "-color_trc", "bt709", "-colorspace", "bt709", "-frames:v", "1",
    ]).arg(&avif10));
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
