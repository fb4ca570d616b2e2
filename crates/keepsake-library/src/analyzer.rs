//! [`Analyzer`]: runs the job queue with a bounded number of worker processes. Each
//! worker thread claims a job, probes the video (to scale the timeout by its
//! duration), asks its worker to analyse it, and stores the result. A worker that
//! crashes, hangs or dies of memory fails that attempt only and is replaced. Its reply
//! is checked before it is stored: every pick must be a file inside the job's own
//! output folder ([`inside_job_folder`]).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::error::Result;
use crate::jobs::ClaimedJob;
use crate::library::Library;
use crate::model::{FailureKind, JobKind, LibraryEvent};
use crate::photo_jobs::SCORE_BATCH;
use crate::protocol::{WorkerRequest, WorkerResponse};
use crate::worker_process::{
    env_num, worker_exe_from_env, worker_memory_from_env, Sandbox, WorkerFailure, WorkerProcess,
};

/// How long after the window last asked for something background passes wait.
const VIEWING_HOLD_OFF: Duration = Duration::from_millis(500);
/// How often, at most, the window is told photo dates were read while a big import's are.
const DATES_EVERY: Duration = Duration::from_secs(3);
/// How often the photos' thread looks again when no job was queued (one indexed query a
/// kind, cheap; new photos get their date and size within this long).
const PHOTO_FACTS_IDLE: Duration = Duration::from_secs(2);
/// Photos whose dates are read per batch (a header read each, a transaction per batch).
const PHOTO_FACTS_BATCH: usize = 500;
/// The photos' job kinds, in the order the photo thread serves them.
const PHOTO_KINDS: [JobKind; 3] = [JobKind::PhotoFacts, JobKind::GridCopy, JobKind::Score];
/// Photos whose grid copies are made ahead per batch (a few seconds of work at most;
/// the batch stops early whenever the window shows something).
const PRERENDER_BATCH: usize = 20;
/// How often the background pass regroups events while the index keeps changing
/// (a regrouping of 100k items costs about a tenth of a second; docs/events.md).
const EVENTS_EVERY: Duration = Duration::from_secs(5);
/// How often the photos' thread hands memory freed by every thread (photos decoded,
/// tiles served, query results) back to the system: each thread's heap keeps what it
/// freed, 4-5 MiB of the app's 70 on the grid bench's library (docs/bench-grid.md).
const TRIM_EVERY: Duration = Duration::from_secs(2);

/// How the analyzer runs. `from_env` reads the defaults and test overrides.
#[derive(Debug, Clone)]
pub struct AnalyzerConfig {
    /// Worker processes at once (default: cores − 1, at least 1; `KEEPSAKE_WORKERS`).
    pub workers: usize,
    /// The executable run as `EXE worker`.
    pub worker_exe: PathBuf,
    /// Fixed part of a job's timeout (`KEEPSAKE_JOB_TIMEOUT_S`, default 60).
    pub timeout_base: Duration,
    /// Extra timeout per second of video (default 2 s).
    pub timeout_per_video_second: f64,
    /// Attempts before a job fails for good (`KEEPSAKE_JOB_ATTEMPTS`, default 3).
    pub max_attempts: u32,
    /// First retry delay, doubled each attempt (`KEEPSAKE_RETRY_BACKOFF_MS`, default 2000).
    pub retry_backoff: Duration,
    /// Frames to pick per video.
    pub frames: u32,
    /// Most memory one worker may allocate (`RLIMIT_DATA`; `KEEPSAKE_WORKER_MEMORY_MB`,
    /// default half the machine's memory, 1–4 GiB). A video that needs more fails its
    /// job with "out of memory" instead of waking the system's OOM killer, which might
    /// pick the app.
    pub worker_memory_limit: Option<u64>,
}

impl AnalyzerConfig {
    /// Defaults, with environment overrides.
    pub fn from_env() -> AnalyzerConfig {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        let worker_exe = worker_exe_from_env();
        AnalyzerConfig {
            workers: env_num("KEEPSAKE_WORKERS").unwrap_or(cores.saturating_sub(1)).max(1),
            worker_exe,
            timeout_base: Duration::from_secs_f64(env_num("KEEPSAKE_JOB_TIMEOUT_S").unwrap_or(60.0)),
            timeout_per_video_second: 2.0,
            max_attempts: env_num("KEEPSAKE_JOB_ATTEMPTS").unwrap_or(3u32).max(1),
            retry_backoff: Duration::from_millis(env_num("KEEPSAKE_RETRY_BACKOFF_MS").unwrap_or(2000)),
            frames: 3,
            worker_memory_limit: Some(worker_memory_from_env()),
        }
    }
}

/// Runs the queue of one library.
pub struct Analyzer {
    library: Library,
    config: AnalyzerConfig,
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunSummary {
    pub analysed: u64,
    pub failed: u64,
}

impl Analyzer {
    pub fn new(library: Library, config: AnalyzerConfig) -> Analyzer {
        Analyzer { library, config }
    }

    /// Runs until nothing is queued or running (back-offs waited out), then returns.
    pub fn run_until_empty(&self, on_event: &(dyn Fn(LibraryEvent) + Sync)) -> Result<RunSummary> {
        self.run(&AtomicBool::new(false), true, on_event)
    }

    /// Runs until `stop` is set, waiting for new jobs when the queue is empty.
    pub fn run_forever(&self, stop: &AtomicBool, on_event: &(dyn Fn(LibraryEvent) + Sync)) -> Result<RunSummary> {
        self.run(stop, false, on_event)
    }

    fn run(
        &self,
        stop: &AtomicBool,
        until_empty: bool,
        on_event: &(dyn Fn(LibraryEvent) + Sync),
    ) -> Result<RunSummary> {
        self.library.queue().recover_interrupted()?;
        let summary = std::sync::Mutex::new(RunSummary::default());
        let first_error = std::sync::Mutex::new(None);
        std::thread::scope(|s| {
            s.spawn(|| self.photo_loop(stop, until_empty, on_event));
            for _ in 0..self.config.workers {
                s.spawn(|| {
                    if let Err(e) = self.worker_loop(stop, until_empty, on_event, &summary) {
                        tracing::error!("analysis worker stopped: {e}");
                        crate::util::lock(&first_error).get_or_insert(e);
                    }
                });
            }
        });
        if let Some(e) = first_error.into_inner().unwrap_or_else(|e| e.into_inner()) {
            return Err(e);
        }
        Ok(summary.into_inner().unwrap_or_else(|e| e.into_inner()))
    }

    /// The photos' passes, one job kind after another in the order a person needs them
    /// ([`PHOTO_KINDS`]): dates and sizes first (the timeline), then grid copies (the
    /// first scroll), then scores (events and memories). One low-priority thread, one
    /// batch at a time, holding off while the window is busy showing things (see
    /// `Library::note_viewing`): on two cores these passes would otherwise cost the first
    /// scroll after a big import several frames a second. Running for good (the app), it
    /// waits for more; until empty (the CLI), it reads the dates and returns, leaving
    /// copies and scores queued for the app. Events regroup after whatever changed the
    /// index (a scan, the watcher, the dates read here): a no-op unless something did, and
    /// at most every [`EVENTS_EVERY`] while a big import keeps changing it.
    fn photo_loop(&self, stop: &AtomicBool, until_empty: bool, on_event: &(dyn Fn(LibraryEvent) + Sync)) {
        crate::util::lower_thread_priority();
        let kinds: &[JobKind] = if until_empty { &PHOTO_KINDS[..1] } else { &PHOTO_KINDS };
        let queue = self.library.queue();
        // A failing pass is said once (a Warning), not at every retry.
        let mut failing = false;
        let mut events_at: Option<Instant> = None;
        // Photos whose dates were read since the window was last told, and when.
        let (mut dates_unsaid, mut dates_said_at) = (0u64, Instant::now());
        let mut trimmed_at = Instant::now();
        let viewing = || stop.load(Ordering::Relaxed) || self.library.viewed_within(VIEWING_HOLD_OFF);
        // A photo whose tile must be drawn again (its motion badge, or "Unreadable").
        let changed = |id| {
            if let Ok(d) = self.library.catalog().media_by_id(id) {
                on_event(LibraryEvent::MediaChanged { id, path: d.item.path });
            }
        };
        while !stop.load(Ordering::Relaxed) {
            if trimmed_at.elapsed() >= TRIM_EVERY {
                crate::util::release_free_memory();
                trimmed_at = Instant::now();
            }
            if self.library.viewed_within(VIEWING_HOLD_OFF) {
                std::thread::sleep(VIEWING_HOLD_OFF / 2);
                continue;
            }
            if events_at.map_or(true, |t| t.elapsed() >= EVENTS_EVERY) {
                events_at = Some(Instant::now());
                if let Err(e) = self.library.catalog().refresh_events() {
                    tracing::warn!("events: {e}");
                }
            }
            // The first kind with work gets this turn.
            let (mut turn, mut dates_read) = (Ok(0), 0);
            for kind in kinds {
                turn = match kind {
                    JobKind::PhotoFacts => self.library.photo_jobs().read_facts(PHOTO_FACTS_BATCH).map(|report| {
                        dates_read = report.checked;
                        report.motion_changed.iter().for_each(|&id| changed(id));
                        if let Some((_, path, why)) = report.unreadable.first() {
                            let more = match report.unreadable.len() - 1 {
                                0 => String::new(),
                                n => format!(" (and {n} more in this batch; see the log)"),
                            };
                            let message = format!("could not read the date of {}: {why}{more}", path.display());
                            on_event(LibraryEvent::Warning { message });
                        }
                        report.checked
                    }),
                    JobKind::GridCopy => self.library.photo_jobs().make_grid_copies(PRERENDER_BATCH, &viewing).map(
                        |(done, unreadable)| {
                            unreadable.into_iter().for_each(changed);
                            done
                        },
                    ),
                    JobKind::Score => self.library.photo_jobs().score(SCORE_BATCH, &viewing),
                    JobKind::Analyse => Ok(0),
                };
                if !matches!(turn, Ok(0)) {
                    break;
                }
            }
            // The window reorders its grid and headers when told; a big import tells it
            // every DATES_EVERY, and at once when the dates are all read.
            dates_unsaid += dates_read as u64;
            if dates_unsaid > 0 && (dates_read == 0 || dates_said_at.elapsed() >= DATES_EVERY) {
                on_event(LibraryEvent::DatesRead { photos: dates_unsaid });
                (dates_unsaid, dates_said_at) = (0, Instant::now());
            }
            match turn {
                Ok(0) if until_empty && !queue.has_work(kinds).unwrap_or(false) => break,
                Ok(0) => std::thread::sleep(PHOTO_FACTS_IDLE),
                Ok(_) => failing = false,
                Err(e) => {
                    tracing::error!("the photos' background pass failed: {e}");
                    if !failing {
                        let message = format!("photo dates, copies and scores are not being made: {e}");
                        on_event(LibraryEvent::Warning { message });
                    }
                    failing = true;
                    if until_empty {
                        break;
                    }
                    std::thread::sleep(PHOTO_FACTS_IDLE);
                }
            }
        }
    }

    fn worker_loop(
        &self,
        stop: &AtomicBool,
        until_empty: bool,
        on_event: &(dyn Fn(LibraryEvent) + Sync),
        summary: &std::sync::Mutex<RunSummary>,
    ) -> Result<()> {
        let queue = self.library.queue();
        let mut worker: Option<WorkerProcess> = None;
        while !stop.load(Ordering::Relaxed) {
            if queue.is_paused()? {
                if until_empty {
                    return Ok(());
                }
                std::thread::sleep(Duration::from_millis(300));
                continue;
            }
            let Some(job) = queue.claim(JobKind::Analyse, 1)?.pop() else {
                if until_empty && !queue.has_work(&[JobKind::Analyse])? {
                    return Ok(());
                }
                std::thread::sleep(Duration::from_millis(200));
                continue;
            };
            if let Ok(p) = queue.progress() {
                on_event(LibraryEvent::Progress(p));
            }
            let started = Instant::now();
            let outcome = self.run_job(&mut worker, &job);
            queue.record_duration(started.elapsed().as_secs_f64(), self.config.workers);
            match outcome {
                Ok(()) => {
                    crate::util::lock(summary).analysed += 1;
                    let version =
                        self.library.catalog().media_by_id(job.media_id).map(|d| d.item.cover_version).unwrap_or(0);
                    on_event(LibraryEvent::JobFinished { id: job.media_id, ok: true, error: None, error_kind: None });
                    on_event(LibraryEvent::CoverChanged { id: job.media_id, version });
                }
                Err(failure) => {
                    let (kind, reason) = (failure.kind(), failure.to_string());
                    tracing::warn!("{}: attempt {} failed ({kind:?}): {reason}", job.path.display(), job.attempts);
                    let backoff = self.config.retry_backoff.as_millis() as i64;
                    if queue.fail_attempt(&job, &reason, kind, self.config.max_attempts, backoff)? {
                        crate::util::lock(summary).failed += 1;
                        on_event(LibraryEvent::JobFinished {
                            id: job.media_id,
                            ok: false,
                            error: Some(reason),
                            error_kind: Some(kind),
                        });
                    }
                }
            }
            if let Ok(p) = queue.progress() {
                on_event(LibraryEvent::Progress(p));
            }
        }
        Ok(())
    }

    /// What an analysis worker may touch: read the album folders, write the data
    /// directory's `frames/` (each job's output folder is inside it). Nothing else of
    /// the user's: not their home, not the index.
    fn worker_sandbox(&self) -> Result<Sandbox, AttemptFailure> {
        let roots = self
            .library
            .index()
            .roots()
            .map_err(|e| AttemptFailure::Local(format!("cannot list the albums for the worker's sandbox: {e}")))?;
        let frames = self.library.data_dir().join("frames");
        std::fs::create_dir_all(&frames).map_err(|e| AttemptFailure::Local(format!("{}: {e}", frames.display())))?;
        let resolve = |p: &std::path::Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
        Ok(Sandbox { read: roots.iter().map(|r| resolve(&r.path)).collect(), write: vec![resolve(&frames)] })
    }

    /// One attempt at one job. A worker that failed is dropped (and so replaced).
    fn run_job(&self, slot: &mut Option<WorkerProcess>, job: &ClaimedJob) -> Result<(), AttemptFailure> {
        if !job.path.is_file() {
            return Err(AttemptFailure::Gone(job.path.clone()));
        }
        self.library.index().ensure_fingerprint(job.media_id, &job.path);
        let out_dir = self.library.data_dir().join(format!("frames/{}", job.media_id));
        let attempt_dir = out_dir.join(format!("a{}", crate::util::now_ms()));
        let result = (|| -> Result<(), AttemptFailure> {
            // A worker reads the albums it was started with: a video in an album added
            // since (or reached through a link out of them) needs a new one.
            let need = Sandbox::for_request(&WorkerRequest::Probe { video: job.path.clone() });
            if slot.as_ref().is_some_and(|w| !w.sandbox().covers(&need)) {
                *slot = None;
            }
            if slot.is_none() {
                let sandbox = self.worker_sandbox()?;
                *slot = Some(WorkerProcess::spawn(&self.config.worker_exe, self.config.worker_memory_limit, &sandbox)?);
            }
            let worker = slot.as_mut().ok_or_else(|| AttemptFailure::Local("no worker".into()))?;
            let probe = worker.request(&WorkerRequest::Probe { video: job.path.clone() }, self.config.timeout_base)?;
            let info =
                expect_ok(probe)?.probe.ok_or_else(|| WorkerFailure::Protocol("worker sent no probe result".into()))?;
            let _ = self.library.images().store_probe(job.media_id, &info);
            let timeout = self.config.timeout_base
                + Duration::from_secs_f64(
                    (info.duration.max(0.0) * self.config.timeout_per_video_second).min(86_400.0),
                );
            std::fs::create_dir_all(&attempt_dir)
                .map_err(|e| AttemptFailure::Local(format!("{}: {e}", attempt_dir.display())))?;
            let req = WorkerRequest::Analyze {
                video: job.path.clone(),
                out_dir: attempt_dir.clone(),
                count: self.config.frames,
            };
            let mut analysis = expect_ok(worker.request(&req, timeout)?)?
                .analysis
                .ok_or_else(|| WorkerFailure::Protocol("worker sent no analysis".into()))?;
            for frame in &mut analysis.frames {
                frame.path = inside_job_folder(&frame.path, &attempt_dir)?;
            }
            self.library
                .images()
                .store_analysis(job.job_id, job.media_id, &analysis)
                .map_err(|e| AttemptFailure::Local(format!("could not store the result: {e}")))
        })();
        match &result {
            Ok(()) => remove_other_attempts(&out_dir, &attempt_dir),
            Err(failure) => {
                let _ = std::fs::remove_dir_all(&attempt_dir);
                if let AttemptFailure::Worker(f) = failure {
                    if f.replaces_worker() {
                        *slot = None; // crashed, hung or misbehaved: a fresh one next time
                    }
                }
            }
        }
        result
    }
}

/// `path`, a pick the worker says it wrote, as a path inside `job_dir` (the folder
/// the job gave it): resolved (links followed, `..` applied), it must be a regular
/// file inside the resolved `job_dir`. The index stores it and the image server hands
/// it out, so a reply naming `frames/5/a1/../../../x` or a link to a file elsewhere
/// fails the job instead.
fn inside_job_folder(path: &std::path::Path, job_dir: &std::path::Path) -> Result<PathBuf, WorkerFailure> {
    let outside =
        || WorkerFailure::Protocol(format!("the worker named a pick outside the job's folder: {}", path.display()));
    let real = std::fs::canonicalize(path).map_err(|_| outside())?;
    let real_dir =
        std::fs::canonicalize(job_dir).map_err(|e| WorkerFailure::Protocol(format!("{}: {e}", job_dir.display())))?;
    let rel = real.strip_prefix(&real_dir).map_err(|_| outside())?;
    if rel.as_os_str().is_empty() || !std::fs::symlink_metadata(&real).is_ok_and(|m| m.is_file()) {
        return Err(outside());
    }
    Ok(job_dir.join(rel))
}

fn expect_ok(r: WorkerResponse) -> Result<WorkerResponse, WorkerFailure> {
    if r.ok {
        Ok(r)
    } else {
        Err(WorkerFailure::refusal(&r))
    }
}

/// Why one attempt at a job failed: its worker ([`WorkerFailure`]), the video gone, or
/// this side (the job's folder not made, the result not stored).
#[derive(Debug)]
enum AttemptFailure {
    Worker(WorkerFailure),
    /// The video is no longer where it was indexed.
    Gone(PathBuf),
    Local(String),
}

impl From<WorkerFailure> for AttemptFailure {
    fn from(f: WorkerFailure) -> Self {
        AttemptFailure::Worker(f)
    }
}

impl AttemptFailure {
    fn kind(&self) -> FailureKind {
        match self {
            AttemptFailure::Worker(f) => f.kind(),
            AttemptFailure::Gone(_) => FailureKind::Gone,
            AttemptFailure::Local(_) => FailureKind::Internal,
        }
    }
}

impl std::fmt::Display for AttemptFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AttemptFailure::Worker(w) => w.fmt(f),
            AttemptFailure::Gone(path) => write!(f, "{} is no longer there", path.display()),
            AttemptFailure::Local(message) => f.write_str(message),
        }
    }
}

fn remove_other_attempts(out_dir: &std::path::Path, keep: &std::path::Path) {
    if let Ok(entries) = std::fs::read_dir(out_dir) {
        for e in entries.flatten() {
            if e.path() != keep {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    /// A worker's reply names where it wrote the picks; a path that leads out of the
    /// job's own folder (by `..` or through a link) fails the job with that reason and
    /// stores nothing, so the image server never hands out a file from elsewhere.
    #[test]
    fn picks_outside_the_jobs_own_folder_fail_the_job() {
        let tmp = tempfile::tempdir().unwrap();
        let album = tmp.path().join("album");
        let data = tmp.path().join("data");
        std::fs::create_dir_all(&album).unwrap();
        for name in ["dotdot.mp4", "link.mp4", "good.mp4"] {
            std::fs::write(album.join(name), name).unwrap();
        }
        let library = Library::open(&data).unwrap();
        let secret = data.join("secret.jpg");
        std::fs::write(&secret, b"not a pick").unwrap();
        let exe = tmp.path().join("worker.sh");
        let script = format!(
            r#"#!/bin/sh
while read -r line; do
  case "$line" in
    *'"op":"probe"'*) echo '{{"ok":true,"probe":{{"duration":1.0,"width":2,"height":2}}}}' ;;
    *'"op":"analyze"'*)
      out=$(printf '%s' "$line" | sed 's/.*"out_dir":"\([^"]*\)".*/\1/')
      case "$line" in
        *dotdot.mp4*) frame="$out/../../../secret.jpg" ;;
        *link.mp4*) ln -s '{secret}' "$out/1.jpg"; frame="$out/1.jpg" ;;
        *) echo pick > "$out/1.jpg"; frame="$out/1.jpg" ;;
      esac
      echo '{{"ok":true,"analysis":{{"info":{{"duration":1.0,"width":2,"height":2}},"frames":[{{"rank":1,"time":0.5,"score":1.0,"path":"'"$frame"'","width":2,"height":2}}]}}}}' ;;
  esac
done
"#,
            secret = secret.display()
        );
        std::fs::write(&exe, script).unwrap();
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
        library.index().add_root(&album, &|_| {}).unwrap();
        let config = AnalyzerConfig {
            workers: 1,
            worker_exe: exe,
            timeout_base: Duration::from_secs(20),
            max_attempts: 1,
            retry_backoff: Duration::from_millis(10),
            worker_memory_limit: None,
            ..AnalyzerConfig::from_env()
        };
        let summary = Analyzer::new(library.clone(), config).run_until_empty(&|_| {}).unwrap();
        assert_eq!((summary.analysed, summary.failed), (1, 2), "{summary:?}");
        let failed = library.queue().list(true).unwrap();
        assert_eq!(failed.len(), 2);
        for job in &failed {
            let error = job.error.clone().unwrap_or_default();
            assert!(error.contains("outside") && !error.contains('\n'), "{}: {error}", job.path.display());
            assert!(library.catalog().media_by_id(job.media_id).unwrap().frames.is_empty(), "nothing stored");
        }
        let good = library
            .catalog()
            .media(&crate::MediaQuery { search: Some("good.mp4".into()), ..Default::default() })
            .unwrap()[0]
            .id;
        let frames = library.catalog().media_by_id(good).unwrap().frames;
        assert_eq!(frames.len(), 1);
        assert_eq!(library.images().image_path(&crate::ImageKey::Frame(good, 1)).unwrap(), frames[0].path);
        assert_eq!(std::fs::read(&secret).unwrap(), b"not a pick", "the secret is untouched");
    }
}
