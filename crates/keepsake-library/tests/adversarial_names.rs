//! File and folder names chosen to break things: HTML, quotes, a newline, the SQL LIKE
//! wildcards `%` and `_`, a backslash, and bytes that are not UTF-8. Each is a real file
//! on a real disk, indexed by the scan, picked up by the live watcher and followed
//! through a rename; a name the index cannot hold (not UTF-8) is skipped with one clear
//! reason and stops nothing else.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use keepsake_library::{ErrorCode, Library, LibraryError, LibraryEvent, MediaQuery, Watcher, WatcherConfig};

const ODD: &[&str] = &[
    "<img src=x onerror=alert(1)>.jpg",
    "it's \"quoted\".jpg",
    "new\nline.jpg",
    "100%_done\\.jpg",
    "tab\there & <b onclick=\"x()\">bold.mp4",
];

/// A folder name that is all of it at once.
const ODD_FOLDER: &str = "a%_b\\c \"d\" <e>\nf";

/// (path, name) of every live item, sorted by path.
fn indexed(library: &Library) -> Vec<(PathBuf, String)> {
    let q = MediaQuery { limit: 1000, ..Default::default() };
    let mut v: Vec<(PathBuf, String)> =
        library.catalog().media(&q).unwrap().into_iter().map(|m| (m.path, m.name)).collect();
    v.sort();
    v
}

fn album(tmp: &Path) -> (PathBuf, Library) {
    let base = std::fs::canonicalize(tmp).unwrap();
    let album = base.join("album");
    std::fs::create_dir_all(&album).unwrap();
    let library = Library::open(&base.join("data")).unwrap();
    (album, library)
}

fn watch(library: &Library) -> (Watcher, Arc<Mutex<Vec<LibraryEvent>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let config = WatcherConfig {
        debounce: Duration::from_millis(50),
        stable_for: Duration::from_millis(150),
        ..WatcherConfig::default()
    };
    let watcher = Watcher::start(library.clone(), config, move |e| sink.lock().unwrap().push(e)).unwrap();
    (watcher, seen)
}

fn wait_for(seen: &Mutex<Vec<LibraryEvent>>, what: &str, done: impl Fn(&[LibraryEvent]) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done(&seen.lock().unwrap()) {
        assert!(Instant::now() < deadline, "{what}: {:?}", seen.lock().unwrap());
        std::thread::sleep(Duration::from_millis(25));
    }
}

#[test]
fn hostile_names_are_indexed_by_the_scan_exactly_as_they_are() {
    let tmp = tempfile::tempdir().unwrap();
    let (album, library) = album(tmp.path());
    std::fs::create_dir_all(album.join(ODD_FOLDER)).unwrap();
    let mut expected = Vec::new();
    for (i, name) in ODD.iter().enumerate() {
        for dir in [album.clone(), album.join(ODD_FOLDER)] {
            std::fs::write(dir.join(name), format!("photo {i}")).unwrap();
            expected.push((dir.join(name), name.to_string()));
        }
    }
    // Neighbours a LIKE pattern built from the odd folder's name would also match.
    std::fs::create_dir_all(album.join("aX_b\\c \"d\" <e>\nf")).unwrap();
    std::fs::write(album.join("aX_b\\c \"d\" <e>\nf/neighbour.jpg"), b"n").unwrap();
    expected.push((album.join("aX_b\\c \"d\" <e>\nf/neighbour.jpg"), "neighbour.jpg".into()));
    expected.sort();
    let (_, report) = library.index().add_root(&album, &|_| {}).unwrap();
    assert!(report.unreadable.is_empty(), "{:?}", report.unreadable);
    assert_eq!(indexed(&library), expected);
    // Searching for the wildcards finds the names and paths holding them, nothing else
    // (the neighbour's folder would match them read as a LIKE pattern).
    let q = MediaQuery { search: Some("%_".into()), limit: 100, ..Default::default() };
    let found: Vec<PathBuf> = library.catalog().media(&q).unwrap().into_iter().map(|m| m.path).collect();
    let with_wildcards = expected.iter().filter(|(p, _)| p.to_str().is_some_and(|p| p.contains("%_"))).count();
    assert_eq!(found.len(), with_wildcards, "{found:?}");
    assert!(found.iter().all(|p| p.to_str().is_some_and(|p| p.contains("%_"))), "{found:?}");
    // A second scan agrees with the first.
    let again = library.index().scan_all(&|_| {}).unwrap();
    assert_eq!((again.added, again.removed, again.changed), (0, 0, 0), "{again:?}");
}

#[test]
fn hostile_names_are_picked_up_and_renamed_by_the_watcher() {
    let tmp = tempfile::tempdir().unwrap();
    let (album, library) = album(tmp.path());
    std::fs::create_dir_all(album.join("100%Xdone")).unwrap();
    std::fs::write(album.join("100%Xdone/keep.jpg"), b"neighbour").unwrap();
    library.index().add_root(&album, &|_| {}).unwrap();
    let (watcher, seen) = watch(&library);
    let live = album.join(ODD_FOLDER);
    std::fs::create_dir_all(&live).unwrap();
    std::thread::sleep(Duration::from_millis(150));
    for (i, name) in ODD.iter().enumerate() {
        std::fs::write(live.join(name), format!("live photo {i}")).unwrap();
    }
    wait_for(&seen, "all added", |evs| {
        let added = |name: &str| {
            let want = live.join(name);
            evs.iter().any(|e| matches!(e, LibraryEvent::MediaAdded { path, .. } if *path == want))
        };
        ODD.iter().all(|n| added(n))
    });
    // A file renamed to another hostile name, then the whole folder renamed.
    let from = live.join(ODD[1]);
    let to = live.join("renamed <script>%_\n'.jpg");
    std::fs::rename(&from, &to).unwrap();
    wait_for(&seen, "file renamed", |evs| {
        evs.iter().any(|e| matches!(e, LibraryEvent::MediaMoved { from: f, to: t, .. } if f == &from && t == &to))
    });
    let moved_folder = album.join("100%_done");
    std::fs::rename(&live, &moved_folder).unwrap();
    wait_for(&seen, "folder renamed", |evs| {
        evs.iter().filter(|e| matches!(e, LibraryEvent::MediaMoved { to, .. } if to.starts_with(&moved_folder))).count()
            == ODD.len()
    });
    std::thread::sleep(Duration::from_millis(300));
    watcher.stop();
    let paths: Vec<PathBuf> = indexed(&library).into_iter().map(|(p, _)| p).collect();
    assert!(paths.contains(&album.join("100%Xdone/keep.jpg")), "the LIKE-lookalike neighbour is untouched: {paths:?}");
    assert!(paths.contains(&moved_folder.join("renamed <script>%_\n'.jpg")), "{paths:?}");
    assert_eq!(paths.len(), ODD.len() + 1, "{paths:?}");
    let report = library.index().scan_all(&|_| {}).unwrap();
    assert_eq!((report.added, report.removed, report.changed), (0, 0, 0), "{report:?}");
}

/// Linux allows any bytes but `/` and NUL in a name; the index holds UTF-8. Such files
/// and folders are skipped, each named once among the scan's unreadable entries with
/// the reason; everything else is indexed, by the scan and by the watcher; a file
/// renamed to a good name appears, one renamed to a bad name goes.
#[test]
fn names_that_are_not_utf8_are_skipped_once_with_a_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let (album, library) = album(tmp.path());
    let bad_file = album.join(OsStr::from_bytes(b"bad\xff name.jpg"));
    let bad_dir = album.join(OsStr::from_bytes(b"folder \xfe\xfd"));
    std::fs::write(&bad_file, b"bad").unwrap();
    std::fs::create_dir_all(&bad_dir).unwrap();
    std::fs::write(bad_dir.join("inside.jpg"), b"inside").unwrap();
    std::fs::write(album.join(OsStr::from_bytes(b"notes \xff.txt")), b"not media: not mentioned").unwrap();
    std::fs::write(album.join("good.jpg"), b"good").unwrap();
    let (_, report) = library.index().add_root(&album, &|_| {}).unwrap();
    let mut skipped: Vec<&PathBuf> = report.unreadable.iter().map(|(p, _)| p).collect();
    skipped.sort();
    assert_eq!(skipped, [&bad_file, &bad_dir], "{:?}", report.unreadable);
    assert!(report.unreadable.iter().all(|(_, why)| why.contains("not valid UTF-8")), "{:?}", report.unreadable);
    assert_eq!(indexed(&library), [(album.join("good.jpg"), "good.jpg".to_owned())]);
    // The next scan says it again, once, and adds nothing.
    let again = library.index().scan_all(&|_| {}).unwrap();
    assert_eq!(again.unreadable.len(), 2, "{:?}", again.unreadable);
    assert_eq!((again.added, again.removed, again.unchanged), (0, 0, 1));

    let (watcher, seen) = watch(&library);
    let late_bad = album.join(OsStr::from_bytes(b"late \xff.jpg"));
    std::fs::write(&late_bad, b"late bad").unwrap();
    std::fs::write(album.join("late.jpg"), b"late good").unwrap();
    wait_for(&seen, "the good one", |evs| {
        evs.iter().any(|e| matches!(e, LibraryEvent::MediaAdded { path, .. } if path.ends_with("late.jpg")))
    });
    // Renamed from a bad name to a good one: indexed.
    std::fs::rename(&late_bad, album.join("fixed.jpg")).unwrap();
    wait_for(&seen, "fixed", |evs| {
        evs.iter().any(|e| matches!(e, LibraryEvent::MediaAdded { path, .. } if path.ends_with("fixed.jpg")))
    });
    // Renamed from a good name to a bad one: gone from the album.
    std::fs::rename(album.join("good.jpg"), album.join(OsStr::from_bytes(b"broken \xfe.jpg"))).unwrap();
    wait_for(&seen, "broken", |evs| {
        evs.iter().any(|e| matches!(e, LibraryEvent::MediaRemoved { path, .. } if path.ends_with("good.jpg")))
    });
    std::thread::sleep(Duration::from_millis(300));
    watcher.stop();
    let names: Vec<String> = indexed(&library).into_iter().map(|(_, n)| n).collect();
    assert_eq!(names, ["fixed.jpg", "late.jpg"]);
    let report = library.index().scan_all(&|_| {}).unwrap();
    assert_eq!((report.added, report.removed, report.unchanged), (0, 0, 2), "{report:?}");
    assert_eq!(report.unreadable.len(), 3, "bad file, bad folder, broken: {:?}", report.unreadable);
}

/// An album folder whose own name is not UTF-8 is refused as one, with a typed error the
/// window can act on (`invalid`: rename it), not reported as a watcher failure.
#[test]
fn an_album_folder_named_in_bytes_that_are_not_utf8_is_refused_saying_so() {
    let tmp = tempfile::tempdir().unwrap();
    let folder = tmp.path().join(OsStr::from_bytes(b"Holiday \xff 2019"));
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("a.jpg"), b"a").unwrap();
    let library = Library::open(&tmp.path().join("data")).unwrap();
    let err = library.index().add_root(&folder, &|_| {}).unwrap_err();
    assert!(
        matches!(&err, LibraryError::NotUtf8Path(p) if p.ends_with(OsStr::from_bytes(b"Holiday \xff 2019"))),
        "{err:?}"
    );
    assert_eq!(err.code(), ErrorCode::Invalid);
    assert!(err.to_string().contains("not valid UTF-8"), "{err}");
    assert!(library.index().roots().unwrap().is_empty(), "nothing was added");
}
