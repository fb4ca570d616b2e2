//! Animated previews: a short loop of the video's best moments (like the cloud services'
//! GIF covers). The moments are the analysis picks in time order; each contributes
//! `moment_seconds` of frames at `fps`, scaled to `max_side`. `.webp` is encoded with
//! FFmpeg's `libwebp_anim` (lossy, much smaller than GIF); `.gif` with the `image` crate
//! (256-colour quantised per frame). Both loop forever.

use std::path::Path;

use image::codecs::gif::{GifEncoder, Repeat};
use image::{Delay, Frame, RgbImage};

use crate::analysis::judge;
use crate::decode::{FrameConverter, VideoSource};
use crate::{EngineError, PreviewOptions, RenderedPreview};

/// Most frames per moment, whatever the options say (keeps files small).
const MAX_FRAMES_PER_MOMENT: usize = 24;

pub(crate) fn preview(
    path: &Path,
    out: &Path,
    opts: &PreviewOptions,
    threads: usize,
    analysis_side: u32,
) -> Result<RenderedPreview, EngineError> {
    let ext = out.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).unwrap_or_default();
    if ext != "gif" && ext != "webp" {
        return Err(EngineError::InvalidRequest {
            path: out.to_owned(),
            message: format!("preview format .{ext} is not supported (use .webp or .gif)"),
        });
    }
    let mut src = VideoSource::open(path, threads)?;
    let judged = judge(&mut src, 24, opts.moments.max(1), analysis_side, None, &mut Vec::new())?;
    let mut moments: Vec<f64> = judged.plan.picks.iter().map(|&i| judged.samples[i].time).collect();
    moments.sort_by(|a, b| a.total_cmp(b));
    let fps = opts.fps.clamp(1, 30);
    let step = 1.0 / fps as f64;
    let per_moment = ((opts.moment_seconds * fps as f64).round() as usize).clamp(1, MAX_FRAMES_PER_MOMENT);
    let mut conv = FrameConverter::for_source(&src);
    let mut images: Vec<RgbImage> = Vec::new();
    for &start in &moments {
        let mut next = start;
        let mut taken = 0usize;
        let mut failure = None;
        src.decode_forward(start, |tf| {
            if tf.time + 1e-6 < next {
                return true;
            }
            match conv.convert(&tf.frame, Some(opts.max_side.max(16))) {
                Ok(img) => images.push(img),
                Err(e) => failure = Some(e),
            }
            taken += 1;
            next = tf.time + step;
            taken < per_moment
        })?;
        if let Some(e) = failure {
            tracing::debug!(error = %e, "preview frame skipped");
        }
    }
    let Some(first) = images.first() else {
        return Err(EngineError::Undecodable { path: path.to_owned(), reason: "no frame for the preview".into() });
    };
    let (width, height) = first.dimensions();
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|source| EngineError::Io { path: parent.to_owned(), source })?;
    }
    let images: Vec<RgbImage> = images.into_iter().filter(|i| i.dimensions() == (width, height)).collect();
    if ext == "webp" {
        write_webp(&images, fps, out)?;
        let bytes = std::fs::metadata(out).map(|m| m.len()).unwrap_or(0);
        let frames = images.len() as u32;
        return Ok(RenderedPreview { path: out.to_owned(), width, height, frames, moments, bytes });
    }
    let tmp = out.with_extension("gif.part");
    let encode_err = |e: image::ImageError| EngineError::Encode { path: out.to_owned(), message: e.to_string() };
    let count = {
        let file = std::fs::File::create(&tmp).map_err(|source| EngineError::Io { path: tmp.clone(), source })?;
        let mut enc = GifEncoder::new_with_speed(std::io::BufWriter::new(file), 10);
        enc.set_repeat(Repeat::Infinite).map_err(encode_err)?;
        let delay = Delay::from_numer_denom_ms(1000, fps);
        let count = images.len();
        for img in images {
            let rgba = image::DynamicImage::ImageRgb8(img).to_rgba8();
            enc.encode_frame(Frame::from_parts(rgba, 0, 0, delay)).map_err(|e| {
                let _ = std::fs::remove_file(&tmp);
                encode_err(e)
            })?;
        }
        tracing::debug!(frames = count, "preview encoded");
        count
    };
    std::fs::rename(&tmp, out).map_err(|source| EngineError::Io { path: out.to_owned(), source })?;
    let bytes = std::fs::metadata(out).map(|m| m.len()).unwrap_or(0);
    let frames = count as u32;
    Ok(RenderedPreview { path: out.to_owned(), width, height, frames, moments, bytes })
}

/// Encodes frames as a looping animated WebP with FFmpeg's libwebp_anim encoder.
fn write_webp(images: &[RgbImage], fps: u32, out: &Path) -> Result<(), EngineError> {
    use ffmpeg_next as ffmpeg;
    let err = |e: ffmpeg::Error| EngineError::Encode { path: out.to_owned(), message: e.to_string() };
    let Some(first) = images.first() else {
        return Err(EngineError::Encode { path: out.to_owned(), message: "no frames".into() });
    };
    // YUV 4:2:0 needs even sizes.
    let (w, h) = (first.width() & !1, first.height() & !1);
    if w == 0 || h == 0 {
        return Err(EngineError::Encode { path: out.to_owned(), message: "frames too small".into() });
    }
    let codec = ffmpeg::encoder::find_by_name("libwebp_anim").ok_or_else(|| EngineError::Encode {
        path: out.to_owned(),
        message: "this FFmpeg has no libwebp_anim encoder (use .gif)".into(),
    })?;
    let tmp = out.with_extension("webp.part");
    let result = (|| -> Result<(), EngineError> {
        let mut octx = ffmpeg::format::output_as(&tmp, "webp").map_err(err)?;
        let time_base = ffmpeg::Rational(1, fps as i32);
        let mut enc = ffmpeg::codec::context::Context::new_with_codec(codec).encoder().video().map_err(err)?;
        enc.set_width(w);
        enc.set_height(h);
        enc.set_format(ffmpeg::format::Pixel::YUV420P);
        enc.set_time_base(time_base);
        enc.set_frame_rate(Some(ffmpeg::Rational(fps as i32, 1)));
        let mut opts = ffmpeg::Dictionary::new();
        opts.set("quality", "55");
        opts.set("loop", "0");
        let mut enc = enc.open_with(opts).map_err(err)?;
        {
            let mut ost = octx.add_stream(codec).map_err(err)?;
            ost.set_parameters(&enc);
            ost.set_time_base(time_base);
        }
        octx.write_header().map_err(err)?;
        let ost_tb = octx.stream(0).map(|s| s.time_base()).unwrap_or(time_base);
        let mut scaler = ffmpeg::software::scaling::Context::get(
            ffmpeg::format::Pixel::RGB24,
            w,
            h,
            ffmpeg::format::Pixel::YUV420P,
            w,
            h,
            ffmpeg::software::scaling::Flags::BILINEAR,
        )
        .map_err(err)?;
        let drain =
            |enc: &mut ffmpeg::encoder::Video, octx: &mut ffmpeg::format::context::Output| -> Result<(), EngineError> {
                let mut packet = ffmpeg::Packet::empty();
                while enc.receive_packet(&mut packet).is_ok() {
                    packet.set_stream(0);
                    packet.rescale_ts(time_base, ost_tb);
                    packet.write_interleaved(octx).map_err(err)?;
                }
                Ok(())
            };
        for (i, img) in images.iter().enumerate() {
            let mut rgb = ffmpeg::util::frame::Video::new(ffmpeg::format::Pixel::RGB24, w, h);
            let stride = rgb.stride(0);
            let row = w as usize * 3;
            let data = rgb.data_mut(0);
            for y in 0..h as usize {
                let src_start = y * img.width() as usize * 3;
                let Some(src) = img.as_raw().get(src_start..src_start + row) else { break };
                if let Some(dst) = data.get_mut(y * stride..y * stride + row) {
                    dst.copy_from_slice(src);
                }
            }
            let mut yuv = ffmpeg::util::frame::Video::empty();
            scaler.run(&rgb, &mut yuv).map_err(err)?;
            yuv.set_pts(Some(i as i64));
            enc.send_frame(&yuv).map_err(err)?;
            drain(&mut enc, &mut octx)?;
        }
        enc.send_eof().map_err(err)?;
        drain(&mut enc, &mut octx)?;
        octx.write_trailer().map_err(err)?;
        Ok(())
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::rename(&tmp, out).map_err(|source| EngineError::Io { path: out.to_owned(), source })
}
