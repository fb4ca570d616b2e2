//! Small helpers shared by the modules.

use std::sync::{Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the epoch (0 if the clock is before 1970).
pub(crate) fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// Opens `path` for reading only if it is a regular file; anything else (a named pipe,
/// a device, a socket, a folder) is an `InvalidInput` error at once.
///
/// A named pipe put where a photo was blocks `open()` until someone writes to it,
/// which is never: one in an album stopped the date pass, fingerprints or an image
/// thread for good. Opened non-blocking (which changes nothing for a regular file) and
/// checked on the open descriptor, so a file swapped between a check and the open
/// cannot slip through. `follow_links: false` also refuses a symbolic link (album
/// files: the scan never follows one); a file the user picked may be one.
pub(crate) fn open_regular(path: &std::path::Path, follow_links: bool) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut flags = libc::O_NONBLOCK | libc::O_CLOEXEC;
    if !follow_links {
        flags |= libc::O_NOFOLLOW;
    }
    let file = std::fs::OpenOptions::new().read(true).custom_flags(flags).open(path)?;
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a regular file"));
    }
    Ok(file)
}

/// Locks a mutex even if a thread panicked while holding it: the guarded SQLite
/// connection stays consistent (transactions roll back), so carrying on is safe.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// True while a process with this id exists (used to recover jobs whose owner died).
pub(crate) fn process_alive(pid: i64) -> bool {
    if pid <= 0 || pid > i32::MAX as i64 {
        return false;
    }
    // SAFETY: kill with signal 0 only checks for existence; no signal is sent.
    let rc = unsafe { libc::kill(pid as libc::pid_t, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Background work (photo dates, engine workers) runs at a lower CPU priority (nice
/// 10): it still uses every idle cycle, but yields to the window's scrolling and to
/// whatever else the user is doing. Threads started by this one inherit it. Best
/// effort: a refusal changes nothing else.
pub fn lower_thread_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: gettid and setpriority touch only this thread's scheduling priority.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        if libc::setpriority(libc::PRIO_PROCESS, tid, BACKGROUND_NICE) != 0 {
            tracing::debug!("could not lower the priority of a background thread");
        }
    }
}

/// The nice value of background work.
pub(crate) const BACKGROUND_NICE: libc::c_int = 10;

/// Blocks of at least this size are mapped on their own, and unmapped when freed.
const LARGE_BLOCK: usize = 256 * 1024;

/// Free memory at the top of a heap beyond this goes back to the system (glibc's own
/// default, before a freed large block raises it).
const TRIM_THRESHOLD: usize = 128 * 1024;

/// Makes freed large blocks go back to the system at once, for a long-running process
/// that decodes big pictures now and then (the app: a video's picks are full frames, up
/// to 4K, made into tile copies; a photo opened in the viewer). Call it first thing.
///
/// glibc maps a large block on its own, but each time such a block is freed it raises
/// that bar to the block's size (up to 32 MiB) and its trim threshold to twice that, so
/// the next frames come from the threads' heaps and stay there once freed. On the grid
/// bench's 100k-item library while 7 clips (1080p and 4K) were analysed, the release
/// app held 118-139 MiB (PSS) that way, and 70-81 MiB with both fixed here
/// (docs/bench-grid.md). Costs a page fault per page of each large block, small beside
/// decoding it.
pub fn return_large_blocks_when_freed() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes the allocator's own tuning; the value is in range.
    unsafe {
        // Both: a large block freed before this call (a library's set-up) may already
        // have raised the trim threshold along with the other.
        if libc::mallopt(libc::M_MMAP_THRESHOLD, LARGE_BLOCK as libc::c_int) != 1
            || libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD as libc::c_int) != 1
        {
            tracing::debug!("could not set the allocator's thresholds");
        }
    }
}

/// Hands memory freed by a big one-off job (a scan of 100k files builds lists of every
/// path) back to the system. glibc keeps freed blocks of a thread's arena for reuse;
/// in a long-running app that is tens of MB held for nothing until the next scan.
pub(crate) fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free pages of the allocator's own arenas.
    unsafe {
        libc::malloc_trim(0);
    }
}
