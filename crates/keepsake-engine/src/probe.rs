//! Opening a video and reading its container facts (no picture decoding).
//!
//! Bad input is classified here, before any decoding: missing, empty, not media at all,
//! or media without a video stream. Each becomes its own [`EngineError`] variant.

use std::path::Path;
use std::sync::Once;

use ffmpeg::format::context::Input;
use ffmpeg::media::Type;
use ffmpeg::util::color;
use ffmpeg_next as ffmpeg;

use crate::colour::{self, ColourSpec, Transfer};
use crate::{DynamicRange, EngineError, PictureFormat, VideoInfo};

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
    ffmpeg::format::input(&path).map_err(|e| EngineError::NotMedia { path: path.to_owned(), reason: e.to_string() })
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
    video_info_and_colour(input, stream_index, path).map(|(info, _)| info)
}

/// [`video_info`], and the colour conversion its pictures need (for decoding).
pub(crate) fn video_info_and_colour(
    input: &Input,
    stream_index: usize,
    path: &Path,
) -> Result<(VideoInfo, ColourSpec), EngineError> {
    let stream = input.stream(stream_index).ok_or_else(|| EngineError::NoVideoStream { path: path.to_owned() })?;
    let params = stream.parameters();
    // SAFETY: parameters() wraps the stream's AVCodecParameters, valid while `input` lives.
    let (coded_width, coded_height, codec_id) = unsafe {
        let p = &*params.as_ptr();
        (p.width.max(0) as u32, p.height.max(0) as u32, params.id())
    };
    let rotation = rotation_of(&stream);
    let (picture, colour) = picture_format(input, &stream, coded_width, coded_height, path)?;
    let (display_width, display_height) = display_size(coded_width, coded_height, picture.pixel_aspect);
    let (width, height) = if rotation == 90 || rotation == 270 {
        (display_height, display_width)
    } else {
        (display_width, display_height)
    };
    let stream_duration =
        if stream.duration() > 0 { ts_to_seconds(stream.duration(), stream.time_base()) } else { 0.0 };
    let container_duration =
        if input.duration() > 0 { input.duration() as f64 / f64::from(ffmpeg::ffi::AV_TIME_BASE) } else { 0.0 };
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
    let info = VideoInfo {
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
        picture,
    };
    Ok((info, colour))
}

/// The size a stored `width`×`height` picture is shown at: its width stretched by the
/// pixel aspect ratio (720×576 DV at 16:9 shows as 1024×576). Never narrower than stored.
pub(crate) fn display_size(width: u32, height: u32, pixel_aspect: [u32; 2]) -> (u32, u32) {
    let [num, den] = pixel_aspect;
    if num == 0 || den == 0 || num == den {
        return (width, height);
    }
    let stretched = (f64::from(width) * f64::from(num) / f64::from(den)).round();
    if stretched >= f64::from(width) {
        (stretched.min(16_384.0) as u32, height)
    } else {
        // Tall pixels: keep the width, grow the height, so no stored detail is thrown away.
        let tall = (f64::from(height) * f64::from(den) / f64::from(num)).round().min(16_384.0);
        (width, tall as u32)
    }
}

/// A pixel aspect ratio worth honouring: positive, and not absurd (a damaged header can
/// claim 1:1000).
fn sane_pixel_aspect(r: ffmpeg::Rational) -> Option<[u32; 2]> {
    let (n, d) = (r.numerator(), r.denominator());
    if n <= 0 || d <= 0 {
        return None;
    }
    let v = f64::from(n) / f64::from(d);
    if !(0.25..=4.0).contains(&v) {
        return None;
    }
    let g = gcd(n as u32, d as u32).max(1);
    Some([n as u32 / g, d as u32 / g])
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// FFmpeg's name for a tag value, or `unknown`.
fn tag_name(name: Option<&'static str>) -> String {
    name.unwrap_or("unknown").to_owned()
}

/// Reads the stream's colour tags, field order, pixel aspect and HDR metadata, and says
/// what it assumed; with the colour conversion that follows from them. Dolby Vision without a standard base layer (profile 5) is refused:
/// decoded as ordinary video its pictures are green and purple.
fn picture_format(
    input: &Input,
    stream: &ffmpeg::format::stream::Stream,
    width: u32,
    height: u32,
    path: &Path,
) -> Result<(PictureFormat, ColourSpec), EngineError> {
    // SAFETY: the stream's codec parameters and the format context are valid while
    // `input` lives; these are plain field reads and a pure FFmpeg helper.
    let (trc, prim, space, range, field_order, sar) = unsafe {
        let p = &*stream.parameters().as_ptr();
        let sar = ffmpeg::ffi::av_guess_sample_aspect_ratio(
            input.as_ptr() as *mut _,
            stream.as_ptr() as *mut _,
            std::ptr::null_mut(),
        );
        (
            color::TransferCharacteristic::from(p.color_trc),
            color::Primaries::from(p.color_primaries),
            color::Space::from(p.color_space),
            color::Range::from(p.color_range),
            p.field_order,
            ffmpeg::Rational::from(sar),
        )
    };
    let mut assumptions = Vec::new();
    let dovi = dolby_vision(stream);
    if let Some((profile, compat)) = dovi {
        match compat {
            1 | 6 => assumptions.push(format!("Dolby Vision profile {profile}: its HDR10 base layer is shown")),
            4 => assumptions.push(format!("Dolby Vision profile {profile}: its HLG base layer is shown")),
            2 => assumptions.push(format!("Dolby Vision profile {profile}: its SDR base layer is shown")),
            _ if profile == 5 || compat == 0 => {
                return Err(EngineError::Unsupported {
                    path: path.to_owned(),
                    reason: format!(
                        "Dolby Vision profile {profile} has no standard picture layer (it needs a Dolby Vision decoder); \
                         re-export it from the phone or editor as HDR10, HLG or SDR"
                    ),
                });
            }
            _ => assumptions.push(format!("Dolby Vision profile {profile}: its base layer is shown as tagged")),
        }
    }
    let mut transfer = Transfer::from_ffmpeg(trc);
    if transfer.is_none() {
        transfer = match dovi.map(|(_, c)| c) {
            Some(1) | Some(6) => {
                assumptions.push("transfer not tagged: PQ, from the Dolby Vision base layer".into());
                Some(Transfer::Pq)
            }
            Some(4) => {
                assumptions.push("transfer not tagged: HLG, from the Dolby Vision base layer".into());
                Some(Transfer::Hlg)
            }
            _ => None,
        };
    }
    let transfer = transfer.unwrap_or_else(|| {
        if trc == color::TransferCharacteristic::Unspecified && prim == color::Primaries::BT2020 {
            assumptions.push("transfer not tagged on BT.2020 video: assumed SDR".into());
        }
        Transfer::Sdr
    });
    let matrix = colour::matrix_of(space).unwrap_or_else(|| {
        let m = if prim == color::Primaries::BT2020 || transfer.is_hdr() {
            colour::SWS_CS_BT2020
        } else {
            colour::default_matrix(width, height)
        };
        if !matches!(space, color::Space::RGB) {
            assumptions.push(format!("colour matrix not tagged: assumed {}", colour::matrix_name(m)));
        }
        m
    });
    if transfer.is_hdr() && prim != color::Primaries::BT2020 {
        if prim == color::Primaries::Unspecified {
            assumptions.push("HDR without primaries: assumed BT.2020".into());
        } else {
            assumptions.push(format!(
                "HDR with {} primaries (BT.2020 expected): colours taken as tagged",
                tag_name(prim.name())
            ));
        }
    }
    let peak_nits = match transfer {
        Transfer::Sdr => None,
        Transfer::Hlg => Some(colour::DEFAULT_PEAK_NITS as f32),
        Transfer::Pq => Some(content_peak(stream).unwrap_or_else(|| {
            assumptions.push(format!("HDR peak brightness not tagged: assumed {} cd/m²", colour::DEFAULT_PEAK_NITS));
            colour::DEFAULT_PEAK_NITS as f32
        })),
    };
    use ffmpeg::ffi::AVFieldOrder as F;
    let interlaced = matches!(field_order, F::AV_FIELD_TT | F::AV_FIELD_BB | F::AV_FIELD_TB | F::AV_FIELD_BT);
    let pixel_aspect = sane_pixel_aspect(sar).unwrap_or([1, 1]);
    let colour = ColourSpec {
        transfer,
        // Untagged HDR primaries are BT.2020 (the assumption stated above).
        wide_gamut: prim == color::Primaries::BT2020 || (transfer.is_hdr() && prim == color::Primaries::Unspecified),
        matrix,
        full_range: range == color::Range::JPEG,
        peak_nits: peak_nits.unwrap_or(colour::DEFAULT_PEAK_NITS as f32),
    };
    let picture = PictureFormat {
        dynamic_range: match transfer {
            Transfer::Sdr => DynamicRange::Sdr,
            Transfer::Hlg => DynamicRange::Hlg,
            Transfer::Pq => DynamicRange::Pq,
        },
        primaries: tag_name(prim.name()),
        transfer: tag_name(trc.name()),
        matrix: colour::matrix_name(matrix).to_owned(),
        full_range: range == color::Range::JPEG,
        peak_nits,
        interlaced,
        pixel_aspect,
        assumptions,
    };
    Ok((picture, colour))
}

/// (profile, base-layer compatibility id) of a Dolby Vision stream, from its
/// `AVDOVIDecoderConfigurationRecord` (eight bytes: version major, minor, profile, level,
/// three presence flags, compatibility id; libavutil/dovi_meta.h, not in the bindings).
fn dolby_vision(stream: &ffmpeg::format::stream::Stream) -> Option<(u8, u8)> {
    stream.side_data().find(|sd| sd.kind() == ffmpeg::codec::packet::side_data::Type::DOVI_CONF).and_then(|sd| {
        let d = sd.data();
        (d.len() >= 8).then(|| (d[2], d[7]))
    })
}

fn ne_u32(d: &[u8], at: usize) -> Option<u32> {
    d.get(at..at + 4).and_then(|b| b.try_into().ok()).map(u32::from_ne_bytes)
}

fn ne_i32(d: &[u8], at: usize) -> Option<i32> {
    d.get(at..at + 4).and_then(|b| b.try_into().ok()).map(i32::from_ne_bytes)
}

/// The content's peak light: MaxCLL (`AVContentLightMetadata`: MaxCLL, MaxFALL as
/// unsigned ints), else the mastering display's peak (`AVMasteringDisplayMetadata`:
/// nine rationals, primaries, white point, min and max luminance, then two flags).
fn content_peak(stream: &ffmpeg::format::stream::Stream) -> Option<f32> {
    use ffmpeg::codec::packet::side_data::Type;
    let mut mastering = None;
    for sd in stream.side_data() {
        let d = sd.data();
        match sd.kind() {
            Type::ContentLightLevel => {
                if let Some(max_cll) = ne_u32(d, 0).filter(|v| (100..=10_000).contains(v)) {
                    return Some(max_cll as f32);
                }
            }
            Type::MasteringDisplayMetadata => {
                let (num, den, has) = (ne_i32(d, 72), ne_i32(d, 76), ne_i32(d, 84));
                if let (Some(num), Some(den), Some(1..)) = (num, den, has) {
                    let peak = if den > 0 { f64::from(num) / f64::from(den) } else { 0.0 };
                    if (100.0..=10_000.0).contains(&peak) {
                        mastering = Some(peak as f32);
                    }
                }
            }
            _ => {}
        }
    }
    mastering
}
