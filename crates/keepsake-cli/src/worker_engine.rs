//! The worker's bridge to the engine's public API: engine types in, protocol types out.

use std::path::Path;

use keepsake_engine::{AnalyzeOptions, Engine, EngineConfig, VideoInfo};
use keepsake_library::protocol::{AnalysisResult, FrameResult, ProbeResult};

/// The engine as the worker uses it: created once per worker process (loading the
/// face model once), reused for every request.
pub struct WorkerEngine {
    engine: Engine,
}

fn probe_result(info: &VideoInfo) -> ProbeResult {
    ProbeResult {
        duration: info.duration,
        width: info.width,
        height: info.height,
        rotation: info.rotation,
        codec: Some(info.codec.clone()).filter(|c| !c.is_empty()),
        created_at: info.created_at.as_deref().and_then(keepsake_library::taken::parse_datetime),
    }
}

impl WorkerEngine {
    pub fn new() -> Self {
        WorkerEngine { engine: Engine::new(EngineConfig::discover()) }
    }

    pub fn probe(&mut self, video: &Path) -> Result<ProbeResult, String> {
        self.engine.probe(video).map(|i| probe_result(&i)).map_err(|e| e.to_string())
    }

    pub fn analyze(&mut self, video: &Path, out_dir: &Path, count: u32) -> Result<AnalysisResult, String> {
        let mut opts = AnalyzeOptions::new(out_dir);
        opts.count = count.max(1) as usize;
        let sel = self.engine.analyze(video, &opts).map_err(|e| e.to_string())?;
        Ok(AnalysisResult {
            info: probe_result(&sel.info),
            frames: sel
                .frames
                .iter()
                .map(|p| FrameResult {
                    rank: p.rank,
                    time: p.time,
                    score: p.score as f64,
                    path: p.path.clone(),
                    width: p.width,
                    height: p.height,
                    reasons: serde_json::to_value(&p.reasons).unwrap_or_default(),
                })
                .collect(),
            curve: serde_json::to_value(&sel.curve).unwrap_or_default(),
        })
    }
}
