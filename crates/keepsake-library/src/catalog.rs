//! [`Catalog`]: what the window shows, read on the library's read connections
//! ([`crate::core`]), so browsing never waits behind a scan or the analyzer writing:
//! grid pages and counts, an item's detail and motion, the timeline's headers, events
//! and memories.
//!
//! Events are regrouped before they are read when a write marked them out of date:
//! that one step takes the writer, and only when there is something to regroup.

use std::path::Path;
use std::sync::Arc;

use rusqlite::{params, OptionalExtension};

use crate::core::{path_str, Core};
use crate::error::{LibraryError, Result};
use crate::events::{self, DateSection, Event, Recomputed, SectionSize, MAX_EVENT_NAME};
use crate::media;
use crate::memories::Memory;
use crate::model::*;
use crate::scan;

/// The most bytes a photo's motion may be: a Live Photo's 3-second movie is 2-8 MB, a
/// motion photo's MP4 about as much; a 4K Live Photo stays well under this.
pub const MAX_MOTION_BYTES: u64 = 64 << 20;

/// Browsing the index: from [`crate::Library::catalog`]; cheap to clone.
#[derive(Clone)]
pub struct Catalog {
    core: Arc<Core>,
}

impl Catalog {
    pub(crate) fn new(core: Arc<Core>) -> Catalog {
        Catalog { core }
    }

    /// One page of the grid.
    pub fn media(&self, q: &MediaQuery) -> Result<Vec<MediaItem>> {
        if q.event.is_some() {
            self.core.refresh_events()?;
        }
        media::list(&*self.core.read()?, q)
    }

    /// How many items match (for the scroll bar).
    pub fn media_count(&self, q: &MediaQuery) -> Result<u64> {
        if q.event.is_some() {
            self.core.refresh_events()?;
        }
        media::count(&*self.core.read()?, q)
    }

    /// Everything about one item: picks, curve, cover, error, video facts.
    pub fn media_by_id(&self, id: MediaId) -> Result<MediaDetail> {
        self.core.detail(id)
    }

    /// Same, by the file's path (as the CLI names files).
    pub fn media_by_path(&self, path: &Path) -> Result<MediaDetail> {
        let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let id = media::id_by_path(&*self.core.read()?, path_str(&path)?)?
            .ok_or_else(|| LibraryError::NotInLibrary(path.clone()))?;
        self.media_by_id(id)
    }

    /// Where the motion of still `id` lies: its Live Photo movie, or its motion photo's
    /// embedded MP4 (checked against the file as it is now). None when the item has no
    /// motion, or its file is not inside an album folder (the index could be stale).
    pub fn motion_source(&self, id: MediaId) -> Result<Option<crate::motion::MotionSource>> {
        let detail = self.media_by_id(id)?;
        let (path, offset, length, mime) = match detail.item.motion {
            None => return Ok(None),
            Some(MotionKind::Live) => {
                let Some(movie) = detail.motion_path else { return Ok(None) };
                let Ok(meta) = std::fs::symlink_metadata(&movie) else { return Ok(None) };
                let quicktime = movie.extension().is_some_and(|e| e.eq_ignore_ascii_case("mov"));
                (movie, 0, meta.len(), if quicktime { "video/quicktime" } else { "video/mp4" })
            }
            Some(MotionKind::Embedded) => {
                type Range = (Option<u64>, Option<u64>, Option<bool>, u64, i64);
                let (offset, length, fresh, size, mtime): Range = self.core.read()?.query_row(
                    "SELECT motion_offset, motion_length, facts_stamp = size || ':' || mtime_ms, size, mtime_ms
                     FROM media WHERE id = ?1",
                    [id],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
                )?;
                let (Some(offset), Some(length)) = (offset, length) else { return Ok(None) };
                // The file must still be the one the range was read from.
                let Ok(meta) = std::fs::symlink_metadata(&detail.item.path) else { return Ok(None) };
                let same = fresh == Some(true) && meta.len() == size && scan::mtime_ms(&meta) == mtime;
                if !same || offset.checked_add(length).map_or(true, |end| end > meta.len()) {
                    return Ok(None);
                }
                (detail.item.path, offset, length, "video/mp4")
            }
        };
        if !std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_file()) || !self.core.in_an_album(&path)? {
            return Ok(None);
        }
        Ok(Some(crate::motion::MotionSource { path, offset, length, mime }))
    }

    /// The bytes of still `id`'s motion (see [`Catalog::motion_source`]), for the window
    /// to play from memory: WebKitGTK's media player cannot read a custom URI scheme
    /// (it asks GStreamer, which has no handler for `keepsake:`), so a Live Photo's movie
    /// or a motion photo's MP4 crosses as bytes. Read with one bounded read of exactly
    /// its range; more than [`MAX_MOTION_BYTES`] is refused.
    pub fn motion_clip(&self, id: MediaId) -> Result<Vec<u8>> {
        use std::io::{Read, Seek, SeekFrom};
        let source =
            self.motion_source(id)?.ok_or_else(|| LibraryError::NoImage(format!("no motion for item {id}")))?;
        if source.length > MAX_MOTION_BYTES {
            return Err(LibraryError::NoImage(format!(
                "{}: its motion is {} MB, more than the {} MB a photo's motion may be",
                source.path.display(),
                source.length >> 20,
                MAX_MOTION_BYTES >> 20
            )));
        }
        let mut file = crate::util::open_regular(&source.path, false).map_err(|e| LibraryError::io(&source.path, e))?;
        file.seek(SeekFrom::Start(source.offset)).map_err(|e| LibraryError::io(&source.path, e))?;
        let mut bytes = Vec::with_capacity(source.length as usize);
        file.take(source.length).read_to_end(&mut bytes).map_err(|e| LibraryError::io(&source.path, e))?;
        if bytes.len() as u64 != source.length {
            return Err(LibraryError::NoImage(format!("{}: shorter than its motion's range", source.path.display())));
        }
        Ok(bytes)
    }

    // ---- browsing by time (crate::events) --------------------------------------------

    /// One header per month or day of the grid's items, in the grid's order (none when
    /// sorted by name): the same filter as [`Catalog::media`], so the counts add up to
    /// [`Catalog::media_count`]. Local time, as the page formats dates.
    pub fn date_sections(&self, q: &MediaQuery, by: SectionSize) -> Result<Vec<DateSection>> {
        events::date_sections(&*self.core.read()?, q, by)
    }

    /// Regroups events if anything changed since they were last grouped. Cheap when
    /// nothing did (one indexed lookup); the analyzer calls it in the background.
    pub fn refresh_events(&self) -> Result<Option<Recomputed>> {
        self.core.refresh_events()
    }

    /// Events, newest first; with `root`, those with items in that album.
    pub fn events(&self, root: Option<RootId>) -> Result<Vec<Event>> {
        self.core.refresh_events()?;
        events::list(&*self.core.read()?, root, None)
    }

    /// Names event `id` (None or blank: back to its dates).
    pub fn rename_event(&self, id: EventId, name: Option<&str>) -> Result<Event> {
        let name = name.map(str::trim).filter(|n| !n.is_empty());
        if let Some(n) = name {
            if n.chars().count() > MAX_EVENT_NAME {
                return Err(LibraryError::InvalidName(format!(
                    "an event's name may be at most {MAX_EVENT_NAME} characters"
                )));
            }
            if n.chars().any(char::is_control) {
                return Err(LibraryError::InvalidName(
                    "an event's name may not hold line breaks or control characters".into(),
                ));
            }
        }
        let mut conn = self.core.conn();
        events::refresh(&mut conn)?;
        let n = conn.execute("UPDATE events SET name = ?2 WHERE id = ?1", params![id, name])?;
        if n == 0 {
            return Err(LibraryError::NoSuchEvent(id));
        }
        events::list(&conn, None, Some(id))?.pop().ok_or(LibraryError::NoSuchEvent(id))
    }

    /// The event media item `id` belongs to, if grouped.
    pub fn event_of(&self, id: MediaId) -> Result<Option<EventId>> {
        self.core.refresh_events()?;
        Ok(self
            .core
            .read()?
            .query_row("SELECT event_id FROM media WHERE id = ?1", [id], |r| r.get::<_, Option<EventId>>(0))
            .optional()?
            .flatten())
    }

    /// Today's memories (On this day / N years ago this week), then Best of each past
    /// year, newest first; `now` is unix seconds (the app passes the clock).
    pub fn memories(&self, now: i64) -> Result<Vec<Memory>> {
        self.core.refresh_events()?;
        crate::memories::memories(&*self.core.read()?, now)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::{Duration, Instant};

    use crate::{Library, MediaQuery};

    /// The grid reads on its own connection: while a long write transaction holds the
    /// writer (a scan's batch, an analysis being stored), a page of the grid comes back
    /// at once, with what was committed before it.
    #[test]
    fn a_read_does_not_wait_for_a_long_write() {
        let tmp = tempfile::tempdir().unwrap();
        let album = tmp.path().join("album");
        std::fs::create_dir_all(&album).unwrap();
        for name in ["a.jpg", "b.jpg"] {
            std::fs::write(album.join(name), b"not really a photo").unwrap();
        }
        let library = Library::open(&tmp.path().join("data")).unwrap();
        library.index().add_root(&album, &|_| {}).unwrap();

        let (began, wait) = mpsc::channel();
        let (release, released) = mpsc::channel::<()>();
        let writer = {
            let library = library.clone();
            std::thread::spawn(move || {
                let mut conn = library.conn();
                let tx = conn.transaction().unwrap();
                tx.execute("UPDATE media SET name = 'renamed, not committed'", []).unwrap();
                tx.execute("DELETE FROM media WHERE name = 'renamed, not committed' AND id = 1", []).unwrap();
                began.send(()).unwrap();
                // Holds the writer (and its transaction) until the reader is done.
                released.recv_timeout(Duration::from_secs(30)).ok();
                tx.rollback().unwrap();
            })
        };
        wait.recv().unwrap();
        let t0 = Instant::now();
        let items = library.catalog().media(&MediaQuery::default()).unwrap();
        let count = library.catalog().media_count(&MediaQuery::default()).unwrap();
        let detail = library.catalog().media_by_id(items[0].id).unwrap();
        let roots = library.index().roots().unwrap();
        let took = t0.elapsed();
        release.send(()).unwrap();
        writer.join().unwrap();

        assert!(took < Duration::from_secs(2), "the reads waited for the writer: {took:?}");
        let mut names: Vec<&str> = items.iter().map(|i| i.name.as_str()).collect();
        names.sort();
        assert_eq!(names, ["a.jpg", "b.jpg"], "the committed rows, not the open transaction's");
        assert_eq!(count, 2);
        assert_eq!(detail.item.id, items[0].id);
        assert_eq!(roots.iter().map(|r| r.photos).sum::<u64>(), 2);
    }

    /// A read connection cannot write, whatever it is asked.
    #[test]
    fn read_connections_refuse_writes() {
        let tmp = tempfile::tempdir().unwrap();
        let library = Library::open(tmp.path()).unwrap();
        let reader = library.inner_core().read().unwrap();
        assert!(reader.execute("DELETE FROM settings", []).is_err());
    }
}
