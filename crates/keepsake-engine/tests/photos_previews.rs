//! Animated previews and contact sheets (photo thumbnails: `keepsake-imaging`'s tests).

mod common;
use common::*;

use keepsake_engine::{AnalyzeOptions, EngineError, PreviewOptions};

#[test]
fn preview_is_a_small_looping_gif() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("p.gif");
    let r = engine().preview(&media("bikes.mp4"), &out, &PreviewOptions::default()).unwrap();
    assert!(r.bytes > 0 && r.bytes < 2_000_000, "{} bytes", r.bytes);
    assert!(r.width.max(r.height) <= 320);
    let frames =
        image::codecs::gif::GifDecoder::new(std::io::BufReader::new(std::fs::File::open(&out).unwrap())).unwrap();
    let n = image::AnimationDecoder::into_frames(frames).count();
    assert!(n >= 8, "{n} frames");
}

#[test]
fn preview_webp_is_animated_and_small() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("p.webp");
    let r = engine().preview(&media("carphone.mp4"), &out, &PreviewOptions::default()).unwrap();
    let bytes = std::fs::read(&out).unwrap();
    assert_eq!(bytes.len() as u64, r.bytes);
    assert!(r.bytes < 2_000_000);
    assert_eq!(&bytes[..4], b"RIFF");
    assert!(bytes.windows(4).any(|w| w == b"ANIM"), "animated");
    assert!(bytes.windows(4).filter(|w| *w == b"ANMF").count() >= 8, "frames");
    assert!(matches!(
        engine().preview(&media("carphone.mp4"), &dir.path().join("p.avi"), &PreviewOptions::default()),
        Err(EngineError::InvalidRequest { .. })
    ));
}

#[test]
fn engine_can_be_shared_across_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<keepsake_engine::Engine>();
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
