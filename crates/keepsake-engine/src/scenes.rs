//! Grouping candidates into scenes.
//!
//! Two steps, on accepted candidates in time order:
//! 1. **shots**: a new shot starts where the 64-bin colour histogram distance between
//!    consecutive candidates exceeds [`SHOT_BREAK`] (0.30, half-L1, 0..1) — cuts change the
//!    palette, motion within a shot mostly does not — or where the 32×18 luma thumbnails
//!    jump by > 0.15 and more than twice the change on either side (a spike, not motion);
//! 2. **scenes**: shots whose mean histograms are within [`SAME_SCENE`] (0.20) are merged
//!    (single link), so a scene that returns later (A B A) counts once and the picks
//!    spread over genuinely different content.
//!
//! A scene's weight is its share of the accepted candidates, i.e. of screen time.

use crate::features::Signature;

/// Histogram distance between consecutive candidates that starts a new shot.
pub(crate) const SHOT_BREAK: f32 = 0.30;
/// Histogram distance under which two shots are the same scene.
pub(crate) const SAME_SCENE: f32 = 0.20;

/// Whether consecutive candidates `a` < `b` lie on different sides of a cut: a palette
/// jump, or a picture jump much larger than the change around it (motion is steady,
/// cuts are spikes).
fn is_cut(sigs: &[&Signature], a: usize, b: usize) -> bool {
    let hist = sigs[a].hist_distance(sigs[b]);
    let pix = sigs[a].pixel_distance(sigs[b]);
    if hist > SHOT_BREAK || (hist > 0.2 && pix > 0.15) {
        return true;
    }
    let before = if a > 0 { sigs[a - 1].pixel_distance(sigs[a]) } else { 0.0 };
    let after = if b + 1 < sigs.len() { sigs[b].pixel_distance(sigs[b + 1]) } else { 0.0 };
    pix > 0.15 && pix > 2.0 * before.max(after)
}

/// Shot and scene of each candidate (`None` for candidates not included).
#[derive(Debug, Clone)]
pub(crate) struct SceneMap {
    pub shot: Vec<Option<usize>>,
    pub scene: Vec<Option<usize>>,
    /// Share of included candidates per scene.
    pub weight: Vec<f32>,
}

impl SceneMap {
    pub fn scene_count(&self) -> usize {
        self.weight.len()
    }
}

/// Groups the included candidates (`include[i]`) into shots and scenes. Scenes are
/// numbered by first appearance.
pub(crate) fn group(sigs: &[&Signature], include: &[bool]) -> SceneMap {
    let n = sigs.len();
    let mut shot = vec![None; n];
    let mut shots: Vec<Vec<usize>> = Vec::new();
    let mut prev: Option<usize> = None;
    for i in 0..n {
        if !include[i] {
            continue;
        }
        let new_shot = match prev {
            None => true,
            Some(p) => is_cut(sigs, p, i),
        };
        if new_shot {
            shots.push(Vec::new());
        }
        let id = shots.len() - 1;
        shots[id].push(i);
        shot[i] = Some(id);
        prev = Some(i);
    }
    // Mean histogram per shot.
    let means: Vec<Signature> = shots
        .iter()
        .map(|members| {
            let len = sigs.first().map(|s| s.hist.len()).unwrap_or(0);
            let mut hist = vec![0f32; len];
            for &m in members {
                for (h, v) in hist.iter_mut().zip(&sigs[m].hist) {
                    *h += v / members.len() as f32;
                }
            }
            Signature { thumb: Vec::new(), hist }
        })
        .collect();
    // Single-link union of similar shots.
    let mut parent: Vec<usize> = (0..shots.len()).collect();
    fn find(parent: &mut [usize], x: usize) -> usize {
        let mut r = x;
        while parent[r] != r {
            r = parent[r];
        }
        let mut y = x;
        while parent[y] != r {
            let next = parent[y];
            parent[y] = r;
            y = next;
        }
        r
    }
    for a in 0..shots.len() {
        for b in a + 1..shots.len() {
            if means[a].hist_distance(&means[b]) < SAME_SCENE {
                let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
                if ra != rb {
                    parent[rb.max(ra)] = ra.min(rb);
                }
            }
        }
    }
    let mut scene_of_root = std::collections::HashMap::new();
    let mut scene = vec![None; n];
    let mut counts: Vec<usize> = Vec::new();
    for i in 0..n {
        if let Some(s) = shot[i] {
            let root = find(&mut parent, s);
            let next_id = scene_of_root.len();
            let id = *scene_of_root.entry(root).or_insert(next_id);
            if id == counts.len() {
                counts.push(0);
            }
            counts[id] += 1;
            scene[i] = Some(id);
        }
    }
    let total = counts.iter().sum::<usize>().max(1) as f32;
    SceneMap { shot, scene, weight: counts.iter().map(|&c| c as f32 / total).collect() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig(bin: usize) -> Signature {
        let mut hist = vec![0f32; 64];
        hist[bin] = 1.0;
        Signature { thumb: Vec::new(), hist }
    }

    #[test]
    fn returning_scene_counts_once() {
        let sigs = [sig(1), sig(1), sig(5), sig(5), sig(1), sig(9)];
        let refs: Vec<&Signature> = sigs.iter().collect();
        let map = group(&refs, &[true; 6]);
        assert_eq!(map.scene_count(), 3);
        assert_eq!(map.scene[0], map.scene[4]);
        assert_ne!(map.shot[0], map.shot[4]);
        assert_eq!(map.scene[5], Some(2));
        assert!((map.weight[0] - 0.5).abs() < 1e-6);
    }

    #[test]
    fn excluded_candidates_have_no_scene() {
        let sigs = [sig(1), sig(2), sig(1)];
        let refs: Vec<&Signature> = sigs.iter().collect();
        let map = group(&refs, &[true, false, true]);
        assert_eq!(map.scene[1], None);
        assert_eq!(map.scene_count(), 1);
    }
}
