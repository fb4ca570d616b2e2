//! Background services started with the window: the first-launch demo album, the folder
//! watcher, the analyzer (engine worker processes, the photos' background jobs) and the
//! progress messages sent when the job queue changes.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::Duration;

use keepsake_library::{Analyzer, AnalyzerConfig, Watcher, WatcherConfig};
use tauri::{AppHandle, Manager};

use crate::events::{emit_library, emit_shell, warn, ShellEvent};
use crate::state::AppState;

/// The least time between two progress messages to the window.
const PROGRESS_EVERY: Duration = Duration::from_millis(200);
/// How long background work waits for the window's first grid paint before it starts
/// anyway (a page that failed to load must not leave the library unwatched).
const FIRST_PAINT_GRACE: Duration = Duration::from_secs(3);

/// Starts what the first window needs at once (the first-launch demo album) and
/// schedules the rest for when the grid has painted: see [`start_background`].
pub fn start(app: &AppHandle) {
    let state = app.state::<AppState>();
    if command_line_folders().is_empty() && state.library.demo().wanted().unwrap_or(false) {
        let handle = app.clone();
        let spawned = std::thread::Builder::new().name("keepsake-demo".into()).spawn(move || create_demo(&handle));
        if let Err(e) = spawned {
            warn(app, format!("Couldn't create the demo album: {e}"));
        }
    }
    let handle = app.clone();
    let spawned = std::thread::Builder::new().name("keepsake-grace".into()).spawn(move || {
        std::thread::sleep(FIRST_PAINT_GRACE);
        _ = start_background(&handle);
    });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "could not schedule background work; starting it now");
        _ = start_background(app);
    }
}

/// Folders named on the command line ("Open with Keepsake", scripts, tests).
fn command_line_folders() -> Vec<PathBuf> {
    std::env::args_os().skip(1).map(PathBuf::from).filter(|p| p.is_dir()).collect()
}

/// Starts the library's background work, once: albums named on the command line, the
/// watcher, a catch-up scan for what changed while the app was closed, the analyzer and
/// the progress messages. Called when the window reports its first grid paint (or after
/// [`FIRST_PAINT_GRACE`]): on a two-core machine the scan and the engine workers would
/// otherwise compete with the web view for the first second of a launch. Returns whether
/// this call started it.
pub fn start_background(app: &AppHandle) -> bool {
    let state = app.state::<AppState>();
    if state.background_started.swap(true, Ordering::SeqCst) {
        return false;
    }
    let folders = command_line_folders();
    let handle = app.clone();
    std::thread::Builder::new()
        .name("keepsake-start".into())
        .spawn(move || {
            // Background work: the watcher's threads (started here) inherit this.
            keepsake_library::lower_thread_priority();
            add_folders(&handle, &folders);
            // Watch first, then reconcile: a file that arrives during the scan is seen
            // by one or the other (both is harmless).
            start_watcher(&handle);
            catch_up(&handle);
        })
        .map_err(|e| tracing::error!(error = %e, "could not start the watcher thread"))
        .ok();
    start_analyzer(app);
    start_progress_events(app);
    true
}

/// Reconciles every album with the disk: files added, changed, moved or deleted while
/// the app was closed, and disks plugged in or out.
fn catch_up(app: &AppHandle) {
    let state = app.state::<AppState>();
    match state.library.index().scan_all(&|_| {}) {
        Ok(report) => {
            let changes =
                report.added + report.changed + report.moved + report.removed + report.missing + report.restored;
            tracing::info!(
                changes,
                unchanged = report.unchanged,
                "caught up with changes made while the app was closed"
            );
            if changes > 0 {
                emit_shell(app, ShellEvent::AlbumsChanged);
            }
            for root in &report.offline_roots {
                warn(app, format!("{} is not connected: its photos and videos show as offline.", root.display()));
            }
        }
        Err(e) => warn(app, format!("Couldn't check the albums for changes: {e}")),
    }
}

/// Folders named on the command line ("Open with Keepsake", scripts, tests) become albums.
fn add_folders(app: &AppHandle, folders: &[PathBuf]) {
    let state = app.state::<AppState>();
    for dir in folders {
        match state.library.index().add_root(dir, &|_| {}) {
            Ok((root, report)) => {
                tracing::info!(root = %root.path.display(), added = report.added, "album from the command line")
            }
            Err(e) => warn(app, format!("Couldn't add {}: {e}", dir.display())),
        }
    }
    if !folders.is_empty() {
        emit_shell(app, ShellEvent::AlbumsChanged);
    }
}

fn create_demo(app: &AppHandle) {
    let state = app.state::<AppState>();
    tracing::info!("first launch: generating the demo album");
    match state.library.demo().create() {
        Ok((root, report)) => {
            tracing::info!(root = %root.path.display(), added = report.added, "demo album ready");
            emit_shell(app, ShellEvent::AlbumsChanged);
        }
        Err(e) => warn(app, format!("Couldn't create the demo album: {e}")),
    }
}

fn start_watcher(app: &AppHandle) {
    let state = app.state::<AppState>();
    let handle = app.clone();
    match Watcher::start(state.library.clone(), WatcherConfig::from_env(), move |ev| emit_library(&handle, &ev)) {
        Ok(w) => {
            if let Ok(mut slot) = state.watcher.lock() {
                *slot = Some(w);
            }
        }
        Err(e) => warn(app, format!("New files won't appear on their own: {e}")),
    }
}

fn start_analyzer(app: &AppHandle) {
    let state = app.state::<AppState>();
    let library = state.library.clone();
    let stop = state.stop.clone();
    let handle = app.clone();
    let spawned = std::thread::Builder::new().name("keepsake-analyzer".into()).spawn(move || {
        let analyzer = Analyzer::new(library, AnalyzerConfig::from_env());
        let emit = |ev: keepsake_library::LibraryEvent| emit_library(&handle, &ev);
        if let Err(e) = analyzer.run_forever(&stop, &emit) {
            tracing::error!(error = %e, "analyzer stopped");
            warn(&handle, format!("Cover analysis stopped: {e}"));
        }
    });
    if let Err(e) = spawned {
        warn(app, format!("Couldn't start cover analysis: {e}"));
    }
}

/// Sends the queue's progress to the window when the queue changes (its own change
/// notification: jobs added by a scan or the watcher, claimed, finished, a pause), at
/// most every [`PROGRESS_EVERY`], and never while nothing changes.
fn start_progress_events(app: &AppHandle) {
    let handle = app.clone();
    let _ = std::thread::Builder::new().name("keepsake-progress".into()).spawn(move || {
        let state = handle.state::<AppState>();
        let queue = state.library.queue().clone();
        let (mut seen, mut last) = (0, None);
        while !state.stop.load(Ordering::Relaxed) {
            let now = queue.wait_for_change(seen, Duration::from_secs(1));
            if now == seen {
                continue; // no change: only looking at `stop` again
            }
            seen = now;
            if let Ok(p) = queue.progress() {
                if last.as_ref() != Some(&p) {
                    emit_library(&handle, &keepsake_library::LibraryEvent::Progress(p.clone()));
                    last = Some(p);
                }
            }
            // A scan queues thousands of jobs: one message for a burst of changes.
            std::thread::sleep(PROGRESS_EVERY);
        }
    });
}
