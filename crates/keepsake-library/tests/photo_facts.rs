//! Every photo in the index gets its upright size and its EXIF date from the background
//! photo-dates pass, whatever its format (fixtures made with ImageMagick, exiftool and
//! heif-enc).

use std::path::Path;
use std::process::Command;

use keepsake_library::*;

fn no_progress(_: ScanProgress) {}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
}

fn exiftool(file: &Path, args: &[&str]) {
    run(Command::new("exiftool").arg("-overwrite_original").args(args).arg(file));
}

#[test]
fn photos_get_upright_width_height_and_taken_at_in_every_format() {
    let tmp = tempfile::tempdir().unwrap();
    let album = tmp.path().join("album");
    std::fs::create_dir_all(&album).unwrap();
    let src = tmp.path().join("src.png");
    image::RgbImage::from_fn(400, 300, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 120])).save(&src).unwrap();

    let jpeg = album.join("plain.jpg");
    run(Command::new("convert").arg(&src).arg(&jpeg));
    exiftool(&jpeg, &["-DateTimeOriginal=2020:05:06 07:08:09"]);
    let turned = album.join("turned.jpg");
    run(Command::new("convert").arg(&src).arg(&turned));
    exiftool(&turned, &["-Orientation#=6", "-DateTimeOriginal=2021:01:02 03:04:05"]);
    image::RgbImage::from_pixel(320, 200, image::Rgb([10, 200, 30])).save(album.join("flat.png")).unwrap();
    let heic = album.join("phone.heic");
    run(Command::new("heif-enc").args(["-q", "80"]).arg(&src).arg("-o").arg(&heic));
    exiftool(&heic, &["-DateTimeOriginal=2022:03:04 05:06:07"]);

    let lib = Library::open(&tmp.path().join("data")).unwrap();
    lib.index().add_root(&album, &no_progress).unwrap();
    assert_eq!(lib.photo_jobs().read_facts(100).unwrap().checked, 4);
    let items = lib.catalog().media(&MediaQuery::default()).unwrap();
    let get = |name: &str| items.iter().find(|m| m.name == name).unwrap_or_else(|| panic!("{name} not indexed"));
    let local = |s: &str| taken::parse_datetime(s).unwrap();

    let m = get("plain.jpg");
    assert_eq!((m.width, m.height, m.taken_at), (Some(400), Some(300), local("2020:05:06 07:08:09")));
    let m = get("turned.jpg");
    assert_eq!((m.width, m.height, m.taken_at), (Some(300), Some(400), local("2021:01:02 03:04:05")), "upright");
    let m = get("flat.png");
    assert_eq!((m.width, m.height), (Some(320), Some(200)));
    let m = get("phone.heic");
    assert_eq!((m.width, m.height, m.taken_at), (Some(400), Some(300), local("2022:03:04 05:06:07")));
}

/// The pass stores the instant and the offset of a photo whose EXIF has
/// OffsetTimeOriginal, the wall time in this machine's zone for one without, and says
/// which photos have a date it could not read (they keep their mtime).
#[test]
fn photo_dates_keep_their_offset_and_unreadable_dates_are_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let album = tmp.path().join("album");
    std::fs::create_dir_all(&album).unwrap();
    let pixels = image::RgbImage::from_pixel(64, 48, image::Rgb([200, 100, 50]));
    for name in ["zoned.jpg", "naive.jpg", "damaged.jpg"] {
        pixels.save(album.join(name)).unwrap();
    }
    exiftool(&album.join("zoned.jpg"), &["-DateTimeOriginal=2021:07:08 23:30:00", "-OffsetTimeOriginal=-07:00"]);
    exiftool(&album.join("naive.jpg"), &["-DateTimeOriginal=2021:07:08 23:30:00"]);
    exiftool(&album.join("damaged.jpg"), &["-DateTimeOriginal#=2021:13:45 99:00:00"]);

    let data = tmp.path().join("data");
    let lib = Library::open(&data).unwrap();
    lib.index().add_root(&album, &no_progress).unwrap();
    let report = lib.photo_jobs().read_facts(100).unwrap();
    assert_eq!(report.checked, 3);
    assert_eq!(report.unreadable.len(), 1, "{report:?}");
    let (_, path, why) = &report.unreadable[0];
    assert_eq!(path, &album.join("damaged.jpg"));
    assert!(why.contains("2021:13:45"), "{why}");

    let db = rusqlite::Connection::open(data.join("library.sqlite3")).unwrap();
    let row = |name: &str| -> (i64, Option<i32>, String) {
        db.query_row("SELECT taken_at, taken_offset, taken_source FROM media WHERE name = ?1", [name], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap()
    };
    // 23:30 at UTC-7 is 06:30 UTC the next day; the offset keeps it on the 8th.
    let zoned = jiff::civil::datetime(2021, 7, 9, 6, 30, 0, 0).to_zoned(jiff::tz::TimeZone::UTC).unwrap();
    assert_eq!(row("zoned.jpg"), (zoned.timestamp().as_second(), Some(-420), "exif".into()));
    let naive = jiff::civil::datetime(2021, 7, 8, 23, 30, 0, 0).to_zoned(jiff::tz::TimeZone::system()).unwrap();
    assert_eq!(row("naive.jpg"), (naive.timestamp().as_second(), None, "exif".into()));
    let mtime = std::fs::metadata(album.join("damaged.jpg")).unwrap().modified().unwrap();
    let mtime_s = mtime.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    assert_eq!(row("damaged.jpg"), (mtime_s, None, "mtime".into()));
    assert_eq!(lib.photo_jobs().read_facts(100).unwrap().checked, 0, "each photo is read once, the damaged one too");
}
