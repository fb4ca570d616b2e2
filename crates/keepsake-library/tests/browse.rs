//! Events stay right as real files arrive, move and vanish: through the scan, the live
//! watcher and album removal, on a real SQLite library and real files whose dates are
//! their modification times (no EXIF).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use keepsake_library::*;

const HOUR: i64 = 3600;
const DAY: i64 = 86_400;
/// Monday 2 Aug 2021, 00:00 UTC.
const MONDAY: i64 = 1_627_862_400;

/// A photo file "taken" at `t` (its modification time, as a file without EXIF has).
fn photo(path: &Path, t: i64) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, format!("photo at {t}")).unwrap();
    let f = std::fs::File::options().write(true).open(path).unwrap();
    f.set_modified(UNIX_EPOCH + Duration::from_secs(t as u64)).unwrap();
}

fn no_progress(_: ScanProgress) {}

fn eventually(what: &str, lib: &Library, done: impl Fn(&[Event]) -> bool) -> Vec<Event> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let events = lib.catalog().events(None).unwrap();
        if done(&events) {
            return events;
        }
        assert!(Instant::now() < deadline, "{what}: {events:#?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A three-day trip (Mon 12:00 - Wed 14:00, a picture every two hours by day) and three
/// afternoons in the park the next week; returns the trip's files.
fn family(album: &Path) -> Vec<PathBuf> {
    let mut trip = Vec::new();
    for day in 0..3 {
        let (from, to) = [(12, 20), (8, 20), (8, 14)][day as usize];
        for h in (from..=to).step_by(2) {
            let p = album.join(format!("trip/d{day}-{h:02}.jpg"));
            photo(&p, MONDAY + day * DAY + h * HOUR);
            trip.push(p);
        }
    }
    for day in 7..10 {
        for m in 0..3 {
            photo(&album.join(format!("park/{day}-{m}.jpg")), MONDAY + day * DAY + 15 * HOUR + m * 600);
        }
    }
    trip
}

#[test]
fn events_follow_files_through_scans_the_watcher_and_album_removal() {
    let tmp = tempfile::tempdir().unwrap();
    let base = std::fs::canonicalize(tmp.path()).unwrap();
    let album = base.join("album");
    let trip_files = family(&album);
    let lib = Library::open(&base.join("data")).unwrap();
    let (root, _) = lib.index().add_root(&album, &no_progress).unwrap();

    let events = lib.catalog().events(None).unwrap();
    assert_eq!(events.len(), 4, "one trip, three afternoons: {events:#?}");
    let trip = events.last().unwrap().clone();
    assert_eq!(trip.count, trip_files.len() as u64);
    assert_eq!((trip.start_at, trip.end_at), (MONDAY + 12 * HOUR, MONDAY + 2 * DAY + 14 * HOUR));
    let in_trip = lib.catalog().media(&MediaQuery { event: Some(trip.id), ..Default::default() }).unwrap();
    assert!(in_trip.iter().all(|m| m.path.starts_with(album.join("trip"))));
    assert_eq!(lib.catalog().events(Some(root.id)).unwrap().len(), 4);
    lib.catalog().rename_event(trip.id, Some("Lakes")).unwrap();

    // A picture found by a rescan, taken on the trip: same event, same name.
    photo(&album.join("trip/late.jpg"), MONDAY + DAY + 21 * HOUR);
    lib.index().scan_all(&no_progress).unwrap();
    let events = lib.catalog().events(None).unwrap();
    let t = events.iter().find(|e| e.id == trip.id).unwrap();
    assert_eq!((t.name.as_str(), t.named, t.count), ("Lakes", true, trip.count + 1));
    assert_eq!(events.len(), 4);

    // Live: a new afternoon arrives, a park afternoon vanishes, trip pictures move.
    let config = WatcherConfig {
        debounce: Duration::from_millis(50),
        stable_for: Duration::from_millis(150),
        ..Default::default()
    };
    let watcher = Watcher::start(lib.clone(), config, |_| {}).unwrap();
    let before: Vec<EventId> = events.iter().map(|e| e.id).collect();
    photo(&album.join("zoo/a.jpg"), MONDAY + 12 * DAY + 11 * HOUR);
    let events = eventually("the zoo is a new event", &lib, |e| e.len() == 5);
    assert!(before.iter().all(|id| events.iter().any(|e| e.id == *id)), "ids kept");
    let first_park = events.iter().find(|e| e.start_at == MONDAY + 7 * DAY + 15 * HOUR).unwrap().id;
    for m in 0..3 {
        std::fs::remove_file(album.join(format!("park/7-{m}.jpg"))).unwrap();
    }
    eventually("the vanished afternoon's event is gone", &lib, |e| {
        e.len() == 4 && e.iter().all(|e| e.id != first_park)
    });
    std::fs::rename(album.join("trip"), album.join("Lakes 2021")).unwrap();
    let events = eventually("the moved trip is the same event", &lib, |e| {
        e.iter().any(|e| e.id == trip.id && e.count == trip.count + 1)
            && lib
                .catalog()
                .media(&MediaQuery { event: Some(trip.id), ..Default::default() })
                .unwrap()
                .iter()
                .all(|m| m.path.starts_with(album.join("Lakes 2021")))
    });
    assert_eq!(events.iter().find(|e| e.id == trip.id).unwrap().name, "Lakes");
    drop(watcher);

    // The album removed: no events left.
    lib.index().remove_root(root.id).unwrap();
    assert!(lib.catalog().events(None).unwrap().is_empty());
    assert!(lib
        .catalog()
        .memories(SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64)
        .unwrap()
        .is_empty());
}

/// Where a photo was taken, from its EXIF GPS, splits a day: two visits two hours apart
/// and 100 km apart are two events once the background pass has read the photos (real
/// JPEGs, positions written by exiftool); the same shots without positions are one.
#[test]
fn another_place_from_exif_gps_splits_a_day_through_the_photo_pass() {
    let exiftool = |path: &Path, args: &[String]| {
        let ok = std::process::Command::new("exiftool")
            .args(["-q", "-overwrite_original"])
            .args(args)
            .arg(path)
            .status()
            .expect("exiftool (scripts/setup.sh installs libimage-exiftool-perl)");
        assert!(ok.success());
    };
    for with_gps in [true, false] {
        let tmp = tempfile::tempdir().unwrap();
        let album = tmp.path().join("album");
        std::fs::create_dir_all(&album).unwrap();
        // 10:00 and 10:30 at one place, 12:30 and 13:00 about 100 km north.
        for (k, (hour, minute, lat)) in
            [(10, 0, 48.0), (10, 30, 48.0), (12, 30, 48.9), (13, 0, 48.9)].iter().enumerate()
        {
            let path = album.join(format!("IMG_{k}.jpg"));
            image::RgbImage::from_pixel(64, 48, image::Rgb([60 * k as u8, 100, 50])).save(&path).unwrap();
            let mut args = vec![format!("-DateTimeOriginal=2021:08:03 {hour:02}:{minute:02}:00")];
            if with_gps {
                args.extend([
                    format!("-GPSLatitude={lat}"),
                    "-GPSLatitudeRef=N".into(),
                    "-GPSLongitude=2.35".into(),
                    "-GPSLongitudeRef=E".into(),
                ]);
            }
            exiftool(&path, &args);
        }
        let lib = Library::open(&tmp.path().join("data")).unwrap();
        lib.index().add_root(&album, &no_progress).unwrap();
        while lib.photo_jobs().read_facts(100).unwrap().checked > 0 {}
        let db = rusqlite::Connection::open(tmp.path().join("data").join(db::DB_FILE)).unwrap();
        let placed: i64 =
            db.query_row("SELECT COUNT(*) FROM media WHERE latitude IS NOT NULL", [], |r| r.get(0)).unwrap();
        assert_eq!(placed, if with_gps { 4 } else { 0 }, "positions stored by the pass");
        let sizes: Vec<u64> = lib.catalog().events(None).unwrap().iter().map(|e| e.count).collect();
        if with_gps {
            assert_eq!(sizes, [2, 2], "two places the same day are two events");
        } else {
            assert_eq!(sizes, [4], "without positions, two hours apart is one outing");
        }
    }
}
