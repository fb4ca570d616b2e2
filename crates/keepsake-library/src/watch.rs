//! [`Watcher`]: keeps the index in step with album folders while Keepsake runs.
//!
//! notify (inotify on Linux) with notify-debouncer-full coalesces event storms and
//! pairs renames. On top of that, a file is only indexed once its size and mtime have
//! stayed the same for `stable_for` (a video still being copied is not analysed half
//! written). Roots that disappear (unplugged disk) or come back are noticed by a
//! periodic check; when the OS watch limit is hit, a clear warning is sent and the
//! roots are rescanned periodically instead.
//!
//! Roots on a network share or FUSE mount ([`crate::storage`]) are also rescanned every
//! few minutes: inotify never hears of changes made there by other computers. The
//! rescan is the full scan's reconcile (a walk comparing size and mtime, nothing
//! opened), and what it finds is reported as the same [`LibraryEvent`]s. With
//! `KEEPSAKE_POLL_SECONDS` set (see [`WatcherConfig::from_env`]) every root is polled
//! and none watched live, which is how the polling is tested on a local folder.
//!
//! Symbolic links are never followed, as the full scan never follows them: notify is
//! told not to (its default walks through a link when it adds watches, so a link
//! `album/x -> /` put a watch on every folder of the disk), paths are looked at with
//! `symlink_metadata`, and a file is indexed only where it really is (see
//! [`crate::Index::index_file`]). Otherwise a photo seen through a link would be indexed
//! by the watcher, dropped by the next rescan, and indexed again by the next event.

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
    /// Rescan period of each root on a network share or FUSE mount.
    pub network_poll_every: Duration,
    /// Rescan period of every root, whatever its storage (forced polling).
    pub poll_all_every: Option<Duration>,
    /// Whether roots are watched live (inotify); false leaves only the polling.
    pub live: bool,
}

impl Default for WatcherConfig {
    fn default() -> Self {
        WatcherConfig {
            debounce: Duration::from_millis(300),
            stable_for: Duration::from_millis(2000),
            root_check_every: Duration::from_secs(3),
            fallback_rescan_every: Duration::from_secs(60),
            network_poll_every: crate::storage::NETWORK_POLL_EVERY,
            poll_all_every: None,
            live: true,
        }
    }
}

impl WatcherConfig {
    /// The defaults, and with `KEEPSAKE_POLL_SECONDS=N` ([`crate::storage::POLL_ENV`])
    /// every root polled every N seconds and none watched live: what a share changed
    /// from another computer gets, on any folder.
    pub fn from_env() -> Self {
        let forced = crate::storage::forced_poll();
        WatcherConfig { poll_all_every: forced, live: forced.is_none(), ..WatcherConfig::default() }
    }

    /// How often the root at `path` is rescanned; None when it is only watched live.
    fn poll_every(&self, path: &Path) -> Option<Duration> {
        self.poll_all_every.or_else(|| {
            let network = crate::storage::of_root(path).storage == crate::storage::Storage::Network;
            network.then_some(self.network_poll_every)
        })
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
            notify::Config::default().with_follow_symlinks(false),
        )
        .map_err(|e| LibraryError::Watch(e.to_string()))?;
        let stop2 = stop.clone();
        let mut state = WatchState {
            library,
            config,
            pending: HashMap::new(),
            watched: HashMap::new(),
            polled: HashMap::new(),
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
                    state.poll_due(&on_event);
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
    /// Online roots that are rescanned periodically: their period and last rescan.
    polled: HashMap<RootId, (Duration, Instant)>,
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

/// Size and mtime of the entry at `path` itself (a link is not followed).
fn stat(path: &Path) -> (Option<u64>, Option<i64>) {
    match std::fs::symlink_metadata(path) {
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
        let roots = match self.library.index().roots() {
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
            // Whatever was mounted there before may not be what is there now.
            crate::storage::forget(&root.path);
            if online && self.config.live {
                match debouncer.watch(&root.path, RecursiveMode::Recursive) {
                    Ok(()) => tracing::info!("watching {}", root.path.display()),
                    Err(e) => self.handle_error(e, on_event),
                }
            } else if known.is_some() && self.config.live {
                let _ = debouncer.unwatch(&root.path);
            }
            // The first poll comes one period after the root is seen: the scan that
            // follows the watcher's start (or the rescan below) has just reconciled it.
            match if online { self.config.poll_every(&root.path) } else { None } {
                Some(every) => {
                    tracing::info!("{} is rescanned every {}s", root.path.display(), every.as_secs());
                    self.polled.insert(root.id, (every, Instant::now()));
                }
                None => {
                    self.polled.remove(&root.id);
                }
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
            self.polled.remove(&id);
            if let Some((path, _)) = self.watched.remove(&id) {
                let _ = debouncer.unwatch(&path);
            }
        }
        if !rescan.is_empty() {
            let mut events = Vec::new();
            let r = self.library.index().scan_roots(&rescan, &|_| {}, &mut |e| events.push(e));
            match r {
                Ok(report) => {
                    if report.missing > 0 {
                        on_event(LibraryEvent::Warning {
                            message: format!(
                                "{} item(s) are missing: their folder is not there (disk unplugged?)",
                                report.missing
                            ),
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
                let message =
                    "the system's limit on watched folders was reached; changes will be picked up by a rescan every \
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
        let roots: Vec<(RootId, PathBuf)> = match self.library.index().roots() {
            Ok(r) => r.into_iter().map(|r| (r.id, r.path)).collect(),
            Err(_) => return,
        };
        let mut events = Vec::new();
        if let Err(e) = self.library.index().scan_roots(&roots, &|_| {}, &mut |e| events.push(e)) {
            tracing::warn!("rescan failed: {e}");
        }
        events.into_iter().for_each(on_event);
    }

    /// Rescans the polled roots whose period is up, reporting what changed as events.
    fn poll_due(&mut self, on_event: &dyn Fn(LibraryEvent)) {
        let due: Vec<(RootId, PathBuf)> = self
            .polled
            .iter()
            .filter(|(_, (every, last))| last.elapsed() >= *every)
            .filter_map(|(id, _)| Some((*id, self.watched.get(id)?.0.clone())))
            .collect();
        if due.is_empty() {
            return;
        }
        let mut events = Vec::new();
        if let Err(e) = self.library.index().scan_roots(&due, &|_| {}, &mut |e| events.push(e)) {
            tracing::warn!("rescan of a polled album failed: {e}");
        }
        // Timed from the end: a slow share is not rescanned back to back.
        for (id, _) in &due {
            if let Some((_, last)) = self.polled.get_mut(id) {
                *last = Instant::now();
            }
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
                    let r = self.library.index().rename_path(&paths[0], &paths[1]);
                    self.emit_all(r, on_event);
                }
                EventKind::Modify(ModifyKind::Name(RenameMode::From)) | EventKind::Remove(_) => {
                    for p in paths {
                        self.pending.retain(|k, _| !k.starts_with(&p));
                        let r = self.library.index().forget_path(&p);
                        self.emit_all(r, on_event);
                    }
                }
                EventKind::Create(_) | EventKind::Modify(_) => {
                    for p in paths {
                        let Ok(meta) = std::fs::symlink_metadata(&p) else { continue };
                        if meta.is_symlink() {
                            continue; // never followed, as the scan never follows one
                        }
                        if meta.is_dir() {
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
            match self.library.index().index_file(&path) {
                Ok(events) => events.into_iter().for_each(on_event),
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

    /// Live paths in the index, sorted.
    fn indexed(library: &Library) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = library
            .catalog()
            .media(&crate::MediaQuery { limit: 1000, ..Default::default() })
            .unwrap()
            .into_iter()
            .map(|m| m.path)
            .collect();
        v.sort();
        v
    }

    /// Inodes watched by every inotify instance of this process (`ino:` is hex).
    fn watched_inodes() -> Vec<u64> {
        let mut inodes = Vec::new();
        for entry in std::fs::read_dir("/proc/self/fdinfo").unwrap().flatten() {
            let Ok(info) = std::fs::read_to_string(entry.path()) else { continue };
            for line in info.lines().filter(|l| l.starts_with("inotify wd:")) {
                let ino = line.split_whitespace().find_map(|w| w.strip_prefix("ino:"));
                inodes.extend(ino.and_then(|h| u64::from_str_radix(h, 16).ok()));
            }
        }
        inodes
    }

    /// Real inotify events on a real tree: links inside an album to folders outside it
    /// (one there when watching starts, one made while watching) are not followed. The
    /// full scan never follows links, so anything the watcher indexed through one would
    /// be deleted by the next rescan and come back with the next event.
    #[test]
    fn links_out_of_an_album_are_not_followed() {
        let tmp = tempfile::tempdir().unwrap();
        let tmp_path = std::fs::canonicalize(tmp.path()).unwrap();
        let album = tmp_path.join("album");
        let outside = tmp_path.join("outside");
        std::fs::create_dir_all(album.join("sub")).unwrap();
        std::fs::create_dir_all(outside.join("deep")).unwrap();
        std::fs::write(album.join("in.jpg"), b"inside").unwrap();
        std::fs::write(outside.join("out.jpg"), b"outside").unwrap();
        std::fs::write(outside.join("deep/out2.jpg"), b"outside 2").unwrap();
        std::fs::write(outside.join("single.jpg"), b"one outside file").unwrap();
        std::os::unix::fs::symlink(&outside, album.join("early")).unwrap();
        let library = Library::open(&tmp_path.join("data")).unwrap();
        library.index().add_root(&album, &|_| {}).unwrap();
        assert_eq!(indexed(&library), [album.join("in.jpg")], "the scan does not follow links");

        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        let config = WatcherConfig {
            debounce: Duration::from_millis(50),
            stable_for: Duration::from_millis(200),
            ..WatcherConfig::default()
        };
        let watcher = Watcher::start(library.clone(), config, move |e| sink.lock().unwrap().push(e)).unwrap();
        // Made while watching: a link to the folder, one inside a new folder, and a
        // link to a single photo outside.
        std::os::unix::fs::symlink(&outside, album.join("late")).unwrap();
        std::os::unix::fs::symlink(&outside, album.join("sub/nested")).unwrap();
        std::os::unix::fs::symlink(outside.join("single.jpg"), album.join("linked.jpg")).unwrap();
        std::thread::sleep(Duration::from_millis(300));
        // Files arriving outside, seen through the link made before watching started.
        std::fs::write(outside.join("new.jpg"), b"new outside").unwrap();
        std::fs::write(outside.join("deep/new2.jpg"), b"new outside 2").unwrap();
        // A real file arriving inside is indexed: the watcher is working.
        std::fs::write(album.join("sub/real.jpg"), b"a real new photo").unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while indexed(&library).len() < 2 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        // Time for anything seen through a link to settle and be indexed too.
        std::thread::sleep(Duration::from_millis(1200));
        // No inotify watch was put on a folder outside (the kernel lists the inodes
        // watched); the album's own folders are watched.
        let watched = watched_inodes();
        use std::os::unix::fs::MetadataExt;
        let ino = |p: &Path| std::fs::metadata(p).unwrap().ino();
        assert!(watched.contains(&ino(&album)) && watched.contains(&ino(&album.join("sub"))), "{watched:?}");
        assert!(!watched.contains(&ino(&outside)) && !watched.contains(&ino(&outside.join("deep"))), "{watched:?}");
        watcher.stop();
        assert_eq!(
            indexed(&library),
            [album.join("in.jpg"), album.join("sub/real.jpg")],
            "events: {:?}",
            seen.lock().unwrap()
        );

        // The next full scan agrees: nothing to add or remove.
        let report = library.index().scan_all(&|_| {}).unwrap();
        assert_eq!((report.added, report.removed, report.unchanged), (0, 0, 2), "{report:?}");
    }

    /// Waits until `done` holds for the events seen so far (or fails after `secs`).
    fn wait_for(seen: &Mutex<Vec<LibraryEvent>>, secs: u64, what: &str, done: impl Fn(&[LibraryEvent]) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while !done(&seen.lock().unwrap()) {
            assert!(Instant::now() < deadline, "{what}: {:?}", seen.lock().unwrap());
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    fn named(path: &Path, name: &str) -> bool {
        path.file_name().is_some_and(|n| n == name)
    }

    /// Forced polling on a local folder, inotify off: what a share changed from another
    /// computer gets. Additions, changes and deletions are found within a few periods
    /// and reported as the live watcher reports them; NAS metadata folders are not.
    #[test]
    fn forced_polling_finds_changes_without_inotify() {
        let tmp = tempfile::tempdir().unwrap();
        let base = std::fs::canonicalize(tmp.path()).unwrap();
        let album = base.join("album");
        std::fs::create_dir_all(&album).unwrap();
        std::fs::write(album.join("a.jpg"), b"first").unwrap();
        let library = Library::open(&base.join("data")).unwrap();
        library.index().add_root(&album, &|_| {}).unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        let period = Duration::from_millis(200);
        let config = WatcherConfig { poll_all_every: Some(period), live: false, ..WatcherConfig::default() };
        let watcher = Watcher::start(library.clone(), config, move |e| sink.lock().unwrap().push(e)).unwrap();
        use std::os::unix::fs::MetadataExt;
        let album_ino = std::fs::metadata(&album).unwrap().ino();
        assert!(!watched_inodes().contains(&album_ino), "not watched live");

        let t0 = Instant::now();
        std::fs::write(album.join("b.jpg"), b"second").unwrap();
        for nas in ["@eaDir", ".AppleDouble", "#recycle", "Network Trash Folder", "~snapshot", "$RECYCLE.BIN"] {
            std::fs::create_dir_all(album.join(nas).join("deep")).unwrap();
            std::fs::write(album.join(nas).join("deep/thumb.jpg"), b"metadata").unwrap();
        }
        wait_for(&seen, 10, "added", |evs| {
            evs.iter().any(|e| matches!(e, LibraryEvent::MediaAdded { path, .. } if named(path, "b.jpg")))
        });
        assert!(t0.elapsed() < period * 10, "found within a few periods: {:?}", t0.elapsed());

        std::fs::write(album.join("a.jpg"), b"first, edited").unwrap();
        wait_for(&seen, 10, "changed", |evs| {
            evs.iter().any(|e| matches!(e, LibraryEvent::MediaChanged { path, .. } if named(path, "a.jpg")))
        });
        std::fs::remove_file(album.join("b.jpg")).unwrap();
        wait_for(&seen, 10, "removed", |evs| {
            evs.iter().any(|e| matches!(e, LibraryEvent::MediaRemoved { path, .. } if named(path, "b.jpg")))
        });
        // A few more periods with nothing changing report nothing more.
        std::thread::sleep(period * 3);
        let n = seen.lock().unwrap().len();
        std::thread::sleep(period * 3);
        assert_eq!(seen.lock().unwrap().len(), n, "quiet: {:?}", seen.lock().unwrap());
        watcher.stop();
        assert_eq!(indexed(&library), [album.join("a.jpg")], "events: {:?}", seen.lock().unwrap());
        let a = library.catalog().media_by_path(&album.join("a.jpg")).unwrap();
        assert_eq!(a.item.size, b"first, edited".len() as u64);
    }

    /// A local folder is only watched live unless polling is forced; a forced period
    /// applies to every root whatever its storage.
    #[test]
    fn only_network_roots_or_forced_polling_are_rescanned() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(WatcherConfig::default().poll_every(dir.path()), None);
        let forced = WatcherConfig { poll_all_every: Some(Duration::from_secs(2)), ..WatcherConfig::default() };
        assert_eq!(forced.poll_every(dir.path()), Some(Duration::from_secs(2)));
        assert_eq!(WatcherConfig::default().network_poll_every, Duration::from_secs(300));
        assert!(WatcherConfig::default().live);
    }

    /// Live watching: files in NAS metadata folders made while watching are never
    /// indexed, whether the folder arrives whole or fills up afterwards.
    #[test]
    fn the_watcher_skips_nas_metadata_folders() {
        let tmp = tempfile::tempdir().unwrap();
        let base = std::fs::canonicalize(tmp.path()).unwrap();
        let album = base.join("album");
        let staged = base.join("staged");
        std::fs::create_dir_all(&album).unwrap();
        std::fs::create_dir_all(staged.join("deep")).unwrap();
        std::fs::write(staged.join("deep/SYNOPHOTO_THUMB_XL.jpg"), b"thumb").unwrap();
        let library = Library::open(&base.join("data")).unwrap();
        library.index().add_root(&album, &|_| {}).unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        let config = WatcherConfig {
            debounce: Duration::from_millis(50),
            stable_for: Duration::from_millis(150),
            ..WatcherConfig::default()
        };
        let watcher = Watcher::start(library.clone(), config, move |e| sink.lock().unwrap().push(e)).unwrap();
        // A whole folder moved in, and folders made then filled.
        std::fs::rename(&staged, album.join("@eaDir")).unwrap();
        for nas in [".AppleDouble", "#snapshot", "Network Trash Folder", "Temporary Items", "@Recycle"] {
            std::fs::create_dir_all(album.join(nas)).unwrap();
        }
        std::thread::sleep(Duration::from_millis(200));
        for nas in [".AppleDouble", "#snapshot", "Network Trash Folder", "Temporary Items", "@Recycle"] {
            std::fs::write(album.join(nas).join("IMG_0001.jpg"), b"not a photo of the album").unwrap();
        }
        std::fs::write(album.join("real.jpg"), b"a real photo").unwrap();
        wait_for(&seen, 10, "the real photo", |evs| {
            evs.iter().any(|e| matches!(e, LibraryEvent::MediaAdded { path, .. } if named(path, "real.jpg")))
        });
        std::thread::sleep(Duration::from_millis(500));
        watcher.stop();
        assert_eq!(indexed(&library), [album.join("real.jpg")], "events: {:?}", seen.lock().unwrap());
        let report = library.index().scan_all(&|_| {}).unwrap();
        assert_eq!((report.added, report.removed, report.unchanged), (0, 0, 1), "{report:?}");
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
        library.index().add_root(&album, &|_| {}).unwrap();
        let mut state = WatchState {
            library: library.clone(),
            config: WatcherConfig::default(),
            pending: HashMap::new(),
            watched: HashMap::new(),
            polled: HashMap::new(),
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
            let warnings: Vec<&LibraryEvent> =
                events.iter().filter(|e| matches!(e, LibraryEvent::Warning { .. })).collect();
            assert_eq!(warnings.len(), 1, "one warning, not one per folder: {events:?}");
            let LibraryEvent::Warning { message } = warnings[0] else { unreachable!() };
            assert!(message.contains("limit") && message.contains("rescan"), "{message}");
        }
        assert!(state.fallback);
        // A file that arrives unwatched is found by the periodic rescan.
        std::fs::write(album.join("b.jpg"), b"another").unwrap();
        state.rescan(&collect);
        let added = seen
            .lock()
            .unwrap()
            .iter()
            .any(|e| matches!(e, LibraryEvent::MediaAdded { path, .. } if path.ends_with("b.jpg")));
        assert!(added, "{:?}", seen.lock().unwrap());
        assert_eq!(library.catalog().media_count(&crate::MediaQuery::default()).unwrap(), 2);
    }
}
