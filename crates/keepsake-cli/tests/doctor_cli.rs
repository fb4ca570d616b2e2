//! `keepsake doctor` against the real set-up: the runtime and models that `make setup`
//! fetched, and the failure modes a user can cause (a broken ORT_DYLIB_PATH).

use std::process::Command;

fn keepsake() -> Command {
    Command::new(env!("CARGO_BIN_EXE_keepsake"))
}

#[test]
fn reports_runtime_models_and_the_data_dir_override() {
    let data = tempfile::tempdir().unwrap();
    let out = keepsake()
        .args(["doctor", "--json"])
        .env("KEEPSAKE_DATA_DIR", data.path())
        .env_remove("ORT_DYLIB_PATH")
        .output()
        .unwrap();
    assert!(out.status.success(), "doctor failed: {}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["data_dir"], data.path().to_string_lossy().as_ref());
    assert_eq!(report["onnxruntime_version"], "1.31.1");
    let assets = report["assets"].as_array().unwrap();
    for name in ["onnxruntime", "blazeface-front", "blazeface-back"] {
        let a = assets.iter().find(|a| a["name"] == name).unwrap_or_else(|| panic!("{name} not listed"));
        assert_eq!(a["status"], "ok", "{name}: {a}");
    }
    let text =
        keepsake().arg("doctor").env("KEEPSAKE_DATA_DIR", data.path()).env_remove("ORT_DYLIB_PATH").output().unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("ONNX Runtime  1.31.1 loaded from"), "{text}");
    assert!(text.contains("avcodec 59."), "{text}");
}

#[test]
fn a_broken_runtime_path_fails_clearly_without_panicking() {
    let out = keepsake().arg("doctor").env("ORT_DYLIB_PATH", "/nonexistent/libonnxruntime.so").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stdout.contains("ONNX Runtime  MISSING"), "{stdout}");
    assert!(stdout.contains("/nonexistent/libonnxruntime.so"), "{stdout}");
    assert!(stderr.contains("keepsake doctor: missing or corrupt: ONNX Runtime"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn version_and_help_work() {
    let v = keepsake().arg("--version").output().unwrap();
    assert_eq!(String::from_utf8_lossy(&v.stdout).trim(), format!("keepsake {}", env!("CARGO_PKG_VERSION")));
    let h = keepsake().arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&h.stdout);
    for cmd in ["doctor", "thumbs", "preview"] {
        assert!(help.contains(cmd), "--help lacks {cmd}: {help}");
    }
}
