//! How the web view draws. WebKitGTK composites pages with OpenGL; on a machine with no
//! GPU that OpenGL is Mesa's software rasterizer (llvmpipe), which costs the app and its
//! web process about 120 MB more than WebKit's own software path and scrolls the 100k
//! grid at 12-16 fps instead of 44-58 (docs/app.md). So where no GPU render node exists,
//! the app asks WebKit for its software path before GTK starts, unless the user already
//! chose either way.

use std::path::Path;

/// The switches WebKitGTK reads at start-up: both off means GPU compositing (its default).
const SWITCHES: [&str; 2] = ["WEBKIT_DISABLE_COMPOSITING_MODE", "WEBKIT_DISABLE_DMABUF_RENDERER"];

/// Where Linux lists GPU devices; a `renderD*` node is one the app could draw with.
const DRI_DIR: &str = "/dev/dri";

/// What the launch decided, for the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rendering {
    /// The user set one of WebKit's switches; left as they are.
    UserChoice,
    /// A GPU render node exists: WebKit composites on the GPU.
    Gpu,
    /// No GPU: WebKit's software path, without OpenGL.
    Software,
}

/// Chooses before GTK starts. It sets environment variables, so it must run first thing
/// in `main`, before GTK or any thread of the app's own starts (the only other thread by
/// then is JavaScriptCore's heap scavenger, started by a library constructor and asleep
/// on its timer).
pub fn choose() -> Rendering {
    if SWITCHES.iter().any(|name| std::env::var_os(name).is_some()) {
        return Rendering::UserChoice;
    }
    if has_render_node(Path::new(DRI_DIR)) {
        return Rendering::Gpu;
    }
    for name in SWITCHES {
        std::env::set_var(name, "1");
    }
    Rendering::Software
}

/// Whether `dir` holds a GPU render node (`renderD128`, …). A missing or unreadable
/// directory means no GPU this process can use.
fn has_render_node(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .map(|entries| entries.flatten().any(|e| e.file_name().to_string_lossy().starts_with("renderD")))
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_render_node_means_a_gpu() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!has_render_node(dir.path()), "empty /dev/dri");
        std::fs::write(dir.path().join("card0"), b"").unwrap();
        assert!(!has_render_node(dir.path()), "a display card without a render node (KMS only)");
        std::fs::write(dir.path().join("renderD128"), b"").unwrap();
        assert!(has_render_node(dir.path()));
        assert!(!has_render_node(&dir.path().join("missing")), "no /dev/dri at all");
    }
}
