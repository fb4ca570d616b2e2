//! [`HelperWorker`]: the FFmpeg work the library does besides analysis (a moment of a
//! video rendered as a cover or a scrubber preview, a slideshow encoded, the demo album
//! generated, the engine's set-up checked) runs in a `keepsake worker` process, like
//! analysis does. So the app's own process never loads FFmpeg (about 60 shared
//! libraries and 13 MiB of its memory), and a video that crashes the decoder fails
//! that one request instead of closing the window.
//!
//! Up to [`MAX_IDLE`] workers are kept for [`KEEP_IDLE`] after a request, so dragging
//! the timeline's scrubber pays for starting a process once, not for every preview, and
//! a screen of HEIC tiles (asked for by several protocol threads at once) does too.
//!
//! Each worker is sandboxed to what its first request needs ([`Sandbox::for_request`]:
//! the folders of the files it reads, the folders its outputs go to). A kept worker
//! serves a later request only if that sandbox covers it (more previews of the same
//! video, more tiles of the same folder); otherwise a new one starts. Slideshow exports
//! (written where the user chose) and the demo album (written into the data
//! directory itself) get a worker of their own, never kept, so no later request runs
//! with their wider write access.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::error::{LibraryError, Result};
use crate::protocol::{WorkerRequest, WorkerResponse};
use crate::util::lock;
use crate::worker_process::{worker_exe_from_env, worker_memory_from_env, Sandbox, WorkerFailure, WorkerProcess};

/// How long an idle helper worker is kept for the next request.
pub(crate) const KEEP_IDLE: Duration = Duration::from_secs(20);
/// How many idle workers are kept: the app's protocol threads ask for HEIF thumbnails
/// in parallel, and the machine this was measured on has two cores.
pub(crate) const MAX_IDLE: usize = 2;
/// How often the idle worker is checked.
const REAP_EVERY: Duration = Duration::from_secs(2);

/// Runs one-off requests in a `keepsake worker`.
pub(crate) struct HelperWorker {
    exe: PathBuf,
    memory_limit: u64,
    keep_idle: Duration,
    slot: Arc<Mutex<Slot>>,
}

#[derive(Default)]
struct Slot {
    /// The workers kept between requests, and when each was last used.
    idle: Vec<(WorkerProcess, Instant)>,
    /// Whether a reaper thread is watching `idle`.
    reaper: bool,
}

impl HelperWorker {
    /// A helper running `exe` (see [`crate::WORKER_ENV`] for the default).
    pub fn new(exe: Option<PathBuf>) -> HelperWorker {
        HelperWorker {
            exe: exe.unwrap_or_else(worker_exe_from_env),
            memory_limit: worker_memory_from_env(),
            keep_idle: KEEP_IDLE,
            slot: Arc::new(Mutex::new(Slot::default())),
        }
    }

    /// Sends `req` and waits up to `timeout` for the answer. A refusal (`ok: false`)
    /// and a worker that crashed, hung or ran out of memory are both errors that say
    /// why, as [`LibraryError::Worker`].
    pub fn request(&self, req: &WorkerRequest, timeout: Duration) -> Result<WorkerResponse> {
        self.request_refusable(req, timeout)?.map_err(LibraryError::Worker)
    }

    /// Like [`HelperWorker::request`], for requests about one file that may be the file's
    /// fault: the worker's refusal, and a worker that crashed, hung or ran out of memory
    /// on it, are `Ok(Err(failure))`; only a worker that cannot start is an error.
    pub fn request_refusable(
        &self,
        req: &WorkerRequest,
        timeout: Duration,
    ) -> Result<Result<WorkerResponse, WorkerFailure>> {
        let need = Sandbox::for_request(req);
        let one_off = matches!(req, WorkerRequest::ExportSlideshow { .. } | WorkerRequest::CreateDemo { .. });
        let parked = if one_off {
            None
        } else {
            let mut slot = lock(&self.slot);
            // A kept worker that has died since (killed from outside, crashed while idle)
            // would fail the request unasked.
            slot.idle.retain_mut(|(w, _)| !w.has_exited());
            let fits = slot.idle.iter().rposition(|(w, _)| w.sandbox().covers(&need));
            fits.map(|i| slot.idle.remove(i).0)
        };
        let mut worker = match parked {
            Some(w) => w,
            None => WorkerProcess::spawn(&self.exe, Some(self.memory_limit), &need).map_err(LibraryError::Worker)?,
        };
        let response = match worker.request(req, timeout) {
            Ok(response) => response,
            Err(f) => return Ok(Err(f)),
        };
        if !one_off {
            self.park(worker);
        }
        Ok(if response.ok { Ok(response) } else { Err(WorkerFailure::refusal(&response)) })
    }

    /// Keeps a healthy worker for the next request; a reaper thread ends each after
    /// [`KEEP_IDLE`]. If [`MAX_IDLE`] are already kept, the one idle longest ends: the
    /// newest sandbox is the likeliest to fit the next request.
    fn park(&self, worker: WorkerProcess) {
        let mut slot = lock(&self.slot);
        if slot.idle.len() >= MAX_IDLE {
            slot.idle.remove(0);
        }
        slot.idle.push((worker, Instant::now()));
        if slot.reaper {
            return;
        }
        let watched = Arc::downgrade(&self.slot);
        let keep_idle = self.keep_idle;
        let spawned = std::thread::Builder::new().name("keepsake-helper-reaper".into()).spawn(move || loop {
            std::thread::sleep(REAP_EVERY.min(keep_idle / 2));
            let Some(slot) = watched.upgrade() else { return };
            let mut slot = lock(&slot);
            // Dropping a worker ends its process and reaps it.
            slot.idle.retain(|(_, since)| since.elapsed() < keep_idle);
            if slot.idle.is_empty() {
                slot.reaper = false;
                return;
            }
        });
        match spawned {
            Ok(_) => slot.reaper = true,
            // Without a reaper, keep nothing: a worker idling forever would waste memory.
            Err(_) => slot.idle.clear(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    /// A stand-in worker that answers every request `ok` and names its process id: real
    /// process management, without FFmpeg.
    fn echo_worker(dir: &std::path::Path) -> PathBuf {
        let exe = dir.join("worker.sh");
        std::fs::write(
            &exe,
            "#!/bin/sh\n# $1 is `worker`\nwhile read line; do echo '{\"ok\":true,\"error\":\"'$$'\"}'; done\n",
        )
        .unwrap();
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
        exe
    }

    fn pid_of(r: WorkerResponse) -> String {
        r.error.unwrap()
    }

    #[test]
    fn one_worker_serves_requests_in_a_row_and_ends_when_idle() {
        let dir = tempfile::tempdir().unwrap();
        let mut helper = HelperWorker::new(Some(echo_worker(dir.path())));
        helper.keep_idle = Duration::from_millis(600);
        let t = Duration::from_secs(10);
        let first = pid_of(helper.request(&WorkerRequest::InspectRuntime, t).unwrap());
        let second = pid_of(helper.request(&WorkerRequest::InspectRuntime, t).unwrap());
        assert_eq!(first, second, "the kept worker answered again");
        assert!(std::path::Path::new(&format!("/proc/{first}")).exists());
        std::thread::sleep(Duration::from_millis(2000));
        assert!(lock(&helper.slot).idle.is_empty(), "the idle worker was let go");
        assert!(!std::path::Path::new(&format!("/proc/{first}")).exists(), "and its process ended");
        let third = pid_of(helper.request(&WorkerRequest::InspectRuntime, t).unwrap());
        assert_ne!(third, first, "a new worker after the idle one ended");
    }

    /// A kept worker can die while idle (killed from outside); the next request gets a
    /// live one instead of failing on the dead one.
    #[test]
    fn a_kept_worker_that_died_is_replaced_not_handed_the_request() {
        let dir = tempfile::tempdir().unwrap();
        let helper = HelperWorker::new(Some(echo_worker(dir.path())));
        let t = Duration::from_secs(10);
        let first = pid_of(helper.request(&WorkerRequest::InspectRuntime, t).unwrap());
        let killed = std::process::Command::new("kill").args(["-9", &first]).status().unwrap();
        assert!(killed.success());
        std::thread::sleep(Duration::from_millis(300));
        let second = pid_of(helper.request(&WorkerRequest::InspectRuntime, t).unwrap());
        assert_ne!(second, first, "a new worker answered");
    }

    #[test]
    fn a_worker_that_cannot_start_is_an_error_saying_so() {
        let helper = HelperWorker::new(Some(PathBuf::from("/nonexistent/keepsake")));
        let err = helper.request(&WorkerRequest::InspectRuntime, Duration::from_secs(5)).unwrap_err();
        assert!(err.to_string().contains("cannot start the worker /nonexistent/keepsake"), "{err}");
        // Typed across the boundary: the failure itself, not its words.
        assert!(matches!(&err, LibraryError::Worker(WorkerFailure::Spawn { .. })), "{err:?}");
        assert_eq!(err.code(), crate::ErrorCode::Worker);
        // A refusal keeps the engine's kind.
        let refused = WorkerFailure::Refused { kind: crate::model::FailureKind::NotMedia, message: "no".into() };
        assert!(matches!(
            LibraryError::from(refused),
            LibraryError::Worker(WorkerFailure::Refused { kind: crate::model::FailureKind::NotMedia, .. })
        ));
    }
}
