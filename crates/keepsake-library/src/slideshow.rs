//! Slideshow export: the chosen media's images in the order they were taken, encoded
//! into one MP4 or animated WebP by a worker (FFmpeg).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::core::Core;
use crate::error::{LibraryError, Result};
use crate::images::ImageStore;
use crate::model::{ImageKey, MediaId, MediaKind};
use crate::protocol::{ExportResult, SlideshowFormat, WorkerRequest};
use crate::worker_process::WorkerFailure;

/// The most media one slideshow may include (400 items is already ~20 minutes of MP4).
pub const MAX_SLIDESHOW_ITEMS: usize = 400;

/// Slideshow export: from [`crate::Library::slideshow`]; cheap to clone.
#[derive(Clone)]
pub struct Slideshow {
    core: Arc<Core>,
    images: ImageStore,
}

impl Slideshow {
    pub(crate) fn new(core: Arc<Core>, images: ImageStore) -> Slideshow {
        Slideshow { core, images }
    }

    /// The images a slideshow of `ids` shows, by date taken (then name): a photo's
    /// thumbnail; a video's cover, then up to two more of its picks. Items without an
    /// image yet (a video not analysed) are left out; none at all is an error.
    pub fn images(&self, ids: &[MediaId]) -> Result<Vec<PathBuf>> {
        if ids.is_empty() {
            return Err(LibraryError::InvalidSlideshow("nothing to put in the slideshow".into()));
        }
        if ids.len() > MAX_SLIDESHOW_ITEMS {
            return Err(LibraryError::InvalidSlideshow(format!(
                "a slideshow can hold at most {MAX_SLIDESHOW_ITEMS} items; select fewer"
            )));
        }
        let mut items = ids.iter().map(|id| self.core.detail(*id)).collect::<Result<Vec<_>>>()?;
        items.sort_by(|a, b| a.item.taken_at.cmp(&b.item.taken_at).then_with(|| a.item.name.cmp(&b.item.name)));
        let mut images = Vec::new();
        for d in &items {
            let keys: Vec<ImageKey> = match d.item.kind {
                MediaKind::Photo => vec![ImageKey::Photo(d.item.id)],
                MediaKind::Video => {
                    let mut keys = vec![ImageKey::Cover(d.item.id)];
                    let cover_rank = d.cover.rank;
                    keys.extend(
                        d.frames
                            .iter()
                            .filter(|f| Some(f.rank) != cover_rank)
                            .take(2)
                            .map(|f| ImageKey::Frame(d.item.id, f.rank)),
                    );
                    keys
                }
            };
            images.extend(keys.iter().filter_map(|k| self.images.image_path(k).ok()));
        }
        if images.is_empty() {
            return Err(LibraryError::InvalidSlideshow(
                "none of these items has an image yet; wait for their covers".into(),
            ));
        }
        Ok(images)
    }

    /// Encodes `images` (from [`Slideshow::images`]) as a slideshow into `out`.
    /// A file already inside an album is never replaced: Keepsake does not touch the
    /// user's photos and videos.
    pub fn export(&self, images: &[PathBuf], out: &Path, format: SlideshowFormat) -> Result<ExportResult> {
        if !out.is_absolute() {
            return Err(LibraryError::InvalidSlideshow(format!("{} is not an absolute path", out.display())));
        }
        if out.exists() && self.core.in_an_album(out)? {
            return Err(LibraryError::InvalidSlideshow(format!(
                "{} is in one of your albums, and Keepsake never replaces your photos and videos; choose another name",
                out.display()
            )));
        }
        // Encoding runs at a few times real time: allow ~4 s per image, and a minute more.
        let timeout = Duration::from_secs(60 + 4 * images.len() as u64);
        let req = WorkerRequest::ExportSlideshow { images: images.to_vec(), out: out.to_owned(), format };
        let response = self.core.helper.request(&req, timeout)?;
        response
            .export
            .ok_or_else(|| LibraryError::Worker(WorkerFailure::Protocol("the worker sent no export report".into())))
    }
}
