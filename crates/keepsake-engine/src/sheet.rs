//! Contact sheets: every analysed candidate as a tile with its time and quality;
//! rejected tiles are dimmed, crossed out in red and labelled with the reason; picks get
//! a thick green frame and their rank. For `keepsake thumbs --sheet` and debugging the
//! selector by eye. Text uses a built-in 3×5 pixel font, so no font files are needed.

use std::path::Path;

use image::{Rgb, RgbImage};

use crate::decode::DENSE_MAX_SECONDS;
use crate::decode::{FrameConverter, VideoSource};
use crate::{EngineError, RenderedImage, Selection};

const TILE_W: u32 = 192;
const TILE_H: u32 = 108;
const LABEL_H: u32 = 28;
const COLS: u32 = 6;
const SCALE: u32 = 2;

/// Writes a PNG contact sheet of `selection`'s candidates.
pub(crate) fn contact_sheet(selection: &Selection, out: &Path, threads: usize) -> Result<RenderedImage, EngineError> {
    let mut src = VideoSource::open(&selection.video, threads)?;
    let mut conv = FrameConverter::for_source(&src);
    let times: Vec<f64> = selection.candidates.iter().map(|c| c.time).collect();
    let mut tiles: Vec<Option<RgbImage>> = vec![None; times.len()];
    if selection.info.duration <= DENSE_MAX_SECONDS || times.len() > 400 {
        let mut next = 0usize;
        src.decode_forward(0.0, |tf| {
            while next < times.len() && times[next] + 1e-6 < tf.time {
                next += 1;
            }
            if next < times.len() && (times[next] - tf.time).abs() < 1e-6 {
                tiles[next] = conv.convert(&tf.frame, Some(TILE_W)).ok();
                next += 1;
            }
            next < times.len()
        })?;
    } else {
        for (i, &t) in times.iter().enumerate() {
            if let Some(tf) = src.keyframe_at(t)? {
                tiles[i] = conv.convert(&tf.frame, Some(TILE_W)).ok();
            }
        }
    }
    let n = times.len().max(1) as u32;
    let rows = n.div_ceil(COLS);
    let cell_h = TILE_H + LABEL_H;
    let mut sheet = RgbImage::from_pixel(COLS * (TILE_W + 8) + 8, rows * (cell_h + 8) + 8, Rgb([24, 24, 24]));
    for (i, cand) in selection.candidates.iter().enumerate() {
        let (col, row) = (i as u32 % COLS, i as u32 / COLS);
        let (x0, y0) = (8 + col * (TILE_W + 8), 8 + row * (cell_h + 8));
        if let Some(tile) = &tiles[i] {
            let ox = x0 + (TILE_W.saturating_sub(tile.width())) / 2;
            let oy = y0 + (TILE_H.saturating_sub(tile.height())) / 2;
            for (x, y, p) in tile.enumerate_pixels() {
                if x < TILE_W && y < TILE_H {
                    let px = if cand.rejected.is_some() { Rgb(p.0.map(|v| v / 3)) } else { *p };
                    sheet.put_pixel(ox + x, oy + y, px);
                }
            }
        }
        if cand.rejected.is_some() {
            for k in 0..TILE_W {
                let y = k * TILE_H / TILE_W;
                for d in 0..2 {
                    sheet.put_pixel(x0 + k, (y0 + y + d).min(y0 + TILE_H - 1), Rgb([220, 40, 40]));
                    sheet.put_pixel(x0 + k, (y0 + TILE_H - 1 - y).saturating_sub(d).max(y0), Rgb([220, 40, 40]));
                }
            }
        }
        if let Some(rank) = cand.picked {
            rect(&mut sheet, x0, y0, TILE_W, TILE_H, 4, Rgb([40, 220, 80]));
            text(&mut sheet, x0 + 8, y0 + 8, &format!("#{rank}"), Rgb([40, 220, 80]), 3);
        }
        let line1 = format!("{:.1}S Q{:.0} S{}", cand.time, cand.quality * 100.0, cand.scene);
        text(&mut sheet, x0, y0 + TILE_H + 3, &line1, Rgb([230, 230, 230]), SCALE);
        if let Some(r) = cand.rejected {
            text(&mut sheet, x0, y0 + TILE_H + 3 + 6 * SCALE + 2, r.label(), Rgb([240, 90, 90]), SCALE);
        }
    }
    crate::render::write_image(&sheet, out, 90)?;
    Ok(RenderedImage { path: out.to_owned(), width: sheet.width(), height: sheet.height(), time: None })
}

fn rect(img: &mut RgbImage, x: u32, y: u32, w: u32, h: u32, t: u32, c: Rgb<u8>) {
    for yy in y..(y + h).min(img.height()) {
        for xx in x..(x + w).min(img.width()) {
            if xx < x + t || xx + t >= x + w || yy < y + t || yy + t >= y + h {
                img.put_pixel(xx, yy, c);
            }
        }
    }
}

/// 3×5 glyphs, rows top to bottom, 3 bits each (MSB = left).
fn glyph(c: char) -> [u8; 5] {
    match c.to_ascii_uppercase() {
        '0' => [7, 5, 5, 5, 7],
        '1' => [2, 6, 2, 2, 7],
        '2' => [7, 1, 7, 4, 7],
        '3' => [7, 1, 7, 1, 7],
        '4' => [5, 5, 7, 1, 1],
        '5' => [7, 4, 7, 1, 7],
        '6' => [7, 4, 7, 5, 7],
        '7' => [7, 1, 1, 1, 1],
        '8' => [7, 5, 7, 5, 7],
        '9' => [7, 5, 7, 1, 7],
        'A' => [2, 5, 7, 5, 5],
        'B' => [6, 5, 6, 5, 6],
        'C' => [3, 4, 4, 4, 3],
        'D' => [6, 5, 5, 5, 6],
        'E' => [7, 4, 6, 4, 7],
        'F' => [7, 4, 6, 4, 4],
        'G' => [3, 4, 5, 5, 3],
        'H' => [5, 5, 7, 5, 5],
        'I' => [7, 2, 2, 2, 7],
        'J' => [1, 1, 1, 5, 2],
        'K' => [5, 5, 6, 5, 5],
        'L' => [4, 4, 4, 4, 7],
        'M' => [5, 7, 7, 5, 5],
        'N' => [6, 5, 5, 5, 5],
        'O' => [2, 5, 5, 5, 2],
        'P' => [6, 5, 6, 4, 4],
        'Q' => [2, 5, 5, 6, 3],
        'R' => [6, 5, 6, 5, 5],
        'S' => [3, 4, 2, 1, 6],
        'T' => [7, 2, 2, 2, 2],
        'U' => [5, 5, 5, 5, 7],
        'V' => [5, 5, 5, 5, 2],
        'W' => [5, 5, 7, 7, 5],
        'X' => [5, 5, 2, 5, 5],
        'Y' => [5, 5, 2, 2, 2],
        'Z' => [7, 1, 2, 4, 7],
        '.' => [0, 0, 0, 0, 2],
        ':' => [0, 2, 0, 2, 0],
        '-' => [0, 0, 7, 0, 0],
        '/' => [1, 1, 2, 4, 4],
        '%' => [5, 1, 2, 4, 5],
        '#' => [5, 7, 5, 7, 5],
        _ => [0; 5],
    }
}

/// Draws `s` with the 3×5 font at `scale`, clipped to the image.
pub(crate) fn text(img: &mut RgbImage, x: u32, y: u32, s: &str, c: Rgb<u8>, scale: u32) {
    let mut cx = x;
    for ch in s.chars() {
        let g = glyph(ch);
        for (row, bits) in g.iter().enumerate() {
            for col in 0..3u32 {
                if bits & (4 >> col) != 0 {
                    for dy in 0..scale {
                        for dx in 0..scale {
                            let (px, py) = (cx + col * scale + dx, y + row as u32 * scale + dy);
                            if px < img.width() && py < img.height() {
                                img.put_pixel(px, py, c);
                            }
                        }
                    }
                }
            }
        }
        cx += 4 * scale;
    }
}
