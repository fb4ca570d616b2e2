//! Scoring still pictures (`Engine::score_picture`) on the repository's test photos with
//! the real ONNX Runtime and BlazeFace models (`make setup`), as the library's grid
//! copies (512 px) would be scored: a photo beats its own blurred and darkened copies,
//! faces are counted where there are faces and only there.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use image::imageops::FilterType;
use image::RgbImage;
use keepsake_engine::runtime::asset_root;
use keepsake_engine::{Engine, EngineConfig, FaceAvailability, PictureScore, RejectReason};

fn media(name: &str) -> PathBuf {
    asset_root().join("tests/media").join(name)
}

/// One engine with faces for every test, loaded as the worker loads it.
fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let engine = Engine::new(EngineConfig::discover());
        assert_eq!(
            engine.faces_status(),
            &FaceAvailability::Available,
            "the face model must load (run scripts/setup.sh to fetch ONNX Runtime and the models)"
        );
        engine
    })
}

/// The photo as the library's grid copy: upright, at most 512 px, written as a JPEG.
fn grid_copy(name: &str, dir: &Path, edit: impl Fn(RgbImage) -> RgbImage, label: &str) -> PathBuf {
    let img = image::open(media(name)).unwrap_or_else(|e| panic!("{name}: {e}")).to_rgb8();
    let (w, h) = img.dimensions();
    let scale = 512.0 / w.max(h) as f32;
    let small =
        image::imageops::resize(&img, (w as f32 * scale) as u32, (h as f32 * scale) as u32, FilterType::Triangle);
    let out = dir.join(format!("{label}-{name}.jpg"));
    edit(small).save(&out).unwrap();
    out
}

fn blurred(sigma: f32) -> impl Fn(RgbImage) -> RgbImage {
    move |img| image::imageops::blur(&img, sigma)
}

/// Every channel scaled by `gain` (an exposure `log2(gain)` stops off).
fn exposed(gain: f32) -> impl Fn(RgbImage) -> RgbImage {
    move |mut img| {
        for p in img.pixels_mut() {
            p.0 = p.0.map(|c| (c as f32 * gain).round().clamp(0.0, 255.0) as u8);
        }
        img
    }
}

fn score(path: &Path) -> PictureScore {
    let s = engine().score_picture(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    eprintln!(
        "{}: score {:.3} faces {:?} sharp {:.3} ({:.3}) exposure {:.3} aesthetics {:.3} rejected {:?} noise {:.3} detail {:.3} iso {:.2}",
        path.file_name().unwrap().to_string_lossy(),
        s.score,
        s.faces,
        s.sharpness,
        s.features.sharpness,
        s.exposure,
        s.aesthetics,
        s.rejected,
        s.features.noise,
        s.features.detail,
        s.features.isotropy
    );
    s
}

#[test]
fn a_sharp_well_exposed_photo_beats_its_blurred_and_dark_copies() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["motorcycle.png", "coffee.png", "chelsea.png", "astronaut.png", "rocket.jpg"] {
        let sharp = score(&grid_copy(name, dir.path(), |i| i, "sharp"));
        let soft = score(&grid_copy(name, dir.path(), blurred(2.0), "soft"));
        let very_soft = score(&grid_copy(name, dir.path(), blurred(6.0), "blurred"));
        let dark = score(&grid_copy(name, dir.path(), exposed(0.2), "dark"));
        assert!(sharp.rejected.is_none(), "{name}: {sharp:?}");
        assert!(sharp.score > soft.score + 0.03, "{name}: sharp {} vs soft {}", sharp.score, soft.score);
        assert!(soft.score > very_soft.score, "{name}: soft {} vs blurred {}", soft.score, very_soft.score);
        assert!(sharp.score > dark.score + 0.15, "{name}: sharp {} vs dark {}", sharp.score, dark.score);
        assert!(matches!(dark.rejected, Some(RejectReason::UnderExposed | RejectReason::Black)), "{name}: {dark:?}");
        assert!(sharp.exposure > dark.exposure && sharp.sharpness > very_soft.sharpness, "{name}");
    }
}

#[test]
fn faces_are_counted_where_there_are_faces_and_only_there() {
    let dir = tempfile::tempdir().unwrap();
    let portrait = score(&grid_copy("astronaut.png", dir.path(), |i| i, "grid"));
    assert_eq!(portrait.faces, Some(1), "{portrait:?}");
    assert!(portrait.features.face_score > 0.01, "{portrait:?}");
    for name in ["chelsea.png", "coffee.png", "rocket.jpg", "motorcycle.png"] {
        let s = score(&grid_copy(name, dir.path(), |i| i, "grid"));
        assert_eq!(s.faces, Some(0), "{name}: {s:?}");
    }
}

#[test]
fn without_the_face_model_faces_are_unknown_not_zero() {
    let dir = tempfile::tempdir().unwrap();
    let plain = Engine::new(EngineConfig::without_faces());
    let path = grid_copy("astronaut.png", dir.path(), |i| i, "grid");
    let s = plain.score_picture(&path).unwrap();
    assert_eq!(s.faces, None);
    // The same picture with faces scores higher: the face bonus.
    assert!(score(&path).score > s.score, "{s:?}");
}

#[test]
fn a_file_that_is_not_a_picture_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("broken.jpg");
    std::fs::write(&bad, b"\xff\xd8\xff\xe0 not really a jpeg").unwrap();
    let err = engine().score_picture(&bad).unwrap_err();
    assert!(err.to_string().contains("broken.jpg"), "{err}");
    let missing = engine().score_picture(&dir.path().join("gone.jpg")).unwrap_err();
    assert!(missing.to_string().contains("gone.jpg"), "{missing}");
}
