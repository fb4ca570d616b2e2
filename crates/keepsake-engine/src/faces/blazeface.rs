//! BlazeFace's pixel plumbing: turning a region of an image into the model's input tensor,
//! and the model's 896 raw anchor outputs back into scored boxes. Pure functions, no
//! runtime, so they are unit-tested on their own.

use image::RgbImage;

/// Anchors per model: a 16×16 grid with 2 anchors per cell, then an 8×8 grid with 6.
/// MediaPipe's SSD anchors for both BlazeFace models (front: strides 8,16,16,16 on 128;
/// back: 16,32,32,32 on 256) land on the same normalised centres, with fixed size 1.
pub(crate) const ANCHOR_COUNT: usize = 16 * 16 * 2 + 8 * 8 * 6;

/// Values per anchor in the regression heads: box (cx, cy, w, h) then 6 keypoints (x, y).
pub(crate) const REGRESSION_LEN: usize = 16;

/// Anchor centres in the model's unit square, in the order of the joined output heads.
pub(crate) fn anchors() -> Vec<(f32, f32)> {
    let mut anchors = Vec::with_capacity(ANCHOR_COUNT);
    for (grid, per_cell) in [(16usize, 2usize), (8, 6)] {
        for y in 0..grid {
            for x in 0..grid {
                let centre = ((x as f32 + 0.5) / grid as f32, (y as f32 + 0.5) / grid as f32);
                anchors.extend((0..per_cell).map(|_| centre));
            }
        }
    }
    anchors
}

/// A square region of an image, in pixels; it may reach outside the image (the outside
/// reads as black), which is how letterboxing and crops near the edge work.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Square {
    pub x0: f32,
    pub y0: f32,
    pub side: f32,
}

impl Square {
    /// The smallest square centred on the image that holds all of it (letterbox).
    pub fn letterbox(width: u32, height: u32) -> Square {
        let side = width.max(height) as f32;
        Square { x0: (width as f32 - side) / 2.0, y0: (height as f32 - side) / 2.0, side }
    }

    /// A square of `side` pixels centred on (`cx`, `cy`).
    pub fn centred(cx: f32, cy: f32, side: f32) -> Square {
        Square { x0: cx - side / 2.0, y0: cy - side / 2.0, side }
    }

    /// The same square in an image scaled by `factor`.
    pub fn scaled(self, factor: f32) -> Square {
        Square { x0: self.x0 * factor, y0: self.y0 * factor, side: self.side * factor }
    }
}

/// Where the proposal model looks in a `width`×`height` image: the whole image
/// letterboxed (faces of any size), and for images at least `tile_aspect` times longer
/// than wide and with a short side of at least `min_tile` pixels (below that, tiles would
/// only upscale what the letterbox already shows), also enough overlapping full-height
/// squares to cover it (small faces).
/// Faces too large to fit a tile's overlap are still found in the whole-image view.
/// At most [`MAX_TILES`] tiles: stranger shapes (panoramas, slivers) get larger squares,
/// padded across, so the cost stays bounded whatever the image.
pub(crate) fn proposal_regions(width: u32, height: u32, tile_aspect: f32, min_tile: u32) -> Vec<Square> {
    let mut regions = vec![Square::letterbox(width, height)];
    let (long, short) = (width.max(height) as f32, width.min(height) as f32);
    if short >= min_tile as f32 && short > 0.0 && long >= tile_aspect * short {
        let count = ((long / short).ceil() as usize).clamp(2, MAX_TILES);
        let side = short.max(long / count as f32);
        let across = (short - side) / 2.0;
        let step = (long - side) / (count - 1) as f32;
        for i in 0..count {
            let along = i as f32 * step;
            regions.push(if width >= height {
                Square { x0: along, y0: across, side }
            } else {
                Square { x0: across, y0: along, side }
            });
        }
    }
    regions
}

/// The most tiles one image is searched in (besides the whole-image view).
pub(crate) const MAX_TILES: usize = 4;

/// The model input for `region` of `image`: `size`×`size`×3 floats (NHWC, batch 1 implied),
/// RGB scaled to [-1, 1]; parts of the region outside the image are black (-1).
pub(crate) fn input_tensor(image: &RgbImage, region: Square, size: u32) -> Vec<f32> {
    let n = size as usize;
    let mut tensor = vec![-1.0f32; n * n * 3];
    let (width, height) = image.dimensions();
    if width == 0 || height == 0 || region.side <= 0.0 || !region.side.is_finite() {
        return tensor;
    }
    // The part of the region inside the image, in whole pixels.
    let ix0 = region.x0.max(0.0).floor() as u32;
    let iy0 = region.y0.max(0.0).floor() as u32;
    let ix1 = (region.x0 + region.side).min(width as f32).ceil().max(0.0) as u32;
    let iy1 = (region.y0 + region.side).min(height as f32).ceil().max(0.0) as u32;
    if ix1 <= ix0 || iy1 <= iy0 {
        return tensor;
    }
    let scale = size as f32 / region.side;
    let tx0 = (((ix0 as f32 - region.x0) * scale).round() as u32).min(size - 1);
    let ty0 = (((iy0 as f32 - region.y0) * scale).round() as u32).min(size - 1);
    let tw = (((ix1 - ix0) as f32 * scale).round() as u32).clamp(1, size - tx0);
    let th = (((iy1 - iy0) as f32 * scale).round() as u32).clamp(1, size - ty0);
    let inside = image::imageops::crop_imm(image, ix0, iy0, ix1 - ix0, iy1 - iy0);
    // Triangle (bilinear with a proper footprint when shrinking) keeps small faces intact
    // where nearest-neighbour sampling of a large frame would alias them away. Resizing
    // the view directly avoids copying the crop first.
    let resized = image::imageops::resize(&*inside, tw, th, image::imageops::FilterType::Triangle);
    for (x, y, pixel) in resized.enumerate_pixels() {
        let at = (((ty0 + y) as usize) * n + (tx0 + x) as usize) * 3;
        for c in 0..3 {
            tensor[at + c] = pixel[c] as f32 / 127.5 - 1.0;
        }
    }
    tensor
}

/// A detection in image pixels, before it becomes a public `FaceBox`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Candidate {
    pub x0: f32,
    pub y0: f32,
    pub x1: f32,
    pub y1: f32,
    pub score: f32,
}

impl Candidate {
    pub fn width(&self) -> f32 {
        self.x1 - self.x0
    }
    pub fn height(&self) -> f32 {
        self.y1 - self.y0
    }
    pub fn centre(&self) -> (f32, f32) {
        ((self.x0 + self.x1) / 2.0, (self.y0 + self.y1) / 2.0)
    }
    /// The same box in an image scaled by `factor`.
    pub fn scaled(self, factor: f32) -> Candidate {
        Candidate {
            x0: self.x0 * factor,
            y0: self.y0 * factor,
            x1: self.x1 * factor,
            y1: self.y1 * factor,
            score: self.score,
        }
    }
    fn area(&self) -> f32 {
        self.width().max(0.0) * self.height().max(0.0)
    }
    /// Intersection over union with `other`.
    pub fn iou(&self, other: &Candidate) -> f32 {
        let w = (self.x1.min(other.x1) - self.x0.max(other.x0)).max(0.0);
        let h = (self.y1.min(other.y1) - self.y0.max(other.y0)).max(0.0);
        let inter = w * h;
        let union = self.area() + other.area() - inter;
        if union > 0.0 {
            inter / union
        } else {
            0.0
        }
    }
}

/// Sigmoid of a raw score, clipped like MediaPipe (±100) so garbage cannot overflow.
fn sigmoid(logit: f32) -> f32 {
    let z = logit.clamp(-100.0, 100.0);
    1.0 / (1.0 + (-z).exp())
}

/// Decodes the joined heads (`scores`: one logit per anchor, `boxes`: 16 values per
/// anchor) of a model of input `size` that saw `region`, keeping anchors scoring at least
/// `min_score`; boxes come back in image pixels.
pub(crate) fn decode(
    scores: &[f32],
    boxes: &[f32],
    anchors: &[(f32, f32)],
    size: u32,
    region: Square,
    min_score: f32,
) -> Vec<Candidate> {
    let size = size as f32;
    let mut out = Vec::new();
    for (i, (&logit, &(ax, ay))) in scores.iter().zip(anchors).enumerate() {
        let score = sigmoid(logit);
        // NaN scores (a broken model) fail this test too.
        if score.is_nan() || score < min_score {
            continue;
        }
        let Some(raw) = boxes.get(i * REGRESSION_LEN..i * REGRESSION_LEN + 4) else {
            break;
        };
        let cx = raw[0] / size + ax;
        let cy = raw[1] / size + ay;
        let (w, h) = (raw[2] / size, raw[3] / size);
        if !(cx.is_finite() && cy.is_finite() && w > 0.0 && h > 0.0 && w.is_finite() && h.is_finite()) {
            continue;
        }
        let to_px = |u: f32, origin: f32| origin + u * region.side;
        out.push(Candidate {
            x0: to_px(cx - w / 2.0, region.x0),
            y0: to_px(cy - h / 2.0, region.y0),
            x1: to_px(cx + w / 2.0, region.x0),
            y1: to_px(cy + h / 2.0, region.y0),
            score,
        });
    }
    out
}

/// MediaPipe's weighted non-maximum suppression: candidates overlapping the best one by
/// more than `iou_threshold` are merged into it (coordinates averaged by score), which
/// steadies the box across frames better than dropping them.
pub(crate) fn weighted_nms(mut candidates: Vec<Candidate>, iou_threshold: f32) -> Vec<Candidate> {
    candidates.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept = Vec::new();
    while let Some(best) = candidates.first().copied() {
        let (group, rest): (Vec<Candidate>, Vec<Candidate>) =
            candidates.into_iter().partition(|c| c.iou(&best) > iou_threshold || *c == best);
        let total: f32 = group.iter().map(|c| c.score).sum();
        let blend = |f: fn(&Candidate) -> f32| group.iter().map(|c| f(c) * c.score).sum::<f32>() / total;
        kept.push(Candidate {
            x0: blend(|c| c.x0),
            y0: blend(|c| c.y0),
            x1: blend(|c| c.x1),
            y1: blend(|c| c.y1),
            score: best.score,
        });
        candidates = rest;
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_cover_both_heads_in_order() {
        let a = anchors();
        assert_eq!(a.len(), 896);
        assert_eq!(a[0], (0.5 / 16.0, 0.5 / 16.0));
        assert_eq!(a[1], a[0]);
        assert_eq!(a[2], (1.5 / 16.0, 0.5 / 16.0));
        assert_eq!(a[511], (15.5 / 16.0, 15.5 / 16.0));
        assert_eq!(a[512], (0.5 / 8.0, 0.5 / 8.0));
        assert_eq!(a[895], (7.5 / 8.0, 7.5 / 8.0));
    }

    #[test]
    fn tiles_cover_elongated_images_and_only_those() {
        assert_eq!(proposal_regions(512, 512, 1.5, 192), vec![Square::letterbox(512, 512)]);
        assert_eq!(proposal_regions(640, 480, 1.5, 192).len(), 1);
        // 16:9: the letterbox plus two 720-px squares at the left and right edges.
        let r = proposal_regions(1280, 720, 1.5, 192);
        assert_eq!(&r[1..], &[Square { x0: 0.0, y0: 0.0, side: 720.0 }, Square { x0: 560.0, y0: 0.0, side: 720.0 }]);
        // A 512x1100 portrait needs three squares to cover its height.
        let r = proposal_regions(512, 1100, 1.5, 192);
        assert_eq!(r.len(), 4);
        assert_eq!(r[1].y0, 0.0);
        assert_eq!(r[3].y0 + r[3].side, 1100.0);
        assert!(r[2].y0 < r[1].y0 + 512.0 && r[3].y0 < r[2].y0 + 512.0, "{r:?}");
        assert!(r[1..].iter().all(|t| t.x0 == 0.0 && t.side == 512.0));
        // Small frames (the engine's 256-px analysis frames) are not tiled.
        assert_eq!(proposal_regions(256, 144, 1.5, 192).len(), 1);
        // A sliver gets at most MAX_TILES squares, still covering it end to end.
        let r = proposal_regions(3, 2000, 1.5, 0);
        assert_eq!(r.len(), 1 + MAX_TILES);
        assert_eq!(r[1].y0, 0.0);
        assert_eq!(r[MAX_TILES].y0 + r[MAX_TILES].side, 2000.0);
        assert!(r[1..].iter().all(|t| t.side == 500.0 && t.x0 + t.side / 2.0 == 1.5), "{r:?}");
    }

    #[test]
    fn letterbox_pads_the_short_side_with_black() {
        // A white 20x10 image letterboxed to 8x8: rows 0-1 and 6-7 are padding.
        let image = RgbImage::from_pixel(20, 10, image::Rgb([255, 255, 255]));
        let t = input_tensor(&image, Square::letterbox(20, 10), 8);
        let value = |x: usize, y: usize| t[(y * 8 + x) * 3];
        assert_eq!(value(3, 0), -1.0);
        assert_eq!(value(3, 1), -1.0);
        assert!((value(3, 2) - 1.0).abs() < 1e-6);
        assert!((value(3, 5) - 1.0).abs() < 1e-6);
        assert_eq!(value(3, 6), -1.0);
        assert_eq!(value(3, 7), -1.0);
    }

    #[test]
    fn region_outside_the_image_is_all_black() {
        let image = RgbImage::from_pixel(10, 10, image::Rgb([200, 10, 10]));
        let t = input_tensor(&image, Square { x0: 50.0, y0: 50.0, side: 20.0 }, 4);
        assert!(t.iter().all(|&v| v == -1.0));
    }

    #[test]
    fn decode_maps_anchor_offsets_into_the_region() {
        let anchors = anchors();
        let mut scores = vec![-10.0f32; 896];
        let mut boxes = vec![0.0f32; 896 * 16];
        // Anchor 512 sits at (1/16, 1/16); shift it by +64 px of 128 = +0.5 and give it
        // a box of 32x64 px (0.25 x 0.5).
        scores[512] = 3.0;
        boxes[512 * 16..512 * 16 + 4].copy_from_slice(&[64.0, 0.0, 32.0, 64.0]);
        let region = Square { x0: -100.0, y0: 0.0, side: 400.0 };
        let found = decode(&scores, &boxes, &anchors, 128, region, 0.5);
        assert_eq!(found.len(), 1);
        let c = found[0];
        let (cx, cy) = c.centre();
        assert!((cx - (-100.0 + (0.0625 + 0.5) * 400.0)).abs() < 1e-3, "{c:?}");
        assert!((cy - 0.0625 * 400.0).abs() < 1e-3, "{c:?}");
        assert!((c.width() - 100.0).abs() < 1e-3 && (c.height() - 200.0).abs() < 1e-3);
        assert!((c.score - sigmoid(3.0)).abs() < 1e-6);
    }

    #[test]
    fn decode_skips_nan_and_degenerate_outputs() {
        let anchors = anchors();
        let mut scores = vec![f32::NAN; 896];
        let mut boxes = vec![0.0f32; 896 * 16];
        scores[0] = 5.0; // confident, but a zero-size box
        scores[1] = 5.0;
        boxes[16..20].copy_from_slice(&[0.0, 0.0, f32::INFINITY, 10.0]);
        scores[2] = 5.0;
        boxes[32..36].copy_from_slice(&[0.0, 0.0, 10.0, 10.0]);
        let found = decode(&scores, &boxes, &anchors, 128, Square::letterbox(128, 128), 0.5);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!((found[0].width() - 10.0).abs() < 1e-3);
    }

    #[test]
    fn nms_merges_overlaps_and_keeps_separate_faces() {
        let c = |x0: f32, score: f32| Candidate { x0, y0: 0.0, x1: x0 + 10.0, y1: 10.0, score };
        let kept = weighted_nms(vec![c(0.0, 0.9), c(1.0, 0.6), c(50.0, 0.7)], 0.3);
        assert_eq!(kept.len(), 2);
        assert_eq!(kept[0].score, 0.9);
        // Blended towards the weaker overlapping box.
        assert!(kept[0].x0 > 0.0 && kept[0].x0 < 1.0, "{:?}", kept[0]);
        assert_eq!(kept[1], c(50.0, 0.7));
    }

    #[test]
    fn sigmoid_survives_extreme_logits() {
        assert_eq!(sigmoid(f32::INFINITY), sigmoid(100.0));
        assert!(sigmoid(-1e30) >= 0.0);
    }
}
