//! [`VideoWriter`]: the one place that talks to FFmpeg's encoders. Frames arrive as RGB
//! images of the writer's size and leave as H.264 in MP4 or as an animated WebP.

use std::path::Path;

use ffmpeg::{codec, encoder, format, software::scaling, util::frame, Dictionary, Rational};
use ffmpeg_next as ffmpeg;
use image::RgbImage;

use crate::error::SlideshowError;

/// What a writer produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// H.264 (libx264) in MP4: plays everywhere.
    Mp4,
    /// Animated, looping WebP (libwebp_anim): shareable in chats and web pages.
    WebP,
}

impl OutputFormat {
    /// The file extension for this format.
    pub fn extension(self) -> &'static str {
        match self {
            OutputFormat::Mp4 => "mp4",
            OutputFormat::WebP => "webp",
        }
    }
}

/// An open encoder writing one file; call [`VideoWriter::finish`] to complete it.
pub struct VideoWriter {
    octx: format::context::Output,
    encoder: encoder::Video,
    scaler: scaling::Context,
    rgb: frame::Video,
    yuv: frame::Video,
    width: u32,
    height: u32,
    frame_tb: Rational,
    stream_tb: Rational,
    next_pts: i64,
}

impl VideoWriter {
    /// Opens `path` for writing `width`×`height` frames at `fps` (even sizes only).
    pub fn create(
        path: &Path,
        format_kind: OutputFormat,
        width: u32,
        height: u32,
        fps: i32,
    ) -> Result<Self, SlideshowError> {
        if width < 16 || height < 16 || width % 2 == 1 || height % 2 == 1 {
            return Err(SlideshowError::BadSize(width, height));
        }
        ffmpeg::init().map_err(SlideshowError::ffmpeg("initialise"))?;
        let (muxer, codec_name) = match format_kind {
            OutputFormat::Mp4 => ("mp4", "libx264"),
            OutputFormat::WebP => ("webp", "libwebp_anim"),
        };
        let codec = encoder::find_by_name(codec_name).ok_or(SlideshowError::MissingEncoder(codec_name))?;
        let mut octx = format::output_as(path, muxer).map_err(SlideshowError::ffmpeg("create the output file"))?;
        let global_header = octx.format().flags().contains(format::Flags::GLOBAL_HEADER);
        let frame_tb = Rational::new(1, fps);

        let mut enc = codec::context::Context::new_with_codec(codec)
            .encoder()
            .video()
            .map_err(SlideshowError::ffmpeg("set up the video encoder"))?;
        enc.set_width(width);
        enc.set_height(height);
        enc.set_format(format::Pixel::YUV420P);
        enc.set_time_base(frame_tb);
        enc.set_frame_rate(Some(Rational::new(fps, 1)));
        if global_header {
            enc.set_flags(codec::Flags::GLOBAL_HEADER);
        }
        let mut opts = Dictionary::new();
        match format_kind {
            OutputFormat::Mp4 => {
                opts.set("preset", "veryfast");
                opts.set("crf", "21");
            }
            OutputFormat::WebP => {
                opts.set("quality", "72");
                opts.set("lossless", "0");
            }
        }
        let encoder = enc.open_with(opts).map_err(SlideshowError::ffmpeg("open the video encoder"))?;
        {
            let mut ost = octx.add_stream(codec).map_err(SlideshowError::ffmpeg("add a video stream"))?;
            ost.set_parameters(&encoder);
            ost.set_time_base(frame_tb);
        }
        let mut header_opts = Dictionary::new();
        if format_kind == OutputFormat::WebP {
            header_opts.set("loop", "0");
        } else {
            header_opts.set("movflags", "+faststart");
        }
        octx.write_header_with(header_opts).map_err(SlideshowError::ffmpeg("write the file header"))?;
        let stream_tb = octx.stream(0).map(|s| s.time_base()).unwrap_or(frame_tb);
        let scaler = scaling::Context::get(
            format::Pixel::RGB24,
            width,
            height,
            format::Pixel::YUV420P,
            width,
            height,
            scaling::Flags::BILINEAR,
        )
        .map_err(SlideshowError::ffmpeg("set up colour conversion"))?;
        Ok(VideoWriter {
            octx,
            encoder,
            scaler,
            rgb: frame::Video::new(format::Pixel::RGB24, width, height),
            yuv: frame::Video::new(format::Pixel::YUV420P, width, height),
            width,
            height,
            frame_tb,
            stream_tb,
            next_pts: 0,
        })
    }

    /// The frame size this writer expects.
    pub fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    /// Appends one frame; it must be exactly the writer's size.
    pub fn push(&mut self, image: &RgbImage) -> Result<(), SlideshowError> {
        if image.dimensions() != (self.width, self.height) {
            return Err(SlideshowError::BadSize(image.width(), image.height()));
        }
        let row = self.width as usize * 3;
        let stride = self.rgb.stride(0);
        let src = image.as_raw();
        let dst = self.rgb.data_mut(0);
        for y in 0..self.height as usize {
            dst[y * stride..y * stride + row].copy_from_slice(&src[y * row..(y + 1) * row]);
        }
        self.scaler.run(&self.rgb, &mut self.yuv).map_err(SlideshowError::ffmpeg("convert a frame"))?;
        self.yuv.set_pts(Some(self.next_pts));
        self.next_pts += 1;
        self.encoder.send_frame(&self.yuv).map_err(SlideshowError::ffmpeg("encode a frame"))?;
        self.drain()
    }

    fn drain(&mut self) -> Result<(), SlideshowError> {
        let mut packet = ffmpeg::Packet::empty();
        while self.encoder.receive_packet(&mut packet).is_ok() {
            packet.set_stream(0);
            // Every frame lasts one tick; without it the muxer drops the last one.
            packet.set_duration(1);
            packet.rescale_ts(self.frame_tb, self.stream_tb);
            packet.write_interleaved(&mut self.octx).map_err(SlideshowError::ffmpeg("write a packet"))?;
        }
        Ok(())
    }

    /// Flushes the encoder and completes the file.
    pub fn finish(mut self) -> Result<u64, SlideshowError> {
        self.encoder.send_eof().map_err(SlideshowError::ffmpeg("finish encoding"))?;
        self.drain()?;
        self.octx.write_trailer().map_err(SlideshowError::ffmpeg("complete the file"))?;
        Ok(self.next_pts as u64)
    }
}
