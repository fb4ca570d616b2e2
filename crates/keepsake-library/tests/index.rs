//! The index with real SQLite files and a real folder tree: scan, reconcile, queue
//! order, pause/cancel/retry and restart safety.

use std::path::Path;

use keepsake_library::*;

fn write(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

fn no_progress(_: ScanProgress) {}

#[test]
fn scan_reconcile_finds_new_changed_deleted_and_nested_roots_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let album = tmp.path().join("album");
    write(&album.join("a.jpg"), b"photo a");
    write(&album.join("x/b.mp4"), b"video b");
    write(&album.join("x/c.mov"), b"video c");
    let lib = Library::open(&tmp.path().join("data")).unwrap();
    assert!(!lib.index().has_roots().unwrap(), "a new library has no albums");
    let (root, report) = lib.index().add_root(&album, &no_progress).unwrap();
    assert!(lib.index().has_roots().unwrap());
    assert_eq!((root.photos, root.videos, report.added), (1, 2, 3));
    assert_eq!(lib.queue().progress().unwrap().queued, 2, "videos queued, photos not");
    assert!(matches!(lib.index().add_root(&album.join("x"), &no_progress), Err(LibraryError::NestedRoot(..))));

    write(&album.join("x/b.mp4"), b"video b, re-encoded longer");
    std::fs::remove_file(album.join("a.jpg")).unwrap();
    write(&album.join("new.png"), b"new");
    let r = lib.index().scan_all(&no_progress).unwrap();
    assert_eq!((r.added, r.changed, r.removed, r.unchanged), (1, 1, 1, 1), "{r:?}");
    let names: Vec<String> = lib
        .catalog()
        .media(&MediaQuery { sort: SortOrder::Name, ..Default::default() })
        .unwrap()
        .into_iter()
        .map(|m| m.name)
        .collect();
    assert_eq!(names, ["b.mp4", "c.mov", "new.png"]);
    assert_eq!(
        lib.catalog().media_count(&MediaQuery { kind: Some(MediaKind::Video), ..Default::default() }).unwrap(),
        2
    );
    assert_eq!(lib.catalog().media_count(&MediaQuery { search: Some("NEW".into()), ..Default::default() }).unwrap(), 1);
    let page =
        lib.catalog().media(&MediaQuery { sort: SortOrder::Name, offset: 1, limit: 1, ..Default::default() }).unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].name, "c.mov");

    // Forgetting the root never touches the files.
    lib.index().remove_root(root.id).unwrap();
    assert_eq!(lib.catalog().media_count(&MediaQuery::default()).unwrap(), 0);
    assert!(!lib.index().has_roots().unwrap());
    assert!(album.join("x/b.mp4").is_file());
}

#[test]
fn queue_priorities_pause_cancel_retry_are_persistent() {
    let tmp = tempfile::tempdir().unwrap();
    let album = tmp.path().join("album");
    for i in 0..5 {
        write(&album.join(format!("v{i}.mp4")), format!("video {i}").as_bytes());
    }
    let data = tmp.path().join("data");
    let lib = Library::open(&data).unwrap();
    lib.index().add_root(&album, &no_progress).unwrap();
    let v3 = lib.catalog().media(&MediaQuery { search: Some("v3.mp4".into()), ..Default::default() }).unwrap()[0].id;
    let v1 = lib.catalog().media(&MediaQuery { search: Some("v1.mp4".into()), ..Default::default() }).unwrap()[0].id;
    lib.queue().prioritize(&[v3]).unwrap();
    lib.queue().prioritize(&[v1]).unwrap();
    let order: Vec<MediaId> = lib.queue().list(false).unwrap().into_iter().map(|j| j.media_id).collect();
    assert_eq!(&order[..2], &[v1, v3], "the latest request first");

    lib.queue().pause().unwrap();
    assert_eq!(lib.queue().cancel(&[v3]).unwrap(), 1);
    drop(lib);
    // A new process sees the same queue.
    let lib = Library::open(&data).unwrap();
    let p = lib.queue().progress().unwrap();
    assert!(p.paused);
    assert_eq!((p.queued, p.total), (4, 4));
    assert_eq!(lib.queue().retry_failed().unwrap(), 1, "cancelled jobs can be retried");
    lib.queue().resume().unwrap();
    assert_eq!(lib.queue().progress().unwrap().queued, 5);
}

/// rocket.jpg with an EXIF APP1 segment carrying `DateTimeOriginal`.
fn jpeg_with_exif_date(date: &str) -> Vec<u8> {
    let field = exif::Field {
        tag: exif::Tag::DateTimeOriginal,
        ifd_num: exif::In::PRIMARY,
        value: exif::Value::Ascii(vec![date.as_bytes().to_vec()]),
    };
    let mut writer = exif::experimental::Writer::new();
    writer.push_field(&field);
    let mut tiff = std::io::Cursor::new(Vec::new());
    writer.write(&mut tiff, false).unwrap();
    let tiff = tiff.into_inner();
    let jpeg = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/media/rocket.jpg")).unwrap();
    let mut out = jpeg[..2].to_vec(); // SOI
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((2 + 6 + tiff.len()) as u16).to_be_bytes());
    out.extend_from_slice(b"Exif\0\0");
    out.extend_from_slice(&tiff);
    out.extend_from_slice(&jpeg[2..]);
    out
}

#[test]
fn photo_dates_come_from_exif_in_the_background_else_mtime() {
    let tmp = tempfile::tempdir().unwrap();
    let album = tmp.path().join("album");
    write(&album.join("dated.jpg"), &jpeg_with_exif_date("2019:07:14 10:20:30"));
    write(
        &album.join("undated.jpg"),
        &std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/media/rocket.jpg")).unwrap(),
    );
    let lib = Library::open(&tmp.path().join("data")).unwrap();
    lib.index().add_root(&album, &no_progress).unwrap();
    let source = |name: &str| lib.catalog().media_by_path(&album.join(name)).unwrap().taken_source;
    assert_eq!(source("dated.jpg"), DateSource::NotReadYet, "the detail panel says the date isn't read yet");
    assert_eq!(lib.photo_jobs().read_facts(100).unwrap().checked, 2);
    assert_eq!(lib.photo_jobs().read_facts(100).unwrap().checked, 0, "each photo is read once");
    assert_eq!(source("dated.jpg"), DateSource::Exif);
    assert_eq!(source("undated.jpg"), DateSource::FileTime, "the detail panel says it is the file's time");
    let items = lib.catalog().media(&MediaQuery { sort: SortOrder::TakenAsc, ..Default::default() }).unwrap();
    assert_eq!(items[0].name, "dated.jpg");
    // A naive EXIF time is wall time in this machine's zone (crate::taken).
    let local = jiff::civil::datetime(2019, 7, 14, 10, 20, 30, 0).to_zoned(jiff::tz::TimeZone::system()).unwrap();
    assert_eq!(items[0].taken_at, local.timestamp().as_second());
    let mtime = std::fs::metadata(album.join("undated.jpg")).unwrap().modified().unwrap();
    let mtime_s = mtime.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    assert_eq!(items[1].taken_at, mtime_s);
}

#[test]
fn photo_dates_wait_while_the_window_is_showing_things() {
    let tmp = tempfile::tempdir().unwrap();
    let album = tmp.path().join("album");
    write(&album.join("dated.jpg"), &jpeg_with_exif_date("2019:07:14 10:20:30"));
    write(&album.join("other.jpg"), &jpeg_with_exif_date("2020:01:02 03:04:05"));
    let data = tmp.path().join("data");
    let lib = Library::open(&data).unwrap();
    lib.index().add_root(&album, &no_progress).unwrap();
    let unchecked = || -> i64 {
        let db = rusqlite::Connection::open(data.join(db::DB_FILE)).unwrap();
        db.query_row("SELECT COUNT(*) FROM media WHERE taken_source = 'unchecked'", [], |r| r.get(0)).unwrap()
    };
    assert_eq!(unchecked(), 2);

    // The window keeps asking for images (a scroll) for a second.
    let scrolling = std::sync::atomic::AtomicBool::new(true);
    let told = std::sync::Mutex::new(Vec::new());
    let while_scrolling = std::thread::scope(|s| {
        s.spawn(|| {
            while scrolling.load(std::sync::atomic::Ordering::Relaxed) {
                lib.note_viewing();
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        });
        std::thread::sleep(std::time::Duration::from_millis(100));
        let analyzer = s.spawn(|| {
            Analyzer::new(lib.clone(), AnalyzerConfig { workers: 1, ..AnalyzerConfig::from_env() }).run_until_empty(
                &|ev| {
                    if let LibraryEvent::DatesRead { photos } = ev {
                        told.lock().unwrap().push(photos);
                    }
                },
            )
        });
        std::thread::sleep(std::time::Duration::from_millis(900));
        let while_scrolling = unchecked();
        scrolling.store(false, std::sync::atomic::Ordering::Relaxed);
        analyzer.join().unwrap().unwrap();
        while_scrolling
    });
    assert_eq!(while_scrolling, 2, "no photo read while the window was busy");
    assert_eq!(unchecked(), 0, "all read once the window went quiet");
    // The window is told, so its grid and date headers take the new dates.
    assert_eq!(told.into_inner().unwrap(), vec![2], "one DatesRead for both photos");
}

/// Keepsake's own data directory, a folder inside it or one holding it is never an
/// album: its thumbnails would be indexed, their thumbnails made, and so on. The
/// library refuses, whoever asks (the app's dialog, its command line, `keepsake add`).
#[test]
fn the_data_directory_and_folders_around_it_are_refused_as_albums() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("home/.local/share/keepsake");
    let lib = Library::open(&data).unwrap();
    write(&data.join("thumbs/1-10.jpg"), b"a thumbnail");
    write(&tmp.path().join("home/Pictures/a.jpg"), b"a photo");
    // Reached through a link, the data directory is still the data directory.
    std::os::unix::fs::symlink(&data, tmp.path().join("link-to-data")).unwrap();
    for dir in [
        data.clone(),
        data.join("thumbs"),
        tmp.path().join("home"),
        tmp.path().join("home/.local"),
        tmp.path().to_path_buf(),
        tmp.path().join("link-to-data"),
        data.join("thumbs/../thumbs"),
    ] {
        let err = lib.index().add_root(&dir, &no_progress).unwrap_err();
        assert!(matches!(err, LibraryError::DataDirectory { .. }), "{}: {err:?}", dir.display());
        let text = err.to_string();
        assert!(text.contains("Keepsake's own data") && !text.contains('\n'), "{text}");
    }
    assert!(!lib.index().has_roots().unwrap(), "nothing was added");
    assert_eq!(lib.catalog().media_count(&MediaQuery::default()).unwrap(), 0);
    // A sibling folder is fine.
    let (root, _) = lib.index().add_root(&tmp.path().join("home/Pictures"), &no_progress).unwrap();
    assert_eq!(root.photos, 1);
}

/// Makes a named pipe at `path`.
fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: `c` is a NUL-terminated path that outlives the call.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0, "{}", std::io::Error::last_os_error());
}

/// An indexed photo swapped for a named pipe (or one put in an album): opening a FIFO
/// for reading blocks until someone writes to it, which is never. The scan, the date
/// pass, fingerprints, EXIF reads and photo thumbnails all finish at once instead.
/// The work runs on a thread with a deadline, so a regression fails rather than hangs.
#[test]
fn a_named_pipe_in_an_album_blocks_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let album = tmp.path().join("album");
    write(&album.join("x.jpg"), b"a photo, soon a pipe");
    write(&album.join("y.jpg"), b"another photo");
    let lib = Library::open(&tmp.path().join("data")).unwrap();
    lib.index().add_root(&album, &no_progress).unwrap();
    let x = lib.catalog().media(&MediaQuery { search: Some("x.jpg".into()), ..Default::default() }).unwrap()[0].id;
    std::fs::remove_file(album.join("x.jpg")).unwrap();
    mkfifo(&album.join("x.jpg"));
    mkfifo(&album.join("z.mp4"));

    let (tx, rx) = std::sync::mpsc::channel();
    let (lib2, album2) = (lib.clone(), album.clone());
    std::thread::spawn(move || {
        let pipe = album2.join("x.jpg");
        let fingerprint = fingerprint::fingerprint(&pipe).is_err();
        let exif = taken::exif_taken_at(&pipe).is_err();
        let thumbnail = lib2.images().image_path(&ImageKey::Photo(x)).is_err();
        let dates = lib2.photo_jobs().read_facts(100).unwrap().checked;
        let scan = lib2.index().scan_all(&no_progress).unwrap();
        let _ = tx.send((fingerprint, exif, thumbnail, dates, scan.removed, scan.added));
    });
    let (fingerprint, exif, thumbnail, dates, removed, added) =
        rx.recv_timeout(std::time::Duration::from_secs(20)).expect("a named pipe blocked the library");
    assert!(fingerprint && exif && thumbnail, "a pipe has no fingerprint, date or thumbnail");
    assert_eq!(dates, 2, "both photos' dates were looked at");
    assert_eq!((removed, added), (1, 0), "the pipe is not media");
}
