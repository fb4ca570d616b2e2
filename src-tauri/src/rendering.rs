//! How the web view draws. WebKitGTK composites pages with OpenGL; on a machine with no
//! GPU that OpenGL is Mesa's software rasterizer (llvmpipe), which costs the app and its
//! web process about 120 MB more than WebKit's own software path and scrolls the 100k
//! grid at 12-16 fps instead of 44-58 (docs/app.md). So where no GPU render node exists,
//! the app asks WebKit for its software path before GTK starts, unless the user already
//! chose either way. On that path nothing in the window's own process draws with OpenGL,
//! so it does not load Mesa at all (see [`SOFTWARE_ONLY`]).

use std::path::Path;

/// The switches WebKitGTK reads at start-up: both off means GPU compositing (its default).
const SWITCHES: [&str; 2] = ["WEBKIT_DISABLE_COMPOSITING_MODE", "WEBKIT_DISABLE_DMABUF_RENDERER"];

/// Set as well on the software path, each unless the user set it. GTK probes GLX when it
/// opens the display, and WebKit's window side asks EGL for the GPU's render node before
/// it starts its web process; on Mesa's software rasterizer each loads LLVM: 20 MiB of
/// the app process's memory (9 MiB of it its own relocated copy) for a GL nobody in
/// that process uses. Without them the app takes 75 MiB instead of 100 at launch, and
/// app + WebKit 238 instead of 257 (docs/app.md). The web process still opens EGL
/// itself: WebKit 2.50 does not start without it.
const SOFTWARE_ONLY: [(&str, &str); 2] = [
    // GTK's own switch: no GL contexts for this process (GTK 3.16+).
    ("GDK_GL", "disable"),
    // "No render node" said up front, so WebKit does not start EGL to look for one; the
    // web process matches it against the machine's DRM devices, of which there are none.
    ("WEBKIT_WEB_RENDER_DEVICE_FILE", "none"),
];

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
    for (name, value) in SOFTWARE_ONLY {
        if std::env::var_os(name).is_none() {
            std::env::set_var(name, value);
        }
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
