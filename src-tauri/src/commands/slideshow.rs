//! Slideshow export: the library gathers the chosen media's images and a worker encodes
//! them into a file the user names in the native save dialog.

use std::path::PathBuf;

use keepsake_library::SlideshowFormat;
use tauri::{AppHandle, Manager};
use tauri_plugin_dialog::DialogExt;

use super::{blocking, valid_id, CommandError};
use crate::state::AppState;

/// Encodes a slideshow of `ids` as `format` ("mp4" or "webp") into a file the user names
/// in the native save dialog (the name suggested from `title`, in their Videos or
/// Pictures folder). Returns the file written, or nothing if they cancelled. The path
/// comes from the dialog, never from the page, and a file already in an album is never
/// replaced.
#[tauri::command]
pub async fn export_slideshow(
    app: AppHandle,
    ids: Vec<i64>,
    format: String,
    title: Option<String>,
) -> Result<Option<String>, CommandError> {
    let format = SlideshowFormat::parse(&format)
        .ok_or_else(|| CommandError::invalid(format!("unknown slideshow format {format:?}; use mp4 or webp")))?;
    let ids = ids.into_iter().map(valid_id).collect::<Result<Vec<_>, _>>()?;
    blocking(move || {
        let state = app.state::<AppState>();
        // Checked before the dialog: nobody should name a file for an export that cannot run.
        let images = state.library.slideshow().images(&ids)?;
        let Some(out) = choose_destination(&app, format, title.as_deref())? else {
            return Ok(None);
        };
        let report = state.library.slideshow().export(&images, &out, format)?;
        Ok(Some(report.path.to_string_lossy().into_owned()))
    })
    .await
}

/// Asks the user where to save, in the native dialog. `None` when they cancel.
fn choose_destination(
    app: &AppHandle,
    format: SlideshowFormat,
    title: Option<&str>,
) -> Result<Option<PathBuf>, CommandError> {
    let (label, folder) = match format {
        SlideshowFormat::Mp4 => ("MP4 video", app.path().video_dir()),
        SlideshowFormat::Webp => ("Animated WebP", app.path().picture_dir()),
    };
    let mut dialog = app
        .dialog()
        .file()
        .set_title("Export slideshow")
        .set_file_name(format!("{}.{}", suggested_name(title), format.extension()))
        .add_filter(label, &[format.extension()]);
    // Without a Videos (or Pictures) folder, the home folder rather than wherever the app
    // was started from.
    if let Some(folder) = folder.ok().filter(|f| f.is_dir()).or_else(|| app.path().home_dir().ok()) {
        dialog = dialog.set_directory(folder);
    }
    let Some(chosen) = dialog.blocking_save_file() else {
        return Ok(None);
    };
    let path = chosen.into_path().map_err(CommandError::io)?;
    Ok(Some(with_extension(path, format)))
}

/// A file name from the slideshow's title ("Summer 2024", "12 selected"): no path
/// separators or control characters, at most 80 characters.
fn suggested_name(title: Option<&str>) -> String {
    let cleaned: String = title
        .unwrap_or("")
        .chars()
        .map(|c| if c == '/' || c == '\\' || c.is_control() { ' ' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    // No leading dot: the file would be hidden.
    let cleaned: String =
        cleaned.trim_start_matches(|c: char| c == '.' || c.is_whitespace()).chars().take(80).collect();
    if cleaned.trim().is_empty() {
        "Keepsake slideshow".to_owned()
    } else {
        format!("{} slideshow", cleaned.trim())
    }
}

/// `path` ending in the format's extension: a name typed without it ("Summer") or with
/// dots of its own ("Summer.2024") gets it added.
fn with_extension(path: PathBuf, format: SlideshowFormat) -> PathBuf {
    let ext = format.extension();
    if path.extension().is_some_and(|e| e.eq_ignore_ascii_case(ext)) {
        return path;
    }
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(format!(".{ext}"));
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_the_title_without_path_tricks() {
        assert_eq!(suggested_name(Some("Summer 2024")), "Summer 2024 slideshow");
        assert_eq!(suggested_name(Some("../../etc/passwd")), "etc passwd slideshow");
        assert_eq!(suggested_name(Some(".hidden")), "hidden slideshow");
        assert_eq!(suggested_name(Some("a/b\\c\nd")), "a b c d slideshow");
        assert_eq!(suggested_name(Some("   ")), "Keepsake slideshow");
        assert_eq!(suggested_name(None), "Keepsake slideshow");
        assert_eq!(suggested_name(Some(&"x".repeat(300))).chars().count(), 80 + " slideshow".len());
    }

    #[test]
    fn the_chosen_file_ends_in_the_format_extension() {
        let p = |s: &str| PathBuf::from(s);
        assert_eq!(with_extension(p("/home/a/Videos/Summer"), SlideshowFormat::Mp4), p("/home/a/Videos/Summer.mp4"));
        assert_eq!(
            with_extension(p("/home/a/Videos/Summer.2024"), SlideshowFormat::Mp4),
            p("/home/a/Videos/Summer.2024.mp4")
        );
        assert_eq!(
            with_extension(p("/home/a/Videos/Summer.MP4"), SlideshowFormat::Mp4),
            p("/home/a/Videos/Summer.MP4")
        );
        assert_eq!(
            with_extension(p("/home/a/Pictures/loop.mp4"), SlideshowFormat::Webp),
            p("/home/a/Pictures/loop.mp4.webp")
        );
    }
}
