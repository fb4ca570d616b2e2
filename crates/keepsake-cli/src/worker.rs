//! `keepsake worker`: the engine (and the slideshow encoder) in its own process. Reads
//! one JSON request per line on stdin, answers one JSON line on stdout, until stdin
//! closes. The library's analyzer supervises it for analysis, and the library's helper
//! for the app's renders, exports and demo album: if decoding or inference crashes,
//! hangs or runs out of memory, only this process dies and only that request fails.
//!
//! Test-only fault switch (honoured here and nowhere else):
//! `KEEPSAKE_WORKER_TEST_FAULT=abort:NEEDLE`, `hang:NEEDLE` or `oom:NEEDLE`
//! (comma-separated rules) makes `analyze` of any video whose path contains NEEDLE abort
//! the process, hang, or allocate until the worker's memory limit stops it; so does
//! `render_moment` of such a video, `photo_thumbnail` of such a photo and
//! `score_pictures` of a batch holding such a picture. Probe rules
//! test the sandbox ([`sandbox`]): `read:PATH`, `write:PATH` (create or append) and
//! `connect:HOST:PORT` (TCP) are tried at every `inspect_runtime`, and what happened is
//! listed in its report under `test_probes` (`allowed`, or the error and its errno).
//!
//! The worker enters its sandbox first, before it starts a thread or reads a request.

use std::io::{BufRead, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use keepsake_engine::EngineError;
use keepsake_library::model::FailureKind;
use keepsake_library::protocol::{WorkerRequest, WorkerResponse};

pub mod sandbox;

/// Environment variable of the test-only fault switch.
pub const TEST_FAULT_ENV: &str = "KEEPSAKE_WORKER_TEST_FAULT";

pub fn run() -> Result<ExitCode> {
    let sandbox = sandbox::enter_from_env().context("keepsake worker: cannot enter the sandbox")?;
    if sandbox.enabled && sandbox.landlock != "full" {
        // Said once per worker, on stderr (the supervisor keeps its tail).
        let why = sandbox.landlock_problem.as_deref().unwrap_or("unknown");
        eprintln!("keepsake worker: file access restricted only partly or not at all: {why}");
    }
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout().lock();
    let mut engine = crate::worker_engine::WorkerEngine::default();
    for line in stdin.lock().lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let response = match serde_json::from_str::<WorkerRequest>(&line) {
            Ok(req) => handle(&mut engine, &sandbox, req),
            Err(e) => WorkerResponse::failure(FailureKind::InvalidRequest, format!("bad request: {e}")),
        };
        serde_json::to_writer(&mut stdout, &response)?;
        stdout.write_all(b"\n")?;
        stdout.flush()?;
    }
    Ok(ExitCode::SUCCESS)
}

fn handle(
    engine: &mut crate::worker_engine::WorkerEngine,
    sandbox: &sandbox::SandboxStatus,
    req: WorkerRequest,
) -> WorkerResponse {
    use crate::worker_engine::{create_demo, export_slideshow, inspect_runtime};
    match req {
        WorkerRequest::Probe { video } => reply(engine.probe(&video), |r, p| r.probe = Some(p)),
        WorkerRequest::Analyze { video, out_dir, count } => {
            injected_fault(&video);
            reply(engine.analyze(&video, &out_dir, count), |r, a| r.analysis = Some(a))
        }
        WorkerRequest::RenderMoment { video, time, out, max_side } => {
            injected_fault(&video);
            reply(engine.render_moment(&video, time, &out, max_side), |_, ()| {})
        }
        WorkerRequest::PhotoThumbnail { photo, out, max_side } => {
            injected_fault(&photo);
            reply(crate::photo::thumbnail(&photo, &out, max_side).map_err(Refusal::from), |_, _| {})
        }
        WorkerRequest::ExportSlideshow { images, out, format } => {
            reply(export_slideshow(&images, &out, format).map_err(Refusal::unclassified), |r, e| r.export = Some(e))
        }
        WorkerRequest::CreateDemo { dir } => reply(create_demo(&dir).map_err(Refusal::unclassified), |_, ()| {}),
        WorkerRequest::ScorePictures { pictures } => {
            pictures.iter().for_each(|p| injected_fault(p));
            reply(Ok(engine.score_pictures(&pictures)), |r, s| r.scores = Some(s))
        }
        WorkerRequest::InspectRuntime => reply(inspect_runtime().map_err(Refusal::unclassified), |r, mut rt| {
            rt.report["sandbox"] = serde_json::to_value(sandbox).unwrap_or_default();
            if let Some(probes) = test_probes() {
                rt.report["test_probes"] = probes;
            }
            r.runtime = Some(rt)
        }),
    }
}

/// The answer to one request: `ok`, with what `fill` puts in it, or the refusal.
fn reply<T>(result: Result<T, Refusal>, fill: impl FnOnce(&mut WorkerResponse, T)) -> WorkerResponse {
    match result {
        Ok(value) => {
            let mut response = WorkerResponse { ok: true, ..Default::default() };
            fill(&mut response, value);
            response
        }
        Err(e) => WorkerResponse::failure(e.kind, e.message),
    }
}

/// Why the worker refused a request, as the protocol carries it: the engine's kind of
/// failure ([`EngineError::kind`]) and the message for a user.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub kind: FailureKind,
    pub message: String,
}

impl Refusal {
    /// A refusal the engine did not classify (the slideshow encoder's, the runtime
    /// report's): [`FailureKind::Refused`].
    pub fn unclassified(message: String) -> Refusal {
        Refusal { kind: FailureKind::Refused, message }
    }
}

impl From<EngineError> for Refusal {
    fn from(e: EngineError) -> Refusal {
        Refusal { kind: FailureKind::from_engine(e.kind()), message: e.to_string() }
    }
}

/// A photo refused by the imaging crate: the engine's kind for it.
impl From<keepsake_imaging::ImagingError> for Refusal {
    fn from(e: keepsake_imaging::ImagingError) -> Refusal {
        let message = e.to_string();
        Refusal { kind: FailureKind::from_engine(EngineError::from(e).kind()), message }
    }
}

/// The test-only fault switch (see the module docs). Several rules may be given,
/// separated by commas: `abort:crashme,hang:hangme`.
fn injected_fault(video: &Path) {
    let Ok(spec) = std::env::var(TEST_FAULT_ENV) else { return };
    let path = video.to_string_lossy();
    for rule in spec.split(',') {
        let (mode, needle) = rule.split_once(':').unwrap_or((rule, ""));
        if !path.contains(needle) {
            continue;
        }
        match mode {
            "abort" => {
                eprintln!("keepsake worker: test fault: aborting on {}", video.display());
                std::process::abort();
            }
            "oom" => {
                // Grows like a decoder leaking frames, touching each block, until the
                // worker's memory limit stops it.
                eprintln!("keepsake worker: test fault: allocating without bound on {}", video.display());
                let mut held: Vec<Vec<u8>> = Vec::new();
                loop {
                    held.push(vec![1u8; 32 << 20]);
                    std::hint::black_box(&held);
                }
            }
            "hang" => loop {
                std::thread::sleep(std::time::Duration::from_secs(3600));
            },
            _ => {}
        }
    }
}

/// The test-only sandbox probes (see the module docs): each `read:`, `write:` and
/// `connect:` rule tried now, with what happened. `None` without such rules.
fn test_probes() -> Option<serde_json::Value> {
    let spec = std::env::var(TEST_FAULT_ENV).ok()?;
    let mut out = Vec::new();
    for rule in spec.split(',') {
        let Some((mode, target)) = rule.split_once(':') else { continue };
        let outcome: std::io::Result<()> = match mode {
            "read" => std::fs::File::open(target).and_then(|mut f| {
                let mut byte = [0u8; 1];
                std::io::Read::read(&mut f, &mut byte).map(|_| ())
            }),
            "write" => std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(target)
                .and_then(|mut f| f.write_all(b"keepsake worker sandbox probe\n")),
            "connect" => connect(target),
            _ => continue,
        };
        out.push(match outcome {
            Ok(()) => serde_json::json!({ "rule": rule, "allowed": true }),
            Err(e) => serde_json::json!({
                "rule": rule, "allowed": false, "errno": e.raw_os_error(), "error": e.to_string()
            }),
        });
    }
    Some(serde_json::Value::Array(out))
}

/// A TCP connection to `target` (`HOST:PORT`), given up after two seconds.
fn connect(target: &str) -> std::io::Result<()> {
    use std::net::ToSocketAddrs;
    let addr = target
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "no address"))?;
    std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_secs(2)).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    /// Every kind the engine names is one the library knows by the same name, so none
    /// crosses the protocol as a bare `refused`.
    #[test]
    fn every_engine_kind_crosses_the_protocol_as_itself() {
        let path = PathBuf::from("a.mp4");
        let why = || "why".to_owned();
        let all = [
            EngineError::NotFound { path: path.clone() },
            EngineError::Empty { path: path.clone() },
            EngineError::NotMedia { path: path.clone(), reason: why() },
            EngineError::NoVideoStream { path: path.clone() },
            EngineError::Undecodable { path: path.clone(), reason: why() },
            EngineError::TooLarge { path: path.clone(), width: 1, height: 1, limit: 1 },
            EngineError::Unsupported { path: path.clone(), reason: why() },
            EngineError::Io { path: path.clone(), source: std::io::Error::other("disk") },
            EngineError::Ffmpeg { path: path.clone(), message: why() },
            EngineError::Encode { path: path.clone(), message: why() },
            EngineError::InvalidRequest { path: path.clone(), message: why() },
        ];
        for e in all {
            let (name, message) = (e.kind(), e.to_string());
            let refusal = Refusal::from(e);
            assert_eq!(refusal.kind.as_str(), name);
            assert!(refusal.kind.is_engine_kind(), "{name}");
            let response = WorkerResponse::failure(refusal.kind, refusal.message);
            let back: WorkerResponse = serde_json::from_str(&serde_json::to_string(&response).unwrap()).unwrap();
            assert_eq!((back.error_kind, back.error), (Some(refusal.kind), Some(message)));
        }
    }
}
