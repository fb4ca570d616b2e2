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

/// Renders through the engine (one frame, upright, at most [`PREVIEW_SIDE`] pixels).
fn render(video: &std::path::Path, t: f64, out: &std::path::Path) -> Result<(), String> {
    // One engine for every preview; faces are not needed to show a frame.
    static ENGINE: std::sync::OnceLock<keepsake_engine::Engine> = std::sync::OnceLock::new();
    let engine = ENGINE.get_or_init(|| keepsake_engine::Engine::new(keepsake_engine::EngineConfig::without_faces()));
    engine.render_moment(video, t, out, Some(PREVIEW_SIDE)).map(|_| ()).map_err(|e| e.to_string())
}
