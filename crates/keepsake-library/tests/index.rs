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
    assert!(!lib.has_roots().unwrap(), "a new library has no albums");
    let (root, report) = lib.add_root(&album, &no_progress).unwrap();
    assert!(lib.has_roots().unwrap());
    assert_eq!((root.photos, root.videos, report.added), (1, 2, 3));
    assert_eq!(lib.queue().progress().unwrap().queued, 2, "videos queued, photos not");
    assert!(matches!(lib.add_root(&album.join("x"), &no_progress), Err(LibraryError::NestedRoot(..))));

    write(&album.join("x/b.mp4"), b"video b, re-encoded longer");
    std::fs::remove_file(album.join("a.jpg")).unwrap();
    write(&album.join("new.png"), b"new");
    let r = lib.scan_all(&no_progress).unwrap();
    assert_eq!((r.added, r.changed, r.removed, r.unchanged), (1, 1, 1, 1), "{r:?}");
    let names: Vec<String> = lib.media(&MediaQuery { sort: SortOrder::Name, ..Default::default() }).unwrap().into_iter().map(|m| m.name).collect();
    assert_eq!(names, ["b.mp4", "c.mov", "new.png"]);
    assert_eq!(lib.media_count(&MediaQuery { kind: Some(MediaKind::Video), ..Default::default() }).unwrap(), 2);
    assert_eq!(lib.media_count(&MediaQuery { search: Some("NEW".into()), ..Default::default() }).unwrap(), 1);
    let page = lib.media(&MediaQuery { sort: SortOrder::Name, offset: 1, limit: 1, ..Default::default() }).unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].name, "c.mov");

    // Forgetting the root never touches the files.
    lib.remove_root(root.id).unwrap();
    assert_eq!(lib.media_count(&MediaQuery::default()).unwrap(), 0);
    assert!(!lib.has_roots().unwrap());
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
    lib.add_root(&album, &no_progress).unwrap();
    let v3 = lib.media(&MediaQuery { search: Some("v3.mp4".into()), ..Default::default() }).unwrap()[0].id;
    let v1 = lib.media(&MediaQuery { search: Some("v1.mp4".into()), ..Default::default() }).unwrap()[0].id;
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
    write(&album.join("undated.jpg"), &std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/media/rocket.jpg")).unwrap());
    let lib = Library::open(&tmp.path().join("data")).unwrap();
    lib.add_root(&album, &no_progress).unwrap();
    assert_eq!(lib.fill_photo_dates(100).unwrap(), 2);
    assert_eq!(lib.fill_photo_dates(100).unwrap(), 0, "each photo is read once");
    let items = lib.media(&MediaQuery { sort: SortOrder::TakenAsc, ..Default::default() }).unwrap();
    assert_eq!(items[0].name, "dated.jpg");
    assert_eq!(items[0].taken_at, 1_563_099_630); // 2019-07-14T10:20:30Z
    let mtime = std::fs::metadata(album.join("undated.jpg")).unwrap().modified().unwrap();
    let mtime_s = mtime.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    assert_eq!(items[1].taken_at, mtime_s);
}

#[test]
fn images_are_served_from_the_data_dir_only_moment_covers_and_photo_thumbnails() {
    let tmp = tempfile::tempdir().unwrap();
    let album = tmp.path().join("album");
    std::fs::create_dir_all(&album).unwrap();
    std::fs::copy(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/media/coffee.png"), album.join("coffee.png")).unwrap();
    let status = std::process::Command::new("ffmpeg")
        .args(["-y", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=10", "-t", "2", "-pix_fmt", "yuv420p"])
        .arg(album.join("clip.mp4"))
        .status()
        .unwrap();
    assert!(status.success());
    let data = tmp.path().join("data");
    let lib = Library::open(&data).unwrap();
    lib.add_root(&album, &no_progress).unwrap();
    let by_name = |n: &str| lib.media(&MediaQuery { search: Some(n.into()), ..Default::default() }).unwrap()[0].clone();
    let photo = by_name("coffee.png");
    let thumb = lib.image_path(&ImageKey::Photo(photo.id)).unwrap();
    assert!(thumb.starts_with(&data) && thumb.is_file());
    let (w, h) = image::image_dimensions(&thumb).unwrap();
    assert!(w.max(h) <= 512 && w > h, "{w}x{h}");

    let video = by_name("clip.mp4");
    assert!(matches!(lib.image_path(&ImageKey::Cover(video.id)), Err(LibraryError::NoImage(_))), "no cover before analysis");
    assert!(matches!(lib.set_cover(video.id, CoverChoice::Pick(2)), Err(LibraryError::InvalidCover(_))));
    let cover = lib.set_cover(video.id, CoverChoice::Time(1.0)).unwrap();
    assert_eq!(cover.kind, CoverKind::Time);
    assert_eq!(cover.time, Some(1.0));
    let served = lib.image_path(&ImageKey::Cover(video.id)).unwrap();
    assert!(served.starts_with(&data) && served.is_file());
    assert!(lib.media_by_id(video.id).unwrap().item.cover_version > video.cover_version, "cache-busting version moved");
    assert!(lib.image_path(&ImageKey::Photo(video.id)).is_err(), "a video has no photo thumbnail");

    // Tiles get a grid-size copy of the cover, renewed when the cover changes.
    assert_eq!(image::image_dimensions(&served).unwrap(), (1280, 720));
    let tile = lib.image_path(&ImageKey::TileCover(video.id)).unwrap();
    assert!(tile.starts_with(&data) && tile != served);
    assert_eq!(image::image_dimensions(&tile).unwrap(), (512, 288));
    lib.set_cover(video.id, CoverChoice::Time(0.5)).unwrap();
    let renewed = lib.image_path(&ImageKey::TileCover(video.id)).unwrap();
    assert_ne!(renewed, tile, "a new cover gets a new tile image");
    assert!(renewed.is_file() && !tile.exists(), "the old tile copy is removed");
    assert!(matches!(lib.image_path(&ImageKey::TileFrame(video.id, 1)), Err(LibraryError::NoImage(_))), "no picks before analysis");

    // The window asks for the same new tile from several threads at once (a refresh
    // while the first request renders): each gets the finished image, none an error.
    lib.set_cover(video.id, CoverChoice::Time(1.5)).unwrap();
    let served: Vec<_> = std::thread::scope(|s| {
        let asks: Vec<_> = (0..8).map(|_| s.spawn(|| lib.image_path(&ImageKey::TileCover(video.id)))).collect();
        asks.into_iter().map(|a| a.join().unwrap()).collect()
    });
    for path in served {
        let path = path.expect("every concurrent request is served");
        assert_eq!(image::image_dimensions(&path).unwrap(), (512, 288));
    }
    let leftovers: Vec<_> = std::fs::read_dir(renewed.parent().unwrap())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("tile-cover"))
        .collect();
    assert_eq!(leftovers.len(), 1, "one tile copy, no half-written files: {leftovers:?}");

    // Small tiles get 256-px copies of the grid images, made from them and renewed with
    // the cover; nothing else has a small copy.
    let small = lib.image_path(&ImageKey::Small(Box::new(ImageKey::TileCover(video.id)))).unwrap();
    assert!(small.starts_with(&data));
    // A square tile crops it: the short side is what must reach 256 px (16:9 -> 456x256).
    let (w, h) = image::image_dimensions(&small).unwrap();
    assert!((256..=257).contains(&h) && (455..=456).contains(&w), "{w}x{h}");
    let small_photo = lib.image_path(&ImageKey::Small(Box::new(ImageKey::Photo(photo.id)))).unwrap();
    let (w, h) = image::image_dimensions(&small_photo).unwrap();
    assert!((256..=257).contains(&w.min(h)), "{w}x{h}");
    let (pw, ph) = image::image_dimensions(lib.image_path(&ImageKey::Photo(photo.id)).unwrap()).unwrap();
    assert!(u64::from(w) * u64::from(h) < u64::from(pw) * u64::from(ph) * 3 / 4, "smaller than the 512-px copy");
    assert!(lib.image_path(&ImageKey::Small(Box::new(ImageKey::Cover(video.id)))).is_err());
    lib.set_cover(video.id, CoverChoice::Time(2.0)).unwrap();
    let small_renewed = lib.image_path(&ImageKey::Small(Box::new(ImageKey::TileCover(video.id)))).unwrap();
    assert_ne!(small_renewed, small);
    assert!(small_renewed.is_file() && !small.exists(), "the old small copy goes with the old cover");
}
