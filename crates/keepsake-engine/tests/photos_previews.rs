//! Photo thumbnails (EXIF orientation, bombs), animated previews and contact sheets.

mod common;
use common::*;

use keepsake_engine::{AnalyzeOptions, EngineError, PreviewOptions};

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

#[test]
fn photo_thumbnail_honours_exif_orientation() {
    let dir = tempfile::tempdir().unwrap();
    // Landscape 200×100, red on the left half; orientation 6 = turn 90° clockwise to view.
    let img = image::RgbImage::from_fn(200, 100, |x, _| if x < 100 { image::Rgb([220, 20, 20]) } else { image::Rgb([20, 20, 220]) });
    let mut jpeg = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut jpeg), image::ImageFormat::Jpeg).unwrap();
    let photo = dir.path().join("phone.jpg");
    std::fs::write(&photo, with_orientation(&jpeg, 6)).unwrap();
    let out = dir.path().join("thumb.jpg");
    let r = engine().photo_thumbnail(&photo, &out, 80).unwrap();
    assert_eq!((r.width, r.height), (40, 80), "portrait after orientation");
    let t = image::open(&out).unwrap().to_rgb8();
    // Turned clockwise, the left (red) half is now on top.
    assert!(t.get_pixel(20, 10).0[0] > 150, "top red");
    assert!(t.get_pixel(20, 70).0[2] > 150, "bottom blue");
}

#[test]
fn photo_thumbnails_of_png_and_webp_and_refusals() {
    let dir = tempfile::tempdir().unwrap();
    let e = engine();
    let r = e.photo_thumbnail(&media("astronaut.png"), &dir.path().join("a.jpg"), 128).unwrap();
    assert_eq!((r.width, r.height), (128, 128));
    let webp = dir.path().join("coffee.webp");
    image::open(media("coffee.png")).unwrap().to_rgb8().save(&webp).unwrap();
    let r = e.photo_thumbnail(&webp, &dir.path().join("c.jpg"), 100).unwrap();
    assert_eq!(r.width, 100);

    let text = dir.path().join("fake.jpg");
    std::fs::write(&text, "not a photo at all").unwrap();
    assert!(matches!(e.photo_thumbnail(&text, &dir.path().join("x.jpg"), 64), Err(EngineError::NotMedia { .. })));
    let empty = dir.path().join("empty.png");
    std::fs::write(&empty, b"").unwrap();
    assert!(matches!(e.photo_thumbnail(&empty, &dir.path().join("y.jpg"), 64), Err(EngineError::Empty { .. })));
    // A tiny PNG claiming 30000×30000 pixels.
    let bomb = dir.path().join("bomb.png");
    ffmpeg(&["-f", "lavfi", "-i", "color=c=white:s=30000x30000", "-frames:v", "1", bomb.to_str().unwrap()]);
    assert!(matches!(e.photo_thumbnail(&bomb, &dir.path().join("z.jpg"), 64), Err(EngineError::TooLarge { .. })));
}

#[test]
fn preview_is_a_small_looping_gif() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("p.gif");
    let r = engine().preview(&media("bikes.mp4"), &out, &PreviewOptions::default()).unwrap();
    assert!(r.bytes > 0 && r.bytes < 2_000_000, "{} bytes", r.bytes);
    assert!(r.width.max(r.height) <= 320);
    let frames = image::codecs::gif::GifDecoder::new(std::io::BufReader::new(std::fs::File::open(&out).unwrap())).unwrap();
    let n = image::AnimationDecoder::into_frames(frames).count();
    assert!(n >= 8, "{n} frames");
}

#[test]
fn contact_sheet_shows_every_candidate() {
    let dir = tempfile::tempdir().unwrap();
    let e = engine();
    let sel = e.analyze(&media("carphone.mp4"), &AnalyzeOptions::new(dir.path())).unwrap();
    let sheet = e.contact_sheet(&sel, &dir.path().join("sheet.png")).unwrap();
    let rows = (sel.candidates.len() as u32).div_ceil(6);
    assert!(sheet.height >= rows * 100, "{} rows in {} px", rows, sheet.height);
    let img = image::open(&sheet.path).unwrap().to_rgb8();
    // The picks' green frames are drawn.
    assert!(img.pixels().filter(|p| p.0 == [40, 220, 80]).count() > 100);
}
