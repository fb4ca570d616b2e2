//! Finding the engine's optional and required pieces on this machine.
//!
//! FFmpeg is linked, so it is always present; ONNX Runtime is loaded at run time
//! (`load-dynamic`) and the models are files, so both may be missing. The engine
//! works without them (image features only) and says so; `keepsake doctor` and the
//! app report what was found, with every model checked against its manifest sha256.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Repository root at build time: where `make setup` puts the runtime and models.
const BUILD_ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

/// Where `make setup` puts ONNX Runtime, relative to the asset root, should the manifest
/// be unreadable.
const DEFAULT_ONNXRUNTIME: &str = ".deps/onnxruntime/libonnxruntime.so.1.31.1";

// The installed detector is built here, not in `faces`: `faces` sits below this module
// (which loads ONNX Runtime through `faces::load_onnxruntime`) and does not know where
// things are installed.
impl crate::faces::FaceDetector {
    /// Loads from where `make setup` (or an installed package) puts things: ONNX Runtime
    /// from `ORT_DYLIB_PATH` or the manifest's pinned copy, models from the asset root's
    /// `models/` — the same places `keepsake doctor` checks.
    pub fn load_installed() -> Result<crate::faces::FaceDetector, crate::faces::FaceError> {
        let manifest = ModelManifest::load(&manifest_path()).ok();
        let onnxruntime =
            onnxruntime_candidate(manifest.as_ref()).unwrap_or_else(|| asset_root().join(DEFAULT_ONNXRUNTIME));
        crate::faces::FaceDetector::load(&onnxruntime, &asset_root().join("models"))
    }
}

/// Errors from reading the manifest or inspecting the runtime.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("cannot read model manifest {path}: {source}")]
    ManifestRead { path: PathBuf, source: std::io::Error },
    #[error("model manifest {path} is not valid: {message}")]
    ManifestParse { path: PathBuf, message: String },
}

/// One file of `models/manifest.toml`: where it comes from and what it must hash to.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ManifestAsset {
    pub name: String,
    pub group: String,
    pub package: String,
    pub version: String,
    pub dest: String,
    pub sha256: String,
    #[serde(default)]
    pub license: String,
}

/// The pinned list of runtime and model files the engine may use.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelManifest {
    #[serde(rename = "asset")]
    pub assets: Vec<ManifestAsset>,
}

impl ModelManifest {
    /// Reads a manifest; paths in it are relative to the folder above `models/`.
    pub fn load(path: &Path) -> Result<Self, RuntimeError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| RuntimeError::ManifestRead { path: path.to_owned(), source })?;
        toml::from_str(&text).map_err(|e| RuntimeError::ManifestParse { path: path.to_owned(), message: e.to_string() })
    }

    /// The asset of this name, if the manifest lists it.
    pub fn asset(&self, name: &str) -> Option<&ManifestAsset> {
        self.assets.iter().find(|a| a.name == name)
    }
}

/// Whether one manifest file is present and intact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssetStatus {
    Ok,
    Missing,
    ChecksumMismatch,
}

/// One manifest file as found on disk.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AssetReport {
    pub name: String,
    pub group: String,
    pub path: PathBuf,
    pub status: AssetStatus,
}

/// FFmpeg library versions, as linked.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FfmpegVersions {
    pub avformat: String,
    pub avcodec: String,
    pub avutil: String,
    pub swscale: String,
}

/// Everything `keepsake doctor` and the app's about panel show about the engine.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RuntimeReport {
    pub ffmpeg: FfmpegVersions,
    /// Where ONNX Runtime was found, if anywhere.
    pub onnxruntime: Option<PathBuf>,
    /// Why ONNX Runtime is unusable, when it is.
    pub onnxruntime_problem: Option<String>,
    /// The version ONNX Runtime reported once actually loaded (e.g. "1.31.1").
    #[serde(default)]
    pub onnxruntime_version: Option<String>,
    pub manifest: PathBuf,
    pub assets: Vec<AssetReport>,
}

impl RuntimeReport {
    /// True when every piece the engine wants is present and intact.
    pub fn complete(&self) -> bool {
        self.onnxruntime.is_some() && self.assets.iter().all(|a| a.status == AssetStatus::Ok)
    }
}

fn version_string(v: u32) -> String {
    format!("{}.{}.{}", v >> 16, (v >> 8) & 0xff, v & 0xff)
}

/// The linked FFmpeg libraries' versions.
pub fn ffmpeg_versions() -> FfmpegVersions {
    // SAFETY: these functions only return compile-time constants of the linked libraries.
    unsafe {
        FfmpegVersions {
            avformat: version_string(ffmpeg_next::ffi::avformat_version()),
            avcodec: version_string(ffmpeg_next::ffi::avcodec_version()),
            avutil: version_string(ffmpeg_next::ffi::avutil_version()),
            swscale: version_string(ffmpeg_next::ffi::swscale_version()),
        }
    }
}

/// The folder holding `models/manifest.toml` and `.deps/`: `KEEPSAKE_HOME` if set,
/// else beside the executable (`../share/keepsake` for an installed package), else
/// the source tree the binary was built from.
pub fn asset_root() -> PathBuf {
    if let Some(home) = std::env::var_os("KEEPSAKE_HOME") {
        return PathBuf::from(home);
    }
    if let Ok(exe) = std::env::current_exe() {
        if let Some(dir) = exe.parent() {
            let installed = dir.join("../share/keepsake");
            if installed.join("models/manifest.toml").is_file() {
                return installed.canonicalize().unwrap_or(installed);
            }
        }
    }
    let root = PathBuf::from(BUILD_ROOT);
    root.canonicalize().unwrap_or(root)
}

/// Path of the model manifest in use.
pub fn manifest_path() -> PathBuf {
    asset_root().join("models/manifest.toml")
}

/// Path of a manifest file (model or runtime), resolved against the asset root.
pub fn asset_path(asset: &ManifestAsset) -> PathBuf {
    asset_root().join(&asset.dest)
}

/// Where to load ONNX Runtime from: `ORT_DYLIB_PATH` if set (even if wrong, so the
/// user sees their setting is broken), else the manifest's pinned runtime.
pub fn onnxruntime_candidate(manifest: Option<&ModelManifest>) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("ORT_DYLIB_PATH") {
        return Some(PathBuf::from(p));
    }
    manifest.and_then(|m| m.asset("onnxruntime")).map(asset_path)
}

fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher)?;
    Ok(hex::encode(hasher.finalize()))
}

fn check_asset(asset: &ManifestAsset) -> AssetReport {
    let path = asset_path(asset);
    let status = match sha256_file(&path) {
        Ok(sum) if sum.eq_ignore_ascii_case(&asset.sha256) => AssetStatus::Ok,
        Ok(_) => AssetStatus::ChecksumMismatch,
        Err(_) => AssetStatus::Missing,
    };
    AssetReport { name: asset.name.clone(), group: asset.group.clone(), path, status }
}

/// Inspects this machine: FFmpeg versions, ONNX Runtime (actually loaded, once per
/// process, and its version), and every manifest file's checksum. Never panics on
/// missing or broken pieces.
pub fn inspect() -> Result<RuntimeReport, RuntimeError> {
    let manifest_path = manifest_path();
    let manifest = ModelManifest::load(&manifest_path)?;
    let assets: Vec<AssetReport> = manifest.assets.iter().map(check_asset).collect();
    let (onnxruntime, onnxruntime_problem) = match onnxruntime_candidate(Some(&manifest)) {
        None => (None, Some("the manifest names no onnxruntime".to_owned())),
        Some(p) if !p.is_file() => (None, Some(format!("no ONNX Runtime library at {}", p.display()))),
        Some(p) => {
            let from_env = std::env::var_os("ORT_DYLIB_PATH").is_some();
            let pinned = assets.iter().find(|a| a.name == "onnxruntime");
            match pinned {
                Some(a) if !from_env && a.status == AssetStatus::ChecksumMismatch => {
                    (None, Some(format!("{} does not match its manifest checksum", p.display())))
                }
                // Found is not enough: load it (once per process), so a broken library
                // or a wrong ORT_DYLIB_PATH is reported here rather than failing later.
                _ => match crate::faces::load_onnxruntime(&p) {
                    Ok(_) => (Some(p), None),
                    Err(e) => (None, Some(e.to_string())),
                },
            }
        }
    };
    // Already loaded above, so this only reads the version back.
    let onnxruntime_version =
        onnxruntime.as_deref().and_then(|p| crate::faces::load_onnxruntime(p).ok()).and_then(|loaded| loaded.version);
    Ok(RuntimeReport {
        ffmpeg: ffmpeg_versions(),
        onnxruntime,
        onnxruntime_problem,
        onnxruntime_version,
        manifest: manifest_path,
        assets,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_dotted_triples() {
        let v = ffmpeg_versions();
        assert_eq!(v.avcodec.split('.').count(), 3);
        assert!(!v.avcodec.starts_with("0."), "linked avcodec reports {}", v.avcodec);
    }

    #[test]
    fn checksum_mismatch_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("m.onnx");
        std::fs::write(&file, b"not a model").unwrap();
        let asset = ManifestAsset {
            name: "m".into(),
            group: "models".into(),
            package: "p".into(),
            version: "1".into(),
            dest: file.to_string_lossy().into_owned(),
            sha256: "00".repeat(32),
            license: String::new(),
        };
        // An absolute dest is joined as itself.
        assert_eq!(check_asset(&asset).status, AssetStatus::ChecksumMismatch);
        let missing = ManifestAsset { dest: dir.path().join("nope").to_string_lossy().into(), ..asset };
        assert_eq!(check_asset(&missing).status, AssetStatus::Missing);
    }
}
