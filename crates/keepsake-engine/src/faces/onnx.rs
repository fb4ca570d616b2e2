//! Loading ONNX Runtime once per process, safely.
//!
//! ort's `load-dynamic` keeps the library in a process-wide slot: the first successful
//! `ort::init_from` wins and later calls silently ignore their path, and any ort call made
//! before a successful load falls back to `ORT_DYLIB_PATH` and *panics* if that fails. ort
//! also allows only one `Environment` per process, even after the first is dropped. This
//! module is the single gate: it checks the file first, loads it once under a lock, keeps
//! the one environment alive for the whole process, and turns every failure into a
//! [`FaceError`] so a missing or broken runtime never panics or aborts.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ort::environment::Environment;

use super::FaceError;

/// ONNX Runtime as loaded into this process: where from, and the environment every
/// session must be created in.
#[derive(Clone)]
pub struct LoadedRuntime {
    /// The library file actually loaded (canonical path).
    pub path: PathBuf,
    /// The runtime's version as it reports it (e.g. "1.31.1"), when it does.
    pub version: Option<String>,
    /// ONNX Runtime's own build description (git commit, build type), for `keepsake doctor`.
    pub build_info: String,
    environment: Environment,
}

impl std::fmt::Debug for LoadedRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedRuntime")
            .field("path", &self.path)
            .field("version", &self.version)
            .field("build_info", &self.build_info)
            .finish_non_exhaustive()
    }
}

impl LoadedRuntime {
    /// The process's one ONNX Runtime environment.
    pub(crate) fn environment(&self) -> &Environment {
        &self.environment
    }
}

/// The runtime loaded so far; `None` until a load succeeds (a failed load leaves it empty,
/// so a later call with a good path can still succeed).
static LOADED: Mutex<Option<LoadedRuntime>> = Mutex::new(None);

/// Loads ONNX Runtime from `library` (once per process) and returns it.
///
/// Calling it again with the same file returns the runtime already loaded. A process can
/// hold only one ONNX Runtime, so asking for a *different* file after one is loaded is a
/// [`FaceError::RuntimeLoad`] naming both, rather than silently using the other one.
pub fn load_onnxruntime(library: &Path) -> Result<LoadedRuntime, FaceError> {
    if !library.is_file() {
        return Err(FaceError::RuntimeMissing { path: library.to_owned() });
    }
    let canonical = library
        .canonicalize()
        .map_err(|e| FaceError::RuntimeLoad { path: library.to_owned(), message: e.to_string() })?;
    // A poisoned lock only means another thread panicked while holding it; the slot
    // itself is always either empty or a fully loaded runtime.
    let mut slot = LOADED.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(loaded) = slot.as_ref() {
        if loaded.path == canonical {
            return Ok(loaded.clone());
        }
        return Err(FaceError::RuntimeLoad {
            path: library.to_owned(),
            message: format!(
                "this process already uses ONNX Runtime from {}; only one can be loaded",
                loaded.path.display()
            ),
        });
    }
    let builder = ort::init_from(&canonical).map_err(|e| FaceError::RuntimeLoad {
        path: library.to_owned(),
        message: format!("{e}{}", not_a_library_hint(&canonical)),
    })?;
    // Keepsake is private by design: never let the runtime send telemetry.
    let environment = builder
        .with_name("keepsake")
        .with_telemetry(false)
        .build()
        .map_err(|e| FaceError::RuntimeLoad { path: library.to_owned(), message: e.to_string() })?;
    let build_info = ort::info().to_owned();
    let version = library_version(&canonical);
    tracing::info!(path = %canonical.display(), ?version, %build_info, "loaded ONNX Runtime");
    let loaded = LoadedRuntime { path: canonical, version, build_info, environment };
    *slot = Some(loaded.clone());
    Ok(loaded)
}

/// " (the file is not a shared library)" when `path` plainly is not one, since the
/// loader's own message can be as terse as "dlopen failed".
fn not_a_library_hint(path: &Path) -> &'static str {
    let mut magic = [0u8; 4];
    let read = std::fs::File::open(path).and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic));
    // ELF (Linux), PE "MZ" (Windows), Mach-O 64-bit and universal (macOS).
    let looks_like_library = read.is_ok()
        && (magic == *b"\x7fELF"
            || magic[..2] == *b"MZ"
            || matches!(magic, [0xcf, 0xfa, 0xed, 0xfe] | [0xca, 0xfe, 0xba, 0xbe]));
    if looks_like_library {
        ""
    } else {
        " (the file is not a shared library)"
    }
}

/// The version string of the ONNX Runtime library at `path` (ort keeps its own copy of
/// it private). Only called after ort has loaded that file, so opening it again just
/// takes another reference to the same loaded library.
fn library_version(path: &Path) -> Option<String> {
    type GetApiBase = unsafe extern "C" fn() -> *const ort::sys::OrtApiBase;
    // SAFETY: `path` is the ONNX Runtime ort has already loaded and checked (it exports
    // `OrtGetApiBase` with this signature); `OrtGetApiBase` returns a pointer to a static
    // struct, and `GetVersionString` a static NUL-terminated string that we copy before
    // our reference to the library is dropped.
    unsafe {
        let library = libloading::Library::new(path).ok()?;
        let get_api_base = library.get::<GetApiBase>(b"OrtGetApiBase").ok()?;
        let base = get_api_base();
        if base.is_null() {
            return None;
        }
        let version = ((*base).GetVersionString)();
        if version.is_null() {
            return None;
        }
        Some(std::ffi::CStr::from_ptr(version).to_string_lossy().into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libraries_are_told_from_other_files() {
        let dir = tempfile::tempdir().unwrap();
        let text = dir.path().join("a.so");
        std::fs::write(&text, "hello").unwrap();
        assert_ne!(not_a_library_hint(&text), "");
        let elf = dir.path().join("b.so");
        std::fs::write(&elf, b"\x7fELF\x02\x01\x01").unwrap();
        assert_eq!(not_a_library_hint(&elf), "");
    }

    #[test]
    fn missing_library_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let err = load_onnxruntime(&dir.path().join("libonnxruntime.so")).unwrap_err();
        assert!(matches!(err, FaceError::RuntimeMissing { .. }), "{err:?}");
    }

    #[test]
    fn text_file_as_library_is_a_load_error() {
        let dir = tempfile::tempdir().unwrap();
        let fake = dir.path().join("libonnxruntime.so");
        std::fs::write(&fake, "this is not a shared library\n").unwrap();
        // Whether or not another test already loaded the real runtime, this is a load
        // error naming the requested file.
        let err = load_onnxruntime(&fake).unwrap_err();
        match err {
            FaceError::RuntimeLoad { path, message } => {
                assert_eq!(path, fake);
                // Either the loader refused it, or another test's runtime is already in.
                assert!(message.contains("not a shared library") || message.contains("already uses"), "{message}");
            }
            other => panic!("expected RuntimeLoad, got {other:?}"),
        }
    }
}
