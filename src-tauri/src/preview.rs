//! On-demand previews of any moment of a video for the timeline scrubber, cached in the
//! data directory's `previews/` folder (small JPEGs, rendered by the engine).

use std::path::PathBuf;

use keepsake_library::MediaKind;

use crate::state::AppState;

/// Longest side of a scrubber preview.
const PREVIEW_SIDE: u32 = 960;

/// The preview image of video `id` at `millis`, rendering it if needed.
pub fn moment(state: &AppState, id: i64, millis: u64) -> Result<PathBuf, String> {
    let detail = state.library.media_by_id(id).map_err(|e| e.to_string())?;
    if detail.item.kind != MediaKind::Video {
        return Err(format!("{id} is not a video"));
    }
    if !state.inside_a_root(&detail.item.path) {
        return Err("not a video inside an album".into());
    }
    let t = millis as f64 / 1000.0;
    if detail.item.duration.is_some_and(|d| t > d + 0.5) {
        return Err(format!("{t:.1} s is past the end of the video"));
    }
    let dir = state.data_dir.join("previews");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    // Round to tenths so dragging reuses renders.
    let out = dir.join(format!("{id}-{}-{}.jpg", detail.item.size, millis / 100));
    if !out.is_file() {
        render(&detail.item.path, t, &out)?;
    }
    Ok(out)
}

/// Renders through the engine's `render_moment` (wired in when the engine branch lands;
/// until then the scrubber says the preview is unavailable).
fn render(video: &std::path::Path, t: f64, out: &std::path::Path) -> Result<(), String> {
    let _ = (video, t, out, PREVIEW_SIDE);
    Err("previewing a moment needs the engine's render_moment, not in this build yet".into())
}
