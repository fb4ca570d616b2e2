//! `keepsake doctor`: what this machine gives Keepsake, and what is missing, and how
//! tightly this kernel lets workers be sandboxed (Landlock is best effort).

use std::process::ExitCode;

use anyhow::Context;
use keepsake_engine::runtime::{self, AssetStatus};

use crate::worker::sandbox;

/// Options for `keepsake doctor`.
#[derive(Debug, clap::Args)]
pub struct DoctorArgs {
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

/// Prints the report; fails when ONNX Runtime or a model is missing or corrupt,
/// naming each one and how to fix it.
pub fn run(args: DoctorArgs) -> anyhow::Result<ExitCode> {
    let report = runtime::inspect().context("cannot inspect the engine's set-up")?;
    let data_dir = keepsake_library::paths::data_dir()?;
    if args.json {
        let mut value = serde_json::to_value(&report)?;
        value["data_dir"] = serde_json::Value::from(data_dir.to_string_lossy().into_owned());
        value["ok"] = serde_json::Value::from(report.complete());
        value["libheif"] = serde_json::Value::from(keepsake_heif::libheif_version());
        value["sandbox"] = sandbox_json();
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        let f = &report.ffmpeg;
        println!("keepsake {}", env!("CARGO_PKG_VERSION"));
        println!(
            "FFmpeg        avformat {}  avcodec {}  avutil {}  swscale {}",
            f.avformat, f.avcodec, f.avutil, f.swscale
        );
        println!("libheif       {} (HEIC/HEIF and AVIF photos)", keepsake_heif::libheif_version());
        match (&report.onnxruntime, &report.onnxruntime_problem) {
            (Some(path), _) => println!(
                "ONNX Runtime  {} loaded from {}",
                report.onnxruntime_version.as_deref().unwrap_or("(version unknown)"),
                path.display()
            ),
            (None, Some(why)) => println!("ONNX Runtime  MISSING: {why}"),
            (None, None) => println!("ONNX Runtime  MISSING"),
        }
        println!("Manifest      {}", report.manifest.display());
        for asset in &report.assets {
            let status = match asset.status {
                AssetStatus::Ok => "ok (sha256 matches)",
                AssetStatus::Missing => "MISSING",
                AssetStatus::ChecksumMismatch => "CORRUPT (sha256 differs from the manifest)",
            };
            println!("  {:<18} {:<8} {}  {}", asset.name, asset.group, status, asset.path.display());
        }
        println!("Sandbox       {}", sandbox_line());
        println!("Data          {}", data_dir.display());
    }
    if report.complete() {
        return Ok(ExitCode::SUCCESS);
    }
    let missing: Vec<&str> = report
        .assets
        .iter()
        .filter(|a| a.status != AssetStatus::Ok)
        .map(|a| a.name.as_str())
        .chain(report.onnxruntime.is_none().then_some("ONNX Runtime"))
        .collect();
    eprintln!("keepsake doctor: missing or corrupt: {}; run `make setup` to fetch them", missing.join(", "));
    Ok(ExitCode::FAILURE)
}

/// What a worker's sandbox holds on this kernel (see `worker::sandbox`), as JSON.
fn sandbox_json() -> serde_json::Value {
    let abi = sandbox::landlock_abi();
    serde_json::json!({
        "landlock_abi": abi.as_ref().copied().unwrap_or(0),
        "landlock_problem": abi.as_ref().err(),
        "file_access": if abi.is_ok() { "restricted" } else { "unrestricted" },
        "network": if sandbox::seccomp_supported() || abi.as_ref().is_ok_and(|v| *v >= 4) { "blocked" } else { "open" },
        "no_new_privs": true,
    })
}

/// The same, in words: what a worker may read, write and connect to.
fn sandbox_line() -> String {
    let abi = sandbox::landlock_abi();
    let network = match (sandbox::seccomp_supported(), abi.as_ref().is_ok_and(|v| *v >= 4)) {
        (true, _) => "no network sockets",
        (false, true) => "no TCP (UDP is not blocked on this architecture)",
        (false, false) => "network NOT blocked on this architecture and kernel",
    };
    match abi {
        Ok(abi) => format!(
            "Landlock ABI {abi}: a worker reads only the system's libraries, ONNX Runtime, the models and \
             the albums it is given, writes only its job's folder in the data directory; {network}; \
             no new privileges"
        ),
        Err(why) => format!(
            "no Landlock ({why}): workers can read and write what you can; still {network} and no new privileges"
        ),
    }
}
