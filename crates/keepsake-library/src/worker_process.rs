//! One `keepsake worker` child process and the line protocol to it, with a timeout
//! per request. A crash, a hang or an out-of-memory kill becomes a [`WorkerFailure`]
//! with a reason a user can read; the process is then dropped and replaced.
//!
//! A worker is not trusted to behave. Each request has one deadline, which lines
//! that are not replies do not extend (a worker printing forever still times out).
//! Reply lines are read as bytes, at most [`MAX_REPLY_LINE`] of them: a longer one
//! fails the request instead of being held in memory whole; bytes that are not UTF-8
//! are chatter like any other. The worker runs in a process group of its own, and a
//! worker given up on is killed, with anything it started, before it is waited for:
//! one that closed its output but went on running can no longer block the caller.
//!
//! Each worker is started with a [`Sandbox`]: the folders it may read and write besides
//! the system's (see `keepsake worker`'s sandbox module for what it then enforces). A
//! sandbox cannot be widened once the worker entered it, so callers keep a worker only
//! for requests its sandbox [`covers`](Sandbox::covers) and start another otherwise.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::model::FailureKind;
use crate::protocol::{WorkerRequest, WorkerResponse};
use crate::util::lock;

/// Why a request to a worker got no usable answer. Everything but [`WorkerFailure::Refused`]
/// is the worker's fault, not the file's: that worker is dropped and the next request
/// gets a new one ([`WorkerFailure::replaces_worker`]). The message (`Display`) is one
/// line for a user; [`WorkerFailure::kind`] is what a caller acts on.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WorkerFailure {
    /// The process could not be started (no executable, no pipes).
    #[error("cannot start the worker {}: {reason}", exe.display())]
    Spawn { exe: PathBuf, reason: String },
    /// The process ended without answering: killed by `signal`, or exited with
    /// `exit_code`. `out_of_memory`: its memory limit stopped it (the limit in MiB when
    /// it had one). `last_words`: the last telling line of its stderr.
    #[error("{}", crash_message(*.signal, *.exit_code, *.out_of_memory, .last_words))]
    Crashed { signal: Option<i32>, exit_code: Option<i32>, out_of_memory: Option<OutOfMemory>, last_words: String },
    /// No answer within the request's deadline; the worker was stopped.
    #[error("worker hung: no answer within {seconds:.0} s; it was stopped")]
    Hung { seconds: f64 },
    /// The worker answered, refusing: the engine's `kind` of failure and its message
    /// (the file's fault, typically; the worker is healthy and kept).
    #[error("{message}")]
    Refused { kind: FailureKind, message: String },
    /// The worker broke the protocol (a reply line too long, an `ok` without its
    /// result, a pick outside the job's folder, its output closed while it went on
    /// running); it was stopped.
    #[error("{0}")]
    Protocol(String),
}

/// How a worker's memory limit stopped it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutOfMemory {
    /// The limit it ran under, in MiB (`None`: no limit was set; the system's memory ran out).
    pub limit_mib: Option<u64>,
}

fn crash_message(signal: Option<i32>, exit_code: Option<i32>, oom: Option<OutOfMemory>, last_words: &str) -> String {
    let how = match (exit_code, signal) {
        (_, Some(libc::SIGKILL)) => "was killed (SIGKILL; out of memory?)".to_owned(),
        (_, Some(libc::SIGABRT)) => "aborted (SIGABRT)".to_owned(),
        (_, Some(libc::SIGSEGV)) => "crashed (SIGSEGV)".to_owned(),
        (_, Some(sig)) => format!("was killed by signal {sig}"),
        (Some(code), _) => format!("exited with status {code}"),
        _ => "ended".to_owned(),
    };
    let mut msg = format!("worker {how}");
    match oom {
        Some(OutOfMemory { limit_mib: Some(mib) }) => {
            msg.push_str(&format!(" — out of memory (a worker may use {mib} MiB)"))
        }
        Some(OutOfMemory { limit_mib: None }) => msg.push_str(" — out of memory"),
        None => {}
    }
    if !last_words.is_empty() {
        msg.push_str(": ");
        msg.push_str(last_words);
    }
    msg
}

impl WorkerFailure {
    /// What kind of failure this is, as stored with a failed job.
    pub fn kind(&self) -> FailureKind {
        match self {
            WorkerFailure::Spawn { .. } => FailureKind::WorkerStart,
            WorkerFailure::Crashed { out_of_memory: Some(_), .. } => FailureKind::OutOfMemory,
            WorkerFailure::Crashed { .. } => FailureKind::WorkerCrashed,
            WorkerFailure::Hung { .. } => FailureKind::WorkerHung,
            WorkerFailure::Refused { kind, .. } => *kind,
            WorkerFailure::Protocol(_) => FailureKind::WorkerProtocol,
        }
    }

    /// Whether the worker is to be dropped and replaced: it died, hung or misbehaved.
    /// A refusal leaves a healthy worker, which serves the next request.
    pub fn replaces_worker(&self) -> bool {
        !matches!(self, WorkerFailure::Refused { .. })
    }

    /// The refusal in a worker's `ok: false` answer.
    pub(crate) fn refusal(response: &WorkerResponse) -> WorkerFailure {
        WorkerFailure::Refused {
            kind: response.error_kind.unwrap_or(FailureKind::Refused),
            message: response.error.clone().unwrap_or_else(|| "the worker refused without a reason".into()),
        }
    }
}

/// Longest reply line read from a worker. An analysis reply is a few kB (three picks
/// and a quality curve of at most a few thousand points).
pub(crate) const MAX_REPLY_LINE: usize = 1 << 20;

/// How long a worker that closed its output may take to exit before it is killed.
const EXIT_GRACE: Duration = Duration::from_secs(1);

/// What the stdout reader saw.
enum Output {
    /// One line, without its newline (invalid UTF-8 replaced).
    Line(String),
    /// A line longer than [`MAX_REPLY_LINE`]; nothing more is read.
    TooLong,
}

/// A running worker process.
pub(crate) struct WorkerProcess {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<Output>,
    stderr_tail: Arc<Mutex<String>>,
    memory_limit: Option<u64>,
    sandbox: Sandbox,
}

const STDERR_TAIL: usize = 2000;

/// Environment variable carrying a worker's [`Sandbox`] as JSON (`{"read":[..],"write":[..]}`).
/// Set to `off` in the supervisor's environment, workers run unsandboxed (to tell
/// whether the sandbox is what breaks something on an unusual system).
pub(crate) const SANDBOX_ENV: &str = "KEEPSAKE_WORKER_SANDBOX";

/// The user paths one worker may read, and write, besides the system's libraries and
/// the engine's own files. Paths are resolved (links followed): the kernel checks the
/// file a path leads to, not the path.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub(crate) struct Sandbox {
    /// Folders it may read: the albums (analysis) or one request's inputs' folders.
    pub read: Vec<PathBuf>,
    /// Folders it may read and write: where its outputs go.
    pub write: Vec<PathBuf>,
}

impl Sandbox {
    /// What `req` needs: the folders of the files it reads, and the folders its outputs
    /// go into. Output folders are created here if missing (the worker would create
    /// them), since a sandbox can only name what exists. A demo album is written beside
    /// its folder and renamed into place, so its parent is writable.
    pub fn for_request(req: &WorkerRequest) -> Sandbox {
        let (reads, writes): (Vec<&Path>, Vec<&Path>) = match req {
            WorkerRequest::Probe { video } => (vec![video], vec![]),
            WorkerRequest::Analyze { video, out_dir, .. } => (vec![video], vec![out_dir]),
            WorkerRequest::RenderMoment { video, out, .. } => (vec![video], vec![out]),
            WorkerRequest::PhotoThumbnail { photo, out, .. } => (vec![photo], vec![out]),
            WorkerRequest::ExportSlideshow { images, out, .. } => {
                (images.iter().map(|p| p.as_path()).collect(), vec![out])
            }
            WorkerRequest::CreateDemo { dir } => (vec![], vec![dir]),
            WorkerRequest::InspectRuntime => (vec![], vec![]),
            WorkerRequest::ScorePictures { pictures } => (pictures.iter().map(|p| p.as_path()).collect(), vec![]),
        };
        let mut sandbox = Sandbox::default();
        for file in reads {
            let file = std::fs::canonicalize(file).unwrap_or_else(|_| file.to_path_buf());
            if let Some(dir) = file.parent() {
                push_unique(&mut sandbox.read, dir.to_path_buf());
            }
        }
        for out in writes {
            let dir = match req {
                WorkerRequest::Analyze { .. } => Some(out),
                _ => out.parent(),
            };
            if let Some(dir) = dir.filter(|d| !d.as_os_str().is_empty()) {
                let _ = std::fs::create_dir_all(dir);
                push_unique(&mut sandbox.write, std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf()));
            }
        }
        sandbox
    }

    /// Whether a worker with this sandbox can serve a request that needs `need`.
    pub fn covers(&self, need: &Sandbox) -> bool {
        let under = |path: &PathBuf, grants: &[PathBuf]| grants.iter().any(|g| path.starts_with(g));
        need.read.iter().all(|p| under(p, &self.read) || under(p, &self.write))
            && need.write.iter().all(|p| under(p, &self.write))
    }
}

fn push_unique(paths: &mut Vec<PathBuf>, path: PathBuf) {
    if !paths.contains(&path) {
        paths.push(path);
    }
}

/// Environment variable naming the worker executable (default: `keepsake` next to
/// the current executable).
pub const WORKER_ENV: &str = "KEEPSAKE_WORKER";

/// The worker executable: [`WORKER_ENV`], else `keepsake` next to the running executable
/// (the CLI itself, or the app's sidecar).
pub(crate) fn worker_exe_from_env() -> PathBuf {
    std::env::var_os(WORKER_ENV).map(PathBuf::from).unwrap_or_else(|| {
        std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(|d| d.join("keepsake")))
            .unwrap_or_else(|| PathBuf::from("keepsake"))
    })
}

/// Most memory one worker may allocate: `KEEPSAKE_WORKER_MEMORY_MB`, else
/// [`default_worker_memory`].
pub(crate) fn worker_memory_from_env() -> u64 {
    env_num::<u64>("KEEPSAKE_WORKER_MEMORY_MB").map(|mb| mb << 20).unwrap_or_else(default_worker_memory)
}

/// A number from the environment, if set and well-formed.
pub(crate) fn env_num<T: std::str::FromStr>(name: &str) -> Option<T> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

/// Half the machine's memory, between 1 and 4 GiB: plenty for decoding 4K (a few
/// hundred MB), small enough that a runaway worker cannot starve the desktop.
fn default_worker_memory() -> u64 {
    const GIB: u64 = 1 << 30;
    let total = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map(|kb| kb * 1024)
        .unwrap_or(8 * GIB);
    (total / 2).clamp(GIB, 4 * GIB)
}

impl WorkerProcess {
    /// Starts `exe worker`, allowed at most `memory_limit` bytes of data (heap,
    /// anonymous mappings, stacks) when given, confined to `sandbox`.
    pub fn spawn(exe: &Path, memory_limit: Option<u64>, sandbox: &Sandbox) -> Result<WorkerProcess, WorkerFailure> {
        let mut command = Command::new(exe);
        command.arg("worker").stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        // The worker enters the sandbox itself, first thing (Landlock needs the paths
        // opened, which must not happen between fork and exec in a threaded parent).
        if std::env::var(SANDBOX_ENV).map_or(true, |v| v.trim() != "off") {
            let grants = serde_json::to_string(sandbox).map_err(|e| WorkerFailure::Spawn {
                exe: exe.to_path_buf(),
                reason: format!("cannot describe its sandbox: {e}"),
            })?;
            command.env(SANDBOX_ENV, grants);
        }
        // A worker must not outlive the app or CLI that started it (a crash, a kill -9):
        // it would go on writing into the data directory for a video nobody awaits.
        // A group of its own, so whatever it starts is killed with it.
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        #[cfg(target_os = "linux")]
        {
            use std::os::unix::process::CommandExt;
            let parent = libc::pid_t::try_from(std::process::id()).unwrap_or(0);
            // SAFETY: prctl, getppid, setpriority and setrlimit are async-signal-safe and
            // touch only the child being spawned.
            unsafe {
                command.pre_exec(move || {
                    // The kernel sends this when the *thread* that forked the child ends,
                    // not the process: hence `spawn_from_lasting_thread` below.
                    if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    // The parent may have died between fork and prctl; the signal is
                    // then never sent (the child was already re-parented).
                    if libc::getppid() != parent {
                        return Err(std::io::Error::other("the process starting the worker has ended"));
                    }
                    // Analysis is background work: it yields the CPU to the window.
                    // (Best effort: a refused nice leaves the worker as it was.)
                    libc::setpriority(libc::PRIO_PROCESS, 0, crate::util::BACKGROUND_NICE);
                    // An allocation past the limit fails inside the worker ("memory
                    // allocation of N bytes failed"), so the job fails with that reason.
                    if let Some(bytes) = memory_limit {
                        let limit = libc::rlimit { rlim_cur: bytes as libc::rlim_t, rlim_max: bytes as libc::rlim_t };
                        if libc::setrlimit(libc::RLIMIT_DATA, &limit) != 0 {
                            return Err(std::io::Error::last_os_error());
                        }
                    }
                    Ok(())
                });
            }
        }
        let mut child = spawn_from_lasting_thread(command)
            .map_err(|e| WorkerFailure::Spawn { exe: exe.to_path_buf(), reason: e.to_string() })?;
        let (Some(stdin), Some(stdout), Some(stderr)) = (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(WorkerFailure::Spawn { exe: exe.to_path_buf(), reason: "started without pipes".into() });
        };
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = Vec::new();
            loop {
                line.clear();
                // At most one byte past the limit is read for a line, never the rest.
                let read = (&mut reader).take(MAX_REPLY_LINE as u64 + 1).read_until(b'\n', &mut line);
                let output = match read {
                    Ok(0) | Err(_) => break,
                    Ok(_) if line.last() == Some(&b'\n') => {
                        line.pop();
                        Output::Line(String::from_utf8_lossy(&line).into_owned())
                    }
                    Ok(_) if line.len() > MAX_REPLY_LINE => Output::TooLong,
                    // The last line, cut off by the end of the output.
                    Ok(_) => Output::Line(String::from_utf8_lossy(&line).into_owned()),
                };
                let stop = matches!(output, Output::TooLong);
                if tx.send(output).is_err() || stop {
                    break;
                }
            }
        });
        let stderr_tail = Arc::new(Mutex::new(String::new()));
        let tail = stderr_tail.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            let mut stderr = stderr;
            while let Ok(n) = stderr.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let mut t = lock(&tail);
                t.push_str(&String::from_utf8_lossy(&buf[..n]));
                if t.len() > STDERR_TAIL * 2 {
                    let cut = t.len() - STDERR_TAIL;
                    let cut = (cut..t.len()).find(|i| t.is_char_boundary(*i)).unwrap_or(t.len());
                    t.drain(..cut);
                }
            }
        });
        Ok(WorkerProcess { child, stdin, lines, stderr_tail, memory_limit, sandbox: sandbox.clone() })
    }

    /// The sandbox this worker was started in.
    pub fn sandbox(&self) -> &Sandbox {
        &self.sandbox
    }

    /// Whether the process has ended (crashed, or killed from outside), so it must not be
    /// handed a request.
    pub fn has_exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// Sends one request and waits up to `timeout` for its response line: one deadline,
    /// however much else the worker prints. On a failure the process is killed; drop
    /// it afterwards.
    pub fn request(&mut self, req: &WorkerRequest, timeout: Duration) -> Result<WorkerResponse, WorkerFailure> {
        let deadline = Instant::now() + timeout;
        let mut line = serde_json::to_string(req)
            .map_err(|e| WorkerFailure::Protocol(format!("cannot write the request: {e}")))?;
        line.push('\n');
        if self.stdin.write_all(line.as_bytes()).and_then(|_| self.stdin.flush()).is_err() {
            return Err(self.crashed());
        }
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(Output::Line(l)) => match serde_json::from_str::<WorkerResponse>(&l) {
                    Ok(r) => return Ok(r),
                    // Not a protocol line (a library printing to stdout): skip it.
                    Err(_) => tracing::debug!("worker said: {}", l.chars().take(200).collect::<String>()),
                },
                Ok(Output::TooLong) => {
                    self.kill();
                    return Err(WorkerFailure::Protocol(format!(
                        "worker sent a reply line longer than {} MiB; it was stopped",
                        MAX_REPLY_LINE >> 20
                    )));
                }
                Err(RecvTimeoutError::Timeout) => {
                    self.kill();
                    return Err(WorkerFailure::Hung { seconds: timeout.as_secs_f64() });
                }
                Err(RecvTimeoutError::Disconnected) => return Err(self.crashed()),
            }
        }
    }

    /// Kills the worker and everything in its process group, then reaps it. The group
    /// is signalled before the worker is reaped, while its id cannot be reused.
    fn kill(&mut self) {
        if let Ok(pid) = libc::pid_t::try_from(self.child.id()) {
            // SAFETY: kill(2) with a negative pid signals that process group only.
            unsafe { libc::kill(-pid, libc::SIGKILL) };
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The process ended without answering: say how. Its output closed; it is given
    /// [`EXIT_GRACE`] to exit and then killed, never waited for unbounded.
    fn crashed(&mut self) -> WorkerFailure {
        let grace_ends = Instant::now() + EXIT_GRACE;
        let mut exited = self.child.try_wait();
        while matches!(exited, Ok(None)) && Instant::now() < grace_ends {
            std::thread::sleep(Duration::from_millis(20));
            exited = self.child.try_wait();
        }
        let status: std::io::Result<std::process::ExitStatus> = match exited {
            Ok(Some(status)) => Ok(status),
            _ => {
                self.kill();
                return WorkerFailure::Protocol(
                    "worker closed its output without answering and did not exit; it was stopped".into(),
                );
            }
        };
        // Give the stderr reader a moment to collect the last words.
        std::thread::sleep(Duration::from_millis(50));
        // The last line says most, except after an allocation failure, where the
        // runtime may add a line about backtraces after the one that matters.
        let tail = {
            let all = lock(&self.stderr_tail);
            let lines: Vec<&str> = all.trim().lines().collect();
            lines
                .iter()
                .rev()
                .find(|l| l.contains("memory allocation") || l.contains("out of memory"))
                .or(lines.last())
                .map(|l| l.to_string())
                .unwrap_or_default()
        };
        let (signal, exit_code) = match status {
            Ok(s) => {
                use std::os::unix::process::ExitStatusExt;
                (s.signal(), s.code())
            }
            Err(_) => (None, None),
        };
        let oom = tail.contains("memory allocation") || tail.contains("out of memory");
        WorkerFailure::Crashed {
            signal,
            exit_code,
            out_of_memory: oom.then_some(OutOfMemory { limit_mib: self.memory_limit.map(|b| b >> 20) }),
            last_words: tail,
        }
    }
}

/// Starts `command` on one thread that lives as long as the process, and waits for it.
///
/// `PR_SET_PDEATHSIG` (set in the child, above) kills a worker when the thread that
/// forked it exits, not when the process does. Workers are started from short-lived
/// threads (a request thread of the window, an analyzer's scoped worker thread) and
/// kept after them (the helper keeps idle workers for later requests), so a worker
/// forked by such a thread died under its keeper as soon as that thread ended. Forking
/// from one thread that never exits makes the signal mean what it is meant to: the app
/// (or CLI) process is gone.
fn spawn_from_lasting_thread(command: Command) -> std::io::Result<Child> {
    type Order = (Command, mpsc::Sender<std::io::Result<Child>>);
    static SPAWNER: std::sync::OnceLock<Mutex<Option<mpsc::Sender<Order>>>> = std::sync::OnceLock::new();
    let spawner = SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Order>();
        let started = std::thread::Builder::new().name("keepsake-worker-spawner".into()).spawn(move || {
            // Never returns while the process runs: every sender is in SPAWNER, a static.
            for (mut command, reply) in rx {
                let _ = reply.send(command.spawn());
            }
        });
        Mutex::new(started.ok().map(|_| tx))
    });
    let Some(orders) = lock(spawner).clone() else {
        return Err(std::io::Error::other("cannot start the thread that starts workers"));
    };
    let (reply, answer) = mpsc::channel();
    orders.send((command, reply)).map_err(|_| std::io::Error::other("the thread that starts workers has ended"))?;
    answer.recv().map_err(|_| std::io::Error::other("the thread that starts workers has ended"))?
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        // Closing stdin asks a healthy worker to exit; make sure it does.
        match self.child.try_wait() {
            Ok(Some(_)) => {}
            _ => self.kill(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;
    use std::time::Instant;

    /// A stand-in worker: `body` is a shell script; it writes its own pid to
    /// `worker.pid` and may write others' to `*.pid` in `dir`.
    fn fake_worker(dir: &Path, body: &str) -> PathBuf {
        let exe = dir.join("worker.sh");
        let script = format!("#!/bin/sh\ncd '{}'\necho $$ > worker.pid\n{body}\n", dir.display());
        std::fs::write(&exe, script).unwrap();
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
        exe
    }

    fn gone(pid: &str) -> bool {
        // Gone, or a zombie waiting for init to reap it.
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map_or(true, |s| s.rsplit(')').next().is_some_and(|r| r.trim_start().starts_with('Z')))
    }

    /// Runs one request to the worker in `body` on a thread; fails the test if it is
    /// not over within `limit` (a regression must fail, not hang). Returns the failure
    /// and how long it took; checks that every process the worker recorded is gone.
    fn failed_request(body: &str, timeout: Duration, limit: Duration) -> (WorkerFailure, Duration) {
        let dir = tempfile::tempdir().unwrap();
        let exe = fake_worker(dir.path(), body);
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let started = Instant::now();
            let result = WorkerProcess::spawn(&exe, None, &Sandbox::default())
                .and_then(|mut w| w.request(&WorkerRequest::InspectRuntime, timeout));
            let _ = tx.send((result, started.elapsed()));
        });
        let (result, took) = rx.recv_timeout(limit).expect("the request never ended");
        let Err(failure) = result else { panic!("the request must fail") };
        let reason = failure.to_string();
        assert!(!reason.contains('\n'), "one line: {reason}");
        let mut pids = Vec::new();
        for e in std::fs::read_dir(dir.path()).unwrap().flatten() {
            if e.file_name().to_string_lossy().ends_with(".pid") {
                pids.push(std::fs::read_to_string(e.path()).unwrap().trim().to_owned());
            }
        }
        assert!(!pids.is_empty());
        let deadline = Instant::now() + Duration::from_secs(5);
        while !pids.iter().all(|p| gone(p)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(pids.iter().all(|p| gone(p)), "processes left behind: {pids:?} ({reason})");
        (failure, took)
    }

    /// Chatter on stdout does not restart the clock: one deadline per request.
    #[test]
    fn a_worker_printing_forever_still_times_out() {
        let (failure, took) =
            failed_request("while :; do echo 'not json'; done", Duration::from_secs(1), Duration::from_secs(15));
        assert_eq!(failure, WorkerFailure::Hung { seconds: 1.0 });
        assert_eq!(failure.kind(), FailureKind::WorkerHung);
        assert!(failure.replaces_worker() && took < Duration::from_secs(5), "{failure} after {took:?}");
    }

    /// Bytes that are not UTF-8 are chatter too; the worker still hangs, and is killed
    /// (a child of its own included) rather than waited for.
    #[test]
    fn a_worker_printing_invalid_utf8_then_hanging_is_stopped() {
        let body = "printf '\\377\\376 not utf-8\\n'\nsleep 1000 &\necho $! > sleep.pid\nwait";
        let (failure, took) = failed_request(body, Duration::from_secs(1), Duration::from_secs(15));
        assert!(
            matches!(failure, WorkerFailure::Hung { .. }) && took < Duration::from_secs(5),
            "{failure:?} after {took:?}"
        );
    }

    /// A worker that closes its output but goes on running is stopped, not waited for.
    #[test]
    fn a_worker_closing_its_output_then_hanging_is_stopped() {
        let body = "exec >&-\nsleep 1000 &\necho $! > sleep.pid\nwait";
        let (failure, took) = failed_request(body, Duration::from_secs(30), Duration::from_secs(15));
        assert_eq!(failure.kind(), FailureKind::WorkerProtocol, "{failure:?}");
        assert!(
            failure.to_string().contains("did not exit") && took < Duration::from_secs(5),
            "{failure} after {took:?}"
        );
    }

    /// A worker killed by a signal is `Crashed` with that signal, and replaced.
    #[test]
    fn a_worker_killed_by_a_signal_is_crashed_with_the_signal() {
        let body = "echo 'keepsake worker: about to fall over' >&2\nkill -SEGV $$";
        let (failure, _) = failed_request(body, Duration::from_secs(10), Duration::from_secs(15));
        let WorkerFailure::Crashed { signal, exit_code, out_of_memory, ref last_words } = failure else {
            panic!("{failure:?}")
        };
        assert_eq!((signal, exit_code, out_of_memory), (Some(libc::SIGSEGV), None, None));
        assert_eq!(last_words, "keepsake worker: about to fall over");
        assert_eq!(failure.kind(), FailureKind::WorkerCrashed);
        assert!(failure.replaces_worker());
        assert!(failure.to_string().starts_with("worker crashed (SIGSEGV)"), "{failure}");
    }

    /// An allocation failure (what RLIMIT_DATA turns a runaway worker's growth into) is
    /// `Crashed` with `out_of_memory` and the limit it ran under: kind `out_of_memory`.
    #[test]
    fn a_worker_out_of_memory_says_so_with_its_limit() {
        let dir = tempfile::tempdir().unwrap();
        let body = "read line\necho 'memory allocation of 33554432 bytes failed' >&2\nkill -ABRT $$";
        let exe = fake_worker(dir.path(), body);
        let mut worker = WorkerProcess::spawn(&exe, Some(512 << 20), &Sandbox::default()).unwrap();
        let failure = worker.request(&WorkerRequest::InspectRuntime, Duration::from_secs(10)).unwrap_err();
        let WorkerFailure::Crashed { signal, out_of_memory, .. } = &failure else { panic!("{failure:?}") };
        assert_eq!((*signal, *out_of_memory), (Some(libc::SIGABRT), Some(OutOfMemory { limit_mib: Some(512) })));
        assert_eq!(failure.kind(), FailureKind::OutOfMemory);
        assert!(failure.to_string().contains("out of memory (a worker may use 512 MiB)"), "{failure}");
    }

    /// A worker that could not be started says which executable, as `Spawn`.
    #[test]
    fn a_worker_that_cannot_start_is_spawn() {
        let Err(failure) = WorkerProcess::spawn(Path::new("/nonexistent/keepsake"), None, &Sandbox::default()) else {
            panic!("it started")
        };
        assert!(matches!(&failure, WorkerFailure::Spawn { exe, .. } if exe == Path::new("/nonexistent/keepsake")));
        assert_eq!(failure.kind(), FailureKind::WorkerStart);
    }

    /// A refusal carries the engine's kind as the worker named it; a name that is not
    /// one of the engine's (or none) is `refused`. The worker stays usable.
    #[test]
    fn a_refusal_carries_the_engines_kind() {
        let dir = tempfile::tempdir().unwrap();
        let body = r#"read line; echo '{"ok":false,"error":"a.mp4: no frame could be decoded","error_kind":"undecodable"}'
read line; echo '{"ok":false,"error":"claims a hang","error_kind":"worker_hung"}'
read line; echo '{"ok":false,"error":"says nothing"}'
read line; echo '{"ok":true}'
sleep 5"#;
        let exe = fake_worker(dir.path(), body);
        let mut worker = WorkerProcess::spawn(&exe, None, &Sandbox::default()).unwrap();
        let mut ask = || worker.request(&WorkerRequest::InspectRuntime, Duration::from_secs(10)).unwrap();
        let refusals: Vec<WorkerFailure> = (0..3).map(|_| WorkerFailure::refusal(&ask())).collect();
        let kinds: Vec<FailureKind> = refusals.iter().map(WorkerFailure::kind).collect();
        assert_eq!(kinds, [FailureKind::Undecodable, FailureKind::Refused, FailureKind::Refused]);
        assert_eq!(refusals[0].to_string(), "a.mp4: no frame could be decoded");
        assert!(refusals.iter().all(|r| !r.replaces_worker()));
        assert!(ask().ok, "the same worker answers the next request");
    }

    /// Stands in for the app in [`a_worker_outlives_the_thread_that_started_it_not_the_process`]:
    /// run as a child process of the test (it does nothing in a normal test run), it
    /// starts a worker from a thread that then ends, checks the worker still answers,
    /// prints the worker's pid and waits to be killed.
    #[test]
    fn app_process_for_the_death_signal_test() {
        let Some(dir) = std::env::var_os("KEEPSAKE_TEST_APP_DIR") else { return };
        let exe = fake_worker(Path::new(&dir), "while read line; do echo '{\"ok\":true}'; done");
        let mut worker =
            std::thread::spawn(move || WorkerProcess::spawn(&exe, None, &Sandbox::default()).unwrap()).join().unwrap();
        std::thread::sleep(Duration::from_millis(300));
        assert!(!worker.has_exited(), "the worker died with the thread that started it");
        assert!(worker.request(&WorkerRequest::InspectRuntime, Duration::from_secs(10)).unwrap().ok);
        println!("worker pid {}", worker.child.id());
        std::thread::sleep(Duration::from_secs(60));
    }

    /// `PR_SET_PDEATHSIG` fires when the thread that forked the worker ends; workers are
    /// forked by a thread that lasts, so one started from a short-lived thread lives on
    /// (and answers), and still dies when the process that started it is killed.
    #[test]
    fn a_worker_outlives_the_thread_that_started_it_not_the_process() {
        let dir = tempfile::tempdir().unwrap();
        let mut app = Command::new(std::env::current_exe().unwrap())
            .args(["worker_process::tests::app_process_for_the_death_signal_test", "--exact", "--nocapture"])
            .env("KEEPSAKE_TEST_APP_DIR", dir.path())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = BufReader::new(app.stdout.take().unwrap());
        let mut pid = None;
        let mut line = String::new();
        while out.read_line(&mut line).unwrap_or(0) > 0 {
            if let Some(p) = line.trim().strip_prefix("worker pid ") {
                pid = Some(p.to_owned());
                break;
            }
            line.clear();
        }
        let Some(pid) = pid else {
            let _ = app.kill();
            panic!("the app process never reported its worker (its worker died or failed): {:?}", app.wait());
        };
        assert!(!gone(&pid), "the worker is alive after its thread ended");
        app.kill().unwrap();
        app.wait().unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while !gone(&pid) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(gone(&pid), "the worker {pid} outlived the process that started it");
    }

    /// A reply line is read up to MAX_REPLY_LINE, never held whole: a 100 MB "reply"
    /// (well-formed JSON, so it would otherwise be taken) fails the request.
    #[test]
    fn a_100_mb_reply_line_is_refused() {
        let body = "printf '{\"ok\":true,\"error\":\"'\nhead -c 100000000 /dev/zero | tr '\\0' x\nprintf '\"}\\n'\nsleep 1000 &\necho $! > sleep.pid\nwait";
        let (failure, took) = failed_request(body, Duration::from_secs(30), Duration::from_secs(30));
        assert_eq!(failure.kind(), FailureKind::WorkerProtocol, "{failure:?}");
        assert!(
            failure.to_string().contains("longer than") && took < Duration::from_secs(10),
            "{failure} after {took:?}"
        );
    }

    /// A request's sandbox names its inputs' folders to read and its outputs' folders
    /// to write (made if missing), resolved; a worker serves what its sandbox covers.
    #[test]
    fn a_sandbox_covers_what_it_names_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        let album = root.join("album");
        std::fs::create_dir_all(album.join("2019")).unwrap();
        let out = root.join("data/previews/v.jpg");
        let video = album.join("2019/v.mp4");
        let req = WorkerRequest::RenderMoment { video, time: 1.0, out: out.clone(), max_side: 9 };
        let need = Sandbox::for_request(&req);
        assert_eq!(need, Sandbox { read: vec![album.join("2019")], write: vec![root.join("data/previews")] });
        assert!(root.join("data/previews").is_dir(), "the output folder was made");
        let albums = Sandbox { read: vec![album.clone()], write: vec![root.join("data/previews")] };
        assert!(albums.covers(&need));
        let elsewhere = Sandbox::for_request(&WorkerRequest::Probe { video: root.join("other/v.mp4") });
        assert!(!albums.covers(&elsewhere), "a file outside the albums needs another worker");
        let wider_write = Sandbox::for_request(&WorkerRequest::CreateDemo { dir: root.join("data/demo") });
        assert_eq!(wider_write.write, vec![root.join("data")]);
        assert!(!albums.covers(&wider_write));
        let out_dir = root.join("data/frames/1/a1");
        let analyze = WorkerRequest::Analyze { video: album.join("v.mp4"), out_dir, count: 3 };
        assert_eq!(Sandbox::for_request(&analyze).write, vec![root.join("data/frames/1/a1")]);
        assert!(Sandbox::default().covers(&Sandbox::for_request(&WorkerRequest::InspectRuntime)));
    }
}
