//! Decoding frames: keyframe-only sampling at seek points, a sequential pass for short
//! videos, and exact-frame grabs for the final images. Every loop is bounded (packet
//! and frame budgets), so a damaged or hostile file ends in an error, never a hang.

use std::path::{Path, PathBuf};

use ffmpeg_next as ffmpeg;
use ffmpeg::codec::discard::Discard;
use ffmpeg::format::context::Input;
use ffmpeg::software::scaling;
use ffmpeg::util::frame::Video as AvFrame;
use image::RgbImage;

use crate::probe::{open_input, ts_to_seconds, video_info, video_stream_index};
use crate::{EngineError, VideoInfo};

/// Packets read after one seek before giving up on finding a keyframe.
const MAX_PACKETS_PER_SEEK: usize = 3_000;
/// Upper bound on packets in one sequential pass (about 2.3 h at 60 fps).
const MAX_PACKETS_SEQUENTIAL: usize = 500_000;

/// A decoded frame with its presentation time.
pub(crate) struct TimedFrame {
    pub time: f64,
    pub frame: AvFrame,
}

/// An open video: demuxer, decoder and the facts needed to time and orient frames.
pub(crate) struct VideoSource {
    path: PathBuf,
    input: Input,
    stream_index: usize,
    time_base: ffmpeg::Rational,
    start_time: f64,
    decoder: ffmpeg::decoder::Video,
    threads: usize,
    pub info: VideoInfo,
}

/// Converts decoded frames to upright RGB at a chosen size, caching the swscale context.
/// Separate from [`VideoSource`] so frames can be converted while the source decodes.
pub(crate) struct FrameConverter {
    path: PathBuf,
    rotation: i32,
    scaler: Option<(ScalerKey, scaling::Context)>,
}

#[derive(PartialEq, Eq, Clone, Copy)]
struct ScalerKey {
    format: ffmpeg::format::Pixel,
    width: u32,
    height: u32,
    out_width: u32,
    out_height: u32,
}

fn ffmpeg_err(path: &Path, e: ffmpeg::Error) -> EngineError {
    EngineError::Ffmpeg { path: path.to_owned(), message: e.to_string() }
}

impl VideoSource {
    /// Opens the file and a decoder for its video stream; `threads` 0 lets FFmpeg choose.
    pub fn open(path: &Path, threads: usize) -> Result<VideoSource, EngineError> {
        let input = open_input(path)?;
        let stream_index = video_stream_index(&input, path)?;
        let info = video_info(&input, stream_index, path)?;
        let stream = input
            .stream(stream_index)
            .ok_or_else(|| EngineError::NoVideoStream { path: path.to_owned() })?;
        let time_base = stream.time_base();
        let start_time = if stream.start_time() != ffmpeg::ffi::AV_NOPTS_VALUE {
            ts_to_seconds(stream.start_time(), time_base)
        } else {
            0.0
        };
        let mut ctx = ffmpeg::codec::context::Context::from_parameters(stream.parameters())
            .map_err(|e| ffmpeg_err(path, e))?;
        // Long videos are read by seeking and decoding single keyframes, where frame
        // threading only adds a pipeline to drain at every seek; short ones are decoded
        // in order, where it pays.
        let kind = if info.duration > crate::analysis::DENSE_MAX_SECONDS {
            ffmpeg::threading::Type::Slice
        } else {
            ffmpeg::threading::Type::Frame
        };
        ctx.set_threading(ffmpeg::threading::Config {
            kind,
            count: threads,
            ..Default::default()
        });
        let decoder = ctx.decoder().video().map_err(|e| EngineError::Undecodable {
            path: path.to_owned(),
            reason: format!("no decoder for {}: {e}", info.codec),
        })?;
        Ok(VideoSource {
            path: path.to_owned(),
            input,
            stream_index,
            time_base,
            start_time,
            decoder,
            threads,
            info,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn frame_time(&self, frame: &AvFrame) -> Option<f64> {
        frame
            .timestamp()
            .or_else(|| frame.pts())
            .map(|ts| ts_to_seconds(ts, self.time_base) - self.start_time)
    }

    /// Seeks so the next packet read is the keyframe at or before `time` (seconds from
    /// the start). Returns false when the file cannot seek there.
    fn seek_to(&mut self, time: f64) -> bool {
        let target = ((time + self.start_time).max(0.0) * f64::from(ffmpeg::ffi::AV_TIME_BASE)) as i64;
        self.decoder.flush();
        self.input.seek(target, ..target).is_ok()
    }

    /// Goes back to the first packet: by seeking, or when the file cannot seek (no index,
    /// a damaged one) by opening it again.
    fn rewind(&mut self) -> Result<(), EngineError> {
        if self.seek_to(0.0) {
            return Ok(());
        }
        let fresh = VideoSource::open(&self.path, self.threads)?;
        self.input = fresh.input;
        self.decoder = fresh.decoder;
        Ok(())
    }

    /// Which frames the decoder may leave unfiltered (`skip_loop_filter`; ffmpeg-next
    /// has no setter for it).
    fn set_skip_loop_filter(&mut self, discard: Discard) {
        // SAFETY: the pointer is the live codec context owned by `self.decoder`; the
        // field is a plain enum read by the decoder at each frame.
        unsafe {
            (*self.decoder.as_mut_ptr()).skip_loop_filter = discard.into();
        }
    }

    /// Decodes the keyframe at or just before `time`, alone (one packet per candidate).
    /// `Ok(None)` when no keyframe could be reached or decoded there.
    pub fn keyframe_at(&mut self, time: f64) -> Result<Option<TimedFrame>, EngineError> {
        if !self.seek_to(time) {
            return Ok(None);
        }
        self.decoder.skip_frame(Discard::NonKey);
        // Analysis frames are shrunk to a few hundred pixels, where the deblocking
        // filter's effect vanishes; skipping it saves a good part of each decode.
        self.set_skip_loop_filter(Discard::All);
        let mut result = None;
        let mut packets = 0usize;
        let mut frame = AvFrame::empty();
        loop {
            let mut packet = ffmpeg::Packet::empty();
            match packet.read(&mut self.input) {
                Ok(()) => {}
                Err(ffmpeg::Error::Eof) => break,
                Err(ffmpeg::Error::InvalidData) => {
                    packets += 1;
                    if packets > MAX_PACKETS_PER_SEEK {
                        break;
                    }
                    continue;
                }
                Err(_) => break,
            }
            packets += 1;
            if packets > MAX_PACKETS_PER_SEEK {
                break;
            }
            if packet.stream() != self.stream_index || !packet.is_key() {
                continue;
            }
            if self.decoder.send_packet(&packet).is_err() {
                continue;
            }
            let _ = self.decoder.send_eof();
            // Bounded: a drained decoder returns EOF after its held-back frames.
            for _ in 0..64 {
                match self.decoder.receive_frame(&mut frame) {
                    Ok(()) => {
                        if result.is_none() {
                            let t = self.frame_time(&frame).unwrap_or(time);
                            // Moved out, not copied: a full-HD frame is 3 MB.
                            result = Some(TimedFrame { time: t, frame: std::mem::replace(&mut frame, AvFrame::empty()) });
                        }
                    }
                    Err(_) => break,
                }
            }
            self.decoder.flush();
            if result.is_some() {
                break;
            }
        }
        self.decoder.skip_frame(Discard::Default);
        self.set_skip_loop_filter(Discard::Default);
        self.decoder.flush();
        Ok(result)
    }

    /// Decodes every frame from `from` (seconds) on, calling `on_frame` with each; stops
    /// when it returns false, at the end of the file, or at the packet budget. Returns
    /// the number of frames decoded. Seeks only when `from` > 0.
    pub fn decode_forward(
        &mut self,
        from: f64,
        mut on_frame: impl FnMut(&TimedFrame) -> bool,
    ) -> Result<usize, EngineError> {
        // A file that cannot seek is decoded from the start instead.
        let seeked = from > 0.0 && self.seek_to(from);
        if !seeked {
            self.rewind()?;
        }
        let decoded = self.run_forward(&mut on_frame);
        if decoded == 0 && seeked {
            // The seek landed where no keyframe follows (e.g. MPEG-TS without an index):
            // decode from the start instead.
            self.rewind()?;
            return Ok(self.run_forward(&mut on_frame));
        }
        Ok(decoded)
    }

    fn run_forward(&mut self, on_frame: &mut impl FnMut(&TimedFrame) -> bool) -> usize {
        self.decoder.skip_frame(Discard::Default);
        let mut decoded = 0usize;
        let mut packets = 0usize;
        let mut frame = AvFrame::empty();
        let mut last_time = f64::NEG_INFINITY;
        let mut keep_going = true;
        let mut eof_sent = false;
        while keep_going {
            if !eof_sent {
                let mut packet = ffmpeg::Packet::empty();
                match packet.read(&mut self.input) {
                    Ok(()) => {
                        packets += 1;
                        if packet.stream() == self.stream_index {
                            // A corrupt packet is skipped; the decoder resyncs at the next one.
                            let _ = self.decoder.send_packet(&packet);
                        }
                    }
                    Err(ffmpeg::Error::InvalidData) => packets += 1,
                    Err(_) => {
                        let _ = self.decoder.send_eof();
                        eof_sent = true;
                    }
                }
                if packets > MAX_PACKETS_SEQUENTIAL {
                    let _ = self.decoder.send_eof();
                    eof_sent = true;
                }
            }
            let mut got_any = false;
            for _ in 0..64 {
                match self.decoder.receive_frame(&mut frame) {
                    Ok(()) => {
                        got_any = true;
                        decoded += 1;
                        let t = self.frame_time(&frame).unwrap_or(last_time.max(0.0));
                        // Frames with broken timestamps inherit the last good one.
                        let t = if t.is_finite() { t } else { last_time.max(0.0) };
                        last_time = t;
                        // The frame is lent to the callback, then reused for the next one.
                        let tf = TimedFrame { time: t, frame: std::mem::replace(&mut frame, AvFrame::empty()) };
                        let go_on = on_frame(&tf);
                        frame = tf.frame;
                        if !go_on {
                            keep_going = false;
                            break;
                        }
                    }
                    Err(_) => break,
                }
            }
            if eof_sent && !got_any {
                break;
            }
        }
        self.decoder.flush();
        decoded
    }

}

impl FrameConverter {
    /// A converter for frames of `src`.
    pub fn for_source(src: &VideoSource) -> FrameConverter {
        FrameConverter { path: src.path.clone(), rotation: src.info.rotation, scaler: None }
    }

    /// Scales a decoded frame to RGB so its longest (stored) side is at most `max_side`
    /// (`None` = full size), then turns it upright.
    pub fn to_rgb(&mut self, frame: &AvFrame, max_side: Option<u32>) -> Result<RgbImage, EngineError> {
        let (w, h) = (frame.width(), frame.height());
        if w == 0 || h == 0 {
            return Err(EngineError::Undecodable { path: self.path.clone(), reason: "empty frame".into() });
        }
        let (ow, oh) = fit_within(w, h, max_side);
        let key = ScalerKey { format: frame.format(), width: w, height: h, out_width: ow, out_height: oh };
        let rebuild = !matches!(&self.scaler, Some((k, _)) if *k == key);
        if rebuild {
            let ctx = scaling::Context::get(
                key.format,
                w,
                h,
                ffmpeg::format::Pixel::RGB24,
                ow,
                oh,
                if max_side.is_some() { scaling::Flags::AREA } else { scaling::Flags::BICUBIC },
            )
            .map_err(|e| ffmpeg_err(&self.path, e))?;
            self.scaler = Some((key, ctx));
        }
        let mut out = AvFrame::empty();
        if let Some((_, ctx)) = self.scaler.as_mut() {
            ctx.run(frame, &mut out).map_err(|e| ffmpeg_err(&self.path, e))?;
        }
        let stride = out.stride(0);
        let data = out.data(0);
        let row = ow as usize * 3;
        let mut buf = Vec::with_capacity(row * oh as usize);
        for y in 0..oh as usize {
            let start = y * stride;
            let Some(line) = data.get(start..start + row) else {
                return Err(EngineError::Ffmpeg { path: self.path.clone(), message: "short scaled frame".into() });
            };
            buf.extend_from_slice(line);
        }
        let img = RgbImage::from_raw(ow, oh, buf).ok_or_else(|| EngineError::Ffmpeg {
            path: self.path.clone(),
            message: "scaled frame has the wrong size".into(),
        })?;
        Ok(crate::render::upright(img, self.rotation))
    }
}

/// The size that fits `w`×`h` into a `max_side` box keeping aspect (even, ≥ 2 px).
pub(crate) fn fit_within(w: u32, h: u32, max_side: Option<u32>) -> (u32, u32) {
    match max_side {
        Some(m) if w.max(h) > m => {
            let scale = m as f64 / w.max(h) as f64;
            let ow = ((w as f64 * scale).round() as u32).max(2);
            let oh = ((h as f64 * scale).round() as u32).max(2);
            (ow, oh)
        }
        _ => (w, h),
    }
}
