//! [`export_slideshow`]: album images → one file, each image held a few seconds and
//! cross-faded into the next, letterboxed onto a fixed canvas.

use std::path::{Path, PathBuf};

use image::{imageops, RgbImage};

use crate::error::SlideshowError;
use crate::writer::{OutputFormat, VideoWriter};

/// How a slideshow is laid out in time and space.
#[derive(Debug, Clone, PartialEq)]
pub struct SlideshowOptions {
    pub format: OutputFormat,
    pub width: u32,
    pub height: u32,
    pub fps: i32,
    /// Seconds each image is shown at full strength.
    pub hold_s: f32,
    /// Seconds of cross-fade between two images.
    pub fade_s: f32,
}

impl SlideshowOptions {
    /// Sensible defaults per format: 720p at 25 fps for MP4; a small, light 10 fps
    /// animation for WebP (which has no inter-frame compression worth the name).
    pub fn for_format(format: OutputFormat) -> Self {
        match format {
            OutputFormat::Mp4 => {
                SlideshowOptions { format, width: 1280, height: 720, fps: 25, hold_s: 2.5, fade_s: 0.6 }
            }
            OutputFormat::WebP => {
                SlideshowOptions { format, width: 480, height: 270, fps: 8, hold_s: 1.5, fade_s: 0.5 }
            }
        }
    }
}

/// What an export wrote, and which inputs it had to leave out.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportReport {
    pub path: PathBuf,
    pub frames: u64,
    pub slides: usize,
    /// Images that could not be read, with the reason; the export went on without them.
    pub skipped: Vec<(PathBuf, String)>,
}

/// Writes `images` (in order) as a slideshow to `out`. Unreadable images are skipped
/// and reported; if none can be read, nothing is written.
pub fn export_slideshow(
    images: &[PathBuf],
    out: &Path,
    opts: &SlideshowOptions,
) -> Result<ExportReport, SlideshowError> {
    let mut slides = Vec::new();
    let mut skipped = Vec::new();
    for path in images {
        match image::open(path) {
            Ok(img) => slides.push(letterbox(&img.to_rgb8(), opts.width, opts.height)),
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "slideshow: skipping unreadable image");
                skipped.push((path.clone(), e.to_string()));
            }
        }
    }
    if slides.is_empty() {
        return Err(SlideshowError::NoUsableImages(images.len()));
    }
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir).map_err(|source| SlideshowError::Io { path: dir.to_path_buf(), source })?;
    }
    let tmp = out.with_extension(format!("partial.{}", opts.format.extension()));
    let result = write_frames(&slides, &tmp, opts);
    match result {
        Ok(frames) => {
            std::fs::rename(&tmp, out).map_err(|source| SlideshowError::Io { path: out.to_path_buf(), source })?;
            Ok(ExportReport { path: out.to_path_buf(), frames, slides: slides.len(), skipped })
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

fn write_frames(slides: &[RgbImage], out: &Path, opts: &SlideshowOptions) -> Result<u64, SlideshowError> {
    let mut writer = VideoWriter::create(out, opts.format, opts.width, opts.height, opts.fps)?;
    let hold = ((opts.hold_s * opts.fps as f32).round() as usize).max(1);
    let fade = (opts.fade_s * opts.fps as f32).round() as usize;
    let loops = slides.len() > 1;
    for (i, slide) in slides.iter().enumerate() {
        for _ in 0..hold {
            writer.push(slide)?;
        }
        // Fade into the next slide; the last fades back into the first so a looping
        // player (and the animated WebP) wraps around seamlessly.
        let next = match (i + 1 < slides.len(), loops) {
            (true, _) => &slides[i + 1],
            (false, true) => &slides[0],
            (false, false) => continue,
        };
        for f in 1..=fade {
            writer.push(&blend(slide, next, f as f32 / (fade + 1) as f32))?;
        }
    }
    writer.finish()
}

/// Fits `img` inside `w`×`h` without cropping, centred on black.
pub(crate) fn letterbox(img: &RgbImage, w: u32, h: u32) -> RgbImage {
    let scale = (w as f32 / img.width().max(1) as f32).min(h as f32 / img.height().max(1) as f32);
    let nw = ((img.width() as f32 * scale).round() as u32).clamp(1, w);
    let nh = ((img.height() as f32 * scale).round() as u32).clamp(1, h);
    let resized = imageops::resize(img, nw, nh, imageops::FilterType::Triangle);
    let mut canvas = RgbImage::new(w, h);
    imageops::replace(&mut canvas, &resized, ((w - nw) / 2) as i64, ((h - nh) / 2) as i64);
    canvas
}

/// `a` faded towards `b` by `t` (0 = all `a`, 1 = all `b`).
pub(crate) fn blend(a: &RgbImage, b: &RgbImage, t: f32) -> RgbImage {
    let mut out = a.clone();
    for (o, q) in out.iter_mut().zip(b.as_raw().iter()) {
        *o = (*o as f32 * (1.0 - t) + *q as f32 * t).round() as u8;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn solid(path: &Path, rgb: [u8; 3]) {
        RgbImage::from_pixel(320, 240, image::Rgb(rgb)).save(path).unwrap();
    }

    fn probe(path: &Path) -> String {
        let out = Command::new("ffprobe")
            .args([
                "-v",
                "error",
                "-count_frames",
                "-select_streams",
                "v:0",
                "-show_entries",
                "stream=codec_name,width,height,nb_read_frames",
                "-of",
                "csv=p=0",
            ])
            .arg(path)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Mean colour of the frame at `t` seconds, decoded by the ffmpeg CLI.
    fn colour_at(path: &Path, t: f32) -> [f32; 3] {
        let out = Command::new("ffmpeg")
            .args(["-v", "error", "-ss", &t.to_string(), "-i"])
            .arg(path)
            .args(["-frames:v", "1", "-vf", "scale=1:1:flags=area", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
            .output()
            .unwrap();
        assert_eq!(out.stdout.len(), 3, "{}", String::from_utf8_lossy(&out.stderr));
        [out.stdout[0] as f32, out.stdout[1] as f32, out.stdout[2] as f32]
    }

    #[test]
    fn mp4_holds_each_image_in_order_and_skips_unreadable_ones() {
        let dir = tempfile::tempdir().unwrap();
        let red = dir.path().join("red.png");
        let blue = dir.path().join("blue.jpg");
        let bad = dir.path().join("notes.jpg");
        solid(&red, [220, 30, 30]);
        solid(&blue, [30, 30, 220]);
        std::fs::write(&bad, b"not an image").unwrap();
        let out = dir.path().join("show.mp4");
        let opts =
            SlideshowOptions { format: OutputFormat::Mp4, width: 320, height: 180, fps: 10, hold_s: 1.0, fade_s: 0.5 };
        let report = export_slideshow(&[red, bad.clone(), blue], &out, &opts).unwrap();
        assert_eq!(report.slides, 2);
        assert_eq!(report.skipped.len(), 1);
        assert_eq!(report.skipped[0].0, bad);
        // 2 slides × (10 held + 5 fading) frames.
        assert_eq!(report.frames, 30);
        assert_eq!(probe(&out), "h264,320,180,30");
        let first = colour_at(&out, 0.3);
        let second = colour_at(&out, 1.8);
        assert!(first[0] > 150.0 && first[2] < 80.0, "first slide should be red: {first:?}");
        assert!(second[2] > 150.0 && second[0] < 80.0, "second slide should be blue: {second:?}");
        assert!(!dir.path().join("show.partial.mp4").exists());
    }

    #[test]
    fn animated_webp_has_every_frame() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.png");
        let b = dir.path().join("b.png");
        solid(&a, [250, 200, 40]);
        solid(&b, [40, 160, 90]);
        let out = dir.path().join("show.webp");
        let opts =
            SlideshowOptions { format: OutputFormat::WebP, width: 160, height: 90, fps: 4, hold_s: 1.0, fade_s: 0.5 };
        let report = export_slideshow(&[a, b], &out, &opts).unwrap();
        assert_eq!(report.frames, 12);
        let bytes = std::fs::read(&out).unwrap();
        assert_eq!(&bytes[0..4], b"RIFF");
        assert_eq!(&bytes[8..12], b"WEBP");
        // An animation: an ANIM chunk and an ANMF chunk per distinct frame (libwebp
        // merges identical held frames): both slides and the four fade frames.
        let anmf = bytes.windows(4).filter(|w| w == b"ANMF").count();
        assert!(bytes.windows(4).any(|w| w == b"ANIM"));
        assert!((6..=12).contains(&anmf), "{anmf} frames");
    }

    #[test]
    fn refuses_when_no_image_is_readable() {
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("empty.png");
        std::fs::write(&bad, b"").unwrap();
        let out = dir.path().join("show.mp4");
        let err = export_slideshow(&[bad], &out, &SlideshowOptions::for_format(OutputFormat::Mp4)).unwrap_err();
        assert!(matches!(err, SlideshowError::NoUsableImages(1)), "{err}");
        assert!(!out.exists());
    }

    #[test]
    fn letterbox_keeps_the_whole_image() {
        let tall = RgbImage::from_pixel(100, 200, image::Rgb([255, 255, 255]));
        let boxed = letterbox(&tall, 200, 100);
        assert_eq!(boxed.dimensions(), (200, 100));
        assert_eq!(boxed.get_pixel(5, 50).0, [0, 0, 0]);
        assert_eq!(boxed.get_pixel(100, 50).0, [255, 255, 255]);
    }
}
