//! Shared helpers for the CLI tests: a temp data dir + album, the real `keepsake`
//! binary, real videos made with the ffmpeg CLI.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::Value;

pub struct Env {
    pub tmp: tempfile::TempDir,
    pub data: PathBuf,
    pub album: PathBuf,
    pub extra_env: Vec<(String, String)>,
}

impl Default for Env {
    fn default() -> Env {
        Env::new()
    }
}

impl Env {
    pub fn new() -> Env {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("data");
        let album = tmp.path().join("album");
        std::fs::create_dir_all(&album).unwrap();
        Env { tmp, data, album, extra_env: vec![] }
    }

    pub fn cmd(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_keepsake"));
        c.env("KEEPSAKE_DATA_DIR", &self.data)
            .env("KEEPSAKE_WORKER", env!("CARGO_BIN_EXE_keepsake"))
            .env("KEEPSAKE_WORKERS", "2")
            .env("KEEPSAKE_RETRY_BACKOFF_MS", "100")
            .env_remove("KEEPSAKE_WORKER_TEST_FAULT");
        for (k, v) in &self.extra_env {
            c.env(k, v);
        }
        c
    }

    /// Runs `keepsake ARGS`, asserting success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "keepsake {args:?} failed: {}\nstdout: {}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().unwrap()
    }

    pub fn ls(&self) -> Vec<Value> {
        let out = self.ok(&["ls", "--json"]);
        serde_json::from_str::<Value>(&out).unwrap().as_array().unwrap().clone()
    }

    pub fn item(&self, name: &str) -> Option<Value> {
        self.ls().into_iter().find(|m| m["path"].as_str().unwrap().ends_with(name))
    }

    pub fn db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.data.join("library.sqlite3")).unwrap()
    }
}

/// A short real H.264 video from one of FFmpeg's test sources (different `source`s
/// give different content, hence different fingerprints).
pub fn make_video(path: &Path, source: &str, seconds: f64) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).unwrap();
    }
    let status = Command::new("ffmpeg")
        .args(["-y", "-v", "error", "-f", "lavfi", "-i"])
        .arg(format!("{source}=size=160x120:rate=10"))
        .args(["-t", &seconds.to_string(), "-pix_fmt", "yuv420p", "-c:v", "libx264", "-g", "10"])
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success(), "ffmpeg could not make {}", path.display());
}

pub fn media(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/media").join(name)
}

/// Polls `f` until it returns Some, or panics after `timeout`.
pub fn wait_for<T>(timeout: Duration, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

pub fn frames(item: &Value) -> Vec<f64> {
    item["frames"].as_array().unwrap().iter().map(|f| f["time"].as_f64().unwrap()).collect()
}
