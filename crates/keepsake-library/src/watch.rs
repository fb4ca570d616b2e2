//! [`Watcher`]: keeps the index in step with album folders while Keepsake runs.
//!
//! notify (inotify on Linux) with notify-debouncer-full coalesces event storms and
//! pairs renames. On top of that, a file is only indexed once its size and mtime have
//! stayed the same for `stable_for` (a video still being copied is not analysed half
//! written). Roots that disappear (unplugged disk) or come back are noticed by a
//! periodic check; when the OS watch limit is hit, a clear warning is sent and the
//! roots are rescanned periodically instead.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use notify::event::{AccessKind, AccessMode, EventKind, ModifyKind, RenameMode};
use notify::RecursiveMode;
use notify_debouncer_full::{new_debouncer_opt, DebounceEventResult, RecommendedCache};

use crate::error::{LibraryError, Result};
use crate::library::Library;
use crate::model::{LibraryEvent, RootId};

/// Timings of the watcher.
#[derive(Debug, Clone)]
pub struct WatcherConfig {
    /// notify-debouncer-full's window.
    pub debounce: Duration,
    /// How long a file's size and mtime must stay unchanged before it is indexed.
    pub stable_for: Duration,
    /// How often roots are checked for being unplugged / plugged back in.
    pub root_check_every: Duration,
    /// Full rescan period when watching is impossible (watch limit reached).
    pub fallback_rescan_every: Duration,
}

impl Default for WatcherConfig {
    fn default() -> Self {
        WatcherConfig {
            debounce: Duration::from_millis(300),
            stable_for: Duration::from_millis(2000),
            root_check_every: Duration::from_secs(3),
            fallback_rescan_every: Duration::from_secs(60),
        }
    }
}

/// A running watcher; stops when dropped or on [`Watcher::stop`].
pub struct Watcher {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Watcher {
    /// Starts watching every root of `library`; changes go to the index (and new
    /// videos to the job queue), and each change is reported through `on_event`.
    pub fn start(
        library: Library,
        config: WatcherConfig,
        on_event: impl Fn(LibraryEvent) + Send + 'static,
    ) -> Result<Watcher> {
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, rx) = mpsc::channel::<DebounceEventResult>();
        let mut debouncer = new_debouncer_opt::<_, ChangeWatcher, _>(
            config.debounce,
            None,
            tx,
            RecommendedCache::new(),
            notify::Config::default(),
        )
        .map_err(|e| LibraryError::Watch(e.to_string()))?;
        let stop2 = stop.clone();
        let mut state = WatchState {
            library,
            config,
            pending: HashMap::new(),
            watched: HashMap::new(),
            fallback: false,
            last_rescan: Instant::now(),
            last_root_check: Instant::now(),
        };
        // Watches are in place when `start` returns: nothing done after it is missed.
        state.check_roots(&mut debouncer, &on_event);
        let thread = std::thread::Builder::new()
            .name("keepsake-watch".into())
            .spawn(move || {
                while !stop2.load(Ordering::Relaxed) {
                    if state.last_root_check.elapsed() >= state.config.root_check_every {
                        state.check_roots(&mut debouncer, &on_event);
                    }
                    match rx.recv_timeout(Duration::from_millis(100)) {
                        Ok(Ok(events)) => state.handle_events(events, &on_event),
                        Ok(Err(errors)) => {
                            for e in errors {
                                state.handle_error(e, &on_event);
                            }
                        }
                        Err(RecvTimeoutError::Timeout) => {}
                        Err(RecvTimeoutError::Disconnected) => break,
                    }
                    state.index_stable(&on_event);
                    if state.fallback && state.last_rescan.elapsed() >= state.config.fallback_rescan_every {
                        state.rescan(&on_event);
                    }
                }
                debouncer.stop();
            })
            .map_err(|e| LibraryError::Watch(e.to_string()))?;
        Ok(Watcher { stop, thread: Some(thread) })
    }

    /// Stops watching and waits for the watcher thread.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// A file seen changing, waiting for its size to settle.
struct Pending {
    last_event: Instant,
    size: Option<u64>,
    mtime_ms: Option<i64>,
}

struct WatchState {
    library: Library,
    config: WatcherConfig,
    pending: HashMap<PathBuf, Pending>,
    /// Roots being watched, and whether they were online at the last check.
    watched: HashMap<RootId, (PathBuf, bool)>,
    fallback: bool,
    last_rescan: Instant,
    last_root_check: Instant,
}

type Debouncer = notify_debouncer_full::Debouncer<ChangeWatcher, RecommendedCache>;

/// The platform watcher, minus events for files that were only read. notify 8 asks
/// inotify for opens, so every file Keepsake reads itself (photo dates, thumbnails,
/// analysis) came back as two events: reading the dates of a 100k-photo album queued
/// 200k of them in the debouncer and kept two threads busy while the user scrolled.
struct ChangeWatcher(notify::RecommendedWatcher);

impl notify::Watcher for ChangeWatcher {
    fn new<F: notify::EventHandler>(mut handler: F, config: notify::Config) -> notify::Result<Self> {
        let filtered = move |event: notify::Result<notify::Event>| {
            if !matches!(&event, Ok(e) if is_read_only(&e.kind)) {
                handler.handle_event(event);
            }
        };
        notify::RecommendedWatcher::new(filtered, config).map(ChangeWatcher)
    }

    fn watch(&mut self, path: &Path, recursive_mode: RecursiveMode) -> notify::Result<()> {
        self.0.watch(path, recursive_mode)
    }

    fn unwatch(&mut self, path: &Path) -> notify::Result<()> {
        self.0.unwatch(path)
    }

    fn configure(&mut self, option: notify::Config) -> notify::Result<bool> {
        self.0.configure(option)
    }

    fn kind() -> notify::WatcherKind {
        notify::RecommendedWatcher::kind()
    }
}

/// Opening, reading or closing a file without writing it changes nothing.
fn is_read_only(kind: &EventKind) -> bool {
    match kind {
        EventKind::Access(AccessKind::Close(mode)) => *mode != AccessMode::Write,
        EventKind::Access(_) => true,
        _ => false,
    }
}

fn stat(path: &Path) -> (Option<u64>, Option<i64>) {
    match std::fs::metadata(path) {
        Ok(m) => (Some(m.len()), Some(crate::scan::mtime_ms(&m))),
        Err(_) => (None, None),
    }
}

impl WatchState {
    fn emit_all(&self, events: Result<Vec<LibraryEvent>>, on_event: &dyn Fn(LibraryEvent)) {
        match events {
            Ok(evs) => evs.into_iter().for_each(on_event),
            Err(e) => tracing::warn!("watcher could not update the index: {e}"),
        }
    }

    /// Notices roots added/removed in the library and disks unplugged or back:
    /// (re)watches them and reconciles the ones whose state changed.
    fn check_roots(&mut self, debouncer: &mut Debouncer, on_event: &dyn Fn(LibraryEvent)) {
        self.last_root_check = Instant::now();
        let roots = match self.library.roots() {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!("watcher cannot read the roots: {e}");
                return;
            }
        };
        let mut rescan = Vec::new();
        for root in &roots {
            let online = root.path.is_dir();
            let known = self.watched.get(&root.id).cloned();
            match known {
                Some((_, was_online)) if was_online == online => continue,
                _ => {}
            }
            if online {
                match debouncer.watch(&root.path, RecursiveMode::Recursive) {
                    Ok(()) => tracing::info!("watching {}", root.path.display()),
                    Err(e) => self.handle_error(e, on_event),
                }
            } else if known.is_some() {
                let _ = debouncer.unwatch(&root.path);
            }
            // First sight after start is reconciled by the caller's scan; later
            // changes of online state are reconciled here.
            if known.is_some() || !online {
                rescan.push((root.id, root.path.clone()));
            }
            self.watched.insert(root.id, (root.path.clone(), online));
        }
        let ids: Vec<RootId> = roots.iter().map(|r| r.id).collect();
        let gone: Vec<RootId> = self.watched.keys().filter(|id| !ids.contains(id)).copied().collect();
        for id in gone {
            if let Some((path, _)) = self.watched.remove(&id) {
                let _ = debouncer.unwatch(&path);
            }
        }
        if !rescan.is_empty() {
            let mut events = Vec::new();
            let r = self.library.scan_roots(&rescan, &|_| {}, &mut |e| events.push(e));
            match r {
                Ok(report) => {
                    if report.missing > 0 {
                        on_event(LibraryEvent::Warning {
                            message: format!("{} item(s) are missing: their folder is not there (disk unplugged?)", report.missing),
                        });
                    }
                    events.into_iter().for_each(on_event);
                }
                Err(e) => tracing::warn!("rescan failed: {e}"),
            }
        }
    }

    fn handle_error(&mut self, e: notify::Error, on_event: &dyn Fn(LibraryEvent)) {
        if matches!(e.kind, notify::ErrorKind::MaxFilesWatch) {
            if !self.fallback {
                let message = "the system's limit on watched folders was reached; changes will be picked up by a rescan every \
                     minute instead (raise fs.inotify.max_user_watches to watch live)"
                    .to_owned();
                tracing::warn!("{message}");
                on_event(LibraryEvent::Warning { message });
            }
            self.fallback = true;
        } else {
            tracing::warn!("watcher: {e}");
        }
    }

    fn rescan(&mut self, on_event: &dyn Fn(LibraryEvent)) {
        self.last_rescan = Instant::now();
        let roots: Vec<(RootId, PathBuf)> = match self.library.roots() {
            Ok(r) => r.into_iter().map(|r| (r.id, r.path)).collect(),
            Err(_) => return,
        };
        let mut events = Vec::new();
        if let Err(e) = self.library.scan_roots(&roots, &|_| {}, &mut |e| events.push(e)) {
            tracing::warn!("rescan failed: {e}");
        }
        events.into_iter().for_each(on_event);
    }

    fn touch(&mut self, path: PathBuf) {
        let (size, mtime_ms) = stat(&path);
        self.pending.insert(path, Pending { last_event: Instant::now(), size, mtime_ms });
    }

    fn handle_events(&mut self, events: Vec<notify_debouncer_full::DebouncedEvent>, on_event: &dyn Fn(LibraryEvent)) {
        for ev in events {
            let paths = ev.event.paths.clone();
            match ev.event.kind {
                EventKind::Modify(ModifyKind::Name(RenameMode::Both)) if paths.len() == 2 => {
                    self.pending.remove(&paths[0]);
                    let r = self.library.rename_path(&paths[0], &paths[1]);
                    self.emit_all(r, on_event);
                }
                EventKind::Modify(ModifyKind::Name(RenameMode::From)) | EventKind::Remove(_) => {
                    for p in paths {
                        self.pending.retain(|k, _| !k.starts_with(&p));
                        let r = self.library.forget_path(&p);
                        self.emit_all(r, on_event);
                    }
                }
                EventKind::Create(_) | EventKind::Modify(_) => {
                    for p in paths {
                        if p.is_dir() {
                            // A folder moved or copied in: its files, once stable.
                            let files = crate::scan::walk(&p, &|_| {}, &mut Vec::new());
                            for f in files {
                                self.touch(PathBuf::from(f.path));
                            }
                        } else if crate::scan::media_kind(&p).is_some() {
                            self.touch(p);
                        }
                    }
                }
                _ => {}
            }
        }
    }

    /// Indexes the files whose size and mtime have settled, all at once (a storm of
    /// 10k files becomes a few batches, not 10k rescans).
    fn index_stable(&mut self, on_event: &dyn Fn(LibraryEvent)) {
        let now = Instant::now();
        let due: Vec<PathBuf> = self
            .pending
            .iter()
            .filter(|(_, p)| now.duration_since(p.last_event) >= self.config.stable_for)
            .map(|(k, _)| k.clone())
            .collect();
        for path in due {
            let (size, mtime_ms) = stat(&path);
            let Some(p) = self.pending.get_mut(&path) else { continue };
            if size.is_none() {
                self.pending.remove(&path);
                continue;
            }
            if size != p.size || mtime_ms != p.mtime_ms {
                // Still growing: wait another window.
                *p = Pending { last_event: now, size, mtime_ms };
                continue;
            }
            self.pending.remove(&path);
            match self.library.index_file(&path) {
                Ok(Some(ev)) => on_event(ev),
                Ok(None) => {}
                Err(e) => tracing::warn!("could not index {}: {e}", path.display()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// Real inotify events: reading a file in a watched folder reports nothing, writing
    /// it reports a change.
    #[test]
    fn reading_a_watched_file_is_not_a_change() {
        use notify::Watcher as _;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("photo.jpg");
        std::fs::write(&file, b"first").unwrap();
        let (tx, rx) = mpsc::channel();
        let mut watcher = ChangeWatcher::new(tx, notify::Config::default()).unwrap();
        watcher.watch(dir.path(), RecursiveMode::Recursive).unwrap();
        let quiet = |what: &str| {
            let mut kinds = Vec::new();
            while let Ok(event) = rx.recv_timeout(Duration::from_millis(300)) {
                kinds.push(event.unwrap().kind);
            }
            assert!(kinds.iter().all(|k| !is_read_only(k)), "{what}: {kinds:?}");
            kinds
        };
        quiet("after watch");
        for _ in 0..3 {
            assert_eq!(std::fs::read(&file).unwrap(), b"first");
        }
        assert_eq!(quiet("reading"), Vec::<EventKind>::new());
        std::fs::write(&file, b"second").unwrap();
        let kinds = quiet("writing");
        assert!(kinds.iter().any(|k| matches!(k, EventKind::Modify(_))), "a write must be reported: {kinds:?}");
    }

    /// The watch limit cannot be lowered for one test (it is system-wide), so the error
    /// inotify gives when it is reached is handed to the watcher as notify reports it;
    /// everything after that — the warning, the fallback rescan — is the real thing.
    #[test]
    fn watch_limit_warns_once_and_falls_back_to_rescans() {
        let tmp = tempfile::tempdir().unwrap();
        let album = tmp.path().join("album");
        std::fs::create_dir_all(&album).unwrap();
        std::fs::write(album.join("a.jpg"), b"not really a jpeg").unwrap();
        let library = Library::open(&tmp.path().join("data")).unwrap();
        library.add_root(&album, &|_| {}).unwrap();
        let mut state = WatchState {
            library: library.clone(),
            config: WatcherConfig::default(),
            pending: HashMap::new(),
            watched: HashMap::new(),
            fallback: false,
            last_rescan: Instant::now(),
            last_root_check: Instant::now(),
        };
        let seen = Mutex::new(Vec::new());
        let collect = |e: LibraryEvent| seen.lock().unwrap().push(e);
        state.handle_error(notify::Error::new(notify::ErrorKind::MaxFilesWatch), &collect);
        state.handle_error(notify::Error::new(notify::ErrorKind::MaxFilesWatch), &collect);
        {
            let events = seen.lock().unwrap();
            let warnings: Vec<&LibraryEvent> = events.iter().filter(|e| matches!(e, LibraryEvent::Warning { .. })).collect();
            assert_eq!(warnings.len(), 1, "one warning, not one per folder: {events:?}");
            let LibraryEvent::Warning { message } = warnings[0] else { unreachable!() };
            assert!(message.contains("limit") && message.contains("rescan"), "{message}");
        }
        assert!(state.fallback);
        // A file that arrives unwatched is found by the periodic rescan.
        std::fs::write(album.join("b.jpg"), b"another").unwrap();
        state.rescan(&collect);
        let added = seen.lock().unwrap().iter().any(|e| matches!(e, LibraryEvent::MediaAdded { path, .. } if path.ends_with("b.jpg")));
        assert!(added, "{:?}", seen.lock().unwrap());
        assert_eq!(library.media_count(&crate::MediaQuery::default()).unwrap(), 2);
    }
}
