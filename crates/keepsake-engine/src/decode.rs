//! Decoding frames: keyframe-only sampling at seek points, a sequential pass for short
//! videos, and exact-frame grabs for the final images. Every loop is bounded (packet
//! and frame budgets), so a damaged or hostile file ends in an error, never a hang.

use std::path::{Path, PathBuf};

use ffmpeg::codec::discard::Discard;
use ffmpeg::format::context::Input;
use ffmpeg::software::scaling;
use ffmpeg::util::frame::Video as AvFrame;
use ffmpeg_next as ffmpeg;
use image::RgbImage;

use crate::colour::{ColourSpec, ToneMapper};
use crate::probe::{open_input, ts_to_seconds, video_info_and_colour, video_stream_index};
use crate::{EngineError, VideoInfo};

/// Videos up to this long are short clips: sampled densely in one sequential pass, or at
/// every keyframe when their container lists keyframes close together
/// ([`Sampling::ClipKeyframes`]).
pub(crate) const DENSE_MAX_SECONDS: f64 = 60.0;
/// A short clip is sampled at its keyframes when it is at least this big (pixels): below
/// it, decoding every frame costs little.
const CLIP_KEYFRAMES_MIN_PIXELS: u64 = 1280 * 720;
/// ... and its keyframes are at most this far apart on average (seconds): phones and
/// cameras write one every 0.5–2 s.
const CLIP_KEYFRAMES_MAX_GAP: f64 = 2.0;

/// How a video's candidates are found, decided when it is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sampling {
    /// Short or small: every frame decoded in order, sampled 5 a second, so fades and
    /// cuts show between neighbours.
    Sequential,
    /// A short clip of 720p or more whose container lists a keyframe at least every
    /// 2 s (phone video): its keyframes, each decoded alone, as a long video's are. A
    /// 30-second 4K HEVC clip costs its keyframes, not all 900 frames.
    ClipKeyframes,
    /// Longer than a minute: keyframes spread evenly over the whole length.
    Spread,
}

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
    /// Set by converters when a frame arrived as two fields, for streams whose header
    /// does not say so (DV): the report then says the video was deinterlaced.
    fields_seen: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// Keyframe times (seconds from the stream's start) the container's index lists
    /// (MP4/MOV list every sample; MPEG-TS and others none).
    pub keyframes: Vec<f64>,
    pub sampling: Sampling,
    /// How its pictures become SDR RGB (from the probe).
    colour: ColourSpec,
}

/// Converts decoded frames to the upright SDR RGB picture a person would see, at a chosen
/// size: the stream's own colour matrix and range, HDR tone-mapped (`colour.rs`),
/// interlaced frames deinterlaced, non-square pixels stretched to the display aspect, and
/// the rotation applied. Caches its swscale context and tone-mapping tables. Separate
/// from [`VideoSource`] so frames can be converted while the source decodes.
pub(crate) struct FrameConverter {
    path: PathBuf,
    rotation: i32,
    colour: ColourSpec,
    /// The stream says it is interlaced (frames may say so too, one by one).
    interlaced: bool,
    pixel_aspect: [u32; 2],
    scaler: Option<(ScalerKey, scaling::Context)>,
    tone: Option<ToneMapper>,
    fields_seen: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

#[derive(PartialEq, Eq, Clone, Copy)]
struct ScalerKey {
    format: ffmpeg::format::Pixel,
    width: u32,
    /// Rows read: the whole frame, or one field of an interlaced one.
    height: u32,
    out_format: ffmpeg::format::Pixel,
    out_width: u32,
    out_height: u32,
    matrix: i32,
    full_range: bool,
}

/// Which rows of a frame are read.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Rows {
    All,
    /// One field of an interlaced frame: even rows (top) or odd rows (bottom).
    Field {
        bottom: bool,
    },
}

fn ffmpeg_err(path: &Path, e: ffmpeg::Error) -> EngineError {
    EngineError::Ffmpeg { path: path.to_owned(), message: e.to_string() }
}

impl VideoSource {
    /// Opens the file and a decoder for its video stream; `threads` 0 lets FFmpeg choose.
    pub fn open(path: &Path, threads: usize) -> Result<VideoSource, EngineError> {
        let input = open_input(path)?;
        let stream_index = video_stream_index(&input, path)?;
        let (info, colour) = video_info_and_colour(&input, stream_index, path)?;
        let stream = input.stream(stream_index).ok_or_else(|| EngineError::NoVideoStream { path: path.to_owned() })?;
        let time_base = stream.time_base();
        let start_time = if stream.start_time() != ffmpeg::ffi::AV_NOPTS_VALUE {
            ts_to_seconds(stream.start_time(), time_base)
        } else {
            0.0
        };
        let keyframes = indexed_keyframes(&stream, time_base, start_time);
        let sampling = sampling_for(&info, &keyframes);
        let mut ctx =
            ffmpeg::codec::context::Context::from_parameters(stream.parameters()).map_err(|e| ffmpeg_err(path, e))?;
        // Videos read by seeking and decoding single keyframes use slice threading: frame
        // threading only adds a pipeline to drain at every seek (and holds a 4K frame per
        // thread); videos decoded in order use frame threading, where it pays.
        let kind = if sampling == Sampling::Sequential {
            ffmpeg::threading::Type::Frame
        } else {
            ffmpeg::threading::Type::Slice
        };
        ctx.set_threading(ffmpeg::threading::Config { kind, count: threads, ..Default::default() });
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
            fields_seen: Default::default(),
            keyframes,
            sampling,
            colour,
        })
    }

    /// Whether any frame of this source was converted from fields (interlaced).
    pub fn fields_seen(&self) -> bool {
        self.fields_seen.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn frame_time(&self, frame: &AvFrame) -> Option<f64> {
        frame.timestamp().or_else(|| frame.pts()).map(|ts| ts_to_seconds(ts, self.time_base) - self.start_time)
    }

    /// Seeks so the next packet read is the keyframe at or before `time` (seconds from
    /// the start). Returns false when the file cannot seek there.
    fn seek_to(&mut self, time: f64) -> bool {
        let target = ((time + self.start_time).max(0.0) * f64::from(ffmpeg::ffi::AV_TIME_BASE)) as i64;
        self.decoder.flush();
        self.input.seek(target, ..target).is_ok()
    }

    /// Back to the first byte, for self-synchronising streams (MPEG-TS and -PS, DV, raw
    /// MPEG video): seeking those by timestamp to their own start can land past the
    /// end of a short file (a 2-second TS starting at 11.4 s decoded nothing). Other
    /// containers keep their own read state and are seeked by timestamp.
    fn seek_to_first_byte(&mut self) -> bool {
        let format = self.input.format();
        let name = format.name();
        let self_syncing =
            name.split(',').any(|n| matches!(n, "mpegts" | "mpeg" | "mpegvideo" | "dv" | "h264" | "hevc"));
        if !self_syncing {
            return false;
        }
        self.decoder.flush();
        // SAFETY: the format context is live and owned by `self.input`; a byte seek to 0
        // only repositions its I/O and flushes its packet queue.
        let r = unsafe {
            ffmpeg::ffi::avformat_seek_file(
                self.input.as_mut_ptr(),
                -1,
                i64::MIN,
                0,
                i64::MAX,
                ffmpeg::ffi::AVSEEK_FLAG_BYTE,
            )
        };
        r >= 0
    }

    /// Goes back to the first packet: by seeking, or when the file cannot seek (no index,
    /// a damaged one) by opening it again.
    fn rewind(&mut self) -> Result<(), EngineError> {
        if self.seek_to_first_byte() || self.seek_to(0.0) {
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

    /// Decodes the keyframe at or just before `time`, alone (one packet per candidate),
    /// for analysis. `Ok(None)` when no keyframe could be reached or decoded there.
    pub fn keyframe_at(&mut self, time: f64) -> Result<Option<TimedFrame>, EngineError> {
        self.decode_keyframe(time, false)
    }

    /// [`Self::keyframe_at`] at full quality (deblocked), for a picture that is shown.
    pub fn keyframe_for_picture(&mut self, time: f64) -> Result<Option<TimedFrame>, EngineError> {
        self.decode_keyframe(time, true)
    }

    fn decode_keyframe(&mut self, time: f64, full_quality: bool) -> Result<Option<TimedFrame>, EngineError> {
        if !self.seek_to(time) {
            return Ok(None);
        }
        self.decoder.skip_frame(Discard::NonKey);
        // Analysis frames are shrunk to a few hundred pixels, where the deblocking
        // filter's effect vanishes; skipping it saves a good part of each decode.
        if !full_quality {
            self.set_skip_loop_filter(Discard::All);
        }
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
                            result =
                                Some(TimedFrame { time: t, frame: std::mem::replace(&mut frame, AvFrame::empty()) });
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
    ///
    /// Seeking in MPEG-TS and MPEG-PS (camcorder `.mts`, DVD `.vob`) is by byte position
    /// and often lands after the keyframe asked for, up to a whole GOP late; a caller
    /// would then see only frames after `from` and take one of those for the moment it
    /// asked for. So when the first frame after a seek is already past `from`, it seeks
    /// again further back (1, 2, 4 … 32 s), and in the end decodes from the start.
    pub fn decode_forward(
        &mut self,
        from: f64,
        mut on_frame: impl FnMut(&TimedFrame) -> bool,
    ) -> Result<usize, EngineError> {
        let mut back = 0.0;
        while from > 0.0 && back <= 32.0 {
            let target = from - back;
            if target <= 0.0 || !self.seek_to(target) {
                break;
            }
            let mut late: Option<bool> = None;
            let decoded = self.run_forward(&mut |tf: &TimedFrame| {
                if late.is_none() {
                    let past = tf.time > from + 1e-3;
                    late = Some(past);
                    if past {
                        return false;
                    }
                }
                on_frame(tf)
            });
            match late {
                Some(false) => return Ok(decoded),
                Some(true) => back = if back == 0.0 { 1.0 } else { back * 2.0 },
                // Nothing decodes after the seek (e.g. MPEG-TS without an index).
                None => break,
            }
        }
        self.rewind()?;
        Ok(self.run_forward(&mut on_frame))
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

/// Keyframe times from the container's index, in order, seconds from the stream's start.
fn indexed_keyframes(stream: &ffmpeg::format::stream::Stream, time_base: ffmpeg::Rational, start: f64) -> Vec<f64> {
    let mut times = Vec::new();
    // SAFETY: the stream belongs to a live format context; the index entries are read
    // one at a time and copied out before the next call, as FFmpeg documents.
    unsafe {
        let st = stream.as_ptr() as *mut ffmpeg::ffi::AVStream;
        let n = ffmpeg::ffi::avformat_index_get_entries_count(st).clamp(0, 1_000_000);
        for i in 0..n {
            let e = ffmpeg::ffi::avformat_index_get_entry(st, i);
            if e.is_null() {
                break;
            }
            let e = &*e;
            if e.flags() & ffmpeg::ffi::AVINDEX_KEYFRAME != 0 && e.timestamp != ffmpeg::ffi::AV_NOPTS_VALUE {
                let t = ts_to_seconds(e.timestamp, time_base) - start;
                if t.is_finite() {
                    times.push(t.max(0.0));
                }
            }
        }
    }
    times.sort_by(f64::total_cmp);
    times.dedup_by(|a, b| (*a - *b).abs() < 1e-3);
    times
}

/// How to sample a video with these facts and this keyframe index (see [`Sampling`]).
pub(crate) fn sampling_for(info: &VideoInfo, keyframes: &[f64]) -> Sampling {
    if info.duration > DENSE_MAX_SECONDS {
        return Sampling::Spread;
    }
    let pixels = u64::from(info.coded_width) * u64::from(info.coded_height);
    let close = keyframes.len() >= 6 && keyframes.len() as f64 >= info.duration / CLIP_KEYFRAMES_MAX_GAP;
    if pixels >= CLIP_KEYFRAMES_MIN_PIXELS && close {
        Sampling::ClipKeyframes
    } else {
        Sampling::Sequential
    }
}

impl FrameConverter {
    /// A converter for frames of `src`.
    pub fn for_source(src: &VideoSource) -> FrameConverter {
        let p = &src.info.picture;
        FrameConverter {
            path: src.path.clone(),
            rotation: src.info.rotation,
            colour: src.colour,
            interlaced: p.interlaced,
            pixel_aspect: p.pixel_aspect,
            scaler: None,
            tone: None,
            fields_seen: src.fields_seen.clone(),
        }
    }

    /// Whether this frame is stored as two fields (then only its first field is read).
    fn rows_of(&self, frame: &AvFrame) -> Rows {
        let paletted = frame.format() == ffmpeg::format::Pixel::PAL8;
        if paletted || frame.height() < 4 || !(frame.is_interlaced() || self.interlaced) {
            return Rows::All;
        }
        // The field shown first: a moving edge is where it was at that instant.
        let bottom = frame.is_interlaced() && !frame.is_top_first();
        Rows::Field { bottom }
    }

    /// Scales a decoded frame to RGB so its longest (display) side is at most `max_side`
    /// (`None` = full display size), then turns it upright.
    ///
    /// Interlaced frames are deinterlaced by reading one field and scaling it to the full
    /// height (the two fields are ~20 ms apart, so weaving them combs every moving edge;
    /// one field has none). Stills lose half their vertical detail at full size, which
    /// the analysis sizes never see.
    pub fn convert(&mut self, frame: &AvFrame, max_side: Option<u32>) -> Result<RgbImage, EngineError> {
        let (w, h) = (frame.width(), frame.height());
        if w == 0 || h == 0 {
            return Err(EngineError::Undecodable { path: self.path.clone(), reason: "empty frame".into() });
        }
        let rows = self.rows_of(frame);
        if rows != Rows::All {
            self.fields_seen.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        let in_height = if rows == Rows::All { h } else { h / 2 };
        let aspect = if self.pixel_aspect == [1, 1] { frame_pixel_aspect(frame) } else { self.pixel_aspect };
        let (dw, dh) = crate::probe::display_size(w, h, aspect);
        let (ow, oh) = fit_within(dw, dh, max_side);
        let hdr = self.colour.transfer.is_hdr();
        let full_range = self.colour.full_range
            || is_full_range_format(frame.format())
            || frame.color_range() == ffmpeg::util::color::Range::JPEG;
        if hdr && self.tone.is_none() {
            self.tone = Some(ToneMapper::new(&self.colour));
        }
        // Full-size 10-bit HDR: converted directly, without a swscale context at all.
        if let (true, Rows::All, Some(tone)) = (hdr && (ow, oh) == (w, h), rows, &self.tone) {
            if let Some(img) = hdr_full_size(frame, tone, self.colour.matrix, full_range) {
                return Ok(crate::render::upright(img, self.rotation));
            }
        }
        let key = ScalerKey {
            format: frame.format(),
            width: w,
            height: in_height,
            out_format: if hdr { ffmpeg::format::Pixel::RGB48LE } else { ffmpeg::format::Pixel::RGB24 },
            out_width: ow,
            out_height: oh,
            matrix: self.colour.matrix,
            full_range,
        };
        let rebuild = !matches!(&self.scaler, Some((k, _)) if *k == key);
        if rebuild {
            let shrinking = u64::from(ow) * u64::from(oh) < u64::from(w) * u64::from(in_height);
            let mut ctx = scaling::Context::get(
                key.format,
                w,
                in_height,
                key.out_format,
                ow,
                oh,
                if shrinking { scaling::Flags::AREA } else { scaling::Flags::BICUBIC },
            )
            .map_err(|e| ffmpeg_err(&self.path, e))?;
            set_colour_matrix(&mut ctx, key.matrix, key.full_range);
            self.scaler = Some((key, ctx));
        }
        // swscale writes into the image's own buffer, rows padded to 64 bytes (its SIMD
        // paths want aligned rows); the rows are then packed in place (and tone-mapped,
        // for HDR, which reads 6 bytes a pixel and writes 3). One picture-sized buffer,
        // where a scaled frame plus a copy took two: 25 MB less per 4K pick.
        let row = ow as usize * 3;
        let in_row = if hdr { row * 2 } else { row };
        let stride = in_row.div_ceil(64) * 64;
        let mut buf = vec![0u8; stride * oh as usize + 64];
        let offset = buf.as_ptr().align_offset(64).min(63);
        if let Some((_, ctx)) = self.scaler.as_mut() {
            // SAFETY: `buf` holds `oh` rows of `stride` bytes after `offset`, each row wide
            // enough for `ow` pixels of the output format.
            let dst = unsafe { buf.as_mut_ptr().add(offset) };
            scale_rows(ctx, frame, rows, in_height, dst, stride)
                .map_err(|message| EngineError::Ffmpeg { path: self.path.clone(), message })?;
        }
        if let (true, Some(tone)) = (hdr, &self.tone) {
            // Tone-map each row in place (3 bytes a pixel written over the 6 read, at
            // the row's start); rows are independent, so big pictures use two threads.
            let rows_area = &mut buf[offset..offset + stride * oh as usize];
            let map_rows = |area: &mut [u8]| {
                let mut wide: Vec<u16> = Vec::with_capacity(ow as usize * 3);
                for line in area.chunks_exact_mut(stride) {
                    wide.clear();
                    wide.extend(line[..in_row].chunks_exact(2).map(|b| u16::from_le_bytes([b[0], b[1]])));
                    tone.map_row(&wide, &mut line[..row]);
                }
            };
            if u64::from(ow) * u64::from(oh) >= 1 << 20 {
                let half = (oh as usize / 2) * stride;
                let (top, bottom) = rows_area.split_at_mut(half);
                std::thread::scope(|scope| {
                    scope.spawn(|| map_rows(bottom));
                    map_rows(top);
                });
            } else {
                map_rows(rows_area);
            }
        }
        // Pack the rows: row y moves from offset + y·stride down to y·row (a forward
        // copy within the buffer, since y·row ≤ offset + y·stride).
        for y in 0..oh as usize {
            let src = offset + y * stride;
            buf.copy_within(src..src + row, y * row);
        }
        buf.truncate(row * oh as usize);
        buf.shrink_to_fit();
        let img = RgbImage::from_raw(ow, oh, buf).ok_or_else(|| EngineError::Ffmpeg {
            path: self.path.clone(),
            message: "scaled frame has the wrong size".into(),
        })?;
        Ok(crate::render::upright(img, self.rotation))
    }
}

/// A full-size 10-bit 4:2:0 HDR picture converted straight from Y'CbCr, tone mapping
/// fused in, rows split over two threads. swscale's generic 10-bit → 48-bit RGB path
/// took ~150 ms of a 4K pick's ~300 ms; this takes a fraction. The matrix runs in 16.16
/// fixed point on the 10-bit samples and lands directly on the tone mapper's 12-bit
/// decoding-table indexes ([`ToneMapper::map_codes`]); each chroma sample's terms are
/// worked out once for the two pixels of a row that share it. Chroma is taken from the
/// nearest sample (as the JPEG written next subsamples it again). `None` for other
/// layouts, which go through swscale.
fn hdr_full_size(frame: &AvFrame, tone: &ToneMapper, matrix: i32, full_range: bool) -> Option<RgbImage> {
    use ffmpeg::format::Pixel;
    if frame.format() != Pixel::YUV420P10LE {
        return None;
    }
    let (kr, kb) = crate::colour::luma_coefficients(matrix)?;
    let kg = 1.0 - kr - kb;
    let (w, h) = (frame.width() as usize, frame.height() as usize);
    if w == 0 || h == 0 {
        return None;
    }
    let cw = w.div_ceil(2);
    let (ys, us, vs) = (frame.stride(0), frame.stride(1), frame.stride(2));
    let (yp, up, vp) = (frame.data(0), frame.data(1), frame.data(2));
    // Every row of each plane must be there (10-bit samples: 2 bytes each).
    if yp.len() < ys * (h - 1) + 2 * w
        || up.len() < us * ((h - 1) / 2) + 2 * cw
        || vp.len() < vs * ((h - 1) / 2) + 2 * cw
    {
        return None;
    }
    let (y_off, y_scale, c_scale) =
        if full_range { (0, 1.0 / 1023.0, 1.0 / 1023.0) } else { (64, 1.0 / 876.0, 1.0 / 896.0) };
    // R' = Y' + 2(1−kr)·Cr, B' = Y' + 2(1−kb)·Cb, G' = (Y' − kr·R' − kb·B') / kg, each
    // scaled to the decoding table's codes (0..=TOP) in 16.16 fixed point.
    let top = ((1u32 << crate::colour::DECODE_BITS) - 1) as f32;
    let fixed = |v: f32| (v * top * 65536.0).round() as i32;
    let k_y = fixed(y_scale);
    let k_rv = fixed(2.0 * (1.0 - kr) * c_scale);
    let k_bu = fixed(2.0 * (1.0 - kb) * c_scale);
    let k_gu = fixed(-kb * 2.0 * (1.0 - kb) / kg * c_scale);
    let k_gv = fixed(-kr * 2.0 * (1.0 - kr) / kg * c_scale);
    let top = top as i32;
    let code = |v: i32| ((v + 32768) >> 16).clamp(0, top) as usize;
    let sample = |bytes: &[u8]| i32::from(u16::from_le_bytes([bytes[0], bytes[1]]) & 0x3ff);
    let convert_rows = |out: &mut [u8], first_row: usize| {
        for (k, line) in out.chunks_exact_mut(w * 3).enumerate() {
            let row = first_row + k;
            let y_row = &yp[row * ys..row * ys + 2 * w];
            let u_row = &up[(row / 2) * us..(row / 2) * us + 2 * cw];
            let v_row = &vp[(row / 2) * vs..(row / 2) * vs + 2 * cw];
            let chroma = u_row.chunks_exact(2).zip(v_row.chunks_exact(2));
            // Two pixels (6 output bytes, 4 luma bytes) per chroma sample; an odd width's
            // last pixel comes as a chunk of its own.
            for ((px, lumas), (u, v)) in line.chunks_mut(6).zip(y_row.chunks(4)).zip(chroma) {
                let (cu, cv) = (sample(u) - 512, sample(v) - 512);
                let (r, g, b) = (k_rv * cv, k_gu * cu + k_gv * cv, k_bu * cu);
                for (out, luma) in px.chunks_exact_mut(3).zip(lumas.chunks_exact(2)) {
                    let y = (sample(luma) - y_off) * k_y;
                    out.copy_from_slice(&tone.map_codes([code(y + r), code(y + g), code(y + b)]));
                }
            }
        }
    };
    let mut buf = vec![0u8; w * h * 3];
    let half = h / 2;
    let (top_half, bottom_half) = buf.split_at_mut(half * w * 3);
    std::thread::scope(|scope| {
        scope.spawn(|| convert_rows(bottom_half, half));
        convert_rows(top_half, 0);
    });
    RgbImage::from_raw(w as u32, h as u32, buf)
}

/// The frame's own pixel aspect ratio (MPEG-2 and H.264 carry one per picture), when the
/// container gave none.
fn frame_pixel_aspect(frame: &AvFrame) -> [u32; 2] {
    let r = frame.aspect_ratio();
    let (n, d) = (r.numerator(), r.denominator());
    if n > 0 && d > 0 && (0.25..=4.0).contains(&(f64::from(n) / f64::from(d))) {
        [n as u32, d as u32]
    } else {
        [1, 1]
    }
}

/// The deprecated `yuvj*` formats are full range whatever the frame's tag says.
fn is_full_range_format(format: ffmpeg::format::Pixel) -> bool {
    use ffmpeg::format::Pixel as P;
    matches!(format, P::YUVJ420P | P::YUVJ422P | P::YUVJ444P | P::YUVJ440P | P::YUVJ411P)
}

/// Tells swscale which Y'CbCr matrix and range the input uses (its default is BT.601,
/// video range, whatever the video says).
fn set_colour_matrix(ctx: &mut scaling::Context, matrix: i32, full_range: bool) {
    // SAFETY: `ctx` is a live, initialised SwsContext; sws_getCoefficients returns a
    // pointer to a static table; sws_setColorspaceDetails only updates the context's
    // conversion tables (it reports formats it cannot apply this to, which we ignore:
    // RGB inputs need no matrix).
    unsafe {
        let inv = ffmpeg::ffi::sws_getCoefficients(matrix);
        let table = ffmpeg::ffi::sws_getCoefficients(crate::colour::SWS_CS_ITU601);
        ffmpeg::ffi::sws_setColorspaceDetails(
            ctx.as_mut_ptr(),
            inv,
            i32::from(full_range),
            table,
            1,
            0,
            1 << 16,
            1 << 16,
        );
    }
}

/// Runs swscale over the rows `rows` selects (all, or every other one from the first or
/// second) into the packed picture at `dst`, `dst_stride` bytes a row.
fn scale_rows(
    ctx: &mut scaling::Context,
    frame: &AvFrame,
    rows: Rows,
    in_height: u32,
    dst: *mut u8,
    dst_stride: usize,
) -> Result<(), String> {
    // SAFETY: `frame` is a decoded picture (its planes' pointers and line sizes valid for
    // its height); selecting one field starts a plane at its second row and doubles its
    // line size, which stays inside the plane for `in_height` = height / 2 rows (chroma
    // planes of interlaced video interleave their fields the same way). The caller
    // guarantees `dst` holds the scaler's output rows at `dst_stride`.
    let written = unsafe {
        let src = &*frame.as_ptr();
        let mut data: [*const u8; 4] = [std::ptr::null(); 4];
        let mut stride: [std::os::raw::c_int; 4] = [0; 4];
        for i in 0..4 {
            let (d, ls) = (src.data[i], src.linesize[i]);
            match rows {
                Rows::All => {
                    data[i] = d;
                    stride[i] = ls;
                }
                Rows::Field { bottom } => {
                    if d.is_null() {
                        continue;
                    }
                    if ls <= 0 {
                        return Err("interlaced frame with an unusual layout".into());
                    }
                    data[i] = if bottom { d.add(ls as usize) } else { d };
                    stride[i] = ls * 2;
                }
            }
        }
        let dst_data: [*mut u8; 4] = [dst, std::ptr::null_mut(), std::ptr::null_mut(), std::ptr::null_mut()];
        let dst_lines: [std::os::raw::c_int; 4] = [dst_stride as std::os::raw::c_int, 0, 0, 0];
        ffmpeg::ffi::sws_scale(
            ctx.as_mut_ptr(),
            data.as_ptr(),
            stride.as_ptr(),
            0,
            in_height as std::os::raw::c_int,
            dst_data.as_ptr(),
            dst_lines.as_ptr(),
        )
    };
    if written <= 0 {
        return Err(format!("swscale wrote no rows ({written})"));
    }
    Ok(())
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
