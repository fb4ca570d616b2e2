//! Slideshow export: the chosen media's images, by date taken, encoded by
//! `keepsake-slideshow` into the data directory's `exports/` folder.

use keepsake_library::{ImageKey, MediaKind};
use keepsake_slideshow::{export_slideshow as encode, OutputFormat, SlideshowOptions};
use tauri::{AppHandle, Manager};

use super::{blocking, valid_id, CommandError};
use crate::state::AppState;

/// The most media one export may include (a 400-item slideshow is already ~20 minutes).
const MAX_ITEMS: usize = 400;

/// Encodes a slideshow of `ids` as `format` ("mp4" or "webp"); returns the file written.
#[tauri::command]
pub async fn export_slideshow(app: AppHandle, ids: Vec<i64>, format: String) -> Result<String, CommandError> {
    let format = match format.as_str() {
        "mp4" => OutputFormat::Mp4,
        "webp" => OutputFormat::WebP,
        other => return Err(CommandError(format!("unknown slideshow format {other:?}; use mp4 or webp"))),
    };
    if ids.is_empty() {
        return Err(CommandError("nothing to put in the slideshow".into()));
    }
    if ids.len() > MAX_ITEMS {
        return Err(CommandError(format!("a slideshow can hold at most {MAX_ITEMS} items; select fewer")));
    }
    let ids = ids.into_iter().map(valid_id).collect::<Result<Vec<_>, _>>()?;
    blocking(move || {
        let state = app.state::<AppState>();
        let mut items = ids.iter().map(|id| state.library.media_by_id(*id)).collect::<Result<Vec<_>, _>>()?;
        items.sort_by(|a, b| a.item.taken_at.cmp(&b.item.taken_at).then_with(|| a.item.name.cmp(&b.item.name)));
        let mut images = Vec::new();
        for d in &items {
            let keys: Vec<ImageKey> = match d.item.kind {
                MediaKind::Photo => vec![ImageKey::Photo(d.item.id)],
                MediaKind::Video => {
                    let mut keys = vec![ImageKey::Cover(d.item.id)];
                    let cover_rank = d.cover.rank;
                    keys.extend(d.frames.iter().filter(|f| Some(f.rank) != cover_rank).take(2).map(|f| ImageKey::Frame(d.item.id, f.rank)));
                    keys
                }
            };
            images.extend(keys.iter().filter_map(|k| state.library.image_path(k).ok()));
        }
        if images.is_empty() {
            return Err(CommandError("none of these items has an image yet; wait for their covers".into()));
        }
        let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        let out = state.data_dir.join("exports").join(format!("slideshow-{stamp}.{}", format.extension()));
        let report = encode(&images, &out, &SlideshowOptions::for_format(format)).map_err(CommandError::from_display)?;
        Ok(report.path.to_string_lossy().into_owned())
    })
    .await
}
