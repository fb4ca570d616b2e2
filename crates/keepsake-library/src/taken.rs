//! When a photo or video was taken: EXIF DateTimeOriginal for photos, the container's
//! creation_time for videos (from the engine's probe), else the file's mtime. Family
//! albums sort by this, and copying files around resets mtimes.
//!
//! Photo EXIF is read by kamadak-exif for JPEG, PNG, WebP and TIFF; RAWs and HEIF/AVIF
//! go to keepsake-imaging's bounded container parsers instead ([`keepsake_imaging::exif_date`]):
//! their EXIF sits where kamadak-exif does not look (a RAF's preview JPEG, CR3's CMT
//! boxes, ORF/RW2 with their own TIFF magic, AVIF's brands) or would be found only by
//! reading the whole 20-60 MB file into memory (DNG, NEF, ARW, CR2).
//!
//! What a date means (`media.taken_at` is unix seconds, an instant):
//! - EXIF with its UTC offset (OffsetTimeOriginal, EXIF 2.31, written by phones and
//!   cameras since about 2018; else OffsetTime): that instant, and the offset is kept
//!   (`media.taken_offset`, minutes east of UTC) so a day can be the day where it was
//!   taken.
//! - EXIF without one (a naive wall-clock time, most older cameras): the wall time in
//!   this machine's time zone, the zone the window shows dates and days in, so a photo
//!   shot at 23:30 shows on its own day and not the next. A time the zone skips or
//!   repeats (daylight saving) is resolved as jiff's "compatible" rule does (the later
//!   reading of a skipped time, the earlier of a repeated one). No offset is stored.
//! - A video's QuickTime creation_time is UTC by the format's definition (`...Z`): that
//!   instant; no offset is stored (UTC there says nothing of where it was shot).
//!
//! A date the file does not have (no EXIF, no date tag, or the blank or all-zero date
//! cameras write when their clock was never set) is `Ok(None)`; one that is there but
//! cannot be read is an error with its reason, which the photo-dates pass logs.

use std::path::Path;

use jiff::civil::DateTime;
use jiff::tz::{Offset, TimeZone};

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

/// When something was taken: the instant, and the UTC offset where the file says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Taken {
    /// Unix seconds.
    pub at: i64,
    /// Minutes east of UTC where it was taken; None when the file does not say.
    pub offset_minutes: Option<i32>,
}

/// What one batch of [`crate::PhotoJobs::read_facts`] did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PhotoDates {
    /// Photos looked at; 0 when none are left.
    pub checked: usize,
    /// Photos with a date that could not be read, and why (they keep their mtime).
    pub unreadable: Vec<(crate::model::MediaId, std::path::PathBuf, String)>,
    /// Photos found to be motion photos, or no longer, or with a note on why their
    /// embedded video cannot be used: the grid's badge changed.
    pub motion_changed: Vec<crate::model::MediaId>,
}

/// Why a photo's date could not be read (the file has one, or may have).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    #[error("cannot read the file: {0}")]
    Unreadable(String),
    #[error("its EXIF is damaged: {0}")]
    BadExif(String),
    #[error("its date {text:?} is not a date: {reason}")]
    BadDate { text: String, reason: String },
}

/// EXIF DateTimeOriginal (or DateTime) of a photo with its offset, read from the file's
/// header only; a naive date is read in this machine's time zone (see the module doc).
/// `Ok(None)` when the file has no date; an error when it is not a regular file (a named
/// pipe would block the read forever; see [`crate::util::open_regular`]), cannot be read,
/// or its date is damaged.
pub fn exif_taken_at(path: &Path) -> Result<Option<Taken>, DateError> {
    exif_taken_in(path, &TimeZone::system())
}

/// Where a photo was taken, from its EXIF GPS tags: (latitude, longitude) in degrees,
/// north and east positive. Events split on a change of place (crate::events); nothing is
/// looked up anywhere. JPEG, PNG and TIFF are read here (kamadak-exif), RAW and HEIF/AVIF
/// by keepsake-imaging, whose [`keepsake_imaging::Place::from_gps`] is the one rule for
/// what counts as a place (no hemisphere, a zero denominator, out of range or 0°, 0° is
/// none). `None` when the file has no position or cannot be read.
pub fn exif_place(path: &Path) -> Option<(f64, f64)> {
    let format = keepsake_imaging::sniff(path).ok()?;
    if format == keepsake_imaging::PhotoFormat::Raw || format.needs_worker() {
        let place = keepsake_imaging::exif_facts(path).ok()?.place?;
        return Some((place.latitude, place.longitude));
    }
    let file = crate::util::open_regular(path, false).ok()?;
    let mut reader = std::io::BufReader::with_capacity(64 * 1024, file);
    let exif = exif::Reader::new().read_from_container(&mut reader).ok()?;
    let reference = |tag: exif::Tag| match exif.get_field(tag, exif::In::PRIMARY).map(|f| &f.value) {
        Some(exif::Value::Ascii(v)) => v.first().map(|b| String::from_utf8_lossy(b).into_owned()),
        _ => None,
    };
    let rationals = |tag: exif::Tag| match exif.get_field(tag, exif::In::PRIMARY).map(|f| &f.value) {
        Some(exif::Value::Rational(parts)) => Some(parts.iter().map(|r| (r.num, r.denom)).collect::<Vec<_>>()),
        _ => None,
    };
    let place = keepsake_imaging::Place::from_gps(
        &reference(exif::Tag::GPSLatitudeRef)?,
        &rationals(exif::Tag::GPSLatitude)?,
        &reference(exif::Tag::GPSLongitudeRef)?,
        &rationals(exif::Tag::GPSLongitude)?,
    )?;
    Some((place.latitude, place.longitude))
}

/// [`exif_taken_at`], with naive dates read in `zone`.
pub fn exif_taken_in(path: &Path, zone: &TimeZone) -> Result<Option<Taken>, DateError> {
    let unreadable = |e: &dyn std::fmt::Display| DateError::Unreadable(e.to_string());
    let file = crate::util::open_regular(path, false).map_err(|e| unreadable(&e))?;
    let format = keepsake_imaging::sniff(path).map_err(|e| unreadable(&e))?;
    if format == keepsake_imaging::PhotoFormat::Raw || format.needs_worker() {
        return match keepsake_imaging::exif_date(path).map_err(|e| DateError::BadExif(e.to_string()))? {
            Some(text) => parse_taken(&text, zone),
            None => Ok(None),
        };
    }
    let mut reader = std::io::BufReader::with_capacity(64 * 1024, file);
    let exif = match exif::Reader::new().read_from_container(&mut reader) {
        Ok(exif) => exif,
        Err(exif::Error::NotFound(_) | exif::Error::BlankValue(_)) => return Ok(None),
        Err(e) => return Err(DateError::BadExif(e.to_string())),
    };
    let text = |tag: exif::Tag| {
        match exif.get_field(tag, exif::In::PRIMARY).map(|f| &f.value) {
            Some(exif::Value::Ascii(v)) => v.first().map(|b| String::from_utf8_lossy(b).trim().to_string()),
            _ => None,
        }
        .filter(|s| !s.is_empty())
    };
    // Each date with its own offset tag (OffsetTime stands in for the original's, as
    // keepsake-imaging does for RAW and HEIF); an offset that is not ±HH:MM is left off.
    let offset = |tags: &[exif::Tag]| tags.iter().find_map(|&t| text(t)).filter(|o| parse_offset(o).is_ok());
    let dated = match text(exif::Tag::DateTimeOriginal) {
        Some(d) => Some((d, offset(&[exif::Tag::OffsetTimeOriginal, exif::Tag::OffsetTime]))),
        None => text(exif::Tag::DateTime).map(|d| (d, offset(&[exif::Tag::OffsetTime]))),
    };
    match dated {
        Some((date, offset)) => parse_taken(&format!("{date}{}", offset.unwrap_or_default()), zone),
        None => Ok(None),
    }
}

/// Parses EXIF's `YYYY:MM:DD HH:MM:SS` or ISO's `YYYY-MM-DD[T ]HH:MM:SS`, fractions
/// ignored, then `Z` (UTC: the instant, no offset), `±HH:MM`/`±HHMM`/`±HH` (the instant
/// and its offset) or nothing (wall time in `zone`). `Ok(None)` for the blank or
/// all-zero dates EXIF uses for "unknown".
pub fn parse_taken(text: &str, zone: &TimeZone) -> Result<Option<Taken>, DateError> {
    let s = text.trim().trim_end_matches('\0');
    if s.bytes().all(|b| matches!(b, b'0' | b':' | b'-' | b' ' | b'T')) {
        return Ok(None);
    }
    let bad = |reason: &str| DateError::BadDate { text: s.to_string(), reason: reason.to_string() };
    let (Some(head), Some(rest)) = (s.get(..19), s.get(19..)) else { return Err(bad("too short")) };
    let b = head.as_bytes();
    let shape = matches!(b[4], b':' | b'-') && b[7] == b[4] && matches!(b[10], b' ' | b'T') && b[13] == b':';
    if !shape || b[16] != b':' {
        return Err(bad("not YYYY:MM:DD HH:MM:SS"));
    }
    let iso = format!("{}-{}-{}T{}", &head[0..4], &head[5..7], &head[8..10], &head[11..19]);
    let civil: DateTime = iso.parse().map_err(|e: jiff::Error| bad(&e.to_string()))?;
    let rest = match rest.strip_prefix('.') {
        Some(fraction) => fraction.trim_start_matches(|c: char| c.is_ascii_digit()),
        None => rest,
    }
    .trim();
    let (instant, offset_minutes) = match rest {
        "" => (zone.to_timestamp(civil), None),
        "Z" | "z" => (Offset::UTC.to_timestamp(civil), None),
        zoned => {
            let offset = parse_offset(zoned).map_err(|reason| bad(&reason))?;
            (offset.to_timestamp(civil), Some(offset.seconds() / 60))
        }
    };
    let at = instant.map_err(|e| bad(&e.to_string()))?.as_second();
    Ok(Some(Taken { at, offset_minutes }))
}

/// `±HH:MM`, `±HHMM` or `±HH`.
fn parse_offset(s: &str) -> Result<Offset, String> {
    let not = || format!("{s:?} is not a UTC offset (±HH:MM)");
    let sign = match s.as_bytes().first() {
        Some(b'+') => 1,
        Some(b'-') => -1,
        _ => return Err(not()),
    };
    let digits = s[1..].replacen(':', "", 1);
    if !matches!(digits.len(), 2 | 4) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(not());
    }
    let hours: i32 = digits[..2].parse().map_err(|_| not())?;
    let minutes: i32 = digits.get(2..).filter(|m| !m.is_empty()).map_or(Ok(0), str::parse).map_err(|_| not())?;
    if hours > 18 || minutes > 59 {
        return Err(not());
    }
    Offset::from_seconds(sign * (hours * 3600 + minutes * 60)).map_err(|e| e.to_string())
}

/// A date's instant in unix seconds, naive dates in this machine's time zone (see
/// [`parse_taken`]); None when it is not a date. The worker reads videos' creation_time
/// (UTC) with this.
pub fn parse_datetime(s: &str) -> Option<i64> {
    parse_taken(s, &TimeZone::system()).ok().flatten().map(|t| t.at)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Central European time, with its daylight saving (no tz database needed).
    fn berlin() -> TimeZone {
        TimeZone::posix("CET-1CEST,M3.5.0,M10.5.0/3").unwrap()
    }

    fn at(text: &str, zone: &TimeZone) -> Option<Taken> {
        parse_taken(text, zone).unwrap()
    }

    fn exiftool(path: &Path, args: &[&str]) {
        let out = std::process::Command::new("exiftool")
            .arg("-overwrite_original")
            .args(args)
            .arg(path)
            .output()
            .expect("exiftool (scripts/setup.sh installs it)");
        assert!(out.status.success(), "exiftool {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// The calendar day `t` falls on where it is shown: at its own offset when it has
    /// one, else in `zone` (what the window does with this machine's zone).
    fn day(t: Taken, zone: &TimeZone) -> String {
        let instant = jiff::Timestamp::from_second(t.at).unwrap();
        let civil = match t.offset_minutes {
            Some(m) => Offset::from_seconds(m * 60).unwrap().to_datetime(instant),
            None => zone.to_datetime(instant),
        };
        civil.date().to_string()
    }

    #[test]
    fn parses_exif_and_iso_forms_with_and_without_offsets() {
        let utc = TimeZone::UTC;
        assert_eq!(at("1970:01:02 00:00:00", &utc), Some(Taken { at: 86_400, offset_minutes: None }));
        let z = Taken { at: 1_709_210_096, offset_minutes: None };
        assert_eq!(at("2024-02-29T12:34:56.000000Z", &berlin()), Some(z), "Z is UTC whatever the zone");
        assert_eq!(at("2024-02-29 12:34:56", &utc), Some(z));
        let east = Some(Taken { at: 1_709_210_096 - 5 * 3600 - 1800, offset_minutes: Some(330) });
        assert_eq!(at("2024:02:29 12:34:56+05:30", &utc), east);
        assert_eq!(at("2024-02-29T12:34:56+0530", &berlin()), east, "the offset wins over the zone");
        assert_eq!(at("2024:02:29 12:34:56-07:00", &utc).unwrap().offset_minutes, Some(-420));
        assert_eq!(at("2024:02:29 12:34:56-07:00", &utc).unwrap().at, 1_709_210_096 + 7 * 3600);
        assert_eq!(at("0000:00:00 00:00:00", &utc), None, "a camera whose clock was never set");
        assert_eq!(at("    :  :     :  :  ", &utc), None, "EXIF's blank date");
        for bad in ["garbage", "2021:02:30 10:00:00", "2021:07:08 25:00:00", "2021:07:08 10:00:00+5", "2021/07/08"] {
            assert!(matches!(parse_taken(bad, &utc), Err(DateError::BadDate { .. })), "{bad}");
        }
    }

    /// A naive time is wall time in the machine's zone: 23:30 stays on its day (read as
    /// UTC, it would move to the next day east of Greenwich and back a day west of it).
    #[test]
    fn naive_dates_are_wall_time_in_the_zone_and_stay_on_their_day() {
        let summer = at("2021:07:08 23:30:00", &berlin()).unwrap();
        assert_eq!(summer, Taken { at: at("2021-07-08T21:30:00Z", &TimeZone::UTC).unwrap().at, offset_minutes: None });
        assert_eq!(day(summer, &berlin()), "2021-07-08");
        let winter = at("2021:12:08 23:30:00", &berlin()).unwrap();
        assert_eq!(winter.at, at("2021-12-08T22:30:00Z", &TimeZone::UTC).unwrap().at, "CET in winter");
        assert_eq!(day(winter, &berlin()), "2021-12-08");
        let west = TimeZone::fixed(Offset::from_seconds(-7 * 3600).unwrap());
        assert_eq!(day(at("2021:07:08 00:10:00", &west).unwrap(), &west), "2021-07-08");
        // 02:30 on the night clocks go forward does not exist: read as 03:30 CEST.
        let skipped = at("2021:03:28 02:30:00", &berlin()).unwrap();
        assert_eq!(skipped.at, at("2021-03-28T01:30:00Z", &TimeZone::UTC).unwrap().at);
        // With an offset the day is the day where it was taken, wherever this machine is.
        let la = at("2021:07:08 23:30:00-07:00", &berlin()).unwrap();
        assert_eq!(day(la, &berlin()), "2021-07-08");
        assert_eq!(la.at, at("2021-07-09T06:30:00Z", &TimeZone::UTC).unwrap().at);
    }

    /// Real files, dated by exiftool, through both readers: kamadak-exif (JPEG) and
    /// keepsake-imaging's container parsers (HEIC, a TIFF-based RAW).
    #[test]
    fn places_from_exiftool_written_gps_with_their_signs_and_nonsense_refused() {
        let dir = tempfile::tempdir().unwrap();
        let jpeg = dir.path().join("photo.jpg");
        image::RgbImage::from_pixel(64, 48, image::Rgb([200, 100, 50])).save(&jpeg).unwrap();
        assert_eq!(exif_place(&jpeg), None, "no GPS, no place");
        // Sydney Opera House: south and east.
        exiftool(&jpeg, &["-GPSLatitude=33.8568", "-GPSLatitudeRef=S", "-GPSLongitude=151.2153", "-GPSLongitudeRef=E"]);
        let (lat, lon) = exif_place(&jpeg).unwrap();
        assert!((lat + 33.8568).abs() < 1e-4 && (lon - 151.2153).abs() < 1e-4, "{lat}, {lon}");
        // Greenwich, west of the meridian: north and west.
        exiftool(&jpeg, &["-GPSLatitude=51.4779", "-GPSLatitudeRef=N", "-GPSLongitude=0.0015", "-GPSLongitudeRef=W"]);
        let (lat, lon) = exif_place(&jpeg).unwrap();
        assert!((lat - 51.4779).abs() < 1e-4 && (lon + 0.0015).abs() < 1e-4, "{lat}, {lon}");
        // No reference: which hemisphere is unknown, so no place.
        exiftool(&jpeg, &["-GPSLatitudeRef="]);
        assert_eq!(exif_place(&jpeg), None);
        // 0°, 0°: a camera without a fix.
        exiftool(&jpeg, &["-GPSLatitude=0", "-GPSLatitudeRef=N", "-GPSLongitude=0", "-GPSLongitudeRef=E"]);
        assert_eq!(exif_place(&jpeg), None);
        // On the equator is a place, though (only both zero is "no fix").
        exiftool(&jpeg, &["-GPSLongitude=10", "-GPSLongitudeRef=E"]);
        assert_eq!(exif_place(&jpeg), Some((0.0, 10.0)));
        // An iPhone's HEIC, read through keepsake-imaging.
        let png = dir.path().join("src.png");
        image::RgbImage::from_pixel(64, 48, image::Rgb([200, 100, 50])).save(&png).unwrap();
        let heic = dir.path().join("photo.heic");
        assert!(std::process::Command::new("heif-enc").arg(&png).arg("-o").arg(&heic).status().unwrap().success());
        exiftool(&heic, &["-GPSLatitude=48.9", "-GPSLatitudeRef=N", "-GPSLongitude=2.35", "-GPSLongitudeRef=W"]);
        let (lat, lon) = exif_place(&heic).unwrap();
        assert!((lat - 48.9).abs() < 1e-4 && (lon + 2.35).abs() < 1e-4, "{lat}, {lon}");
        // A file that is not a picture at all.
        let text = dir.path().join("notes.jpg");
        std::fs::write(&text, b"not a photo").unwrap();
        assert_eq!(exif_place(&text), None);
    }

    #[test]
    fn files_dated_by_exiftool_with_and_without_offset_time_original() {
        let dir = tempfile::tempdir().unwrap();
        let png = dir.path().join("src.png");
        image::RgbImage::from_pixel(64, 48, image::Rgb([200, 100, 50])).save(&png).unwrap();
        let jpeg = dir.path().join("photo.jpg");
        image::RgbImage::from_pixel(64, 48, image::Rgb([200, 100, 50])).save(&jpeg).unwrap();
        let heic = dir.path().join("photo.heic");
        let ok = std::process::Command::new("heif-enc").arg(&png).arg("-o").arg(&heic).status().unwrap();
        assert!(ok.success());
        let nef = dir.path().join("photo.nef");
        let pixels = image::RgbImage::from_pixel(64, 48, image::Rgb([200, 100, 50]));
        pixels.save_with_format(&nef, image::ImageFormat::Tiff).unwrap();
        let zone = berlin();
        for p in [&jpeg, &heic, &nef] {
            exiftool(p, &["-DateTimeOriginal=2021:07:08 23:30:00"]);
            let naive = exif_taken_in(p, &zone).unwrap();
            assert_eq!(naive, at("2021:07:08 23:30:00", &zone), "{}", p.display());
            assert_eq!(naive.unwrap().at, at("2021-07-08T21:30:00Z", &TimeZone::UTC).unwrap().at);
            exiftool(p, &["-OffsetTimeOriginal=-07:00"]);
            let zoned = exif_taken_in(p, &zone).unwrap().unwrap();
            assert_eq!(
                zoned,
                Taken { at: at("2021-07-09T06:30:00Z", &TimeZone::UTC).unwrap().at, offset_minutes: Some(-420) }
            );
            assert_eq!(day(zoned, &zone), "2021-07-08", "{}", p.display());
        }
        // Only OffsetTime (some cameras): it stands in for the original's.
        exiftool(&jpeg, &["-OffsetTimeOriginal=", "-OffsetTime=+09:00"]);
        assert_eq!(exif_taken_in(&jpeg, &zone).unwrap().unwrap().offset_minutes, Some(540));
        // A date that is there but is not one is an error with its reason, not a silent None.
        exiftool(&jpeg, &["-DateTimeOriginal#=2021:13:45 99:00:00"]);
        let err = exif_taken_in(&jpeg, &zone).unwrap_err();
        assert!(matches!(err, DateError::BadDate { .. }), "{err}");
        assert!(err.to_string().contains("2021:13:45"), "{err}");
    }

    #[test]
    fn photo_without_exif_has_none_and_a_broken_file_says_why() {
        let media = crate::test_support::media_dir();
        assert_eq!(exif_taken_at(&media.join("coffee.png")), Ok(None));
        let dir = tempfile::tempdir().unwrap();
        let bogus = dir.path().join("x.jpg");
        std::fs::write(&bogus, b"not a jpeg").unwrap();
        let err = exif_taken_at(&bogus).unwrap_err();
        assert!(matches!(err, DateError::BadExif(_)), "{err}");
        assert!(matches!(exif_taken_at(&dir.path().join("gone.jpg")), Err(DateError::Unreadable(_))));
    }
}
