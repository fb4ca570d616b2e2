//! Where a photo was taken, from its EXIF GPS: [`Place`].
//!
//! Why it exists: the library splits events where the place changes between two runs of
//! shots (docs/events.md), and a wrong place splits a day in two, so the rule for what
//! counts as a place is strict and lives in one spot, shared by this crate's own EXIF
//! parser (JPEG, RAW, HEIF/AVIF) and the library's reader for the other formats. No
//! network and no place names: only the coordinates the camera wrote.

/// A point on Earth in decimal degrees: latitude north positive, longitude east positive.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Place {
    pub latitude: f64,
    pub longitude: f64,
}

impl Place {
    /// A place, or None when it cannot be one: not finite, latitude outside ±90°,
    /// longitude outside ±180°, or exactly 0°, 0° ("null island": what GPS receivers
    /// without a fix write, and never where a family photo was taken).
    pub fn new(latitude: f64, longitude: f64) -> Option<Place> {
        let real = latitude.is_finite() && longitude.is_finite();
        let in_range = latitude.abs() <= 90.0 && longitude.abs() <= 180.0;
        let null_island = latitude == 0.0 && longitude == 0.0;
        (real && in_range && !null_island).then_some(Place { latitude, longitude })
    }

    /// A place from EXIF's GPS tags as written: GPSLatitudeRef (`N`/`S`), GPSLatitude,
    /// GPSLongitudeRef (`E`/`W`), GPSLongitude, each coordinate 1 to 3 unsigned
    /// rationals `(numerator, denominator)` of degrees, minutes and seconds. None when a
    /// reference is anything else (a missing one would be a guess at the hemisphere), a
    /// denominator is 0, minutes or seconds are over 60 (exactly 60 is allowed: writers
    /// round into it, exiftool writes 48.9° as 48° 53' 60''), or [`Place::new`] refuses
    /// the result.
    pub fn from_gps(lat_ref: &str, lat: &[(u32, u32)], lon_ref: &str, lon: &[(u32, u32)]) -> Option<Place> {
        let sign = |r: &str, plus: &str, minus: &str| match r.trim() {
            r if r.eq_ignore_ascii_case(plus) => Some(1.0),
            r if r.eq_ignore_ascii_case(minus) => Some(-1.0),
            _ => None,
        };
        let latitude = sign(lat_ref, "N", "S")? * degrees(lat)?;
        let longitude = sign(lon_ref, "E", "W")? * degrees(lon)?;
        Place::new(latitude, longitude)
    }
}

/// Degrees, minutes and seconds (1 to 3 rationals) as decimal degrees.
fn degrees(parts: &[(u32, u32)]) -> Option<f64> {
    if parts.is_empty() || parts.len() > 3 {
        return None;
    }
    let mut total = 0.0;
    for (i, &(num, den)) in parts.iter().enumerate() {
        if den == 0 {
            return None;
        }
        let value = f64::from(num) / f64::from(den);
        if i > 0 && value > 60.0 {
            return None;
        }
        total += value / [1.0, 60.0, 3600.0][i];
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn degrees_minutes_seconds_with_their_hemispheres() {
        // London, 51°30'26"N 0°7'39"W.
        let p = Place::from_gps("N", &[(51, 1), (30, 1), (26, 1)], "W", &[(0, 1), (7, 1), (39, 1)]).unwrap();
        assert!((p.latitude - 51.507_222).abs() < 1e-5, "{p:?}");
        assert!((p.longitude + 0.1275).abs() < 1e-5, "{p:?}");
        // Sydney, decimal minutes in the second rational and no seconds.
        let p = Place::from_gps("S", &[(33, 1), (5152, 100)], "E", &[(151, 1), (1266, 100)]).unwrap();
        assert!((p.latitude + 33.858_667).abs() < 1e-5, "{p:?}");
        assert!((p.longitude - 151.211).abs() < 1e-5, "{p:?}");
        // Decimal degrees in one rational; lower-case references.
        let p = Place::from_gps("s", &[(22_906_800, 1_000_000)], "w", &[(43_172_900, 1_000_000)]).unwrap();
        assert_eq!(p, Place { latitude: -22.9068, longitude: -43.1729 });
    }

    #[test]
    fn doubtful_coordinates_are_no_place() {
        let ok = [(10, 1), (0, 1), (0, 1)];
        assert!(Place::from_gps("N", &ok, "E", &ok).is_some());
        assert_eq!(Place::from_gps("N", &[(10, 0), (0, 1), (0, 1)], "E", &ok), None, "zero denominator");
        assert_eq!(Place::from_gps("N", &[(10, 1), (0, 0), (0, 1)], "E", &ok), None, "zero denominator");
        assert_eq!(Place::from_gps("", &ok, "E", &ok), None, "no hemisphere");
        assert_eq!(Place::from_gps("X", &ok, "E", &ok), None);
        assert_eq!(Place::from_gps("N", &ok, "N", &ok), None, "a latitude's reference on the longitude");
        assert_eq!(Place::from_gps("N", &[(91, 1)], "E", &ok), None, "past the pole");
        assert_eq!(Place::from_gps("N", &ok, "W", &[(181, 1)]), None);
        assert_eq!(Place::from_gps("N", &[(10, 1), (61, 1)], "E", &ok), None, "61 minutes");
        // exiftool's own rounding of 48.9°: 48° 53' 60''.
        let p = Place::from_gps("N", &[(48, 1), (53, 1), (60, 1)], "E", &ok).unwrap();
        assert!((p.latitude - 48.9).abs() < 1e-9, "{p:?}");
        assert_eq!(Place::from_gps("N", &[], "E", &ok), None);
        assert_eq!(Place::from_gps("N", &[(1, 1); 4], "E", &ok), None);
        assert_eq!(Place::from_gps("N", &[(0, 1), (0, 1), (0, 1)], "E", &[(0, 1)]), None, "null island");
        assert_eq!(Place::new(f64::NAN, 1.0), None);
        assert!(Place::new(90.0, -180.0).is_some());
        assert!(Place::new(0.0, 0.5).is_some(), "only exactly 0, 0 is refused");
    }
}
