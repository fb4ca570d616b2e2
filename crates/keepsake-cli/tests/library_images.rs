//! The library's images through the real `keepsake worker`: photo and tile thumbnails
//! (made in the calling process), moments rendered as covers and as timeline previews,
//! slideshow export, the demo album and the engine's set-up (made in a worker, so the
//! app's process never loads FFmpeg).

use std::path::{Path, PathBuf};

use keepsake_library::*;

fn worker() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_keepsake"))
}

fn no_progress(_: ScanProgress) {}

/// A real H.264 clip from one of FFmpeg's test sources.
fn make_clip(path: &Path, source: &str, seconds: u32) {
    let status = std::process::Command::new("ffmpeg")
        .args(["-y", "-v", "error", "-f", "lavfi", "-i", source, "-t", &seconds.to_string(), "-pix_fmt", "yuv420p"])
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success());
}

/// An album of one clip and one photo, indexed.
fn album_with_clip_and_photo(tmp: &Path) -> (Library, PathBuf, MediaItem, MediaItem) {
    let album = tmp.join("album");
    std::fs::create_dir_all(&album).unwrap();
    std::fs::copy(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/media/coffee.png"), album.join("coffee.png"))
        .unwrap();
    make_clip(&album.join("clip.mp4"), "testsrc2=size=640x360:rate=10", 3);
    let lib = Library::open_with_worker(&tmp.join("data"), Some(worker())).unwrap();
    lib.index().add_root(&album, &no_progress).unwrap();
    let by_name =
        |n: &str| lib.catalog().media(&MediaQuery { search: Some(n.into()), ..Default::default() }).unwrap()[0].clone();
    let (clip, photo) = (by_name("clip.mp4"), by_name("coffee.png"));
    (lib, album, clip, photo)
}

#[test]
fn images_are_served_from_the_data_dir_only_moment_covers_and_photo_thumbnails() {
    let tmp = tempfile::tempdir().unwrap();
    let album = tmp.path().join("album");
    std::fs::create_dir_all(&album).unwrap();
    std::fs::copy(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/media/coffee.png"), album.join("coffee.png"))
        .unwrap();
    make_clip(&album.join("clip.mp4"), "testsrc2=size=1280x720:rate=10", 2);
    image::RgbImage::from_pixel(320, 240, image::Rgb([90, 120, 200])).save(album.join("tiny.jpg")).unwrap();
    let data = tmp.path().join("data");
    let lib = Library::open_with_worker(&data, Some(worker())).unwrap();
    lib.index().add_root(&album, &no_progress).unwrap();
    let by_name =
        |n: &str| lib.catalog().media(&MediaQuery { search: Some(n.into()), ..Default::default() }).unwrap()[0].clone();
    let photo = by_name("coffee.png");
    let thumb = lib.images().image_path(&ImageKey::Photo(photo.id)).unwrap();
    assert!(thumb.starts_with(&data) && thumb.is_file());
    let (w, h) = image::image_dimensions(&thumb).unwrap();
    assert!(w.max(h) <= 512 && w > h, "{w}x{h}");

    let video = by_name("clip.mp4");
    assert!(
        matches!(lib.images().image_path(&ImageKey::Cover(video.id)), Err(LibraryError::NoImage(_))),
        "no cover before analysis"
    );
    assert!(matches!(lib.covers().set_cover(video.id, CoverChoice::Pick(2)), Err(LibraryError::InvalidCover(_))));
    let cover = lib.covers().set_cover(video.id, CoverChoice::Time(1.0)).unwrap();
    assert_eq!(cover.kind, CoverKind::Time);
    assert_eq!(cover.time, Some(1.0));
    let served = lib.images().image_path(&ImageKey::Cover(video.id)).unwrap();
    assert!(served.starts_with(&data) && served.is_file());
    assert!(
        lib.catalog().media_by_id(video.id).unwrap().item.cover_version > video.cover_version,
        "cache-busting version moved"
    );
    assert!(lib.images().image_path(&ImageKey::Photo(video.id)).is_err(), "a video has no photo thumbnail");

    // Tiles get a grid-size copy of the cover, renewed when the cover changes.
    assert_eq!(image::image_dimensions(&served).unwrap(), (1280, 720));
    let tile = lib.images().image_path(&ImageKey::TileCover(video.id)).unwrap();
    assert!(tile.starts_with(&data) && tile != served);
    assert_eq!(image::image_dimensions(&tile).unwrap(), (512, 288));
    lib.covers().set_cover(video.id, CoverChoice::Time(0.5)).unwrap();
    let renewed = lib.images().image_path(&ImageKey::TileCover(video.id)).unwrap();
    assert_ne!(renewed, tile, "a new cover gets a new tile image");
    assert!(renewed.is_file() && !tile.exists(), "the old tile copy is removed");
    assert!(
        matches!(lib.images().image_path(&ImageKey::TileFrame(video.id, 1)), Err(LibraryError::NoImage(_))),
        "no picks before analysis"
    );

    // The window asks for the same new tile from several threads at once (a refresh
    // while the first request renders): each gets the finished image, none an error.
    lib.covers().set_cover(video.id, CoverChoice::Time(1.5)).unwrap();
    let served: Vec<_> = std::thread::scope(|s| {
        let asks: Vec<_> =
            (0..8).map(|_| s.spawn(|| lib.images().image_path(&ImageKey::TileCover(video.id)))).collect();
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
    let small = lib.images().image_path(&ImageKey::Small(Box::new(ImageKey::TileCover(video.id)))).unwrap();
    assert!(small.starts_with(&data));
    // A square tile crops it: the short side is what must reach 256 px (16:9 -> 456x256).
    let (w, h) = image::image_dimensions(&small).unwrap();
    assert!((256..=257).contains(&h) && (455..=456).contains(&w), "{w}x{h}");
    let small_photo = lib.images().image_path(&ImageKey::Small(Box::new(ImageKey::Photo(photo.id)))).unwrap();
    let (w, h) = image::image_dimensions(&small_photo).unwrap();
    assert!((256..=257).contains(&w.min(h)), "{w}x{h}");
    let (pw, ph) = image::image_dimensions(lib.images().image_path(&ImageKey::Photo(photo.id)).unwrap()).unwrap();
    assert!(u64::from(w) * u64::from(h) < u64::from(pw) * u64::from(ph) * 3 / 4, "smaller than the 512-px copy");
    assert!(lib.images().image_path(&ImageKey::Small(Box::new(ImageKey::Cover(video.id)))).is_err());
    // A photo no bigger than a small copy would be is its own small copy.
    let tiny = by_name("tiny.jpg");
    let tiny_grid = lib.images().image_path(&ImageKey::Photo(tiny.id)).unwrap();
    assert_eq!(image::image_dimensions(&tiny_grid).unwrap(), (320, 240));
    assert_eq!(lib.images().image_path(&ImageKey::Small(Box::new(ImageKey::Photo(tiny.id)))).unwrap(), tiny_grid);
    lib.covers().set_cover(video.id, CoverChoice::Time(2.0)).unwrap();
    let small_renewed = lib.images().image_path(&ImageKey::Small(Box::new(ImageKey::TileCover(video.id)))).unwrap();
    assert_ne!(small_renewed, small);
    assert!(small_renewed.is_file() && !small.exists(), "the old small copy goes with the old cover");
}

#[test]
fn timeline_previews_are_rendered_once_per_tenth_and_only_for_videos_in_an_album() {
    let tmp = tempfile::tempdir().unwrap();
    let (lib, album, clip, photo) = album_with_clip_and_photo(tmp.path());
    let a = lib.images().moment_preview(clip.id, 1_230).unwrap();
    assert!(a.starts_with(lib.data_dir()) && a.is_file());
    assert_eq!(image::image_dimensions(&a).unwrap(), (640, 360), "no larger than the video");
    // testsrc2 draws a moving pattern: two different moments are two different pictures.
    let b = lib.images().moment_preview(clip.id, 2_500).unwrap();
    assert_ne!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    // Within the same tenth of a second, the first render is reused.
    let written = std::fs::metadata(&a).unwrap().modified().unwrap();
    assert_eq!(lib.images().moment_preview(clip.id, 1_260).unwrap(), a);
    assert_eq!(std::fs::metadata(&a).unwrap().modified().unwrap(), written);

    assert!(
        matches!(lib.images().moment_preview(photo.id, 0), Err(LibraryError::NoImage(_))),
        "a photo has no moments"
    );
    // Once analysed, the clip's duration is known and times past its end are refused.
    let config = AnalyzerConfig { worker_exe: worker(), workers: 1, ..AnalyzerConfig::from_env() };
    assert_eq!(Analyzer::new(lib.clone(), config).run_until_empty(&|_| {}).unwrap().analysed, 1);
    assert!(matches!(lib.images().moment_preview(clip.id, 9_000), Err(LibraryError::NoImage(_))), "past the end");
    assert!(lib.images().moment_preview(clip.id, 3_000).is_ok(), "the last moment");
    assert!(matches!(lib.images().moment_preview(999_999, 0), Err(LibraryError::NoSuchMedia(_))));
    // The file went away (moved out of the album): nothing is opened.
    std::fs::rename(album.join("clip.mp4"), tmp.path().join("elsewhere.mp4")).unwrap();
    assert!(matches!(lib.images().moment_preview(clip.id, 500), Err(LibraryError::NotInLibrary(_))));
}

#[test]
fn slideshows_export_in_date_order_and_never_replace_an_album_file() {
    let tmp = tempfile::tempdir().unwrap();
    let (lib, album, clip, photo) = album_with_clip_and_photo(tmp.path());
    // The clip has no picks yet: its cover is a moment, so it has an image.
    lib.covers().set_cover(clip.id, CoverChoice::Time(1.0)).unwrap();
    let images = lib.slideshow().images(&[clip.id, photo.id]).unwrap();
    assert_eq!(images.len(), 2, "{images:?}");
    assert!(images.iter().all(|p| p.starts_with(lib.data_dir())));
    assert!(matches!(lib.slideshow().images(&[]), Err(LibraryError::InvalidSlideshow(_))));
    assert!(matches!(
        lib.slideshow().images(&vec![photo.id; MAX_SLIDESHOW_ITEMS + 1]),
        Err(LibraryError::InvalidSlideshow(_))
    ));

    let out = tmp.path().join("out/Summer.mp4");
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    let report = lib.slideshow().export(&images, &out, SlideshowFormat::Mp4).unwrap();
    assert_eq!((report.path.as_path(), report.slides, report.skipped.len()), (out.as_path(), 2, 0));
    let probe = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=codec_name,width,height",
            "-of",
            "csv=p=0",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&probe.stdout).trim(), "h264,1280,720");
    let webp = tmp.path().join("out/Summer.webp");
    lib.slideshow().export(&images, &webp, SlideshowFormat::Webp).unwrap();
    assert_eq!(&std::fs::read(&webp).unwrap()[..4], b"RIFF");

    // A name that is one of the user's own files is refused, and the file is untouched.
    let original = std::fs::read(album.join("clip.mp4")).unwrap();
    let err = lib.slideshow().export(&images, &album.join("clip.mp4"), SlideshowFormat::Mp4).unwrap_err();
    assert!(err.to_string().contains("never replaces your photos and videos"), "{err}");
    assert_eq!(std::fs::read(album.join("clip.mp4")).unwrap(), original);
    // An image that vanished is an error naming the reason, not a crash.
    let err = lib
        .slideshow()
        .export(&[tmp.path().join("gone.jpg")], &tmp.path().join("out/x.mp4"), SlideshowFormat::Mp4)
        .unwrap_err();
    assert!(matches!(err, LibraryError::Worker(_)), "{err:?}");
}

#[test]
fn the_demo_album_is_generated_by_a_worker_and_once_removed_stays_removed() {
    let tmp = tempfile::tempdir().unwrap();
    let lib = Library::open_with_worker(&tmp.path().join("data"), Some(worker())).unwrap();
    assert!(lib.demo().wanted().unwrap());
    let (root, report) = lib.demo().create().unwrap();
    assert!(lib.demo().is_demo(&root));
    assert_eq!(root.path, std::fs::canonicalize(lib.demo().dir()).unwrap());
    assert_eq!(root.name, DEMO_FOLDER);
    assert_eq!((report.added, root.videos, root.photos), (6, 3, 3));
    assert!(!lib.demo().wanted().unwrap(), "there is an album now");

    // Removing another album leaves its files alone; removing the demo deletes its files.
    let other = tmp.path().join("mine");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("keep.jpg"), b"not really a photo").unwrap();
    let (mine, _) = lib.index().add_root(&other, &no_progress).unwrap();
    assert!(!lib.demo().is_demo(&mine));
    lib.demo().remove_album(&mine).unwrap();
    assert!(other.join("keep.jpg").is_file());
    lib.demo().remove_album(&root).unwrap();
    assert!(!root.path.exists());
    assert!(!lib.index().has_roots().unwrap());
    assert!(!lib.demo().wanted().unwrap(), "not made again once removed");
}

#[test]
fn the_engine_setup_comes_from_a_worker() {
    let tmp = tempfile::tempdir().unwrap();
    let lib = Library::open_with_worker(&tmp.path().join("data"), Some(worker())).unwrap();
    let setup = lib.engine_setup().unwrap();
    assert!(setup.complete, "{:#}", setup.report);
    assert_eq!(setup.report["onnxruntime_version"], "1.31.1");
    assert!(setup.report["ffmpeg"]["avcodec"].as_str().is_some_and(|v| v.starts_with("59.")), "{:#}", setup.report);
    // What the app's about panel gets of it: the engine's report read as the page's type.
    let page: RuntimeReport = serde_json::from_value(setup.report.clone()).expect("the page's RuntimeReport");
    assert_eq!(page.onnxruntime_version.as_deref(), Some("1.31.1"));
    assert_eq!(page.ffmpeg.avcodec, setup.report["ffmpeg"]["avcodec"].as_str().unwrap_or_default());
    assert!(page.onnxruntime.is_some() && !page.assets.is_empty(), "{page:?}");
    assert!(page.assets.iter().all(|a| a.status == protocol::AssetStatus::Ok), "complete: {page:?}");

    let missing =
        Library::open_with_worker(&tmp.path().join("data2"), Some(tmp.path().join("no-such-keepsake"))).unwrap();
    let err = missing.engine_setup().unwrap_err();
    assert!(err.to_string().contains("cannot start the worker"), "{err}");
}

/// HEIC and AVIF photos are thumbnailed by a worker (libheif never loads in the calling
/// process); a photo that cannot be read for a reason of its own — a truncated HEIC, a
/// PNG that is not one, a HEIC on which the decoder crashes — is marked `failed` with
/// that reason, is not decoded again until it changes, and the rest of the album is
/// unaffected. Nothing is written into the album.
#[test]
fn heif_photos_come_from_a_worker_and_unreadable_photos_say_why() {
    let tmp = tempfile::tempdir().unwrap();
    let album = tmp.path().join("album");
    std::fs::create_dir_all(&album).unwrap();
    let png = tmp.path().join("cat.png");
    image::open(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/media/chelsea.png"))
        .unwrap()
        .resize_exact(1200, 900, image::imageops::FilterType::Triangle)
        .save(&png)
        .unwrap();
    let heif_enc = |out: &Path, extra: &[&str]| {
        let status = std::process::Command::new("heif-enc")
            .args(["-q", "70"])
            .args(extra)
            .arg(&png)
            .arg("-o")
            .arg(out)
            .stdout(std::process::Stdio::null())
            .status()
            .expect("heif-enc (scripts/setup.sh installs libheif-examples)");
        assert!(status.success());
    };
    heif_enc(&album.join("IMG_0101.HEIC"), &[]);
    heif_enc(&album.join("photo.avif"), &["-A"]);
    let good = std::fs::read(album.join("IMG_0101.HEIC")).unwrap();
    std::fs::write(album.join("IMG_0102.HEIC"), &good[..good.len() / 2]).unwrap();
    std::fs::write(album.join("IMG_0103.HEIC"), &good).unwrap();
    std::fs::write(album.join("not really.png"), b"\x89PNG\r\n\x1a\n and then nothing a decoder wants").unwrap();
    let listing = |dir: &Path| {
        let mut v: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| (e.file_name(), std::fs::read(e.path()).unwrap()))
            .collect();
        v.sort();
        v
    };
    let before = listing(&album);

    // IMG_0103 crashes the worker's decoder (the test-only fault switch aborts on it).
    std::env::set_var("KEEPSAKE_WORKER_TEST_FAULT", "abort:IMG_0103");
    let data = tmp.path().join("data");
    let lib = Library::open_with_worker(&data, Some(worker())).unwrap();
    lib.index().add_root(&album, &no_progress).unwrap();
    let by_name =
        |n: &str| lib.catalog().media(&MediaQuery { search: Some(n.into()), ..Default::default() }).unwrap()[0].clone();

    for name in ["IMG_0101.HEIC", "photo.avif"] {
        let item = by_name(name);
        let thumb = lib.images().image_path(&ImageKey::Photo(item.id)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(thumb.starts_with(&data));
        assert_eq!(image::image_dimensions(&thumb).unwrap(), (512, 384), "{name}");
        let small = lib.images().image_path(&ImageKey::Small(Box::new(ImageKey::Photo(item.id)))).unwrap();
        assert!(
            (256..=257).contains(&image::image_dimensions(&small).unwrap().1),
            "{name}: small copy from the grid copy"
        );
        assert_ne!(lib.catalog().media_by_id(item.id).unwrap().item.state, MediaState::Failed, "{name}");
    }

    for (name, says) in [("IMG_0102.HEIC", ""), ("not really.png", "not really.png"), ("IMG_0103.HEIC", "aborted")] {
        let item = by_name(name);
        let err = lib.images().image_path(&ImageKey::Photo(item.id)).unwrap_err();
        assert!(matches!(err, LibraryError::Unreadable { id, .. } if id == item.id), "{name}: {err:?}");
        assert!(err.to_string().contains(says), "{name}: {err}");
        let now = lib.catalog().media_by_id(item.id).unwrap().item;
        assert_eq!(now.state, MediaState::Failed, "{name}");
        assert_eq!(now.error.as_deref(), Some(err.to_string().as_str()), "{name}: the tile's reason");
        // Asked again (the grid refreshed): refused from the index, not decoded again.
        assert!(matches!(lib.images().image_path(&ImageKey::Photo(item.id)), Err(LibraryError::NoImage(_))), "{name}");
    }
    std::env::remove_var("KEEPSAKE_WORKER_TEST_FAULT");
    assert_eq!(listing(&album), before, "nothing was written into the album");
}

/// Running for good (as in the app), the analyzer also makes photos' grid copies ahead
/// of their first view, HEIC through the worker as on view; one that cannot be read is
/// marked failed with its reason and reported (`MediaChanged`), so its tile says why
/// before anyone scrolls to it. It holds off while the window is showing things.
#[test]
fn photo_grid_copies_are_made_ahead_in_the_background() {
    let tmp = tempfile::tempdir().unwrap();
    let album = tmp.path().join("album");
    std::fs::create_dir_all(&album).unwrap();
    let media = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/media");
    std::fs::copy(media.join("coffee.png"), album.join("coffee.png")).unwrap();
    let status = std::process::Command::new("heif-enc")
        .args(["-q", "60"])
        .arg(media.join("rocket.jpg"))
        .arg("-o")
        .arg(album.join("IMG_0200.HEIC"))
        .stdout(std::process::Stdio::null())
        .status()
        .expect("heif-enc (scripts/setup.sh installs libheif-examples)");
    assert!(status.success());
    std::fs::write(album.join("broken.png"), b"\x89PNG\r\n\x1a\n but nothing after").unwrap();
    let data = tmp.path().join("data");
    let lib = Library::open_with_worker(&data, Some(worker())).unwrap();
    lib.index().add_root(&album, &no_progress).unwrap();
    let by_name =
        |n: &str| lib.catalog().media(&MediaQuery { search: Some(n.into()), ..Default::default() }).unwrap()[0].clone();
    let (coffee, heic, broken) = (by_name("coffee.png"), by_name("IMG_0200.HEIC"), by_name("broken.png"));
    let made = |item: &MediaItem| data.join(format!("thumbs/{}-{}.jpg", item.id, item.size)).is_file();

    // The window keeps showing things: nothing is made ahead meanwhile.
    let config = AnalyzerConfig { worker_exe: worker(), workers: 1, ..AnalyzerConfig::from_env() };
    let analyzer = Analyzer::new(lib.clone(), config);
    let stop = std::sync::atomic::AtomicBool::new(false);
    let events = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        s.spawn(|| analyzer.run_forever(&stop, &|e| events.lock().unwrap().push(e)).unwrap());
        let busy_until = std::time::Instant::now() + std::time::Duration::from_secs(3);
        while std::time::Instant::now() < busy_until {
            lib.note_viewing();
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        assert!(!made(&coffee) && !made(&heic), "nothing made while the window is busy");
        // Left alone, every readable photo gets its grid copy; the broken one its reason.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while !(made(&coffee)
            && made(&heic)
            && lib.catalog().media_by_id(broken.id).unwrap().item.state == MediaState::Failed)
        {
            assert!(std::time::Instant::now() < deadline, "grid copies were not made ahead");
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
    });
    assert_eq!(image::image_dimensions(data.join(format!("thumbs/{}-{}.jpg", heic.id, heic.size))).unwrap().0, 512);
    let failed = lib.catalog().media_by_id(broken.id).unwrap().item;
    assert!(failed.error.as_deref().is_some_and(|e| e.contains("broken.png")), "{failed:?}");
    let told = events.lock().unwrap();
    assert!(
        told.iter().any(|e| matches!(e, LibraryEvent::MediaChanged { id, .. } if *id == broken.id)),
        "the page is told, so the tile says why: {told:?}"
    );
}

/// The full-window viewer's copy (`ImageKey::View`, `keepsake://…/view/<id>`): upright,
/// at most 2560 px long and never enlarged, HEIC through the worker as for the grid, a
/// file of its own next to the grid copy, in the data directory; a video has none.
#[test]
fn viewer_copies_are_screen_size_for_jpeg_and_heic() {
    let tmp = tempfile::tempdir().unwrap();
    let album = tmp.path().join("album");
    std::fs::create_dir_all(&album).unwrap();
    let media = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/media");
    let big =
        image::open(media.join("chelsea.png")).unwrap().resize_exact(3200, 2400, image::imageops::FilterType::Triangle);
    big.to_rgb8().save(album.join("big.jpg")).unwrap();
    big.save(tmp.path().join("big.png")).unwrap();
    let status = std::process::Command::new("heif-enc")
        .args(["-q", "60"])
        .arg(tmp.path().join("big.png"))
        .arg("-o")
        .arg(album.join("IMG_0200.HEIC"))
        .stdout(std::process::Stdio::null())
        .status()
        .expect("heif-enc (scripts/setup.sh installs libheif-examples)");
    assert!(status.success());
    std::fs::copy(media.join("coffee.png"), album.join("coffee.png")).unwrap();
    make_clip(&album.join("clip.mp4"), "testsrc2=size=640x360:rate=10", 1);
    let data = tmp.path().join("data");
    let lib = Library::open_with_worker(&data, Some(worker())).unwrap();
    lib.index().add_root(&album, &no_progress).unwrap();
    let by_name =
        |n: &str| lib.catalog().media(&MediaQuery { search: Some(n.into()), ..Default::default() }).unwrap()[0].clone();

    for name in ["big.jpg", "IMG_0200.HEIC"] {
        let item = by_name(name);
        let view = lib.images().image_path(&ImageKey::View(item.id)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(view.starts_with(&data), "{name}: {}", view.display());
        assert_eq!(image::image_dimensions(&view).unwrap(), (2560, 1920), "{name}");
        assert_eq!(
            image::ImageFormat::from_path(&view).unwrap(),
            image::ImageFormat::Jpeg,
            "{name}: the web view decodes it"
        );
        let grid = lib.images().image_path(&ImageKey::Photo(item.id)).unwrap();
        assert_ne!(grid, view, "{name}: the grid keeps its own copy");
        assert_eq!(image::image_dimensions(&grid).unwrap(), (512, 384), "{name}");
        assert_eq!(lib.images().image_path(&ImageKey::View(item.id)).unwrap(), view, "{name}: made once, then served");
    }
    let small = lib.images().image_path(&ImageKey::View(by_name("coffee.png").id)).unwrap();
    assert_eq!(image::image_dimensions(&small).unwrap(), (600, 400), "never enlarged");
    assert!(matches!(lib.images().image_path(&ImageKey::View(by_name("clip.mp4").id)), Err(LibraryError::NoImage(_))));
    assert!(matches!(lib.images().image_path(&ImageKey::View(9999)), Err(LibraryError::NoSuchMedia(_))));
}
