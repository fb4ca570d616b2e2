//! Keepsake's album library: album roots, the SQLite index, the job queue that feeds
//! the engine, and cover overrides. Free of Tauri so the CLI and tests use it alone.
//!
//! Public surface:
//! - [`paths`]: where Keepsake keeps its derived data.

pub mod paths;
