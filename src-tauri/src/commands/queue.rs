//! The analysis queue as the toolbar's progress bar sees it.

use keepsake_library::QueueProgress;
use tauri::State;

use super::CommandError;
use crate::state::AppState;

/// Progress right now (the UI then follows `progress` events).
#[tauri::command(async)]
pub fn queue_progress(state: State<'_, AppState>) -> Result<QueueProgress, CommandError> {
    Ok(state.library.queue().progress()?)
}

/// Pauses or resumes analysis; returns the new progress.
#[tauri::command(async)]
pub fn set_queue_paused(state: State<'_, AppState>, paused: bool) -> Result<QueueProgress, CommandError> {
    let queue = state.library.queue();
    if paused {
        queue.pause()?;
    } else {
        queue.resume()?;
    }
    Ok(queue.progress()?)
}
