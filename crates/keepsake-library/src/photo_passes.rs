//! The background passes over photos: reading their dates, sizes and places after a bulk
//! scan, and making their grid copies ahead of the first view.

use std::path::{Path, PathBuf};

use rusqlite::params;

use crate::error::{LibraryError, Result};
use crate::library::Library;
use crate::model::{ImageKey, MediaId};
use crate::scan;

impl Library {
    /// Makes the grid copies of up to `max` photos that have none yet, oldest index
    /// entries first, exactly as a first view would ([`Library::image_path`]): a 12-MP
    /// photo costs ~160 ms to render and ~0.3 ms to serve once made, so a freshly added
    /// album scrolls at once instead of a screen of tiles taking seconds
    /// (`docs/bench-album.md`). Stops early, with what it did, as soon as the window
    /// shows something (`viewing`), so it never competes with the grid. Returns the ids
    /// it looked at and those it found unreadable (now marked `failed`, for an event).
    pub fn prerender_photo_thumbnails(&self, max: usize, viewing: &dyn Fn() -> bool) -> Result<(usize, Vec<MediaId>)> {
        use std::sync::atomic::Ordering;
        let after = self.inner.thumbs_cursor.load(Ordering::Relaxed);
        let ids: Vec<i64> = {
            let conn = self.conn();
            let mut stmt = conn.prepare_cached(
                "SELECT id FROM media WHERE id > ?1 AND kind = 'photo' AND presence = 'present' AND state != 'failed'
                 ORDER BY id LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![after, max as i64], |r| r.get(0))?;
            rows.collect::<std::result::Result<_, _>>()?
        };
        let (mut looked, mut unreadable) = (0, Vec::new());
        for id in ids {
            if viewing() {
                break;
            }
            match self.image_path(&ImageKey::Photo(id)) {
                Err(LibraryError::Unreadable { id, .. }) => unreadable.push(id),
                // Gone since, or a file the next scan will sort out: the first view says.
                Err(e) => tracing::debug!("grid copy of photo {id} not made ahead: {e}"),
                Ok(_) => {}
            }
            self.inner.thumbs_cursor.store(id, Ordering::Relaxed);
            looked += 1;
        }
        Ok((looked, unreadable))
    }

    /// Reads EXIF dates (and offsets, see [`crate::taken`]) of up to `max` photos indexed
    /// by a bulk scan (which does not open files). Says how many were checked (0 when
    /// none are left) and which had a date that could not be read, with why: those are
    /// logged and keep their mtime, and are not read again until the file changes. Run
    /// in the background by the [`crate::Analyzer`].
    pub fn fill_photo_dates(&self, max: usize) -> Result<crate::taken::PhotoDates> {
        use std::sync::atomic::Ordering;
        // Walks the table in id order from where the last batch stopped: without the
        // cursor each batch scanned every row already done, 100k photos cost minutes of
        // CPU and held the database lock the window needs. When nothing is left past
        // the cursor, one pass from the start catches rows that came back with old ids.
        let batch = |after: i64| -> Result<Vec<(i64, String)>> {
            let conn = self.conn();
            let mut stmt = conn.prepare_cached(
                "SELECT id, path FROM media WHERE id > ?3 AND taken_source = ?1 AND presence = 'present' ORDER BY id LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![scan::UNCHECKED, max as i64, after], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<std::result::Result<_, _>>()?)
        };
        let after = self.inner.dates_cursor.load(Ordering::Relaxed);
        let mut todo = batch(after)?;
        if todo.is_empty() && after > 0 {
            todo = batch(0)?;
        }
        if let Some((last, _)) = todo.last() {
            self.inner.dates_cursor.store(*last, Ordering::Relaxed);
        }
        // The same pass stores each photo's upright size (header only, every format).
        /// A photo's id, date taken, and upright width and height (each if readable).
        type PhotoFacts = (
            i64,
            std::result::Result<Option<crate::taken::Taken>, crate::taken::DateError>,
            Option<u32>,
            Option<u32>,
            Option<(f64, f64)>,
        );
        // Naive EXIF dates are wall time in this machine's zone, read once per batch.
        let zone = jiff::tz::TimeZone::system();
        let dates: Vec<PhotoFacts> = todo
            .iter()
            .map(|(id, path)| {
                let size = keepsake_imaging::photo_info(Path::new(path)).ok();
                let taken = crate::taken::exif_taken_in(Path::new(path), &zone);
                let place = crate::taken::exif_place(Path::new(path));
                (*id, taken, size.map(|s| s.width), size.map(|s| s.height), place)
            })
            .collect();
        let mut report = crate::taken::PhotoDates { checked: dates.len(), unreadable: Vec::new() };
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        for ((id, date, w, h, place), (_, path)) in dates.into_iter().zip(&todo) {
            tx.execute(
                "UPDATE media SET width = COALESCE(?2, width), height = COALESCE(?3, height),
                   latitude = ?4, longitude = ?5 WHERE id = ?1",
                params![id, w, h, place.map(|p| p.0), place.map(|p| p.1)],
            )?;
            match date {
                Ok(Some(t)) => tx.execute(
                    "UPDATE media SET taken_at = ?2, taken_offset = ?3, taken_source = 'exif' WHERE id = ?1",
                    params![id, t.at, t.offset_minutes],
                )?,
                Ok(None) => tx.execute("UPDATE media SET taken_source = 'mtime' WHERE id = ?1", [id])?,
                Err(e) => {
                    tracing::warn!("date of {path}: {e}; it sorts by the file's modification time");
                    report.unreadable.push((id, PathBuf::from(path), e.to_string()));
                    tx.execute("UPDATE media SET taken_source = 'mtime' WHERE id = ?1", [id])?
                }
            };
        }
        tx.commit()?;
        Ok(report)
    }
}
