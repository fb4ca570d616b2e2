//! The worker's bridge to the engine's public API: engine types in, protocol types out.

use std::path::Path;

use keepsake_library::protocol::{AnalysisResult, ProbeResult};

/// The engine as the worker uses it (created once per worker process).
pub struct WorkerEngine {}

impl WorkerEngine {
    pub fn new() -> Self {
        WorkerEngine {}
    }

    pub fn probe(&mut self, video: &Path) -> Result<ProbeResult, String> {
        Err(format!("{}: the engine is not built into this keepsake yet", video.display()))
    }

    pub fn analyze(&mut self, video: &Path, out_dir: &Path, count: u32) -> Result<AnalysisResult, String> {
        let _ = (out_dir, count);
        Err(format!("{}: the engine is not built into this keepsake yet", video.display()))
    }
}
