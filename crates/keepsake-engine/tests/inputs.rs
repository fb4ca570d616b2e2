//! Formats, odd and broken inputs, rotation, faces missing: all with real files.

mod common;
use common::*;

use std::path::Path;

use keepsake_engine::{AnalyzeOptions, Engine, EngineConfig, EngineError, FaceAvailability};

fn testsrc(dir: &Path, name: &str, secs: f64, codec_args: &[&str]) -> std::path::PathBuf {
    let out = dir.join(name);
    let src = format!("testsrc2=s=320x240:r=25:d={secs}");
    let mut args = vec!["-f", "lavfi", "-i", src.as_str()];
    args.extend_from_slice(codec_args);
    let o = out.to_string_lossy().into_owned();
    args.push(&o);
    ffmpeg(&args);
    out
}

fn err_of(path: &Path) -> EngineError {
    let dir = tempfile::tempdir().unwrap();
    engine().analyze(path, &AnalyzeOptions::new(dir.path())).expect_err("must fail")
}

#[test]
fn zero_byte_file_is_reported_empty() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("empty.mp4");
    std::fs::write(&p, b"").unwrap();
    assert!(matches!(err_of(&p), EngineError::Empty { .. }));
}

#[test]
fn missing_file_is_reported_not_found() {
    assert!(matches!(err_of(Path::new("/nonexistent/clip.mp4")), EngineError::NotFound { .. }));
}

#[test]
fn random_bytes_and_text_are_not_media() {
    let dir = tempfile::tempdir().unwrap();
    let random = dir.path().join("random.mp4");
    // Deterministic pseudo-random bytes.
    let mut x: u32 = 12345;
    let bytes: Vec<u8> = (0..200_000)
        .map(|_| {
            x = x.wrapping_mul(1664525).wrapping_add(1013904223);
            (x >> 24) as u8
        })
        .collect();
    std::fs::write(&random, bytes).unwrap();
    let e = err_of(&random);
    assert!(
        matches!(e, EngineError::NotMedia { .. } | EngineError::Undecodable { .. } | EngineError::NoVideoStream { .. }),
        "{e:?}"
    );
    let text = dir.path().join("notes.mov");
    std::fs::write(&text, "shopping list: milk, eggs\n".repeat(100)).unwrap();
    let e = err_of(&text);
    assert!(matches!(e, EngineError::NotMedia { .. }), "{e:?}");
    assert!(e.to_string().starts_with(&text.display().to_string()));
}

#[test]
fn audio_only_has_no_video_stream() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("voice.mp4");
    ffmpeg(&["-f", "lavfi", "-i", "sine=frequency=440:duration=2", "-c:a", "aac", p.to_str().unwrap()]);
    assert!(matches!(err_of(&p), EngineError::NoVideoStream { .. }));
}

#[test]
fn truncated_file_gives_picks_from_the_decodable_part() {
    let dir = tempfile::tempdir().unwrap();
    let full = testsrc(dir.path(), "full.mkv", 10.0, &["-c:v", "libx264", "-preset", "ultrafast", "-g", "25"]);
    let bytes = std::fs::read(&full).unwrap();
    let cut = dir.path().join("cut.mkv");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let sel = analyze(&cut, &dir.path().join("out"));
    assert_eq!(sel.frames.len(), 3);
    for p in &sel.frames {
        assert!(p.time < 7.0, "pick at {} lies past the cut", p.time);
        assert!(p.path.is_file());
    }
    // Truncated MP4 with its index up front (faststart) also decodes its first part.
    let mp4 = testsrc(
        dir.path(),
        "full.mp4",
        6.0,
        &["-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-movflags", "+faststart"],
    );
    let bytes = std::fs::read(&mp4).unwrap();
    let cut = dir.path().join("cut.mp4");
    std::fs::write(&cut, &bytes[..bytes.len() * 6 / 10]).unwrap();
    let sel = analyze(&cut, &dir.path().join("out2"));
    assert!(!sel.frames.is_empty());
}

#[test]
fn every_common_codec_and_container_decodes() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(&str, Vec<&str>, &str)> = vec![
        ("hevc.mp4", vec!["-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error"], "hevc"),
        ("vp9.webm", vec!["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "300k"], "vp9"),
        ("mpeg2.mpg", vec!["-c:v", "mpeg2video"], "mpeg2video"),
        ("mjpeg.avi", vec!["-c:v", "mjpeg", "-q:v", "5"], "mjpeg"),
        ("mpeg4.avi", vec!["-c:v", "mpeg4"], "mpeg4"),
        ("h264.ts", vec!["-c:v", "libx264", "-preset", "ultrafast", "-f", "mpegts"], "h264"),
        ("h264.mov", vec!["-c:v", "libx264", "-preset", "ultrafast"], "h264"),
    ];
    let engine = engine();
    for (name, args, codec) in cases {
        let v = testsrc(dir.path(), name, 3.0, &args);
        let sel = engine
            .analyze(&v, &AnalyzeOptions::new(dir.path().join(format!("out_{name}"))))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(sel.info.codec, codec, "{name}");
        assert_eq!(sel.frames.len(), 3, "{name}");
        assert!((sel.info.duration - 3.0).abs() < 0.3, "{name}: duration {}", sel.info.duration);
        let mut times: Vec<f64> = sel.frames.iter().map(|p| p.time).collect();
        times.sort_by(f64::total_cmp);
        times.dedup();
        assert_eq!(times.len(), 3, "{name}: distinct picks");
        for p in &sel.frames {
            let img = image::open(&p.path).unwrap();
            assert_eq!((img.width(), img.height()), (320, 240), "{name}");
        }
    }
}

#[test]
fn short_and_single_frame_videos() {
    let dir = tempfile::tempdir().unwrap();
    let short = testsrc(dir.path(), "short.mp4", 0.4, &["-c:v", "libx264", "-preset", "ultrafast"]);
    let sel = analyze(&short, &dir.path().join("o1"));
    assert_eq!(sel.frames.len(), 3, "a 10-frame video still gives three picks");
    let mut times: Vec<f64> = sel.frames.iter().map(|p| p.time).collect();
    times.dedup();
    assert_eq!(times.len(), 3);

    let single = dir.path().join("single.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=s=320x240:r=25",
        "-frames:v",
        "1",
        "-c:v",
        "libx264",
        single.to_str().unwrap(),
    ]);
    let sel = analyze(&single, &dir.path().join("o2"));
    assert_eq!(sel.frames.len(), 1);
    assert!(sel.frames[0].path.is_file());
}

/// A portrait phone video stored sideways: the content has a red band at its top; the
/// stored frames are turned 90° clockwise and the stream carries a display matrix that
/// turns them back (FFmpeg 5.1 writes it for the tag rotate=90 on a stream copy; players
/// and `ffmpeg` itself then show the red band on top).
#[test]
fn rotated_video_comes_out_upright() {
    let dir = tempfile::tempdir().unwrap();
    let sideways = dir.path().join("sideways.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=s=180x320:r=25:d=2",
        "-vf",
        "drawbox=x=0:y=0:w=180:h=60:color=red:t=fill,transpose=clock",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        sideways.to_str().unwrap(),
    ]);
    let v = dir.path().join("portrait.mp4");
    ffmpeg(&["-i", sideways.to_str().unwrap(), "-c", "copy", "-metadata:s:v:0", "rotate=90", v.to_str().unwrap()]);
    let engine = engine();
    let info = engine.probe(&v).unwrap();
    assert_eq!(info.rotation, 270, "clockwise degrees to turn upright");
    assert_eq!((info.width, info.height), (180, 320));
    let sel = engine.analyze(&v, &AnalyzeOptions::new(dir.path().join("out"))).unwrap();
    for p in &sel.frames {
        let img = image::open(&p.path).unwrap().to_rgb8();
        assert_eq!((img.width(), img.height()), (180, 320), "portrait");
        let top = img.get_pixel(90, 20).0;
        let bottom = img.get_pixel(90, 300).0;
        assert!(top[0] > 180 && top[1] < 80 && top[2] < 80, "top is red: {top:?}");
        assert!(!(bottom[0] > 180 && bottom[1] < 80), "bottom is not red: {bottom:?}");
    }
    let moment = engine.render_moment(&v, 1.0, &dir.path().join("m.jpg"), Some(160)).unwrap();
    assert_eq!((moment.width, moment.height), (90, 160));
    assert!((moment.time.unwrap() - 1.0).abs() < 0.05);
}

#[test]
fn missing_onnx_runtime_still_picks_and_says_faces_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let config = EngineConfig {
        onnxruntime: Some("/nonexistent/libonnxruntime.so".into()),
        faces_enabled: true,
        ..EngineConfig::discover()
    };
    let engine = Engine::new(config);
    assert!(matches!(engine.faces_status(), FaceAvailability::Unavailable { .. }));
    let sel = engine.analyze(&media("carphone.mp4"), &AnalyzeOptions::new(dir.path())).unwrap();
    assert_eq!(sel.frames.len(), 3);
    assert!(!sel.faces.is_available());
}

/// Longer than the dense limit: sampled at keyframes, three spread picks.
#[test]
fn long_video_uses_keyframes_and_spreads_picks() {
    let dir = tempfile::tempdir().unwrap();
    let v = testsrc(
        dir.path(),
        "long.mp4",
        90.0,
        &["-s", "160x120", "-c:v", "libx264", "-preset", "ultrafast", "-g", "50"],
    );
    let sel = analyze(&v, &dir.path().join("out"));
    assert_eq!(sel.frames.len(), 3);
    assert!(sel.candidates.len() >= 30, "{} candidates", sel.candidates.len());
    let mut times: Vec<f64> = sel.frames.iter().map(|p| p.time).collect();
    times.sort_by(f64::total_cmp);
    assert!(times[2] - times[0] > 20.0, "picks spread over the video: {times:?}");
}

#[test]
fn real_footage_gives_three_picks() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["bikes.mp4", "bigbuckbunny_5s.mp4"] {
        let sel = analyze(&media(name), &dir.path().join(name));
        assert_eq!(sel.frames.len(), 3, "{name}");
        assert!(sel.frames.iter().all(|p| p.score > 0.0 && p.path.is_file()));
    }
}
