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
    lib.add_root(&album, &no_progress).unwrap();
    assert_eq!(lib.fill_photo_dates(100).unwrap(), 4);
    let items = lib.media(&MediaQuery::default()).unwrap();
    let get = |name: &str| items.iter().find(|m| m.name == name).unwrap_or_else(|| panic!("{name} not indexed"));
    let utc = |s: &str| taken::parse_datetime(s).unwrap();

    let m = get("plain.jpg");
    assert_eq!((m.width, m.height, m.taken_at), (Some(400), Some(300), utc("2020:05:06 07:08:09")));
    let m = get("turned.jpg");
    assert_eq!((m.width, m.height, m.taken_at), (Some(300), Some(400), utc("2021:01:02 03:04:05")), "upright");
    let m = get("flat.png");
    assert_eq!((m.width, m.height), (Some(320), Some(200)));
    let m = get("phone.heic");
    assert_eq!((m.width, m.height, m.taken_at), (Some(400), Some(300), utc("2022:03:04 05:06:07")));
}
