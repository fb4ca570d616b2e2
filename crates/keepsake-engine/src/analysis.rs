//! The analysis pipeline: from an open video to ranked, rendered picks.
//!
//! 1. **Sampling.** Videos up to [`crate::decode::DENSE_MAX_SECONDS`] (60 s) are decoded once, in
//!    order, and sampled every duration/n seconds (n = max(candidates, 5/s), ≤ 300): close
//!    neighbours let the selector see fades and cuts. Longer videos are sampled at
//!    `candidates` evenly spread keyframes (fewer above 720p: [`keyframe_candidates`]
//!    holds the decoding to what 40 keyframes of 720p cost), each decoded alone (seek, one key packet,
//!    drain, flush), split over up to 4 decoders on their own threads: cost follows the
//!    candidate count, not the duration. When seeking
//!    yields too few distinct keyframes (no index, one GOP, truncated), it falls back to
//!    the sequential pass.
//! 2. **Features** on each sample at ≤ `analysis_side` px (`features.rs`). When the face
//!    detector is loaded, a first verdict picks out the acceptable candidates, up to 24
//!    of them (spread in time; the best 8 for keyframe-sampled videos) are checked for faces, results are lent to neighbours in
//!    the same shot, and the verdict is made again (`face_scoring.rs`).
//! 3. **Judging** (`select.rs`): rejection, scenes (`scenes.rs`), ranking, picks.
//! 4. **Refinement**: around each pick, every frame in a short window (up to
//!    [`REFINE_SECONDS`] (0.25 s; half that at 1080p and above) after a keyframe, or half the gap to the neighbouring samples)
//!    is decoded; the sharpest, stillest one that passes the exposure/flatness rules wins.
//! 5. **Rendering**: that exact frame, full size (or `max_side`), upright, as JPEG.

use std::path::Path;
use std::time::Instant;

use crate::decode::{FrameConverter, Sampling, TimedFrame, VideoSource};
use crate::face_scoring::{FaceScorer, LazyFaces};
use image::RgbImage;

use crate::features::{measure, Signature};
use crate::select::{self, absolute_reject, aesthetics_score, exposure_score, Plan, Sample};
use crate::{AnalyzeOptions, CandidateReport, CurvePoint, EngineError, Pick, Reasons, Selection};

/// Densest sampling of short videos (samples per second).
const DENSE_RATE: f64 = 5.0;
/// Most samples taken in the dense pass.
const DENSE_MAX_SAMPLES: usize = 300;
/// Most candidates shown to the face detector per densely sampled video (it costs
/// 50–150 ms a frame: several BlazeFace runs).
const MAX_FACE_CHECKS: usize = 24;
/// For keyframe-sampled (long) videos: only the best-ranked candidates are checked.
const MAX_FACE_CHECKS_SPARSE: usize = 8;
/// How far after a keyframe pick the refinement looks (at 720p or less; see
/// [`refine_seconds`]).
const REFINE_SECONDS: f64 = 0.25;
/// What the keyframe pass of a long video may decode, in pixels: 40 keyframes of 720p.
/// Cost follows pixels (≈ 10 ms per 720p keyframe, 22 ms at 1080p), so a bigger video
/// gets fewer candidates and costs about what a 720p one does.
const KEYFRAME_PIXEL_BUDGET: f64 = 40.0 * 1280.0 * 720.0;
/// Fewest candidates the budget may leave (4K and up). Spread over a long video, 16
/// still land one in every scene that lasts a sixteenth of it; the evaluation's long
/// videos (`make eval`: v13 is 1080p, so 18 candidates) keep every target at 16.
const MIN_KEYFRAME_CANDIDATES: usize = 16;

/// Candidates for the keyframe pass of a video whose frames have `pixels` pixels:
/// `requested`, fewer when decoding that many would exceed [`KEYFRAME_PIXEL_BUDGET`].
pub(crate) fn keyframe_candidates(requested: usize, pixels: u64) -> usize {
    let affordable = (KEYFRAME_PIXEL_BUDGET / pixels.max(1) as f64).ceil() as usize;
    requested.min(affordable.max(MIN_KEYFRAME_CANDIDATES))
}

/// Memory the decoders of one analysis may hold, in bytes. A decoder keeps about eight
/// pictures (reference frames and its frame pool): 100 MB at 4K, 25 MB at 1080p.
const DECODER_MEMORY_BUDGET: u64 = 128 << 20;

/// How many decoders (one per thread) an analysis may run at once: one per core, at most
/// four, and only as many as [`DECODER_MEMORY_BUDGET`] holds (a 4K clip gets one, so a
/// worker stays within 300 MiB; its decoder still threads by slices).
pub(crate) fn decoders_for(info: &crate::VideoInfo) -> usize {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).clamp(1, 4);
    // HDR video is 10-bit: two bytes a sample.
    let bytes_per_sample = if info.picture.dynamic_range == crate::DynamicRange::Sdr { 1 } else { 2 };
    let picture = u64::from(info.coded_width) * u64::from(info.coded_height) * 3 / 2 * bytes_per_sample;
    let affordable = (DECODER_MEMORY_BUDGET / (8 * picture).max(1)) as usize;
    cores.min(affordable.max(1))
}

/// The refinement window after a keyframe pick, shrunk for frames above 720p on the
/// same reasoning (at 1080p: 0.125 s, three or four frames).
fn refine_seconds(pixels: u64) -> f64 {
    let scale = (1280.0 * 720.0 / pixels.max(1) as f64).min(1.0);
    (REFINE_SECONDS * scale).max(REFINE_SECONDS / 2.0)
}
/// Most frames decoded while refining one pick.
const REFINE_MAX_FRAMES: usize = 400;

/// Samples and the verdict on them; shared by `analyze` and `preview`.
pub(crate) struct Judged {
    pub samples: Vec<Sample>,
    pub plan: Plan,
    /// How the samples were found: the source's own plan, or `Sequential` where that
    /// fell back to decoding in order.
    pub sampling: Sampling,
}

/// Samples and judges a video (steps 1–3).
pub(crate) fn judge(
    src: &mut VideoSource,
    candidates: usize,
    count: usize,
    analysis_side: u32,
    faces: Option<&LazyFaces>,
    spare: &mut Vec<VideoSource>,
) -> Result<Judged, EngineError> {
    let candidates = candidates.clamp(3, 400);
    let duration = src.info.duration;
    // (The keyframe pass below may use fewer: see `keyframe_candidates`.)
    let mut samples = Vec::new();
    let mut dense = src.sampling == Sampling::Sequential;
    let t0 = Instant::now();
    let pixels = u64::from(src.info.width) * u64::from(src.info.height);
    match src.sampling {
        Sampling::Sequential => {}
        Sampling::Spread => {
            let candidates = keyframe_candidates(candidates, pixels);
            let times: Vec<f64> = (0..candidates).map(|k| duration * (k as f64 + 0.5) / candidates as f64).collect();
            samples = sample_keyframes(src, &times, analysis_side, spare)?;
            if samples.len() < (candidates / 3).max(3) {
                tracing::info!(path = %src.path().display(), found = samples.len(), "few distinct keyframes; decoding sequentially");
                dense = true;
            }
        }
        Sampling::ClipKeyframes => {
            // The clip's own keyframes, as many as the decode budget allows, evenly
            // chosen (a hair past each, so rounding never seeks to the one before).
            let wanted = keyframe_candidates(candidates.max(src.keyframes.len()), pixels).min(src.keyframes.len());
            let times: Vec<f64> =
                (0..wanted).map(|k| src.keyframes[k * src.keyframes.len() / wanted.max(1)] + 1e-3).collect();
            samples = sample_keyframes(src, &times, analysis_side, spare)?;
            if samples.len() < (wanted / 2).max(3) {
                tracing::info!(path = %src.path().display(), found = samples.len(), "keyframes did not decode; decoding sequentially");
                dense = true;
            }
        }
    }
    if dense {
        samples = sample_sequential(src, duration, candidates, analysis_side)?;
    }
    if samples.is_empty() {
        return Err(EngineError::Undecodable { path: src.path().to_owned(), reason: "no frame decoded".into() });
    }
    tracing::debug!(stage = "sampling", ms = t0.elapsed().as_millis() as u64, samples = samples.len(), dense, "timing");
    let (mut samples, images): (Vec<Sample>, Vec<RgbImage>) = samples.into_iter().unzip();
    let mut plan = select::plan(&samples, count, dense);
    if let Some(scorer) = faces.and_then(|f| f.get().1) {
        let t1 = Instant::now();
        add_faces(&mut samples, &images, &plan, scorer, dense);
        plan = select::plan(&samples, count, dense);
        tracing::debug!(stage = "faces", ms = t1.elapsed().as_millis() as u64, "timing");
    }
    let sampling = if dense { Sampling::Sequential } else { src.sampling };
    Ok(Judged { samples, plan, sampling })
}

fn analyse_frame(conv: &mut FrameConverter, tf: &TimedFrame, side: u32) -> Result<(Sample, RgbImage), EngineError> {
    let img = conv.convert(&tf.frame, Some(side))?;
    let (features, sig) = measure(&img);
    Ok((Sample { time: tf.time, features, sig }, img))
}

/// Looks for faces on up to [`MAX_FACE_CHECKS`] accepted candidates spread over the video,
/// and lends each result to unchecked neighbours of the same shot within a second.
fn add_faces(samples: &mut [Sample], images: &[RgbImage], plan: &Plan, scorer: &FaceScorer, dense: bool) {
    let mut accepted: Vec<usize> = (0..samples.len()).filter(|&i| plan.rejected[i].is_none()).collect();
    if accepted.is_empty() {
        return;
    }
    if !dense {
        // Sparse samples are far apart: check the best-ranked few, in time order.
        accepted.sort_by(|&a, &b| plan.rank_score[b].total_cmp(&plan.rank_score[a]));
        accepted.truncate(MAX_FACE_CHECKS_SPARSE);
        accepted.sort_unstable();
    }
    let step = (accepted.len() as f64 / MAX_FACE_CHECKS as f64).max(1.0);
    let mut checked: Vec<usize> = Vec::new();
    let mut k = 0.0f64;
    while (k as usize) < accepted.len() && checked.len() < MAX_FACE_CHECKS {
        let i = accepted[k as usize];
        if i < images.len() {
            checked.push(i);
        }
        k += step;
    }
    // Two threads: the detector's two models lock separately, so one frame's first
    // stage runs while another's second stage does (the decoders are idle meanwhile).
    let results: Vec<(u32, f32)> = std::thread::scope(|scope| {
        let half = checked.len().div_ceil(2);
        let (first, second) = checked.split_at(half);
        let other = scope.spawn(|| second.iter().map(|&i| scorer.score(&images[i])).collect::<Vec<_>>());
        let mut out: Vec<(u32, f32)> = first.iter().map(|&i| scorer.score(&images[i])).collect();
        match other.join() {
            Ok(rest) => out.extend(rest),
            // A failed check counts as "no face seen", as a failed detection does.
            Err(_) => out.extend(second.iter().map(|_| (0, 0.0))),
        }
        out
    });
    for (&i, (count, score)) in checked.iter().zip(results) {
        samples[i].features.faces = count;
        samples[i].features.face_score = score;
    }
    for i in 0..samples.len() {
        if checked.contains(&i) || plan.rejected[i].is_some() {
            continue;
        }
        let nearest =
            checked.iter().copied().filter(|&j| plan.scenes.shot[j] == plan.scenes.shot[i]).min_by(|&a, &b| {
                (samples[a].time - samples[i].time).abs().total_cmp(&(samples[b].time - samples[i].time).abs())
            });
        if let Some(j) = nearest.filter(|&j| (samples[j].time - samples[i].time).abs() <= 1.0) {
            samples[i].features.faces = samples[j].features.faces;
            samples[i].features.face_score = samples[j].features.face_score;
        }
    }
}

/// Decodes the keyframe at or before each of `times`, alone, over up to 4 decoders.
fn sample_keyframes(
    src: &mut VideoSource,
    times: &[f64],
    side: u32,
    spare: &mut Vec<VideoSource>,
) -> Result<Vec<(Sample, RgbImage)>, EngineError> {
    // Each keyframe is decoded alone, so candidates split cleanly over a few decoders,
    // each with its own demuxer (one extra open per worker, ~tens of ms).
    let workers = decoders_for(&src.info).min(times.len().max(1));
    let chunk = times.len().div_ceil(workers).max(1);
    let mut found: Vec<(Sample, RgbImage)> = Vec::new();
    let path = src.path().to_owned();
    let threads_per_worker = 1;
    let mut first = true;
    let mut results: Vec<Result<Vec<(Sample, RgbImage)>, EngineError>> = Vec::new();
    let mut returned: Vec<VideoSource> = Vec::new();
    std::thread::scope(|scope| {
        let mut handles = Vec::new();
        for part in times.chunks(chunk) {
            if first {
                first = false;
                continue; // the first chunk runs on this thread, on `src`
            }
            let path = path.clone();
            let reuse = spare.pop();
            handles.push(scope.spawn(move || {
                let mut own = match reuse {
                    Some(s) => s,
                    None => VideoSource::open(&path, threads_per_worker)?,
                };
                let r = keyframes_at(&mut own, part, side);
                Ok::<_, EngineError>((own, r))
            }));
        }
        results.push(keyframes_at(src, times.chunks(chunk).next().unwrap_or(&[]), side));
        for h in handles {
            results.push(match h.join() {
                Ok(Ok((own, r))) => {
                    returned.push(own);
                    r
                }
                Ok(Err(e)) => Err(e),
                Err(_) => {
                    Err(EngineError::Undecodable { path: path.clone(), reason: "a decoder thread failed".into() })
                }
            });
        }
    });
    // Kept open for the picks: opening a long file again re-reads its whole index.
    spare.extend(returned);
    for r in results {
        match r {
            Ok(part) => found.extend(part),
            Err(e) => tracing::debug!(error = %e, "keyframe worker failed; using the others"),
        }
    }
    found.sort_by(|a, b| a.0.time.total_cmp(&b.0.time));
    found.dedup_by(|a, b| (a.0.time - b.0.time).abs() < 1e-3);
    Ok(found)
}

fn keyframes_at(src: &mut VideoSource, times: &[f64], side: u32) -> Result<Vec<(Sample, RgbImage)>, EngineError> {
    let mut samples: Vec<(Sample, RgbImage)> = Vec::new();
    let mut conv = FrameConverter::for_source(src);
    for &t in times {
        let Some(tf) = src.keyframe_at(t)? else { continue };
        if samples.iter().any(|(s, _)| (s.time - tf.time).abs() < 1e-3) {
            continue;
        }
        match analyse_frame(&mut conv, &tf, side) {
            Ok(s) => samples.push(s),
            Err(e) => tracing::debug!(error = %e, "skipping undecodable keyframe"),
        }
    }
    Ok(samples)
}

fn sample_sequential(
    src: &mut VideoSource,
    duration: f64,
    candidates: usize,
    side: u32,
) -> Result<Vec<(Sample, RgbImage)>, EngineError> {
    let wanted = if duration > 0.0 {
        ((duration * DENSE_RATE).ceil() as usize).clamp(candidates, DENSE_MAX_SAMPLES)
    } else {
        DENSE_MAX_SAMPLES
    };
    let interval = if duration > 0.0 { duration / wanted as f64 } else { 1.0 / DENSE_RATE };
    let mut next_time = f64::NEG_INFINITY;
    let mut samples = Vec::new();
    let mut failure: Option<EngineError> = None;
    let mut conv = FrameConverter::for_source(src);
    // Frames are analysed as they arrive, so only the current one is held.
    let decoded = src.decode_forward(0.0, |tf| {
        if tf.time + 1e-6 >= next_time {
            next_time = tf.time.max(next_time) + interval;
            match analyse_frame(&mut conv, tf, side) {
                Ok(s) => samples.push(s),
                Err(e) => failure = Some(e),
            }
        }
        samples.len() < DENSE_MAX_SAMPLES * 2
    })?;
    if samples.is_empty() {
        return Err(failure.unwrap_or_else(|| EngineError::Undecodable {
            path: src.path().to_owned(),
            reason: if decoded == 0 { "the decoder gave no picture".into() } else { "no usable picture".into() },
        }));
    }
    samples.sort_by(|a, b| a.0.time.total_cmp(&b.0.time));
    samples.dedup_by(|a, b| (a.0.time - b.0.time).abs() < 1e-6);
    Ok(samples)
}

/// A refined, full-quality frame for one pick.
struct Refined {
    time: f64,
    frame: TimedFrame,
}

/// Looks at every frame in `[from, to]` and keeps the sharpest, stillest acceptable one;
/// falls back to the first decoded frame at or after `from`.
fn refine(
    src: &mut VideoSource,
    from: f64,
    to: f64,
    side: u32,
    median_luma: f32,
    sharp_ref: f32,
) -> Result<Option<Refined>, EngineError> {
    let mut best: Option<(f32, TimedFrame)> = None;
    let mut fallback: Option<TimedFrame> = None;
    let mut prev_sig: Option<Signature> = None;
    let mut seen = 0usize;
    let mut conv = FrameConverter::for_source(src);
    let mut failure: Option<EngineError> = None;
    src.decode_forward(from, |tf| {
        if tf.time + 1e-6 < from {
            return true;
        }
        if tf.time > to + 1e-6 && (best.is_some() || fallback.is_some()) {
            return false;
        }
        seen += 1;
        let img = match conv.convert(&tf.frame, Some(side)) {
            Ok(img) => img,
            Err(e) => {
                failure = Some(e);
                return seen < REFINE_MAX_FRAMES;
            }
        };
        let (f, sig) = measure(&img);
        let still = prev_sig.as_ref().map(|p| 1.0 - (p.pixel_distance(&sig) * 8.0).min(0.6)).unwrap_or(0.9);
        prev_sig = Some(sig);
        if fallback.is_none() {
            fallback = Some(TimedFrame { time: tf.time, frame: tf.frame.clone() });
        }
        if absolute_reject(&f, median_luma).is_none() {
            let score = ((f.sharpness / sharp_ref.max(1e-6)).min(1.2) * 0.6
                + 0.2 * exposure_score(&f)
                + 0.2 * aesthetics_score(&f))
                * still;
            if best.as_ref().map(|(s, _)| score > *s).unwrap_or(true) {
                best = Some((score, TimedFrame { time: tf.time, frame: tf.frame.clone() }));
            }
        }
        seen < REFINE_MAX_FRAMES
    })?;
    if best.is_none() && fallback.is_none() {
        if let Some(e) = failure {
            return Err(e);
        }
    }
    Ok(best.map(|(_, tf)| tf).or(fallback).map(|tf| Refined { time: tf.time, frame: tf }))
}

/// One pick to refine and write.
#[derive(Clone)]
struct PickJob {
    rank: u32,
    sample_time: f64,
    /// Window searched for the best frame (seconds).
    from: f64,
    to: f64,
    /// False for a rejected candidate (least bad of poor ones): take exactly its frame.
    refine: bool,
    /// The sample is a keyframe taken as it is (a short clip's keyframe pick).
    keyframe: bool,
    out: std::path::PathBuf,
}

/// What refining needs to know about the whole video.
#[derive(Clone, Copy)]
struct PickContext {
    analysis_side: u32,
    median_luma: f32,
    sharp_ref: f32,
    max_side: Option<u32>,
    jpeg_quality: u8,
}

/// A written pick: the frame's time and the image's size.
struct Produced {
    time: f64,
    width: u32,
    height: u32,
}

/// Refines one pick and writes its image; `None` when no frame could be found there.
fn produce(src: &mut VideoSource, job: &PickJob, ctx: &PickContext) -> Result<Option<Produced>, EngineError> {
    let t0 = Instant::now();
    if job.keyframe {
        // A clip's keyframe pick: that picture alone, one decode. (Should the seek land
        // elsewhere, the general path below finds the frame at the sample's time.)
        if let Some(tf) = src.keyframe_for_picture(job.sample_time + 1e-3)? {
            if (tf.time - job.sample_time).abs() < 1e-3 {
                let decode_ms = t0.elapsed().as_millis() as u64;
                let img = FrameConverter::for_source(src).convert(&tf.frame, ctx.max_side)?;
                let convert_ms = t0.elapsed().as_millis() as u64 - decode_ms;
                crate::render::write_image(&img, &job.out, ctx.jpeg_quality)?;
                tracing::debug!(
                    stage = "pick",
                    rank = job.rank,
                    decode_ms,
                    convert_ms,
                    keyframe_ms = t0.elapsed().as_millis() as u64,
                    "timing"
                );
                return Ok(Some(Produced { time: tf.time, width: img.width(), height: img.height() }));
            }
        }
    }
    let refined = if job.refine {
        refine(src, job.from, job.to, ctx.analysis_side, ctx.median_luma, ctx.sharp_ref)?
    } else {
        None
    };
    let chosen = match refined {
        Some(r) => r,
        // Exactly the sampled frame.
        None => match refine(src, job.sample_time, job.sample_time, ctx.analysis_side, -1.0, ctx.sharp_ref)? {
            Some(r) => r,
            None => return Ok(None),
        },
    };
    let refine_ms = t0.elapsed().as_millis() as u64;
    let t1 = Instant::now();
    let img = FrameConverter::for_source(src).convert(&chosen.frame.frame, ctx.max_side)?;
    crate::render::write_image(&img, &job.out, ctx.jpeg_quality)?;
    tracing::debug!(stage = "pick", rank = job.rank, refine_ms, render_ms = t1.elapsed().as_millis() as u64, "timing");
    Ok(Some(Produced { time: chosen.time, width: img.width(), height: img.height() }))
}

/// Produces every pick, spread over up to one decoder per core (each extra one opens
/// the file again; the first uses `src`). A pick whose worker fails is retried on `src`.
fn produce_all(
    src: &mut VideoSource,
    jobs: &[PickJob],
    ctx: &PickContext,
    spare: &mut Vec<VideoSource>,
) -> Result<Vec<Option<Produced>>, EngineError> {
    let workers = decoders_for(&src.info).min(jobs.len().max(1));
    let path = src.path().to_owned();
    let mut results: Vec<Option<Result<Option<Produced>, EngineError>>> = (0..jobs.len()).map(|_| None).collect();
    std::thread::scope(|scope| {
        let mut handles = Vec::new();
        for w in 1..workers {
            let path = path.clone();
            let reuse = spare.pop();
            handles.push(scope.spawn(move || {
                let mut own = match reuse {
                    Some(s) => s,
                    None => VideoSource::open(&path, 1)?,
                };
                let mut done = Vec::new();
                for k in (w..jobs.len()).step_by(workers) {
                    done.push((k, produce(&mut own, &jobs[k], ctx)));
                }
                Ok::<_, EngineError>(done)
            }));
        }
        for k in (0..jobs.len()).step_by(workers) {
            results[k] = Some(produce(src, &jobs[k], ctx));
        }
        for h in handles {
            match h.join() {
                Ok(Ok(done)) => {
                    for (k, r) in done {
                        results[k] = Some(r);
                    }
                }
                Ok(Err(e)) => {
                    tracing::debug!(error = %e, "pick worker could not open the video; retrying on one decoder")
                }
                Err(_) => tracing::debug!("pick worker failed; retrying on one decoder"),
            }
        }
    });
    let mut out = Vec::with_capacity(jobs.len());
    for (job, r) in jobs.iter().zip(results) {
        out.push(match r {
            Some(Ok(p)) => p,
            Some(Err(e)) => return Err(e),
            None => produce(src, job, ctx)?,
        });
    }
    Ok(out)
}

/// The full pipeline for [`crate::Engine::analyze`].
pub(crate) fn analyze(
    path: &Path,
    opts: &AnalyzeOptions,
    threads: usize,
    analysis_side: u32,
    faces: &LazyFaces,
) -> Result<Selection, EngineError> {
    let started = Instant::now();
    let mut src = VideoSource::open(path, threads)?;
    // Extra decoders opened for sampling, reused for the picks.
    let mut spare: Vec<VideoSource> = Vec::new();
    let judged = judge(&mut src, opts.candidates, opts.count, analysis_side, Some(faces), &mut spare)?;
    let face_status = faces.get().0;
    let Judged { samples, plan, sampling } = &judged;
    let dense = *sampling == Sampling::Sequential;
    let clip_keyframes = *sampling == Sampling::ClipKeyframes;
    let n = samples.len();
    let mut lumas: Vec<f32> = samples.iter().map(|s| s.features.luma).collect();
    lumas.sort_by(|a, b| a.total_cmp(b));
    let median_luma = lumas.get(lumas.len() / 2).copied().unwrap_or(0.5);

    let stem = opts
        .file_stem
        .clone()
        .or_else(|| path.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "video".into());
    std::fs::create_dir_all(&opts.out_dir).map_err(|source| EngineError::Io { path: opts.out_dir.clone(), source })?;

    // Each pick is refined and rendered on its own decoder: picks are independent
    // (different scenes), and on a multi-core machine they overlap.
    let jobs: Vec<PickJob> = plan
        .picks
        .iter()
        .enumerate()
        .map(|(rank0, &i)| {
            let s = &samples[i];
            let (from, to) = if clip_keyframes {
                // A clip's keyframe is its best-coded picture and the neighbours a short
                // window could add differ little: taking it exactly costs one decode,
                // where a window re-decodes the keyframe and the frames after it.
                (s.time, s.time)
            } else if dense {
                // Stay a third of a sample interval either side, and only towards neighbours
                // of the same shot that were accepted.
                let same = |j: usize| plan.rejected[j].is_none() && plan.scenes.shot[j] == plan.scenes.shot[i];
                let lo = if i > 0 && same(i - 1) { s.time - (s.time - samples[i - 1].time) / 3.0 } else { s.time };
                let hi = if i + 1 < n && same(i + 1) { s.time + (samples[i + 1].time - s.time) / 3.0 } else { s.time };
                (lo, hi)
            } else {
                let next = samples.get(i + 1).map(|x| x.time).unwrap_or(f64::INFINITY);
                let window = refine_seconds(u64::from(src.info.width) * u64::from(src.info.height));
                (s.time, (s.time + window).min((s.time + next) / 2.0))
            };
            let rank = rank0 as u32 + 1;
            PickJob {
                rank,
                sample_time: s.time,
                from,
                to,
                refine: plan.rejected[i].is_none(),
                keyframe: clip_keyframes,
                out: opts.out_dir.join(format!("{stem}_{rank}.jpg")),
            }
        })
        .collect();
    let ctx = PickContext {
        analysis_side,
        median_luma,
        sharp_ref: plan.sharp_ref,
        max_side: opts.max_side,
        jpeg_quality: opts.jpeg_quality,
    };
    let mut produced = produce_all(&mut src, &jobs, &ctx, &mut spare)?;
    drop(spare);
    // Two picks that refined onto the same frame: the later one takes exactly its sample.
    let mut used_times: Vec<f64> = Vec::new();
    for (job, slot) in jobs.iter().zip(produced.iter_mut()) {
        if let Some(p) = slot.as_ref() {
            if !used_times.iter().any(|t| (t - p.time).abs() < 1e-6) {
                used_times.push(p.time);
                continue;
            }
        }
        let exact =
            PickJob { from: job.sample_time, to: job.sample_time, refine: true, keyframe: false, ..job.clone() };
        let exact_ctx = PickContext { median_luma: -1.0, ..ctx };
        *slot = produce(&mut src, &exact, &exact_ctx)?;
        if let Some(p) = slot.as_ref() {
            used_times.push(p.time);
        }
    }
    let mut frames: Vec<Pick> = Vec::new();
    for ((job, &i), p) in jobs.iter().zip(plan.picks.iter()).zip(produced) {
        let Some(p) = p else { continue };
        let s = &samples[i];
        let f = &s.features;
        let scene = plan.scenes.scene[i];
        let reasons = Reasons {
            sharpness: (f.sharpness / plan.sharp_ref.max(1e-6)).min(1.0),
            exposure: exposure_score(f),
            faces: f.faces,
            scene: scene.map(|x| x as u32 + 1).unwrap_or(0),
            aesthetics: aesthetics_score(f),
            scene_weight: scene.map(|x| plan.scenes.weight[x]).unwrap_or(0.0),
            scenes: plan.scenes.scene_count() as u32,
            summary: summary(f, scene, plan, i),
        };
        frames.push(Pick {
            rank: job.rank,
            time: p.time,
            score: plan.rank_score[i].max(plan.quality[i] * 0.5),
            path: job.out.clone(),
            width: p.width,
            height: p.height,
            reasons,
        });
    }
    if frames.is_empty() {
        return Err(EngineError::Undecodable { path: path.to_owned(), reason: "no frame could be rendered".into() });
    }
    let picked_of = |i: usize| plan.picks.iter().position(|&p| p == i).map(|r| r as u32 + 1);
    let candidates: Vec<CandidateReport> = samples
        .iter()
        .enumerate()
        .map(|(i, s)| CandidateReport {
            time: s.time,
            features: s.features.clone(),
            quality: plan.quality[i],
            rejected: plan.rejected[i],
            scene: plan.scenes.scene[i].map(|x| x as u32 + 1).unwrap_or(0),
            picked: picked_of(i),
        })
        .collect();
    let curve = candidates
        .iter()
        .map(|c| CurvePoint {
            time: c.time,
            quality: if c.rejected.is_some() { 0.0 } else { c.quality },
            rejected: c.rejected,
        })
        .collect();
    let mut info = src.info.clone();
    info.picture.interlaced |= src.fields_seen();
    if info.duration <= 0.0 {
        info.duration = samples.last().map(|s| s.time).unwrap_or(0.0);
    }
    Ok(Selection {
        video: path.to_owned(),
        info,
        frames,
        curve,
        candidates,
        low_confidence: plan.low_confidence,
        faces: face_status.clone(),
        elapsed_ms: started.elapsed().as_millis() as u64,
    })
}

fn summary(f: &crate::Features, scene: Option<usize>, plan: &Plan, i: usize) -> String {
    let mut parts = Vec::new();
    if plan.rejected[i].is_some() {
        parts.push("least bad of poor candidates".to_owned());
    }
    if f.faces > 0 {
        parts.push(format!("{} face(s)", f.faces));
    }
    parts.push(format!("sharp {:.0}%", 100.0 * (f.sharpness / plan.sharp_ref.max(1e-6)).min(1.0)));
    parts.push(format!("exposure {:.0}%", 100.0 * exposure_score(f)));
    parts.push(format!("colour/contrast {:.0}%", 100.0 * aesthetics_score(f)));
    if let Some(sc) = scene {
        parts.push(format!(
            "scene {} of {} ({:.0}% of the video)",
            sc + 1,
            plan.scenes.scene_count(),
            100.0 * plan.scenes.weight[sc]
        ));
    }
    parts.join(", ")
}

/// Renders the frame at `time_s` (the first frame at or after it; the last frame when
/// `time_s` is past the end).
pub(crate) fn render_moment(
    path: &Path,
    time_s: f64,
    out: &Path,
    max_side: Option<u32>,
    threads: usize,
) -> Result<crate::RenderedImage, EngineError> {
    let mut src = VideoSource::open(path, threads)?;
    let target = if time_s.is_finite() { time_s.max(0.0) } else { 0.0 };
    let mut found: Option<TimedFrame> = None;
    let mut last: Option<TimedFrame> = None;
    let mut count = 0usize;
    src.decode_forward(target, |tf| {
        count += 1;
        if tf.time + 1e-6 >= target {
            found = Some(TimedFrame { time: tf.time, frame: tf.frame.clone() });
            return false;
        }
        last = Some(TimedFrame { time: tf.time, frame: tf.frame.clone() });
        count < 100_000
    })?;
    let tf = match found.or(last) {
        Some(tf) => tf,
        None if target > 0.0 => {
            // Past the end of a file whose last keyframe is earlier: decode from the start.
            let mut any: Option<TimedFrame> = None;
            src.decode_forward(0.0, |tf| {
                any = Some(TimedFrame { time: tf.time, frame: tf.frame.clone() });
                tf.time + 1e-6 < target
            })?;
            any.ok_or_else(|| EngineError::Undecodable { path: path.to_owned(), reason: "no frame decoded".into() })?
        }
        None => return Err(EngineError::Undecodable { path: path.to_owned(), reason: "no frame decoded".into() }),
    };
    let img = FrameConverter::for_source(&src).convert(&tf.frame, max_side)?;
    crate::render::write_image(&img, out, 90)?;
    Ok(crate::RenderedImage { path: out.to_owned(), width: img.width(), height: img.height(), time: Some(tf.time) })
}

#[cfg(test)]
mod budget_tests {
    use super::*;

    #[test]
    fn keyframe_budget_holds_cost_to_forty_720p_keyframes() {
        assert_eq!(keyframe_candidates(40, 1280 * 720), 40);
        assert_eq!(keyframe_candidates(40, 640 * 360), 40, "never more than asked");
        assert_eq!(keyframe_candidates(12, 1920 * 1080), 12, "never more than asked");
        assert_eq!(keyframe_candidates(40, 1920 * 1080), 18);
        assert_eq!(keyframe_candidates(40, 3840 * 2160), MIN_KEYFRAME_CANDIDATES, "floor for 4K");
        assert_eq!(keyframe_candidates(40, 1440 * 1080), 24);
        assert_eq!(keyframe_candidates(40, 0), 40);
    }

    #[test]
    fn refine_window_shrinks_above_720p_down_to_half() {
        assert_eq!(refine_seconds(1280 * 720), REFINE_SECONDS);
        assert_eq!(refine_seconds(320 * 240), REFINE_SECONDS);
        assert!(
            (refine_seconds(1920 * 1080) - REFINE_SECONDS / 2.0).abs() < 1e-9
                || refine_seconds(1920 * 1080) < REFINE_SECONDS
        );
        assert_eq!(refine_seconds(3840 * 2160), REFINE_SECONDS / 2.0);
    }
}
