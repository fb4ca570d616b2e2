//! Judging candidates: rejection, quality, and choosing the picks.
//!
//! **Rejection** (first rule that fires wins; "median"/"p75" are over this video's
//! candidates, so thresholds adapt to dark or soft footage):
//! - `Black`: mean luma < 0.06 or ≥ 95 % of pixels ≤ 16/255;
//! - `UnderExposed`: luma < 0.12, or luma < 0.22 and < 45 % of the median luma;
//! - `OverExposed`: ≥ 40 % clipped highlights, luma > 0.85, or luma > median + 0.25 with
//!   ≥ 10 % clipped;
//! - `Flat` (title cards, solid colours): uniformity ≥ 0.80 or contrast < 0.035;
//! - `Transition` (dense sampling only): the frame is a blend α·prev + (1-α)·next of its
//!   neighbours (α in 0.15..0.85, residual < 35 % of their difference, neighbours differ
//!   by ≥ 0.03) — fades and dissolves;
//! - `Cut` (dense only): differs strongly from both neighbours (histogram > 0.3 each) that
//!   are alike — a flash frame straddling an edit;
//! - `Defocus` / `MotionBlur`: Laplacian variance (`detail`) < 5 % of the video's p75,
//!   < 10 % of its shot's best or < 6 % of its scene's best (a Gaussian blur of σ≈4 px
//!   divides it by ~100 while natural scenes differ by < 10×; mean gradient only halves,
//!   and differs 5× between a soft and a busy photo, so it is not used for this); or one-directional gradients (isotropy < 0.45 and < 60 % of the
//!   video's median) with detail < 30 % of p75. Isotropy < 0.5 names it motion blur.
//!
//! **Quality** (0..1) = 0.40 sharpness (relative to the video's p90) + 0.30 exposure
//! (mid luma, no clipping) + 0.30 aesthetics (colourfulness, contrast), minus noise, plus
//! a face bonus. **Rank** multiplies in the scene weight (0.75 + 0.25·√share), a
//! stability factor (0.8 next to a rejected candidate or a shot boundary) and sharpness
//! among its own (sharpness ÷ 75 % of the sharpest frame of its scene, or of the same
//! palette within a second, at most 1), so a frame half-smeared by a passing car loses
//! to a sharp one of the same place.
//!
//! **Picks**: the best candidate (the best with faces, when faces exist and are
//! within 60 % of the best), then the best of each unused scene, then of unused shots,
//! then spread in time; rejected candidates only when nothing else is left
//! (`low_confidence`).

use crate::features::Signature;
use crate::scenes::{self, SceneMap};
use crate::{Features, RejectReason};

/// One analysed candidate frame.
#[derive(Debug, Clone)]
pub(crate) struct Sample {
    pub time: f64,
    pub features: Features,
    pub sig: Signature,
}

/// The verdict on a set of candidates.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub rejected: Vec<Option<RejectReason>>,
    pub quality: Vec<f32>,
    pub rank_score: Vec<f32>,
    pub scenes: SceneMap,
    /// Candidate indices, best first.
    pub picks: Vec<usize>,
    pub low_confidence: bool,
    /// Reference sharpness (p90 of accepted) used to normalise `Reasons::sharpness`.
    pub sharp_ref: f32,
}

/// Mean luma difference (of 32×18 thumbnails, 0..1) under which two candidates show the
/// same picture.
const SAME_PICTURE: f32 = 0.012;

/// Share of the sharpest frame of its scene (or of the same place within
/// [`NEAR_SECONDS`]) from which a candidate's rank is not reduced.
const SCENE_SHARPNESS_FULL: f32 = 0.75;
/// How far apart two candidates of the same place may be to compare their sharpness.
const NEAR_SECONDS: f64 = 1.0;

fn percentile(values: &mut [f32], p: f32) -> f32 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(|a, b| a.total_cmp(b));
    let idx = ((values.len() - 1) as f32 * p).round() as usize;
    values[idx.min(values.len() - 1)]
}

/// Exposure goodness 0..1: mid luma, little clipping.
pub(crate) fn exposure_score(f: &Features) -> f32 {
    let d = (f.luma - 0.48) / 0.42;
    ((1.0 - d * d) * (1.0 - 1.5 * (f.dark_clip + f.bright_clip))).clamp(0.0, 1.0)
}

/// Aesthetic appeal 0..1 from colourfulness and contrast.
pub(crate) fn aesthetics_score(f: &Features) -> f32 {
    (0.5 * (f.colourfulness / 0.6).min(1.0) + 0.5 * (f.contrast / 0.22).min(1.0)).clamp(0.0, 1.0)
}

/// A frame's quality, 0..1: 0.40 `sharp` (0..1) + 0.30 exposure + 0.30 aesthetics, less
/// up to 30 % for `noise`, plus the face bonus (up to 0.2 for a face covering an eighth
/// of the frame). A video's candidates pass their sharpness relative to the video's
/// sharpest and their measured noise; a single picture ([`crate::picture`]) passes its
/// own, since it has nothing to be relative to. One formula judges both.
pub(crate) fn quality(f: &Features, sharp: f32, noise: f32) -> f32 {
    let base = 0.4 * sharp.clamp(0.0, 1.0) + 0.3 * exposure_score(f) + 0.3 * aesthetics_score(f);
    let noisy = base * (1.0 - (noise * 2.0).min(0.3));
    let face = (f.face_score * 8.0).min(1.0);
    (noisy * (1.0 - 0.2 * face) + 0.2 * face).clamp(0.0, 1.0)
}

/// Reasons a frame is unusable on its own (exposure and flatness), independent of others.
pub(crate) fn absolute_reject(f: &Features, median_luma: f32) -> Option<RejectReason> {
    if f.luma < 0.06 || f.dark_clip >= 0.95 {
        return Some(RejectReason::Black);
    }
    if f.luma < 0.12 || (f.luma < 0.22 && f.luma < 0.45 * median_luma) {
        return Some(RejectReason::UnderExposed);
    }
    if f.bright_clip >= 0.40 || f.luma > 0.85 || (f.luma > median_luma + 0.25 && f.bright_clip >= 0.10) {
        return Some(RejectReason::OverExposed);
    }
    if f.uniformity >= 0.80 || f.contrast < 0.035 {
        return Some(RejectReason::Flat);
    }
    None
}

/// Judges candidates and picks up to `count` of them. `dense`: candidates are close
/// neighbours in time (so transitions can be seen between them).
pub(crate) fn plan(samples: &[Sample], count: usize, dense: bool) -> Plan {
    let n = samples.len();
    let mut lumas: Vec<f32> = samples.iter().map(|s| s.features.luma).collect();
    let median_luma = percentile(&mut lumas, 0.5);
    let mut rejected: Vec<Option<RejectReason>> =
        samples.iter().map(|s| absolute_reject(&s.features, median_luma)).collect();

    if tracing::enabled!(tracing::Level::TRACE) {
        for i in 1..n {
            let (p, x) = (&samples[i - 1].sig, &samples[i].sig);
            let (a, r) = if i + 1 < n { x.blend_fit(p, &samples[i + 1].sig) } else { (0.0, 0.0) };
            tracing::trace!(
                t = samples[i].time,
                hist = p.hist_distance(x),
                pix = p.pixel_distance(x),
                alpha = a,
                ratio = r,
                "neighbours"
            );
        }
    }
    if dense && n >= 3 {
        let mut extra = vec![None; n];
        for i in 1..n - 1 {
            if rejected[i].is_some() {
                continue;
            }
            let (p, x, q) = (&samples[i - 1].sig, &samples[i].sig, &samples[i + 1].sig);
            let spread = p.pixel_distance(q);
            if spread >= 0.06 {
                let (alpha, ratio) = x.blend_fit(p, q);
                let (lp, lx, lq) =
                    (samples[i - 1].features.luma, samples[i].features.luma, samples[i + 1].features.luma);
                let luma_ramp = (lp - lx) * (lx - lq) > 0.0 && (lp - lq).abs() >= 0.03;
                let palette_change = p.hist_distance(q) >= 0.15;
                if (0.15..=0.85).contains(&alpha) && ratio < 0.3 && (luma_ramp || palette_change) {
                    extra[i] = Some(RejectReason::Transition);
                    continue;
                }
            }
            if x.hist_distance(p) > 0.3 && x.hist_distance(q) > 0.3 && p.hist_distance(q) < 0.15 {
                extra[i] = Some(RejectReason::Cut);
            }
        }
        for (r, e) in rejected.iter_mut().zip(extra) {
            if r.is_none() {
                *r = e;
            }
        }
    }

    // Blur, relative to the video and to the frame's own shot and scene. Defocus barely
    // halves the mean gradient but divides the Laplacian variance (`detail`) by ~100.
    let accepted_values = |get: fn(&Features) -> f32, rejected: &[Option<RejectReason>]| -> Vec<f32> {
        samples.iter().zip(rejected).filter(|(_, r)| r.is_none()).map(|(s, _)| get(&s.features)).collect()
    };
    let p75_detail = percentile(&mut accepted_values(|f| f.detail, &rejected), 0.75);
    let median_iso = percentile(&mut accepted_values(|f| f.isotropy, &rejected), 0.5);
    let sigs: Vec<&Signature> = samples.iter().map(|s| &s.sig).collect();
    let include: Vec<bool> = rejected.iter().map(Option::is_none).collect();
    let pre_scenes = scenes::group(&sigs, &include);
    let mut scene_max = vec![0f32; pre_scenes.scene_count()];
    let shots = pre_scenes.shot.iter().flatten().max().map(|m| m + 1).unwrap_or(0);
    let mut shot_max = vec![0f32; shots];
    for (i, s) in samples.iter().enumerate() {
        if let Some(sc) = pre_scenes.scene[i] {
            scene_max[sc] = scene_max[sc].max(s.features.detail);
        }
        if let Some(sh) = pre_scenes.shot[i] {
            shot_max[sh] = shot_max[sh].max(s.features.detail);
        }
    }
    for (i, s) in samples.iter().enumerate() {
        if rejected[i].is_some() {
            continue;
        }
        let f = &s.features;
        let scene_detail = pre_scenes.scene[i].map(|sc| scene_max[sc]).unwrap_or(f.detail);
        let shot_detail = pre_scenes.shot[i].map(|sh| shot_max[sh]).unwrap_or(f.detail);
        let blurred = f.detail < 0.05 * p75_detail
            || f.detail < 0.1 * shot_detail
            || f.detail < 0.06 * scene_detail
            || f.sharpness < 0.015;
        let smeared = f.isotropy < 0.45 && f.isotropy < 0.6 * median_iso && f.detail < 0.3 * p75_detail;
        if blurred || smeared {
            rejected[i] = Some(if f.isotropy < 0.5 { RejectReason::MotionBlur } else { RejectReason::Defocus });
        }
    }

    let include: Vec<bool> = rejected.iter().map(Option::is_none).collect();
    let scenes = scenes::group(&sigs, &include);
    let mut accepted_sharp: Vec<f32> =
        samples.iter().zip(&include).filter(|(_, ok)| **ok).map(|(s, _)| s.features.sharpness).collect();
    let mut sharp_ref = percentile(&mut accepted_sharp, 0.9);
    if sharp_ref <= 0.0 {
        let mut all: Vec<f32> = samples.iter().map(|s| s.features.sharpness).collect();
        sharp_ref = percentile(&mut all, 0.9).max(1e-6);
    }

    let quality: Vec<f32> = samples
        .iter()
        .map(|s| quality(&s.features, (s.features.sharpness / sharp_ref).min(1.0), s.features.noise))
        .collect();

    // Stillness: small change to both neighbours (dense sampling) — a steady moment, away
    // from cuts and fast motion. 1 = still, 0.6 = changing fast.
    let stillness: Vec<f32> = (0..n)
        .map(|i| {
            if !dense {
                return 1.0;
            }
            let d = |a: usize, b: usize| samples[a].sig.pixel_distance(&samples[b].sig);
            let prev = if i > 0 { d(i - 1, i) } else { 0.0 };
            let next = if i + 1 < n { d(i, i + 1) } else { 0.0 };
            1.0 - 0.4 * (prev.max(next) / 0.15).min(1.0)
        })
        .collect();
    // Sharpness among its own: a frame smeared by something passing through (most of the
    // picture blurred, not enough to reject) ranks below a sharp frame of the same scene,
    // or of the same place a moment later. The smear often reads as a shot change of its
    // own (a spike in the picture), so neighbours within a second that keep the same
    // palette count too. Full marks from 75 % of the sharpest of them.
    let mut scene_sharpest = vec![0f32; scenes.scene_count()];
    for (i, s) in samples.iter().enumerate() {
        if let Some(sc) = scenes.scene[i] {
            scene_sharpest[sc] = scene_sharpest[sc].max(s.features.sharpness);
        }
    }
    let sharpest_near: Vec<f32> = (0..n)
        .map(|i| {
            let own = scenes.scene[i].map(|sc| scene_sharpest[sc]).unwrap_or(0.0);
            (0..n)
                .filter(|&j| include[j] && (samples[j].time - samples[i].time).abs() <= NEAR_SECONDS)
                .filter(|&j| samples[j].sig.hist_distance(&samples[i].sig) < scenes::SHOT_BREAK)
                .map(|j| samples[j].features.sharpness)
                .fold(own, f32::max)
        })
        .collect();
    let rank_score: Vec<f32> = (0..n)
        .map(|i| {
            let Some(sc) = scenes.scene[i] else { return 0.0 };
            let weight = 0.75 + 0.25 * scenes.weight[sc].sqrt();
            let neighbour_bad = |j: usize| rejected[j].is_some() || scenes.shot[j] != scenes.shot[i];
            let edge = (i > 0 && neighbour_bad(i - 1)) || (i + 1 < n && neighbour_bad(i + 1));
            let in_scene =
                (samples[i].features.sharpness / (SCENE_SHARPNESS_FULL * sharpest_near[i]).max(1e-6)).min(1.0);
            quality[i] * weight * stillness[i] * in_scene * if edge { 0.8 } else { 1.0 }
        })
        .collect();

    let accepted: Vec<usize> = (0..n).filter(|&i| include[i]).collect();
    let low_confidence = accepted.is_empty() || accepted.iter().all(|&i| quality[i] < 0.25);
    // In dense sampling, a candidate whose neighbours are both accepted and in its shot is
    // well inside a good stretch: at least one sample interval from any cut or bad frame.
    let interior: Vec<bool> = (0..n)
        .map(|i| {
            if !dense {
                return true;
            }
            let good = |j: usize| rejected[j].is_none() && scenes.shot[j] == scenes.shot[i];
            include[i] && i > 0 && i + 1 < n && good(i - 1) && good(i + 1)
        })
        .collect();
    let picks = choose(samples, &rejected, &quality, &rank_score, &scenes, &interior, count);
    Plan { rejected, quality, rank_score, scenes, picks, low_confidence, sharp_ref }
}

fn choose(
    samples: &[Sample],
    rejected: &[Option<RejectReason>],
    quality: &[f32],
    rank_score: &[f32],
    scenes: &SceneMap,
    interior: &[bool],
    count: usize,
) -> Vec<usize> {
    let n = samples.len();
    let mut order: Vec<usize> = (0..n).filter(|&i| rejected[i].is_none()).collect();
    order.sort_by(|&a, &b| rank_score[b].total_cmp(&rank_score[a]));
    let mut picks: Vec<usize> = Vec::new();
    if count == 0 || n == 0 {
        return picks;
    }
    // Candidates well inside good stretches first; edge ones only if needed.
    order.sort_by_key(|&i| !interior[i]);
    // First pick: a face moment when one is nearly as good as the best.
    if let Some(&best) = order.first() {
        let with_face =
            order.iter().copied().find(|&i| samples[i].features.faces > 0 && rank_score[i] >= 0.6 * rank_score[best]);
        picks.push(with_face.unwrap_or(best));
    }
    let duration = samples.last().map(|s| s.time).unwrap_or(0.0) - samples.first().map(|s| s.time).unwrap_or(0.0);
    let min_gap = duration / (count.max(1) as f64 * 2.0);
    // Passes, from most to least demanding; interior candidates in every pass first, and
    // a picture that looks like one already picked only when nothing else is left (a
    // still shot held for seconds is one moment, however many times it is sampled).
    let same_picture = |a: usize, b: usize| samples[a].sig.pixel_distance(&samples[b].sig) < SAME_PICTURE;
    for pass in 0..10 {
        let interior_only = pass < 4;
        let allow_lookalike = pass >= 8;
        let pass = if allow_lookalike { 2 + pass % 2 } else { pass % 4 };
        for &i in &order {
            if interior_only && !interior[i] {
                continue;
            }
            if picks.len() >= count {
                return picks;
            }
            if picks.contains(&i) || (!allow_lookalike && picks.iter().any(|&p| same_picture(p, i))) {
                continue;
            }
            let ok = match pass {
                0 => picks.iter().all(|&p| scenes.scene[p] != scenes.scene[i]),
                1 => picks.iter().all(|&p| scenes.shot[p] != scenes.shot[i]),
                2 => picks.iter().all(|&p| (samples[p].time - samples[i].time).abs() >= min_gap),
                _ => picks.iter().all(|&p| (samples[p].time - samples[i].time).abs() > 1e-3),
            };
            if ok {
                picks.push(i);
            }
        }
    }
    // Nothing acceptable left: the least bad rejected candidates, spread in time.
    let mut rest: Vec<usize> = (0..n).filter(|&i| rejected[i].is_some()).collect();
    rest.sort_by(|&a, &b| quality[b].total_cmp(&quality[a]));
    for pass in 0..2 {
        for &i in &rest {
            if picks.len() >= count {
                return picks;
            }
            if picks.contains(&i) {
                continue;
            }
            let ok = if pass == 0 {
                picks.iter().all(|&p| (samples[p].time - samples[i].time).abs() >= min_gap)
            } else {
                picks.iter().all(|&p| (samples[p].time - samples[i].time).abs() > 1e-3)
            };
            if ok {
                picks.push(i);
            }
        }
    }
    picks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::measure;
    use image::RgbImage;

    /// A colourful, detailed picture (smooth colour areas under fine texture, as a street
    /// has), shifted by `dx`; `seed` changes the picture.
    fn street(dx: u32, seed: u32) -> RgbImage {
        RgbImage::from_fn(160, 90, |x, y| {
            let (u, v) = (x + dx, y);
            let h = (u.wrapping_mul(73_856_093) ^ v.wrapping_mul(19_349_663) ^ seed.wrapping_mul(83_492_791)) % 61;
            let texture = h as i32 - 30;
            let base = [60 + (u * 120 / 170) as i32, 50 + (v * 140 / 90) as i32, 170 - ((u + v) * 100 / 260) as i32];
            let seed_tint = (seed * 37 % 60) as i32;
            image::Rgb(base.map(|c| (c + texture + seed_tint - 30).clamp(0, 255) as u8))
        })
    }

    /// `img` with its lower two thirds smeared sideways (a vehicle passing close to the
    /// camera).
    fn smeared(img: &RgbImage) -> RgbImage {
        let mut out = img.clone();
        for y in img.height() / 3..img.height() {
            for x in 0..img.width() {
                let mut acc = [0u32; 3];
                let xs: Vec<u32> = (x.saturating_sub(16)..(x + 16).min(img.width())).collect();
                for &sx in &xs {
                    for (a, c) in acc.iter_mut().zip(img.get_pixel(sx, y).0) {
                        *a += u32::from(c);
                    }
                }
                out.put_pixel(x, y, image::Rgb(acc.map(|a| (a / xs.len() as u32) as u8)));
            }
        }
        out
    }

    fn sample(time: f64, img: &RgbImage) -> Sample {
        let (features, sig) = measure(img);
        Sample { time, features, sig }
    }

    #[test]
    fn a_half_smeared_frame_ranks_below_sharp_frames_of_its_scene() {
        let mut samples: Vec<Sample> = (0..9).map(|k| sample(k as f64, &street(k, 1))).collect();
        samples[4] = sample(4.0, &smeared(&street(4, 1)));
        let plan = plan(&samples, 1, false);
        assert!(plan.rejected[4].is_none(), "half a picture smeared is not rejected outright");
        let ratio = |i: usize| plan.rank_score[i] / plan.quality[i];
        // Both sit next to a shot change (the smear reads as one), so both carry the same
        // edge factor; only sharpness within the scene tells them apart.
        assert!(ratio(4) < 0.7 * ratio(3), "smeared {} vs sharp {}", ratio(4), ratio(3));
        assert_ne!(plan.picks[0], 4);
    }

    #[test]
    fn picks_are_different_pictures_when_the_video_has_them() {
        // A still held for six samples (nearly identical pictures), then a moving shot.
        let mut samples: Vec<Sample> = (0..6).map(|k| sample(k as f64, &street(0, 7))).collect();
        samples.extend((6..12).map(|k| sample(k as f64, &street(3 * k, 9))));
        let plan = plan(&samples, 3, true);
        assert_eq!(plan.picks.len(), 3);
        for (a, &i) in plan.picks.iter().enumerate() {
            for &j in &plan.picks[a + 1..] {
                let d = samples[i].sig.pixel_distance(&samples[j].sig);
                assert!(d >= 0.012, "picks {i} and {j} show the same picture ({d})");
            }
        }
        // With nothing else to choose from, a still video still gets its three picks.
        let still: Vec<Sample> = (0..10).map(|k| sample(k as f64, &street(0, 7))).collect();
        assert_eq!(plan_picks(&still), 3);
    }

    fn plan_picks(samples: &[Sample]) -> usize {
        plan(samples, 3, true).picks.len()
    }
}
