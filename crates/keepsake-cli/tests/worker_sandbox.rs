//! The worker's sandbox, with real processes: a `keepsake worker` started the way the
//! library starts one is refused a key in a fake `~/.ssh`, a file written outside its
//! folders and a TCP connection to a listener this test opens — and in the same
//! process still analyses a real video (face detection with ONNX Runtime included,
//! when it is installed), makes a HEIC thumbnail and renders a moment. And the library
//! really starts its workers so: analysis workers may read the albums and write
//! `frames/`, a helper worker only its request's folders.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use serde_json::{json, Value};

fn keepsake() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_keepsake"))
}

/// A worker process and its pipes.
struct Worker {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Worker {
    fn start(read: &[&Path], write: &[&Path], probes: &[String]) -> Worker {
        let sandbox = json!({ "read": read, "write": write });
        let mut child = Command::new(keepsake())
            .arg("worker")
            .env("KEEPSAKE_WORKER_SANDBOX", sandbox.to_string())
            .env("KEEPSAKE_WORKER_TEST_FAULT", probes.join(","))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Worker { child, stdin, stdout }
    }

    fn ask(&mut self, request: Value) -> Value {
        writeln!(self.stdin, "{request}").unwrap();
        self.stdin.flush().unwrap();
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        assert!(!line.is_empty(), "the worker ended on {request}");
        serde_json::from_str(&line).unwrap()
    }

    fn ask_ok(&mut self, request: Value) -> Value {
        let answer = self.ask(request.clone());
        assert_eq!(answer["ok"], true, "{request} -> {answer}");
        answer
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn heic(out: &Path) {
    let status = Command::new("heif-enc")
        .args(["-q", "70"])
        .arg(common::media("chelsea.png"))
        .arg("-o")
        .arg(out)
        .stdout(Stdio::null())
        .status()
        .expect("heif-enc (scripts/setup.sh installs libheif-examples)");
    assert!(status.success());
}

fn probe<'a>(report: &'a Value, rule: &str) -> &'a Value {
    report["test_probes"].as_array().unwrap().iter().find(|p| p["rule"] == rule).unwrap_or_else(|| panic!("{rule}"))
}

/// A probe the sandbox must have refused with EACCES.
fn assert_refused(report: &Value, rule: &str) {
    let p = probe(report, rule);
    assert_eq!(p["allowed"], false, "{rule} was allowed");
    assert_eq!(p["errno"], libc::EACCES, "{rule}: {p}");
}

#[test]
fn a_sandboxed_worker_cannot_read_home_write_elsewhere_or_connect_but_does_its_work() {
    let tmp = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(tmp.path()).unwrap();
    let home = root.join("home");
    std::fs::create_dir_all(home.join(".ssh")).unwrap();
    std::fs::write(home.join(".ssh/id_rsa"), "-----BEGIN OPENSSH PRIVATE KEY-----\n").unwrap();
    let album = root.join("album");
    std::fs::create_dir_all(&album).unwrap();
    std::fs::copy(common::media("carphone.mp4"), album.join("carphone.mp4")).unwrap();
    heic(&album.join("IMG_0001.HEIC"));
    let (frames, thumbs, previews) = (root.join("data/frames/1"), root.join("data/thumbs"), root.join("data/previews"));
    for dir in [&frames, &thumbs, &previews] {
        std::fs::create_dir_all(dir).unwrap();
    }
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();

    let id_rsa = home.join(".ssh/id_rsa");
    let outside = root.join("outside.txt");
    let authorized = home.join(".ssh/authorized_keys");
    let probes = [
        format!("read:{}", id_rsa.display()),
        format!("write:{}", outside.display()),
        format!("write:{}", authorized.display()),
        format!("write:{}", root.join("data/index-overwritten").display()),
        format!("connect:127.0.0.1:{port}"),
        // What it is given stays usable.
        format!("read:{}", album.join("carphone.mp4").display()),
        format!("write:{}", thumbs.join("probe.txt").display()),
    ];
    let mut worker = Worker::start(&[&album], &[&root.join("data/frames"), &thumbs, &previews], &probes);

    let setup = worker.ask_ok(json!({ "op": "inspect_runtime" }))["runtime"]["report"].clone();
    let sandbox = &setup["sandbox"];
    assert_eq!(sandbox["enabled"], true, "{sandbox}");
    assert_eq!(sandbox["no_new_privs"], true, "{sandbox}");
    if cfg!(any(target_arch = "x86_64", target_arch = "aarch64")) {
        assert_eq!(sandbox["network_blocked"], true, "{sandbox}");
        assert_refused(&setup, &probes[4]);
    }
    assert!(listener.accept().is_err(), "nothing reached the listener");
    if sandbox["landlock_abi"].as_u64().unwrap_or(0) == 0 {
        eprintln!("this kernel has no Landlock ({sandbox}); file access could not be checked");
    } else {
        assert_eq!(sandbox["landlock"], "full", "{sandbox}");
        for rule in &probes[..4] {
            assert_refused(&setup, rule);
        }
        assert!(!outside.exists() && !authorized.exists() && !root.join("data/index-overwritten").exists());
    }
    assert_eq!(probe(&setup, &probes[5])["allowed"], true, "{setup}");
    assert_eq!(probe(&setup, &probes[6])["allowed"], true, "{setup}");

    // Real work in the same sandboxed process.
    let analysed = worker.ask_ok(json!({
        "op": "analyze", "video": album.join("carphone.mp4"), "out_dir": frames, "count": 3
    }));
    let picks = analysed["analysis"]["frames"].as_array().unwrap();
    assert_eq!(picks.len(), 3, "{analysed}");
    for pick in picks {
        assert!(Path::new(pick["path"].as_str().unwrap()).starts_with(&frames), "{pick}");
    }
    if setup["onnxruntime"].is_string() {
        // carphone.mp4 is a man on the phone: ONNX Runtime and the model ran in the sandbox.
        assert!(picks.iter().any(|p| p["reasons"]["faces"].as_u64().unwrap_or(0) >= 1), "{analysed}");
    } else {
        eprintln!("ONNX Runtime is not installed here; face detection was not checked");
    }
    let thumb = thumbs.join("IMG_0001.jpg");
    let heic = album.join("IMG_0001.HEIC");
    worker.ask_ok(json!({ "op": "photo_thumbnail", "photo": heic, "out": thumb, "max_side": 256 }));
    assert!(image::image_dimensions(&thumb).unwrap().0 > 0);
    let moment = previews.join("carphone-1.0.jpg");
    worker.ask_ok(json!({
        "op": "render_moment", "video": album.join("carphone.mp4"), "time": 1.0, "out": moment, "max_side": 320
    }));
    assert!(moment.is_file());

    // Its own refusals are plain failures, not crashes: a thumbnail written outside.
    let refused = worker.ask(json!({
        "op": "photo_thumbnail", "photo": album.join("IMG_0001.HEIC"), "out": root.join("elsewhere.jpg"), "max_side": 64
    }));
    if sandbox["landlock_abi"].as_u64().unwrap_or(0) > 0 {
        assert_eq!(refused["ok"], false, "{refused}");
        assert!(!root.join("elsewhere.jpg").exists());
    }
    assert!(worker.child.try_wait().unwrap().is_none(), "the worker is still running");
}

/// The library starts every worker with a sandbox: analysis workers may read the
/// albums and write `frames/`, and do their work within it; a helper worker gets
/// only its request's folders. Seen by a wrapper around the real worker that notes
/// the sandbox it was started with.
#[test]
fn the_library_starts_its_workers_sandboxed_to_the_albums_and_frames() {
    use std::os::unix::fs::PermissionsExt;
    let env = common::Env::new();
    std::fs::copy(common::media("bikes.mp4"), env.album.join("bikes.mp4")).unwrap();
    heic(&env.album.join("IMG_0002.HEIC"));
    let log = env.tmp.path().join("sandboxes.jsonl");
    let wrapper = env.tmp.path().join("worker.sh");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$KEEPSAKE_WORKER_SANDBOX\" >> '{}'\nexec '{}' \"$@\"\n",
            log.display(),
            keepsake().display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let run = |args: &[&str]| {
        let out = env.cmd().env("KEEPSAKE_WORKER", &wrapper).args(args).output().unwrap();
        assert!(out.status.success(), "keepsake {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    run(&["add", env.album.to_str().unwrap()]);
    run(&["analyze"]);
    let bikes = env.item("bikes.mp4").unwrap();
    assert_eq!(common::frames(&bikes).len(), 3, "analysed in the sandbox: {bikes}");

    let album = std::fs::canonicalize(&env.album).unwrap();
    let frames = std::fs::canonicalize(env.data.join("frames")).unwrap();
    let started: Vec<Value> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    assert!(!started.is_empty());
    let analysis = json!({ "read": [album], "write": [frames] });
    assert!(started.iter().all(|s| *s == analysis), "{started:?}");

    // A HEIC thumbnail through the library's helper: that worker reads the photo's
    // folder and writes the thumbnails' folder, nothing more.
    std::fs::remove_file(&log).unwrap();
    let lib = keepsake_library::Library::open_with_worker(&env.data, Some(wrapper.clone())).unwrap();
    let photo = lib
        .catalog()
        .media(&keepsake_library::MediaQuery { search: Some("IMG_0002".into()), ..Default::default() })
        .unwrap()[0]
        .clone();
    let thumb = lib.images().image_path(&keepsake_library::ImageKey::Photo(photo.id)).unwrap();
    assert!(thumb.is_file());
    let helper: Value = serde_json::from_str(std::fs::read_to_string(&log).unwrap().trim()).unwrap();
    let thumbs = std::fs::canonicalize(thumb.parent().unwrap()).unwrap();
    assert_eq!(helper, json!({ "read": [album], "write": [thumbs] }));
}

/// `keepsake doctor` says what a worker's sandbox holds on this kernel.
#[test]
fn doctor_reports_the_sandbox() {
    let data = tempfile::tempdir().unwrap();
    let doctor =
        |args: &[&str]| Command::new(keepsake()).args(args).env("KEEPSAKE_DATA_DIR", data.path()).output().unwrap();
    let out = doctor(&["doctor", "--json"]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let sandbox = &report["sandbox"];
    assert_eq!(sandbox["no_new_privs"], true, "{sandbox}");
    let text = doctor(&["doctor"]);
    let text = String::from_utf8_lossy(&text.stdout);
    let line = text.lines().find(|l| l.starts_with("Sandbox ")).unwrap_or_else(|| panic!("{text}"));
    match sandbox["landlock_abi"].as_u64().unwrap() {
        0 => assert!(line.contains("no Landlock") && sandbox["file_access"] == "unrestricted", "{line}"),
        abi => {
            assert!(line.contains(&format!("Landlock ABI {abi}")) && line.contains("albums"), "{line}");
            assert_eq!(sandbox["file_access"], "restricted");
        }
    }
}
