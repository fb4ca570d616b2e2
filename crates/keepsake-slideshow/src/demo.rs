//! The first-launch demo album: a few short generated videos (each with a black
//! opening, a fade and three distinct scenes, so the engine has real choices to make)
//! and a few photos, written into a folder the caller names (the library keeps it in the
//! data directory). Nothing here comes from the user, and deleting the folder removes it
//! all.

use std::path::{Path, PathBuf};

use crate::error::SlideshowError;
use crate::paint::{darken, landscape, PALETTES};
use crate::writer::{OutputFormat, VideoWriter};

const W: u32 = 640;
const H: u32 = 360;
const FPS: i32 = 25;

struct DemoVideo {
    name: &'static str,
    /// Palette index of each scene, in order.
    scenes: [usize; 3],
    seed: f32,
    seconds_per_scene: f32,
    /// Unix time the clip pretends to be taken at (file mtime).
    taken: u64,
}

const VIDEOS: [DemoVideo; 3] = [
    DemoVideo { name: "Morning walk.mp4", scenes: [0, 4, 1], seed: 0.7, seconds_per_scene: 2.0, taken: 1_688_000_000 },
    DemoVideo { name: "Beach day.mp4", scenes: [1, 2, 0], seed: 2.3, seconds_per_scene: 2.0, taken: 1_690_500_000 },
    DemoVideo { name: "Winter trip.mp4", scenes: [3, 4, 2], seed: 4.1, seconds_per_scene: 2.0, taken: 1_702_000_000 },
];

const PHOTOS: [(&str, usize, f32, u64); 3] = [
    ("Golden hour.jpg", 2, 1.1, 1_689_000_000),
    ("Lake view.jpg", 1, 3.3, 1_691_000_000),
    ("First snow.jpg", 3, 5.5, 1_701_000_000),
];

/// Writes the demo album into the folder `dir` (replacing an earlier or partial one; it
/// is built beside it and renamed into place, so a crash never leaves half an album)
/// and returns it.
pub fn generate(dir: &Path) -> Result<PathBuf, SlideshowError> {
    let dir = dir.to_path_buf();
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "demo".into());
    let staging = dir.with_file_name(format!(".{name}.partial"));
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging).map_err(|source| SlideshowError::Io { path: staging.clone(), source })?;
    for v in &VIDEOS {
        let path = staging.join(v.name);
        write_video(&path, v)?;
        set_mtime(&path, v.taken);
    }
    for (name, palette, seed, taken) in PHOTOS {
        let path = staging.join(name);
        let img = landscape(1600, 1067, &PALETTES[palette], seed, 0.0);
        img.save(&path).map_err(|source| SlideshowError::Image { path: path.clone(), source })?;
        set_mtime(&path, taken);
    }
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::rename(&staging, &dir).map_err(|source| SlideshowError::Io { path: dir.clone(), source })?;
    Ok(dir)
}

fn write_video(path: &Path, v: &DemoVideo) -> Result<(), SlideshowError> {
    let mut writer = VideoWriter::create(path, OutputFormat::Mp4, W, H, FPS)?;
    let per_scene = (v.seconds_per_scene * FPS as f32) as usize;
    // Half a second of black, then the first scene fades in: a classic bad first frame.
    let black_frames = FPS as usize / 2;
    let fade_frames = FPS as usize / 2;
    let black = image::RgbImage::new(W, H);
    for _ in 0..black_frames {
        writer.push(&black)?;
    }
    for (s, palette) in v.scenes.iter().enumerate() {
        for f in 0..per_scene {
            let t = f as f32 / FPS as f32;
            let mut frame = landscape(W, H, &PALETTES[*palette], v.seed + s as f32 * 1.9, t);
            if s == 0 && f < fade_frames {
                darken(&mut frame, 1.0 - f as f32 / fade_frames as f32);
            }
            writer.push(&frame)?;
        }
    }
    writer.finish()?;
    Ok(())
}

/// Gives a generated file a plausible "taken" time (the library falls back to mtime).
fn set_mtime(path: &Path, unix: u64) {
    let when = std::time::UNIX_EPOCH + std::time::Duration::from_secs(unix);
    if let Ok(f) = std::fs::File::options().write(true).open(path) {
        let _ = f.set_modified(when);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    #[test]
    fn writes_three_decodable_videos_and_three_photos() {
        let data = tempfile::tempdir().unwrap();
        let dir = generate(&data.path().join("Demo album")).unwrap();
        assert_eq!(dir, data.path().join("Demo album"));
        let mut names: Vec<String> =
            std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        assert_eq!(
            names,
            [
                "Beach day.mp4",
                "First snow.jpg",
                "Golden hour.jpg",
                "Lake view.jpg",
                "Morning walk.mp4",
                "Winter trip.mp4"
            ]
        );
        let out = Command::new("ffprobe")
            .args(["-v", "error", "-show_entries", "format=duration:stream=codec_name,width,height", "-of", "csv=p=0"])
            .arg(dir.join("Beach day.mp4"))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("h264,640,360"), "{text}");
        let duration: f32 = text.lines().last().unwrap().trim().parse().unwrap();
        assert!((duration - 6.5).abs() < 0.2, "{duration}");
        let photo = image::open(dir.join("Lake view.jpg")).unwrap();
        assert_eq!((photo.width(), photo.height()), (1600, 1067));
        // Scenes differ: the first and last scene of a clip are not the same picture.
        let a = landscape(64, 36, &PALETTES[1], 2.3, 0.0);
        let b = landscape(64, 36, &PALETTES[0], 2.3 + 2.0 * 1.9, 0.0);
        assert_ne!(a, b);
        assert!(!data.path().join(".Demo album.partial").exists());
    }
}
