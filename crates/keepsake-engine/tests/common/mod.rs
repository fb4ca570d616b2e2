//! Fixture videos made with the real `ffmpeg` CLI into a temp dir, from the repository's
//! registry photos (tests/media).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use keepsake_engine::{AnalyzeOptions, Engine, EngineConfig, Selection};

pub const FONT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf";

pub fn media(name: &str) -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/media").join(name);
    assert!(p.is_file(), "missing {} (run scripts/fetch_assets.py tests/media/manifest.toml)", p.display());
    p
}

/// Runs ffmpeg with `args`, panicking with its stderr on failure.
pub fn ffmpeg(args: &[&str]) {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(args)
        .output()
        .expect("ffmpeg CLI must be installed");
    assert!(out.status.success(), "ffmpeg {:?} failed: {}", args, String::from_utf8_lossy(&out.stderr));
}

/// One segment of a composed video: a filter graph source producing `secs` seconds.
pub struct Segment {
    /// Photo (from tests/media) or None for a lavfi colour source.
    pub photo: Option<&'static str>,
    /// lavfi source when `photo` is None, e.g. "color=c=black".
    pub lavfi: &'static str,
    pub secs: f64,
    /// Extra filters applied to this segment (e.g. "gblur=sigma=12").
    pub filter: &'static str,
}

pub fn photo(name: &'static str, secs: f64) -> Segment {
    Segment { photo: Some(name), lavfi: "", secs, filter: "" }
}

pub fn photo_with(name: &'static str, secs: f64, filter: &'static str) -> Segment {
    Segment { photo: Some(name), lavfi: "", secs, filter }
}

pub fn colour(lavfi: &'static str, secs: f64, filter: &'static str) -> Segment {
    Segment { photo: None, lavfi, secs, filter }
}

/// Concatenates segments into a 320×240 25 fps H.264 MP4 (keyframe every second).
/// Photos get a slow pan so frames are not all identical.
pub fn compose(dir: &Path, name: &str, segments: &[Segment]) -> PathBuf {
    let out = dir.join(name);
    let mut args: Vec<String> = Vec::new();
    let mut graph = String::new();
    for (i, s) in segments.iter().enumerate() {
        match s.photo {
            Some(p) => {
                args.extend([
                    "-loop".into(),
                    "1".into(),
                    "-framerate".into(),
                    "25".into(),
                    "-t".into(),
                    format!("{}", s.secs),
                ]);
                args.extend(["-i".into(), media(p).to_string_lossy().into_owned()]);
                let extra = if s.filter.is_empty() { String::new() } else { format!(",{}", s.filter) };
                graph.push_str(&format!(
                    "[{i}:v]scale=400:300,crop=320:240:x='40+20*sin(t)':y=30,setsar=1,format=yuv420p{extra}[v{i}];"
                ));
            }
            None => {
                args.extend(["-f".into(), "lavfi".into(), "-t".into(), format!("{}", s.secs)]);
                args.extend(["-i".into(), format!("{}:s=320x240:r=25", s.lavfi)]);
                let extra = if s.filter.is_empty() { String::new() } else { format!(",{}", s.filter) };
                graph.push_str(&format!("[{i}:v]setsar=1,format=yuv420p{extra}[v{i}];"));
            }
        }
    }
    for i in 0..segments.len() {
        graph.push_str(&format!("[v{i}]"));
    }
    graph.push_str(&format!("concat=n={}:v=1:a=0[out]", segments.len()));
    args.extend(["-filter_complex".into(), graph, "-map".into(), "[out]".into()]);
    args.extend(
        ["-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-pix_fmt", "yuv420p", "-r", "25"]
            .iter()
            .map(|s| s.to_string()),
    );
    args.push(out.to_string_lossy().into_owned());
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    ffmpeg(&refs);
    out
}

/// An engine without face detection (fast, deterministic).
pub fn engine() -> Engine {
    Engine::new(EngineConfig::without_faces())
}

pub fn analyze(video: &Path, out: &Path) -> Selection {
    engine().analyze(video, &AnalyzeOptions::new(out)).unwrap_or_else(|e| panic!("analyze {}: {e}", video.display()))
}

/// Asserts no pick's time lies in [start, end] (seconds), with a readable message.
pub fn assert_no_pick_in(sel: &Selection, start: f64, end: f64, what: &str) {
    let times: Vec<f64> = sel.frames.iter().map(|p| p.time).collect();
    for t in &times {
        assert!(
            !(*t >= start && *t <= end),
            "{what}: a pick at {t:.2}s lies inside the bad stretch {start}..{end}s (picks {times:?}); rejected: {:?}",
            sel.candidates.iter().map(|c| (c.time, c.rejected)).collect::<Vec<_>>()
        );
    }
}
