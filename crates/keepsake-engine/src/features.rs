//! Per-frame measurements on a small (≤ 256 px) upright RGB frame.
//!
//! Everything is computed on luma Y = (0.299 R + 0.587 G + 0.114 B)/255 in 0..1:
//! - exposure: mean luma, share of pixels ≤ 16/255 (`dark_clip`) and ≥ 245/255 (`bright_clip`);
//! - sharpness: mean Sobel magnitude ×4 (sharp footage ≈ 0.2–1, defocused ≪ 0.1);
//!   `isotropy` = weaker/stronger of Σ|gx|, Σ|gy| (motion blur kills one direction);
//! - detail: variance of the 4-neighbour Laplacian ×100;
//! - uniformity: share of pixels in the 13 fullest of 256 luma bins (hecate's top-5 %
//!   rule: ≥ 0.8 means a flat frame or a title card);
//! - colourfulness: Hasler & Süsstrunk's metric / 100; contrast: luma standard deviation;
//! - noise: median |Laplacian| among the flattest half of pixels, ×10.
//!
//! Besides [`Features`], a [`Signature`] (a 32×18 luma thumbnail and a 64-bin RGB
//! histogram) lets the selector compare frames: scenes, stillness, fades.

use image::RgbImage;

use crate::Features;

/// Small per-frame fingerprint used to compare frames with each other.
#[derive(Debug, Clone, Default)]
pub(crate) struct Signature {
    /// 32×18 luma thumbnail, 0..1.
    pub thumb: Vec<f32>,
    /// 4×4×4 RGB histogram, sums to 1.
    pub hist: Vec<f32>,
}

pub(crate) const THUMB_W: u32 = 32;
pub(crate) const THUMB_H: u32 = 18;

impl Signature {
    /// Histogram distance in 0..1 (half the L1 distance).
    pub fn hist_distance(&self, other: &Signature) -> f32 {
        if self.hist.len() != other.hist.len() {
            return 1.0;
        }
        0.5 * self.hist.iter().zip(&other.hist).map(|(a, b)| (a - b).abs()).sum::<f32>()
    }

    /// Mean absolute luma difference of the thumbnails, 0..1.
    pub fn pixel_distance(&self, other: &Signature) -> f32 {
        if self.thumb.len() != other.thumb.len() || self.thumb.is_empty() {
            return 1.0;
        }
        self.thumb.iter().zip(&other.thumb).map(|(a, b)| (a - b).abs()).sum::<f32>() / self.thumb.len() as f32
    }

    /// How well this frame is explained as a blend α·a + (1-α)·b of two others (a fade or
    /// a dissolve): returns (α, residual / |a - b|). A low ratio with α inside (0.1, 0.9)
    /// means "in between", i.e. a transition frame.
    pub fn blend_fit(&self, a: &Signature, b: &Signature) -> (f32, f32) {
        let n = self.thumb.len();
        if n == 0 || a.thumb.len() != n || b.thumb.len() != n {
            return (0.0, f32::INFINITY);
        }
        // Least squares: x - b = α (a - b).
        let (mut num, mut den) = (0.0f32, 0.0f32);
        for i in 0..n {
            let d = a.thumb[i] - b.thumb[i];
            num += (self.thumb[i] - b.thumb[i]) * d;
            den += d * d;
        }
        if den <= f32::EPSILON {
            return (0.0, f32::INFINITY);
        }
        let alpha = num / den;
        let mut resid = 0.0f32;
        let mut spread = 0.0f32;
        for i in 0..n {
            let d = a.thumb[i] - b.thumb[i];
            resid += (self.thumb[i] - (b.thumb[i] + alpha * d)).abs();
            spread += d.abs();
        }
        (alpha, resid / spread.max(f32::EPSILON))
    }
}

/// Measures one frame.
pub(crate) fn measure(img: &RgbImage) -> (Features, Signature) {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let n = (w * h).max(1);
    let mut luma = vec![0f32; w * h];
    let mut hist256 = [0u32; 256];
    let mut hist_rgb = vec![0f32; 64];
    let (mut sum, mut sum2) = (0f64, 0f64);
    let (mut dark, mut bright) = (0usize, 0usize);
    let (mut rg_s, mut rg_s2, mut yb_s, mut yb_s2) = (0f64, 0f64, 0f64, 0f64);
    for (i, p) in img.pixels().enumerate() {
        let [r, g, b] = p.0;
        let (rf, gf, bf) = (r as f32, g as f32, b as f32);
        let y = 0.299 * rf + 0.587 * gf + 0.114 * bf;
        let yi = (y.round() as usize).min(255);
        hist256[yi] += 1;
        if yi <= 16 {
            dark += 1;
        }
        if yi >= 245 {
            bright += 1;
        }
        let yn = y / 255.0;
        luma[i] = yn;
        sum += yn as f64;
        sum2 += (yn * yn) as f64;
        hist_rgb[((r >> 6) as usize) * 16 + ((g >> 6) as usize) * 4 + (b >> 6) as usize] += 1.0;
        let rg = (rf - gf) as f64;
        let yb = (0.5 * (rf + gf) - bf) as f64;
        rg_s += rg;
        rg_s2 += rg * rg;
        yb_s += yb;
        yb_s2 += yb * yb;
    }
    let nf = n as f64;
    let mean = sum / nf;
    let contrast = ((sum2 / nf - mean * mean).max(0.0)).sqrt();
    let (rg_m, yb_m) = (rg_s / nf, yb_s / nf);
    let rg_sd = (rg_s2 / nf - rg_m * rg_m).max(0.0).sqrt();
    let yb_sd = (yb_s2 / nf - yb_m * yb_m).max(0.0).sqrt();
    let colourfulness = ((rg_sd * rg_sd + yb_sd * yb_sd).sqrt() + 0.3 * (rg_m * rg_m + yb_m * yb_m).sqrt()) / 100.0;

    let mut sorted_bins = hist256;
    sorted_bins.sort_unstable_by(|a, b| b.cmp(a));
    let uniformity = sorted_bins[..13].iter().sum::<u32>() as f32 / n as f32;

    // Gradients and Laplacian on the interior.
    let (mut gx_sum, mut gy_sum, mut mag_sum) = (0f64, 0f64, 0f64);
    let (mut lap_sum, mut lap_sum2) = (0f64, 0f64);
    let mut flat_lap: Vec<(f32, f32)> = Vec::with_capacity(n);
    let mut inner = 0usize;
    if w >= 3 && h >= 3 {
        for y in 1..h - 1 {
            for x in 1..w - 1 {
                let at = |dx: isize, dy: isize| luma[(y as isize + dy) as usize * w + (x as isize + dx) as usize];
                let gx = (at(1, -1) + 2.0 * at(1, 0) + at(1, 1)) - (at(-1, -1) + 2.0 * at(-1, 0) + at(-1, 1));
                let gy = (at(-1, 1) + 2.0 * at(0, 1) + at(1, 1)) - (at(-1, -1) + 2.0 * at(0, -1) + at(1, -1));
                let mag = (gx * gx + gy * gy).sqrt();
                gx_sum += gx.abs() as f64;
                gy_sum += gy.abs() as f64;
                mag_sum += mag as f64;
                let lap = at(1, 0) + at(-1, 0) + at(0, 1) + at(0, -1) - 4.0 * at(0, 0);
                lap_sum += lap as f64;
                lap_sum2 += (lap * lap) as f64;
                flat_lap.push((mag, lap.abs()));
                inner += 1;
            }
        }
    }
    let inner_f = inner.max(1) as f64;
    let sharpness = (mag_sum / inner_f * 4.0) as f32;
    let lap_mean = lap_sum / inner_f;
    let detail = ((lap_sum2 / inner_f - lap_mean * lap_mean).max(0.0) * 100.0) as f32;
    let isotropy = if gx_sum.max(gy_sum) > 0.0 { (gx_sum.min(gy_sum) / gx_sum.max(gy_sum)) as f32 } else { 1.0 };
    let noise = if flat_lap.is_empty() {
        0.0
    } else {
        let half = flat_lap.len() / 2;
        flat_lap.select_nth_unstable_by(half, |a, b| a.0.total_cmp(&b.0));
        let mut flat: Vec<f32> = flat_lap[..half.max(1)].iter().map(|p| p.1).collect();
        let mid = flat.len() / 2;
        flat.select_nth_unstable_by(mid, |a, b| a.total_cmp(b));
        flat[mid] * 10.0
    };

    for v in hist_rgb.iter_mut() {
        *v /= n as f32;
    }
    let thumb = luma_thumbnail(&luma, w, h);
    let features = Features {
        luma: mean as f32,
        dark_clip: dark as f32 / n as f32,
        bright_clip: bright as f32 / n as f32,
        sharpness,
        detail,
        isotropy,
        uniformity,
        colourfulness: colourfulness as f32,
        contrast: contrast as f32,
        noise,
        faces: 0,
        face_score: 0.0,
    };
    (features, Signature { thumb, hist: hist_rgb })
}

/// Box-averages luma into a THUMB_W × THUMB_H grid.
fn luma_thumbnail(luma: &[f32], w: usize, h: usize) -> Vec<f32> {
    let (tw, th) = (THUMB_W as usize, THUMB_H as usize);
    let mut out = vec![0f32; tw * th];
    let mut count = vec![0u32; tw * th];
    if w == 0 || h == 0 {
        return out;
    }
    for y in 0..h {
        let ty = (y * th / h).min(th - 1);
        for x in 0..w {
            let tx = (x * tw / w).min(tw - 1);
            out[ty * tw + tx] += luma[y * w + x];
            count[ty * tw + tx] += 1;
        }
    }
    for (v, c) in out.iter_mut().zip(count) {
        if c > 0 {
            *v /= c as f32;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_frame_is_uniform_and_soft() {
        let img = RgbImage::from_pixel(64, 36, image::Rgb([40, 60, 200]));
        let (f, _) = measure(&img);
        assert!(f.uniformity > 0.99);
        assert!(f.sharpness < 1e-3);
        assert!(f.contrast < 1e-3);
    }

    #[test]
    fn checkerboard_is_sharp_and_isotropic() {
        let img = RgbImage::from_fn(64, 64, |x, y| {
            if (x / 4 + y / 4) % 2 == 0 {
                image::Rgb([255, 255, 255])
            } else {
                image::Rgb([0, 0, 0])
            }
        });
        let (f, _) = measure(&img);
        assert!(f.sharpness > 0.5, "{f:?}");
        assert!(f.isotropy > 0.9, "{f:?}");
        assert!(f.dark_clip > 0.4 && f.bright_clip > 0.4);
    }

    #[test]
    fn vertical_stripes_are_anisotropic() {
        let img = RgbImage::from_fn(64, 64, |x, _| image::Rgb([(x * 4) as u8, 0, 0]));
        let (f, _) = measure(&img);
        assert!(f.isotropy < 0.05, "{f:?}");
    }

    #[test]
    fn half_blend_is_detected_as_in_between() {
        let a = RgbImage::from_fn(64, 36, |x, y| image::Rgb([((x * 7 + y * 3) % 256) as u8; 3]));
        let b = RgbImage::from_pixel(64, 36, image::Rgb([0, 0, 0]));
        let mid = RgbImage::from_fn(64, 36, |x, y| {
            let v = a.get_pixel(x, y).0[0] / 2;
            image::Rgb([v; 3])
        });
        let (_, sa) = measure(&a);
        let (_, sb) = measure(&b);
        let (_, sm) = measure(&mid);
        let (alpha, ratio) = sm.blend_fit(&sa, &sb);
        assert!((alpha - 0.5).abs() < 0.05, "alpha {alpha}");
        assert!(ratio < 0.05, "ratio {ratio}");
    }
}
