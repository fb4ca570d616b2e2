//! Where derived data lives. Keepsake never writes next to a user's files: the
//! database, thumbnails and covers all go under one data directory.

use std::path::PathBuf;

/// Environment variable that moves the data directory (the CLI and app alike).
pub const DATA_DIR_ENV: &str = "KEEPSAKE_DATA_DIR";

/// Errors locating the data directory.
#[derive(Debug, thiserror::Error)]
pub enum PathsError {
    #[error("no home directory to put Keepsake's data in; set {DATA_DIR_ENV}")]
    NoHome,
}

/// The data directory: `$KEEPSAKE_DATA_DIR`, else the platform's data dir
/// (`~/.local/share/keepsake` on Linux). Not created here.
pub fn data_dir() -> Result<PathBuf, PathsError> {
    if let Some(dir) = std::env::var_os(DATA_DIR_ENV).filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    directories::ProjectDirs::from("", "", "keepsake").map(|d| d.data_dir().to_path_buf()).ok_or(PathsError::NoHome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_under_the_platform_data_dir() {
        // Only meaningful when the override is unset in the test environment.
        if std::env::var_os(DATA_DIR_ENV).is_none() {
            let dir = data_dir().expect("home exists in tests");
            assert!(dir.ends_with("keepsake"), "{}", dir.display());
        }
    }
}
