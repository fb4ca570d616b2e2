//! [`ImageStore`]: every picture Keepsake derives and keeps in the data directory, and
//! what a video's analysis stored: photos' grid and screen copies (`thumbs/`), tiles
//! and small copies of picks and covers (`frames/<id>/`), timeline previews of any
//! moment (`previews/`), and the picks, curve and facts an analysis found.
//! [`crate::render`] makes the pictures; this module decides where they live, when
//! they are made, and what becomes of a photo that cannot be read. Every path it hands
//! out is inside the data directory.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rusqlite::params;

use crate::core::Core;
use crate::error::{LibraryError, Result};
use crate::model::*;
use crate::protocol::{AnalysisResult, ProbeResult};
use crate::util::now_ms;
use crate::worker_process::WorkerFailure;

/// Derived pictures and analysis results: from [`crate::Library::images`]; cheap to clone.
#[derive(Clone)]
pub struct ImageStore {
    core: Arc<Core>,
}

impl ImageStore {
    pub(crate) fn new(core: Arc<Core>) -> ImageStore {
        ImageStore { core }
    }

    /// The file to serve for an image key, always inside the data directory. Photo
    /// thumbnails are rendered on first request.
    pub fn image_path(&self, key: &ImageKey) -> Result<PathBuf> {
        let path = match key {
            ImageKey::Cover(id) => self.core.detail(*id)?.cover.path,
            ImageKey::Frame(id, rank) => {
                self.core.detail(*id)?.frames.into_iter().find(|f| f.rank == *rank).map(|f| f.path)
            }
            ImageKey::Photo(id) => Some(self.photo_copy(*id, crate::render::PhotoCopy::Grid)?),
            ImageKey::View(id) => Some(self.photo_copy(*id, crate::render::PhotoCopy::Screen)?),
            ImageKey::TileFrame(id, rank) => {
                Some(self.tile_image(*id, &ImageKey::Frame(*id, *rank), &rank.to_string())?)
            }
            ImageKey::TileCover(id) => Some(self.tile_image(*id, &ImageKey::Cover(*id), "cover")?),
            ImageKey::Small(inner) => {
                if !matches!(**inner, ImageKey::Photo(_) | ImageKey::TileFrame(..) | ImageKey::TileCover(_)) {
                    return Err(LibraryError::NoImage(format!("no small copy of {inner:?}")));
                }
                // Made from the grid-size copy (cheap), named after it, so a new cover
                // version gets a new small copy too.
                let source = self.image_path(inner)?;
                let name = source.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
                let dest = source.with_file_name(format!("{name}-{SMALL_TILE_SIDE}.jpg"));
                if dest.is_file() {
                    Some(dest)
                } else {
                    // A tile crops its image to a square, so the *short* side must
                    // reach SMALL_TILE_SIDE or the tile would show an upscaled, soft
                    // picture: 455x256 for a 16:9 frame, 341x256 for a 4:3 photo.
                    let (w, h) = image::image_dimensions(&source)
                        .map_err(|e| LibraryError::NoImage(format!("{inner:?}: {e}")))?;
                    let (long, short) = (w.max(h).max(1), w.min(h).max(1));
                    let side = (u64::from(SMALL_TILE_SIDE) * u64::from(long)).div_ceil(u64::from(short));
                    if side >= u64::from(long) {
                        // A small picture (a 320x240 photo) is its own small copy:
                        // decoding and re-encoding the same pixels would only cost the
                        // first scroll past it time, and the disk a duplicate.
                        Some(source)
                    } else {
                        crate::render::thumbnail(&source, &dest, side as u32)?;
                        Some(dest)
                    }
                }
            }
        };
        let path = path.ok_or_else(|| LibraryError::NoImage(format!("{key:?}")))?;
        if !path.starts_with(&self.core.data_dir) || !path.is_file() {
            return Err(LibraryError::NoImage(format!("{key:?}")));
        }
        Ok(path)
    }

    /// Photo `id`'s upright copy of size `copy` in `thumbs/`, rendered on first request
    /// (named by the file's size, so a changed file gets a new one).
    fn photo_copy(&self, id: MediaId, copy: crate::render::PhotoCopy) -> Result<PathBuf> {
        let item = self.core.detail(id)?.item;
        if item.kind != MediaKind::Photo {
            return Err(LibraryError::NoImage(format!("photo copy of video {id}")));
        }
        let dest = self.core.data_dir.join(format!("thumbs/{id}-{}{}.jpg", item.size, copy.suffix()));
        if item.state == MediaState::Failed {
            // Known unreadable: not decoded again until the file changes.
            return Err(LibraryError::NoImage(item.error.unwrap_or_else(|| "unreadable photo".into())));
        }
        if !dest.is_file() {
            self.render_photo_copy(id, &item.path, &dest, copy)?;
        }
        Ok(dest)
    }

    /// The grid-size copy of `full` (a pick or the cover of video `id`), rendered on
    /// first request next to the picks, named by the cover version so a new analysis or
    /// override gets a new file; older copies are removed then.
    fn tile_image(&self, id: MediaId, full: &ImageKey, label: &str) -> Result<PathBuf> {
        let version = self.core.detail(id)?.item.cover_version;
        let dir = self.core.data_dir.join(format!("frames/{id}"));
        let dest = dir.join(format!("tile-{label}-v{version}.jpg"));
        if !dest.is_file() {
            let source = self.image_path(full)?;
            crate::render::photo_thumbnail(&source, &dest)?;
            // Older versions go; files being written (`.part`) are another request's.
            let stale = format!("tile-{label}-v");
            if let Ok(entries) = std::fs::read_dir(&dir) {
                for e in entries.flatten() {
                    let name = e.file_name();
                    let name = name.to_string_lossy();
                    // `tile-1-v3.jpg`, or its small copy `tile-1-v3-256.jpg`.
                    let older = name
                        .strip_prefix(&stale)
                        .and_then(|rest| rest.strip_suffix(".jpg"))
                        .map(|rest| rest.split_once('-').map_or(rest, |(v, _)| v))
                        .is_some_and(|v| v.parse::<i64>().is_ok_and(|v| v != version));
                    if older {
                        let _ = std::fs::remove_file(e.path());
                    }
                }
            }
        }
        Ok(dest)
    }

    // ---- analysis results (used by the analyzer) -----------------------------------

    /// Stores a probe's facts (duration etc.) so timeouts and the grid can use them.
    pub(crate) fn store_probe(&self, id: MediaId, p: &ProbeResult) -> Result<()> {
        let conn = self.core.conn();
        conn.execute(
            "UPDATE media SET duration = ?2, width = ?3, height = ?4, rotation = ?5, codec = ?6, picture = ?7 WHERE id = ?1",
            params![
                id,
                p.duration,
                p.width,
                p.height,
                p.rotation,
                p.codec,
                (!p.picture.is_empty()).then(|| serde_json::to_string(&p.picture).unwrap_or_default())
            ],
        )?;
        if let Some(t) = p.created_at {
            conn.execute(
                "UPDATE media SET taken_at = ?2, taken_source = 'container' WHERE id = ?1 AND taken_source = 'mtime'",
                params![id, t],
            )?;
        }
        Ok(())
    }

    /// The difference hash of a pick's image, which must be inside the data directory.
    pub(crate) fn pick_dhash(&self, path: &Path) -> Option<i64> {
        if !path.starts_with(&self.core.data_dir) {
            return None;
        }
        crate::picture::dhash(path).map_err(|e| tracing::debug!("{}: no difference hash: {e}", path.display())).ok()
    }

    /// Stores a finished analysis in one transaction: picks, curve, facts, state, job
    /// done. Images are already in `frames/<id>/`; older image folders are removed.
    pub(crate) fn store_analysis(&self, job_id: i64, id: MediaId, a: &AnalysisResult) -> Result<()> {
        self.store_probe(id, &a.info)?;
        let best = crate::picture::best_pick_scores(&a.frames);
        let best_hash = best.and_then(|(_, _, image)| self.pick_dhash(image));
        let data_dir = &self.core.data_dir;
        // Plain data; serialising it cannot fail, but a failure must not go unnoticed.
        let as_json = |what: &str, json: serde_json::Result<String>| {
            json.map_err(|e| {
                LibraryError::Worker(WorkerFailure::Protocol(format!("cannot store the analysis's {what}: {e}")))
            })
        };
        let curve = as_json("curve", serde_json::to_string(&a.curve))?;
        {
            let mut conn = self.core.conn();
            let tx = conn.transaction()?;
            tx.execute("DELETE FROM picks WHERE media_id = ?1", [id])?;
            for f in &a.frames {
                let rel = f.path.strip_prefix(data_dir).unwrap_or(&f.path).to_string_lossy().into_owned();
                tx.execute(
                    "INSERT INTO picks (media_id, rank, time, score, image, width, height, reasons) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    params![id, f.rank, f.time, f.score, rel, f.width, f.height, as_json("reasons", serde_json::to_string(&f.reasons))?],
                )?;
            }
            tx.execute("INSERT OR REPLACE INTO curves (media_id, points) VALUES (?1, ?2)", params![id, curve])?;
            tx.execute(
                "UPDATE media SET state = ?2, error = NULL, cover_version = cover_version + 1 WHERE id = ?1",
                params![id, MediaState::Ready],
            )?;
            // Events and memories judge a video by its best pick (crate::picture).
            if let Some((score, faces, _)) = best {
                tx.execute(
                    "UPDATE media SET score = ?2, faces = ?3, dhash = ?4 WHERE id = ?1",
                    params![id, score.is_finite().then_some(score), faces, best_hash],
                )?;
            }
            tx.execute(
                "UPDATE jobs SET state = ?3, error = NULL, error_kind = NULL, owner_pid = NULL, finished_ms = ?2
                 WHERE id = ?1",
                params![job_id, now_ms(), JobState::Done],
            )?;
            tx.commit()?;
        }
        Ok(())
    }

    // ---- what becomes of rendered pictures ------------------------------------------

    /// [`crate::render::photo_copy`], and a photo unreadable for a reason of its own is
    /// marked `failed` with that reason, so its tile says "Unreadable" and why, and it is
    /// not decoded again until the file changes; the error is [`LibraryError::Unreadable`].
    pub(crate) fn render_photo_copy(
        &self,
        id: MediaId,
        photo: &Path,
        dest: &Path,
        copy: crate::render::PhotoCopy,
    ) -> Result<()> {
        let rendered = crate::render::photo_copy(&self.core.helper, id, photo, dest, copy);
        if let Err(LibraryError::Unreadable { reason, .. }) = &rendered {
            tracing::warn!("{}: unreadable photo: {reason}", photo.display());
            self.core.conn().execute(
                "UPDATE media SET state = ?3, error = ?2 WHERE id = ?1 AND kind = 'photo'",
                params![id, reason, MediaState::Failed],
            )?;
        }
        rendered
    }

    /// A preview of any moment of video `id` for the timeline scrubber (at most 960 px),
    /// rendered on first request and kept in the data directory's `previews/` folder.
    /// Times are rounded to tenths of a second, so dragging back and forth reuses them.
    pub fn moment_preview(&self, id: MediaId, millis: u64) -> Result<PathBuf> {
        let item = self.core.detail(id)?.item;
        if item.kind != MediaKind::Video {
            return Err(LibraryError::NoImage(format!("a moment of {}: it is a photo", item.path.display())));
        }
        let t = millis as f64 / 1000.0;
        if item.duration.is_some_and(|d| t > d + 0.5) {
            return Err(LibraryError::NoImage(format!("{t:.1} s of {}: past its end", item.path.display())));
        }
        if !self.core.in_an_album(&item.path)? {
            return Err(LibraryError::NotInLibrary(item.path));
        }
        let dir = self.core.data_dir.join("previews");
        let out = dir.join(format!("{id}-{}-{}.jpg", item.size, millis / 100));
        if !out.is_file() {
            std::fs::create_dir_all(&dir).map_err(|e| LibraryError::io(&dir, e))?;
            crate::render::moment(&self.core.helper, &item.path, t, &out, crate::render::PREVIEW_SIDE)?;
        }
        Ok(out)
    }
}
