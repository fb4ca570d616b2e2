//! When a photo or video was taken: EXIF DateTimeOriginal for photos, the container's
//! creation_time for videos (from the engine's probe), else the file's mtime. Family
//! albums sort by this, and copying files around resets mtimes.
//!
//! Photo EXIF is read by kamadak-exif for JPEG, PNG, WebP and TIFF; RAWs and HEIF/AVIF
//! go to keepsake-imaging's bounded container parsers instead ([`keepsake_imaging::exif_date`]):
//! their EXIF sits where kamadak-exif does not look (a RAF's preview JPEG, CR3's CMT
//! boxes, ORF/RW2 with their own TIFF magic, AVIF's brands) or would be found only by
//! reading the whole 20-60 MB file into memory (DNG, NEF, ARW, CR2).

use std::path::Path;

/// Where a taken-at time came from; stored so a better source can replace a worse one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TakenSource {
    Exif,
    Container,
    Mtime,
}

impl TakenSource {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            TakenSource::Exif => "exif",
            TakenSource::Container => "container",
            TakenSource::Mtime => "mtime",
        }
    }
}

/// EXIF DateTimeOriginal (or DateTime) of a photo as unix seconds, read from the file's
/// header only. None when the file has no usable EXIF, or is not a regular file (a
/// named pipe would block the read forever; see [`crate::util::open_regular`]).
pub fn exif_taken_at(path: &Path) -> Option<i64> {
    let file = crate::util::open_regular(path, false).ok()?;
    let format = keepsake_imaging::sniff(path).ok()?;
    if format == keepsake_imaging::PhotoFormat::Raw || format.needs_worker() {
        return keepsake_imaging::exif_date(path).ok().flatten().and_then(|s| parse_datetime(&s));
    }
    let mut reader = std::io::BufReader::with_capacity(64 * 1024, file);
    let exif = exif::Reader::new().read_from_container(&mut reader).ok()?;
    for tag in [exif::Tag::DateTimeOriginal, exif::Tag::DateTime] {
        if let Some(field) = exif.get_field(tag, exif::In::PRIMARY) {
            if let exif::Value::Ascii(ref v) = field.value {
                if let Some(s) = v.first().and_then(|b| std::str::from_utf8(b).ok()) {
                    if let Some(t) = parse_datetime(s) {
                        return Some(t);
                    }
                }
            }
        }
    }
    None
}

/// Parses `YYYY-MM-DD[T ]HH:MM:SS` or EXIF's `YYYY:MM:DD HH:MM:SS` (fractions and a
/// trailing zone ignored; treated as UTC) into unix seconds.
pub fn parse_datetime(s: &str) -> Option<i64> {
    let s = s.trim();
    let b = s.as_bytes();
    if b.len() < 19 {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> { s.get(r)?.parse().ok() };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 || y < 1900 {
        return None;
    }
    Some(days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + se)
}

/// Days since 1970-01-01 (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_exif_and_iso_forms() {
        assert_eq!(parse_datetime("1970:01:02 00:00:00"), Some(86_400));
        assert_eq!(parse_datetime("2024-02-29T12:34:56.000000Z"), Some(1_709_210_096));
        assert_eq!(parse_datetime("2024-02-29 12:34:56"), Some(1_709_210_096));
        assert_eq!(parse_datetime("0000:00:00 00:00:00"), None);
        assert_eq!(parse_datetime("garbage"), None);
    }

    #[test]
    fn heic_and_raw_dates_come_from_their_containers() {
        let dir = tempfile::tempdir().unwrap();
        let png = dir.path().join("src.png");
        image::RgbImage::from_pixel(64, 48, image::Rgb([200, 100, 50])).save(&png).unwrap();
        let heic = dir.path().join("photo.heic");
        let ok = std::process::Command::new("heif-enc").arg(&png).arg("-o").arg(&heic).status().unwrap();
        assert!(ok.success());
        let tif = dir.path().join("photo.nef");
        let pixels = image::RgbImage::from_pixel(64, 48, image::Rgb([200, 100, 50]));
        pixels.save_with_format(&tif, image::ImageFormat::Tiff).unwrap();
        for p in [&heic, &tif] {
            let ok = std::process::Command::new("exiftool")
                .args(["-overwrite_original", "-DateTimeOriginal=2021:07:08 09:10:11"])
                .arg(p)
                .status()
                .unwrap();
            assert!(ok.success());
            assert_eq!(exif_taken_at(p), parse_datetime("2021:07:08 09:10:11"), "{}", p.display());
        }
    }

    #[test]
    fn photo_without_exif_has_none() {
        let media = crate::test_support::media_dir();
        assert_eq!(exif_taken_at(&media.join("coffee.png")), None);
        let dir = tempfile::tempdir().unwrap();
        let bogus = dir.path().join("x.jpg");
        std::fs::write(&bogus, b"not a jpeg").unwrap();
        assert_eq!(exif_taken_at(&bogus), None);
    }
}
