//! One `keepsake worker` child process and the line protocol to it, with a timeout
//! per request. A crash, a hang or an out-of-memory kill becomes a [`WorkerFailure`]
//! with a reason a user can read; the process is then dropped and replaced.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::protocol::{WorkerRequest, WorkerResponse};
use crate::util::lock;

/// Why a request got no answer; the job fails (or retries) with this text.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkerFailure(pub String);

/// A running worker process.
pub(crate) struct WorkerProcess {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
    stderr_tail: Arc<Mutex<String>>,
    memory_limit: Option<u64>,
}

const STDERR_TAIL: usize = 2000;

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
    /// anonymous mappings, stacks) when given.
    pub fn spawn(exe: &Path, memory_limit: Option<u64>) -> Result<WorkerProcess, WorkerFailure> {
        let mut command = Command::new(exe);
        command.arg("worker").stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        // A worker must not outlive the app or CLI that started it (a crash, a kill -9):
        // it would go on writing into the data directory for a video nobody awaits.
        #[cfg(target_os = "linux")]
        {
            use std::os::unix::process::CommandExt;
            // SAFETY: prctl is async-signal-safe and touches only the child being spawned.
            unsafe {
                command.pre_exec(move || {
                    if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                        return Err(std::io::Error::last_os_error());
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
        let mut child = command
            .spawn()
            .map_err(|e| WorkerFailure(format!("cannot start the worker {}: {e}", exe.display())))?;
        let (Some(stdin), Some(stdout), Some(stderr)) = (child.stdin.take(), child.stdout.take(), child.stderr.take()) else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(WorkerFailure("worker started without pipes".into()));
        };
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                match line {
                    Ok(l) => {
                        if tx.send(l).is_err() {
                            break;
                        }
                    }
                    Err(_) => break,
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
        Ok(WorkerProcess { child, stdin, lines, stderr_tail, memory_limit })
    }

    /// Sends one request and waits up to `timeout` for its response line. On a
    /// failure the process is killed; drop it afterwards.
    pub fn request(&mut self, req: &WorkerRequest, timeout: Duration) -> Result<WorkerResponse, WorkerFailure> {
        let mut line = serde_json::to_string(req).map_err(|e| WorkerFailure(e.to_string()))?;
        line.push('\n');
        if self.stdin.write_all(line.as_bytes()).and_then(|_| self.stdin.flush()).is_err() {
            return Err(self.crashed());
        }
        loop {
            match self.lines.recv_timeout(timeout) {
                Ok(l) => match serde_json::from_str::<WorkerResponse>(&l) {
                    Ok(r) => return Ok(r),
                    // Not a protocol line (a library printing to stdout): skip it.
                    Err(_) => tracing::debug!("worker said: {l}"),
                },
                Err(RecvTimeoutError::Timeout) => {
                    self.kill();
                    return Err(WorkerFailure(format!(
                        "worker hung: no answer within {:.0} s; it was stopped",
                        timeout.as_secs_f64()
                    )));
                }
                Err(RecvTimeoutError::Disconnected) => return Err(self.crashed()),
            }
        }
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The process ended without answering: say how.
    fn crashed(&mut self) -> WorkerFailure {
        let status = self.child.wait();
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
        let how = match status {
            Ok(s) => {
                use std::os::unix::process::ExitStatusExt;
                match (s.code(), s.signal()) {
                    (_, Some(libc::SIGKILL)) => "was killed (SIGKILL; out of memory?)".to_owned(),
                    (_, Some(libc::SIGABRT)) => "aborted (SIGABRT)".to_owned(),
                    (_, Some(libc::SIGSEGV)) => "crashed (SIGSEGV)".to_owned(),
                    (_, Some(sig)) => format!("was killed by signal {sig}"),
                    (Some(code), _) => format!("exited with status {code}"),
                    _ => "ended".to_owned(),
                }
            }
            Err(e) => format!("ended ({e})"),
        };
        let oom = tail.contains("memory allocation") || tail.contains("out of memory");
        let mut msg = format!("worker {how}");
        if oom {
            match self.memory_limit {
                Some(limit) => msg.push_str(&format!(" — out of memory (a worker may use {} MiB)", limit >> 20)),
                None => msg.push_str(" — out of memory"),
            }
        }
        if !tail.is_empty() {
            msg.push_str(": ");
            msg.push_str(&tail);
        }
        WorkerFailure(msg)
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        // Closing stdin asks a healthy worker to exit; make sure it does.
        let _ = self.child.try_wait().map(|s| {
            if s.is_none() {
                let _ = self.child.kill();
            }
        });
        let _ = self.child.wait();
    }
}
