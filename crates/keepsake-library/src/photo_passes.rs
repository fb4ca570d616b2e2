//! The background passes over photos, run from the job queue ([`crate::jobs`]) by the
//! [`crate::Analyzer`]'s photo thread: reading their dates, sizes and places
//! ([`JobKind::PhotoFacts`]: a bulk scan does not open files, and a changed file's date may
//! have changed), and making their grid copies ahead of the first view
//! ([`JobKind::GridCopy`]). Scoring, the third photo kind, is in [`crate::scoring`].

use std::path::PathBuf;

use rusqlite::{params, OptionalExtension};

use crate::error::{LibraryError, Result};
use crate::jobs::ClaimedJob;
use crate::library::Library;
use crate::model::{FailureKind, ImageKey, JobKind, MediaId};

impl Library {
    /// Makes the grid copies of up to `max` photos whose [`JobKind::GridCopy`] job is
    /// queued, exactly as a first view would ([`Library::image_path`]): a 12-MP photo
    /// costs ~160 ms to render and ~0.3 ms to serve once made, so a freshly added album
    /// scrolls at once instead of a screen of tiles taking seconds
    /// (`docs/bench-album.md`). Stops early as soon as the window shows something
    /// (`viewing`), so it never competes with the grid, and gives the jobs it did not get
    /// to back. Returns how many it did and those found unreadable (now marked `failed`,
    /// for an event); 0 done: nothing was queued.
    pub fn prerender_photo_thumbnails(&self, max: usize, viewing: &dyn Fn() -> bool) -> Result<(usize, Vec<MediaId>)> {
        let queue = self.queue();
        let jobs = queue.claim(JobKind::GridCopy, max)?;
        let (mut done, mut unreadable) = (Vec::new(), Vec::new());
        let mut rest = jobs.iter();
        for job in rest.by_ref() {
            if viewing() {
                break;
            }
            match self.image_path(&ImageKey::Photo(job.media_id)) {
                Err(LibraryError::Unreadable { id, reason }) => {
                    queue.fail_attempt(job, &reason, FailureKind::Undecodable, 1, 0)?;
                    unreadable.push(id);
                }
                // Gone since, or a file the next scan will sort out: the first view says.
                Err(e) => {
                    tracing::debug!("grid copy of photo {} not made ahead: {e}", job.media_id);
                    done.push(job.clone());
                }
                Ok(_) => done.push(job.clone()),
            }
        }
        let left: Vec<ClaimedJob> = rest.cloned().collect();
        queue.release(&left)?;
        queue.finish(&done)?;
        Ok((done.len() + unreadable.len(), unreadable))
    }

    /// Reads the EXIF dates (and offsets, see [`crate::taken`]), upright sizes and places
    /// of up to `max` photos whose [`JobKind::PhotoFacts`] job is queued, and stores them
    /// with the jobs done in one transaction. Says how many were checked (0 when none were
    /// queued) and which had a date that could not be read, with why: those are logged
    /// and keep their mtime, and are not read again until the file changes. Run in the
    /// background by the [`crate::Analyzer`].
    pub fn fill_photo_dates(&self, max: usize) -> Result<crate::taken::PhotoDates> {
        let jobs = self.queue().claim(JobKind::PhotoFacts, max)?;
        /// A photo's date taken, upright width and height, place (each if readable), and
        /// embedded video (a motion photo's).
        type PhotoFacts = (
            std::result::Result<Option<crate::taken::Taken>, crate::taken::DateError>,
            Option<u32>,
            Option<u32>,
            Option<(f64, f64)>,
            crate::motion::Motion,
        );
        // Naive EXIF dates are wall time in this machine's zone, read once per batch.
        let zone = jiff::tz::TimeZone::system();
        // Read outside the database lock: the window's queries go on meanwhile.
        let facts: Vec<PhotoFacts> = jobs
            .iter()
            .map(|job| {
                let size = keepsake_imaging::photo_info(&job.path).ok();
                let taken = crate::taken::exif_taken_in(&job.path, &zone);
                let place = crate::taken::exif_place(&job.path);
                let motion = crate::motion::still_motion(&job.path);
                (taken, size.map(|s| s.width), size.map(|s| s.height), place, motion)
            })
            .collect();
        let mut report =
            crate::taken::PhotoDates { checked: jobs.len(), unreadable: Vec::new(), motion_changed: Vec::new() };
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        for ((date, w, h, place, motion), job) in facts.into_iter().zip(&jobs) {
            let id = job.media_id;
            // The embedded video, stamped with the file's size and time it was read at (so
            // a file changed since is not served from a stale range).
            let before: Option<crate::motion::Motion> = tx
                .prepare_cached("SELECT motion_offset, motion_length, motion_note FROM media WHERE id = ?1")?
                .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .optional()?;
            if before.is_some_and(|b| b != motion) {
                report.motion_changed.push(id);
            }
            tx.prepare_cached(
                "UPDATE media SET motion_offset = ?2, motion_length = ?3, motion_note = ?4,
                   facts_stamp = size || ':' || mtime_ms WHERE id = ?1",
            )?
            .execute(params![id, motion.0, motion.1, motion.2])?;
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
                Ok(None) => tx.execute(
                    "UPDATE media SET taken_at = mtime_ms / 1000, taken_offset = NULL, taken_source = 'mtime'
                     WHERE id = ?1",
                    [id],
                )?,
                Err(e) => {
                    let path = job.path.display();
                    tracing::warn!("date of {path}: {e}; it sorts by the file's modification time");
                    report.unreadable.push((id, PathBuf::from(&job.path), e.to_string()));
                    tx.execute(
                        "UPDATE media SET taken_at = mtime_ms / 1000, taken_offset = NULL, taken_source = 'mtime'
                         WHERE id = ?1",
                        [id],
                    )?
                }
            };
            crate::jobs::finish_tx(&tx, job)?;
        }
        tx.commit()?;
        Ok(report)
    }
}
