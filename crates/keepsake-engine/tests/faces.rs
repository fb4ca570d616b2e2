//! Face detection on real images with the real ONNX Runtime and BlazeFace models
//! (fetched by `make setup`), no mocks.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use image::{Rgb, RgbImage};
use keepsake_engine::faces::{FaceBox, FaceDetector, FaceError, FACE_SCORE_THRESHOLD};
use keepsake_engine::runtime::asset_root;

fn onnxruntime_path() -> PathBuf {
    asset_root().join(".deps/onnxruntime/libonnxruntime.so.1.31.1")
}

fn models_dir() -> PathBuf {
    asset_root().join("models")
}

fn media(name: &str) -> PathBuf {
    asset_root().join("tests/media").join(name)
}

/// One detector shared by every test in this binary, as the engine would share it.
fn detector() -> &'static FaceDetector {
    static DETECTOR: OnceLock<FaceDetector> = OnceLock::new();
    DETECTOR.get_or_init(|| {
        FaceDetector::load(&onnxruntime_path(), &models_dir())
            .unwrap_or_else(|e| panic!("{e} (run `make setup` to fetch the runtime and models)"))
    })
}

fn open_rgb(path: &Path) -> RgbImage {
    image::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).to_rgb8()
}

fn only_face(faces: &[FaceBox]) -> FaceBox {
    assert_eq!(faces.len(), 1, "expected exactly one face, got {faces:?}");
    faces[0]
}

#[test]
fn astronaut_has_one_face_on_her_face() {
    let faces = detector().detect(&open_rgb(&media("astronaut.png"))).unwrap();
    let face = only_face(&faces);
    let (cx, cy) = face.centre();
    // Eileen Collins's face spans about x 0.34-0.54, y 0.14-0.36 of the portrait.
    assert!((0.36..0.52).contains(&cx) && (0.16..0.34).contains(&cy), "{face:?}");
    assert!((0.12..0.30).contains(&face.w) && (0.12..0.30).contains(&face.h), "{face:?}");
    assert!(face.score >= 0.85, "{face:?}");
}

#[test]
fn cat_and_coffee_have_no_faces() {
    // The cat is the hardest negative: the 256 model alone scores its face 0.80.
    for name in ["chelsea.png", "coffee.png", "rocket.jpg"] {
        let faces = detector().detect(&open_rgb(&media(name))).unwrap();
        assert!(faces.is_empty(), "{name}: {faces:?}");
    }
}

#[test]
fn carphone_video_frame_has_one_face() {
    let dir = tempfile::tempdir().unwrap();
    let frame = dir.path().join("frame.png");
    let status = Command::new("ffmpeg")
        .args(["-loglevel", "error", "-y", "-ss", "2", "-i"])
        .arg(media("carphone.mp4"))
        .args(["-frames:v", "1"])
        .arg(&frame)
        .status()
        .expect("ffmpeg CLI runs");
    assert!(status.success());
    let image = open_rgb(&frame);
    assert_eq!(image.dimensions(), (176, 144));
    let face = only_face(&detector().detect(&image).unwrap());
    // The man's face is in the middle of the frame, about a quarter of its width.
    let (cx, cy) = face.centre();
    assert!((0.3..0.7).contains(&cx) && (0.3..0.7).contains(&cy), "{face:?}");
    assert!((0.15..0.45).contains(&face.w), "{face:?}");
}

#[test]
fn rotated_astronaut_in_a_wide_canvas_is_found_where_she_is() {
    // Rotate clockwise (a phone held sideways), paste at x=300 of a grey 1024x512 canvas:
    // the face centre (0.44, 0.25) of the 512 portrait moves to (300 + 511 - 0.25*512,
    // 0.44*512) = (683, 225) px.
    let rotated = image::imageops::rotate90(&open_rgb(&media("astronaut.png")));
    let mut canvas = RgbImage::from_pixel(1024, 512, Rgb([90, 90, 90]));
    image::imageops::replace(&mut canvas, &rotated, 300, 0);
    let face = only_face(&detector().detect(&canvas).unwrap());
    let (cx, cy) = face.centre();
    assert!((cx * 1024.0 - 683.0).abs() < 30.0, "{face:?}");
    assert!((cy * 512.0 - 225.0).abs() < 30.0, "{face:?}");
    // Box fractions are of the canvas: a ~100 px face is ~0.1 of its width, ~0.2 of its height.
    assert!((0.06..0.15).contains(&face.w) && (0.12..0.30).contains(&face.h), "{face:?}");
}

#[test]
fn upright_astronaut_in_a_tall_canvas_is_found_where_she_is() {
    let mut canvas = RgbImage::from_pixel(512, 1100, Rgb([90, 90, 90]));
    image::imageops::replace(&mut canvas, &open_rgb(&media("astronaut.png")), 0, 400);
    let face = only_face(&detector().detect(&canvas).unwrap());
    let (cx, cy) = face.centre();
    assert!((cx * 512.0 - 225.0).abs() < 30.0, "{face:?}");
    assert!((cy * 1100.0 - (400.0 + 128.0)).abs() < 30.0, "{face:?}");
}

#[test]
fn two_people_are_two_faces() {
    // The astronaut beside a half-size copy of herself: both found, the larger first
    // or at least both confidently.
    let astronaut = open_rgb(&media("astronaut.png"));
    let small = image::imageops::resize(&astronaut, 256, 256, image::imageops::FilterType::Triangle);
    let mut canvas = RgbImage::from_pixel(800, 512, Rgb([200, 200, 200]));
    image::imageops::replace(&mut canvas, &astronaut, 0, 0);
    image::imageops::replace(&mut canvas, &small, 530, 200);
    let faces = detector().detect(&canvas).unwrap();
    assert_eq!(faces.len(), 2, "{faces:?}");
    let mut centres: Vec<(f32, f32)> = faces.iter().map(|f| f.centre()).collect();
    centres.sort_by(|a, b| a.0.total_cmp(&b.0));
    assert!((centres[0].0 * 800.0 - 225.0).abs() < 30.0, "{faces:?}");
    assert!((centres[1].0 * 800.0 - (530.0 + 112.0)).abs() < 25.0, "{faces:?}");
    assert!((centres[1].1 * 512.0 - (200.0 + 64.0)).abs() < 25.0, "{faces:?}");
    assert!(faces.iter().all(|f| f.score >= FACE_SCORE_THRESHOLD));
}

#[test]
fn faces_survive_the_engines_256px_analysis_frames() {
    // The two-people canvas shrunk to 256 px wide, as the engine analyses frames: the
    // small face is now about 15 px across.
    let astronaut = open_rgb(&media("astronaut.png"));
    let small = image::imageops::resize(&astronaut, 256, 256, image::imageops::FilterType::Triangle);
    let mut canvas = RgbImage::from_pixel(800, 512, Rgb([200, 200, 200]));
    image::imageops::replace(&mut canvas, &astronaut, 0, 0);
    image::imageops::replace(&mut canvas, &small, 530, 200);
    let frame = image::imageops::resize(&canvas, 256, 164, image::imageops::FilterType::Triangle);
    let faces = detector().detect(&frame).unwrap();
    assert_eq!(faces.len(), 2, "{faces:?}");
    let mut xs: Vec<f32> = faces.iter().map(|f| f.centre().0).collect();
    xs.sort_by(f32::total_cmp);
    assert!((xs[0] - 225.0 / 800.0).abs() < 0.04 && (xs[1] - 642.0 / 800.0).abs() < 0.04, "{faces:?}");
}

#[test]
fn blank_and_tiny_images_have_no_faces() {
    let d = detector();
    assert!(d.detect(&RgbImage::new(0, 0)).unwrap().is_empty());
    assert!(d.detect(&RgbImage::new(1, 1)).unwrap().is_empty());
    assert!(d.detect(&RgbImage::from_pixel(640, 360, Rgb([0, 0, 0]))).unwrap().is_empty());
    assert!(d.detect(&RgbImage::from_pixel(3, 2000, Rgb([255, 255, 255]))).unwrap().is_empty());
}

#[test]
fn detection_is_deterministic_and_thread_safe() {
    let image = open_rgb(&media("astronaut.png"));
    let first = detector().detect(&image).unwrap();
    let results: Vec<Vec<FaceBox>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4).map(|_| s.spawn(|| detector().detect(&image).unwrap())).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for r in results {
        assert_eq!(r, first);
    }
}

#[test]
fn installed_detector_finds_the_same_face() {
    let installed = FaceDetector::load_installed().unwrap();
    let image = open_rgb(&media("astronaut.png"));
    assert_eq!(installed.detect(&image).unwrap(), detector().detect(&image).unwrap());
}

#[test]
fn loading_twice_shares_the_runtime() {
    let again = FaceDetector::load(&onnxruntime_path(), &models_dir()).unwrap();
    assert_eq!(again.runtime().path, detector().runtime().path);
    assert_eq!(again.runtime().version.as_deref(), Some("1.31.1"));
    assert_eq!(again.detect(&open_rgb(&media("astronaut.png"))).unwrap().len(), 1);
}

#[test]
fn missing_runtime_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let err = FaceDetector::load(&dir.path().join("libonnxruntime.so"), &models_dir()).unwrap_err();
    assert!(matches!(err, FaceError::RuntimeMissing { .. }), "{err:?}");
}

#[test]
fn text_file_as_runtime_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("libonnxruntime.so.1.31.1");
    std::fs::write(&fake, "not a library").unwrap();
    let err = FaceDetector::load(&fake, &models_dir()).unwrap_err();
    assert!(matches!(err, FaceError::RuntimeLoad { .. }), "{err:?}");
    // The real runtime still works afterwards.
    assert_eq!(detector().detect(&open_rgb(&media("astronaut.png"))).unwrap().len(), 1);
}

#[test]
fn missing_models_dir_is_model_missing() {
    let dir = tempfile::tempdir().unwrap();
    let err = FaceDetector::load(&onnxruntime_path(), &dir.path().join("models")).unwrap_err();
    match err {
        FaceError::ModelMissing { path } => {
            assert!(path.ends_with("face_detection_back_256x256.onnx"))
        }
        other => panic!("expected ModelMissing, got {other:?}"),
    }
}

#[test]
fn corrupt_model_is_a_load_error() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["face_detection_back_256x256.onnx", "face_detection_front_128x128.onnx"] {
        std::fs::write(dir.path().join(name), b"\x08\x07garbage that is not a protobuf model").unwrap();
    }
    let err = FaceDetector::load(&onnxruntime_path(), dir.path()).unwrap_err();
    assert!(matches!(err, FaceError::ModelLoad { .. }), "{err:?}");
}

/// `runtime::inspect()` reads `ORT_DYLIB_PATH`, which is process-wide: each case runs in a
/// child copy of this test binary with its own environment.
fn inspect_in_child(case: &str, ort_dylib_path: Option<&Path>) -> String {
    let mut child = Command::new(std::env::current_exe().unwrap());
    child
        .args(["--exact", "inspect_child", "--nocapture", "--test-threads=1"])
        .env("KEEPSAKE_FACES_INSPECT_CASE", case);
    match ort_dylib_path {
        Some(p) => child.env("ORT_DYLIB_PATH", p),
        None => child.env_remove("ORT_DYLIB_PATH"),
    };
    let out = child.output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "child {case} failed:\n{text}");
    assert!(text.contains("1 passed"), "child {case} did not run:\n{text}");
    text
}

/// The child side of [`inspect_in_child`]; does nothing in a normal run.
#[test]
fn inspect_child() {
    let Ok(case) = std::env::var("KEEPSAKE_FACES_INSPECT_CASE") else {
        return;
    };
    let report = keepsake_engine::runtime::inspect().unwrap();
    match case.as_str() {
        "pinned" => {
            assert_eq!(report.onnxruntime.as_deref(), Some(onnxruntime_path().as_path()), "{report:?}");
            assert!(report.onnxruntime_problem.is_none(), "{report:?}");
            assert_eq!(report.onnxruntime_version.as_deref(), Some("1.31.1"), "{report:?}");
        }
        "broken" => {
            assert!(report.onnxruntime.is_none(), "{report:?}");
            assert!(report.onnxruntime_version.is_none(), "{report:?}");
            let problem = report.onnxruntime_problem.unwrap_or_default();
            assert!(problem.contains("cannot load ONNX Runtime"), "{problem}");
        }
        other => panic!("unknown case {other}"),
    }
}

#[test]
fn doctor_loads_the_runtime_and_reports_its_version() {
    inspect_in_child("pinned", None);
}

#[test]
fn doctor_reports_a_broken_ort_dylib_path_without_panicking() {
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("libonnxruntime.so");
    std::fs::write(&fake, "not a library").unwrap();
    inspect_in_child("broken", Some(&fake));
}

/// Speed report, not a timed test: prints per-frame detection time on real video frames.
/// `cargo test --release -p keepsake-engine --test faces -- --ignored --nocapture speed`
#[test]
#[ignore = "benchmark; run explicitly with --release"]
fn speed_report() {
    let dir = tempfile::tempdir().unwrap();
    let mut frames: Vec<(String, RgbImage)> = Vec::new();
    for (video, size) in [
        ("carphone.mp4", "176:144"),
        ("bigbuckbunny_5s.mp4", "256:144"),
        ("bigbuckbunny_5s.mp4", "640:360"),
        ("bigbuckbunny_5s.mp4", "1280:720"),
    ] {
        let pattern = dir.path().join(format!("{}_{}_%02d.png", video, size.replace(':', "x")));
        let status = Command::new("ffmpeg")
            .args(["-loglevel", "error", "-y", "-i"])
            .arg(media(video))
            .args(["-vf", &format!("fps=4,scale={size}"), "-frames:v", "16"])
            .arg(&pattern)
            .status()
            .unwrap();
        assert!(status.success());
    }
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().path()).collect();
    paths.sort();
    for p in paths {
        let name = p.file_name().unwrap().to_string_lossy().rsplit_once('_').unwrap().0.to_owned();
        frames.push((name, open_rgb(&p)));
    }
    let d = detector();
    d.detect(&frames[0].1).unwrap(); // warm-up
    let mut groups: Vec<String> = frames.iter().map(|(n, _)| n.clone()).collect();
    groups.dedup();
    for group in groups {
        let set: Vec<&RgbImage> = frames.iter().filter(|(n, _)| *n == group).map(|(_, f)| f).collect();
        let start = std::time::Instant::now();
        let mut found = 0;
        for frame in &set {
            found += d.detect(frame).unwrap().len();
        }
        let per_frame = start.elapsed().as_secs_f64() * 1000.0 / set.len() as f64;
        println!("{group}: {} frames, {per_frame:.1} ms/frame, {found} faces", set.len());
    }
}
