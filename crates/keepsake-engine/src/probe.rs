//! Opening a video and reading its container facts (no picture decoding).
//!
//! Bad input is classified here, before any decoding: missing, empty, not media at all,
//! or media without a video stream. Each becomes its own [`EngineError`] variant.

use std::path::Path;
use std::sync::Once;

use ffmpeg_next as ffmpeg;
use ffmpeg::format::context::Input;
use ffmpeg::media::Type;

use crate::{EngineError, VideoInfo};

static INIT: Once = Once::new();

/// Initialises FFmpeg once and silences its console logging (errors come back as values).
pub(crate) fn init_ffmpeg() {
    INIT.call_once(|| {
        let _ = ffmpeg::init();
        ffmpeg::util::log::set_level(ffmpeg::util::log::Level::Fatal);
    });
}

/// Checks the file exists and is non-empty, then opens it with FFmpeg.
pub(crate) fn open_input(path: &Path) -> Result<Input, EngineError> {
    init_ffmpeg();
    let meta = std::fs::metadata(path).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => EngineError::NotFound { path: path.to_owned() },
        _ => EngineError::Io { path: path.to_owned(), source },
    })?;
    if meta.is_dir() {
        return Err(EngineError::NotMedia { path: path.to_owned(), reason: "is a folder".into() });
    }
    if meta.len() == 0 {
        return Err(EngineError::Empty { path: path.to_owned() });
    }
    // Check readability ourselves so a permission problem is not reported as "not media".
    if let Err(source) = std::fs::File::open(path) {
        return Err(EngineError::Io { path: path.to_owned(), source });
    }
    ffmpeg::format::input(&path).map_err(|e| EngineError::NotMedia {
        path: path.to_owned(),
        reason: e.to_string(),
    })
}

/// Index of the video stream a viewer would see (skips cover-art pictures).
pub(crate) fn video_stream_index(input: &Input, path: &Path) -> Result<usize, EngineError> {
    let is_cover = |s: &ffmpeg::format::stream::Stream| {
        s.disposition().contains(ffmpeg::format::stream::Disposition::ATTACHED_PIC)
    };
    if let Some(s) = input.streams().best(Type::Video) {
        if !is_cover(&s) {
            return Ok(s.index());
        }
    }
    input
        .streams()
        .find(|s| s.parameters().medium() == Type::Video && !is_cover(s))
        .map(|s| s.index())
        .ok_or_else(|| EngineError::NoVideoStream { path: path.to_owned() })
}

/// Clockwise degrees to turn stored frames upright, from the stream's display matrix.
fn rotation_of(stream: &ffmpeg::format::stream::Stream) -> i32 {
    for sd in stream.side_data() {
        if sd.kind() == ffmpeg::codec::packet::side_data::Type::DisplayMatrix {
            let data = sd.data();
            if data.len() >= 36 {
                // SAFETY: the display matrix is 9 int32 values (36 bytes), checked above;
                // av_display_rotation_get only reads them.
                let ccw = unsafe { ffmpeg::ffi::av_display_rotation_get(data.as_ptr() as *const i32) };
                if ccw.is_finite() {
                    let cw = (-ccw).round() as i32;
                    let snapped = ((cw + 45).rem_euclid(360) / 90) * 90;
                    return snapped;
                }
            }
        }
    }
    // Old files carry a "rotate" tag instead.
    stream
        .metadata()
        .get("rotate")
        .and_then(|r| r.trim().parse::<i32>().ok())
        .map(|r| ((r + 45).rem_euclid(360) / 90) * 90)
        .unwrap_or(0)
}

fn rational_f64(r: ffmpeg::Rational) -> f64 {
    if r.denominator() == 0 {
        0.0
    } else {
        r.numerator() as f64 / r.denominator() as f64
    }
}

/// Seconds from a stream timestamp.
pub(crate) fn ts_to_seconds(ts: i64, time_base: ffmpeg::Rational) -> f64 {
    ts as f64 * rational_f64(time_base)
}

/// Reads container facts for the chosen video stream.
pub(crate) fn video_info(input: &Input, stream_index: usize, path: &Path) -> Result<VideoInfo, EngineError> {
    let stream = input
        .stream(stream_index)
        .ok_or_else(|| EngineError::NoVideoStream { path: path.to_owned() })?;
    let params = stream.parameters();
    // SAFETY: parameters() wraps the stream's AVCodecParameters, valid while `input` lives.
    let (coded_width, coded_height, codec_id) = unsafe {
        let p = &*params.as_ptr();
        (p.width.max(0) as u32, p.height.max(0) as u32, params.id())
    };
    let rotation = rotation_of(&stream);
    let (width, height) = if rotation == 90 || rotation == 270 {
        (coded_height, coded_width)
    } else {
        (coded_width, coded_height)
    };
    let stream_duration = if stream.duration() > 0 {
        ts_to_seconds(stream.duration(), stream.time_base())
    } else {
        0.0
    };
    let container_duration = if input.duration() > 0 {
        input.duration() as f64 / f64::from(ffmpeg::ffi::AV_TIME_BASE)
    } else {
        0.0
    };
    let duration = if stream_duration > 0.0 { stream_duration } else { container_duration };
    let mut frame_rate = rational_f64(stream.avg_frame_rate());
    if !(frame_rate.is_finite() && frame_rate > 0.0 && frame_rate < 1000.0) {
        frame_rate = rational_f64(stream.rate());
        if !(frame_rate.is_finite() && frame_rate > 0.0 && frame_rate < 1000.0) {
            frame_rate = 0.0;
        }
    }
    let created_at = stream
        .metadata()
        .get("creation_time")
        .map(str::to_owned)
        .or_else(|| input.metadata().get("creation_time").map(str::to_owned));
    let has_audio = input.streams().any(|s| s.parameters().medium() == Type::Audio);
    Ok(VideoInfo {
        duration,
        width,
        height,
        rotation,
        codec: codec_id.name().to_owned(),
        frame_rate,
        created_at,
        container: input.format().name().to_owned(),
        coded_width,
        coded_height,
        has_audio,
    })
}
