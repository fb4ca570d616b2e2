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
//! `render_moment` of such a video and `photo_thumbnail` of such a photo.

use std::io::{BufRead, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use keepsake_library::protocol::{WorkerRequest, WorkerResponse};

/// Environment variable of the test-only fault switch.
pub const TEST_FAULT_ENV: &str = "KEEPSAKE_WORKER_TEST_FAULT";

pub fn run() -> Result<ExitCode> {
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout().lock();
    let mut engine = crate::worker_engine::WorkerEngine::default();
    for line in stdin.lock().lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let response = match serde_json::from_str::<WorkerRequest>(&line) {
            Ok(req) => handle(&mut engine, req),
            Err(e) => WorkerResponse::failure(format!("bad request: {e}")),
        };
        serde_json::to_writer(&mut stdout, &response)?;
        stdout.write_all(b"\n")?;
        stdout.flush()?;
    }
    Ok(ExitCode::SUCCESS)
}

fn handle(engine: &mut crate::worker_engine::WorkerEngine, req: WorkerRequest) -> WorkerResponse {
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
            reply(crate::photo::thumbnail(&photo, &out, max_side).map_err(|e| e.to_string()), |_, _| {})
        }
        WorkerRequest::ExportSlideshow { images, out, format } => {
            reply(export_slideshow(&images, &out, format), |r, e| r.export = Some(e))
        }
        WorkerRequest::CreateDemo { dir } => reply(create_demo(&dir), |_, ()| {}),
        WorkerRequest::InspectRuntime => reply(inspect_runtime(), |r, rt| r.runtime = Some(rt)),
    }
}

/// The answer to one request: `ok`, with what `fill` puts in it, or the failure's reason.
fn reply<T>(result: Result<T, String>, fill: impl FnOnce(&mut WorkerResponse, T)) -> WorkerResponse {
    match result {
        Ok(value) => {
            let mut response = WorkerResponse { ok: true, ..Default::default() };
            fill(&mut response, value);
            response
        }
        Err(e) => WorkerResponse::failure(e),
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
