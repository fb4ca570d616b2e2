//! Video a family has besides clean H.264, made with the `ffmpeg` CLI from registry
//! photos: HDR (HLG, PQ), interlaced anamorphic DV, and files that lie or are broken.
//! Checked as a person would look: colour against the SDR original at the same moment,
//! the display aspect, combing; broken files give picks or one error, never a black or
//! green picture.

mod common;
use common::*;

use std::path::{Path, PathBuf};

use image::RgbImage;
use keepsake_engine::{AnalyzeOptions, DynamicRange};

/// The SDR original: three photos, two seconds each, panning.
fn sdr_source(dir: &Path) -> PathBuf {
    compose(dir, "sdr.mp4", &[photo("coffee.png", 2.0), photo("astronaut.png", 2.0), photo("chelsea.png", 2.0)])
}

/// `src` converted in linear light (zscale, BT.2408: SDR white at 203 cd/m²) to 10-bit
/// HEVC with `transfer` (arib-std-b67 or smpte2084), tagged as phones tag it.
fn hdr_version(src: &Path, dir: &Path, transfer: &str) -> PathBuf {
    let out = dir.join(format!("{transfer}.mov"));
    let vf = format!(
        "zscale=tin=bt709:min=bt709:pin=bt709:rin=tv:t={transfer}:p=bt2020:m=bt2020nc:r=tv:npl=203,format=yuv420p10le"
    );
    ffmpeg(&[
        "-i",
        src.to_str().unwrap(),
        "-vf",
        &vf,
        "-c:v",
        "libx265",
        "-x265-params",
        "log-level=error",
        "-preset",
        "ultrafast",
        "-color_primaries",
        "bt2020",
        "-color_trc",
        transfer,
        "-colorspace",
        "bt2020nc",
        out.to_str().unwrap(),
    ]);
    out
}

/// Hasler–Süsstrunk colourfulness.
fn colourfulness(img: &RgbImage) -> f64 {
    let n = (img.width() * img.height()) as f64;
    let (mut srg, mut syb, mut qrg, mut qyb) = (0.0, 0.0, 0.0, 0.0);
    for p in img.pixels() {
        let [r, g, b] = p.0.map(f64::from);
        let (rg, yb) = (r - g, 0.5 * (r + g) - b);
        srg += rg;
        syb += yb;
        qrg += rg * rg;
        qyb += yb * yb;
    }
    let (mrg, myb) = (srg / n, syb / n);
    (qrg / n - mrg * mrg + qyb / n - myb * myb).max(0.0).sqrt() + 0.3 * (mrg * mrg + myb * myb).sqrt()
}

fn mean_luma(img: &RgbImage) -> f64 {
    img.pixels()
        .map(|p| 0.2126 * f64::from(p.0[0]) + 0.7152 * f64::from(p.0[1]) + 0.0722 * f64::from(p.0[2]))
        .sum::<f64>()
        / (img.width() * img.height()) as f64
}

/// Combing: how much each row differs from the average of its neighbours (the other
/// field), over how much it differs from the rows two away (its own field). Woven
/// fields of moving pictures read well above 1; a progressive picture below.
fn comb_ratio(img: &RgbImage) -> f64 {
    let luma = |x: u32, y: u32| {
        let p = img.get_pixel(x, y).0;
        0.299 * f64::from(p[0]) + 0.587 * f64::from(p[1]) + 0.114 * f64::from(p[2])
    };
    let (mut cross, mut same) = (0.0, 0.0);
    for y in 2..img.height() - 2 {
        for x in (0..img.width()).step_by(2) {
            cross += (luma(x, y) - 0.5 * (luma(x, y - 1) + luma(x, y + 1))).abs();
            same += (luma(x, y) - 0.5 * (luma(x, y - 2) + luma(x, y + 2))).abs();
        }
    }
    cross / same.max(1e-9)
}

/// A picture nobody should get as a cover: black, or the green of a misread colour space.
fn looks_broken(img: &RgbImage) -> bool {
    let n = (img.width() * img.height()) as f64;
    let mean = |c: usize| img.pixels().map(|p| f64::from(p.0[c])).sum::<f64>() / n;
    let (r, g, b) = (mean(0), mean(1), mean(2));
    mean_luma(img) < 10.0 || g - 0.5 * (r + b) > 60.0
}

#[test]
fn hdr_picks_keep_the_colour_and_brightness_of_the_sdr_original() {
    let dir = tempfile::tempdir().unwrap();
    let sdr = sdr_source(dir.path());
    let engine = engine();
    for (transfer, range) in [("arib-std-b67", DynamicRange::Hlg), ("smpte2084", DynamicRange::Pq)] {
        let hdr = hdr_version(&sdr, dir.path(), transfer);
        let out = dir.path().join(transfer);
        let sel = engine.analyze(&hdr, &AnalyzeOptions::new(&out)).unwrap();
        assert_eq!(sel.info.picture.dynamic_range, range);
        assert_eq!(sel.frames.len(), 3);
        for pick in &sel.frames {
            let got = image::open(&pick.path).unwrap().to_rgb8();
            let reference = out.join(format!("sdr_{}.png", pick.rank));
            engine.render_moment(&sdr, pick.time, &reference, None).unwrap();
            let want = image::open(&reference).unwrap().to_rgb8();
            let (c, l) = (colourfulness(&got) / colourfulness(&want), mean_luma(&got) / mean_luma(&want));
            assert!(
                (0.75..=1.25).contains(&c),
                "{transfer} pick {} at {:.2}s: colourfulness {c:.2} of the SDR original",
                pick.rank,
                pick.time
            );
            assert!(
                (0.75..=1.25).contains(&l),
                "{transfer} pick {} at {:.2}s: brightness {l:.2} of the SDR original",
                pick.rank,
                pick.time
            );
        }
    }
}

#[test]
fn interlaced_anamorphic_dv_is_shown_wide_and_without_combing() {
    let dir = tempfile::tempdir().unwrap();
    let dv = dir.path().join("tape.dv");
    // A 50p pan (moving edges differ between fields) → 25i, bottom field first, 720×576
    // stored, 16:9 shown (as DV PAL wide).
    let photo = media("coffee.png");
    ffmpeg(&[
        "-loop", "1", "-framerate", "50", "-t", "3", "-i", photo.to_str().unwrap(),
        "-vf", "scale=1400:1050,crop=1024:576:x='t*120':y=200,scale=720:576,setsar=64/45,tinterlace=interleave_bottom,setsar=64/45",
        "-c:v", "dvvideo", "-pix_fmt", "yuv420p", "-r", "25", "-aspect", "16:9", "-top", "0", "-f", "dv", dv.to_str().unwrap(),
    ]);
    let out = dir.path().join("picks");
    let sel = analyze(&dv, &out);
    assert_eq!((sel.info.width, sel.info.height), (1024, 576), "display size");
    assert!(sel.info.picture.interlaced, "{:?}", sel.info.picture);
    for pick in &sel.frames {
        let img = image::open(&pick.path).unwrap().to_rgb8();
        assert_eq!((img.width(), img.height()), (1024, 576));
        // The same moment woven from its two fields, as a naive decoder shows it.
        let woven = dir.path().join(format!("woven{}.png", pick.rank));
        ffmpeg(&[
            "-i",
            dv.to_str().unwrap(),
            "-vf",
            &format!("select=gte(t\\,{:.3}),scale=1024:576:flags=neighbor", pick.time),
            "-frames:v",
            "1",
            woven.to_str().unwrap(),
        ]);
        let woven = image::open(&woven).unwrap().to_rgb8();
        let (ours, naive) = (comb_ratio(&img), comb_ratio(&woven));
        assert!(ours < 0.7 * naive && ours < 1.0, "pick {}: comb ratio {ours:.2}, woven fields {naive:.2}", pick.rank);
    }
}

#[test]
fn lying_and_broken_files_give_picks_or_one_error_never_a_broken_picture() {
    let dir = tempfile::tempdir().unwrap();
    let sdr = sdr_source(dir.path());
    let engine = engine();
    // 8-bit SDR pictures tagged as PQ HDR: tone-mapped as the tags say, still a picture.
    let lying = dir.path().join("lying.mp4");
    ffmpeg(&[
        "-i",
        sdr.to_str().unwrap(),
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-color_primaries",
        "bt2020",
        "-color_trc",
        "smpte2084",
        "-colorspace",
        "bt2020nc",
        lying.to_str().unwrap(),
    ]);
    // A camcorder TS cut off mid-packet, and a DV tape with damaged frames.
    let ts = dir.path().join("cut.mts");
    ffmpeg(&[
        "-i",
        sdr.to_str().unwrap(),
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-f",
        "mpegts",
        ts.to_str().unwrap(),
    ]);
    let bytes = std::fs::read(&ts).unwrap();
    std::fs::write(&ts, &bytes[..bytes.len() * 2 / 3 + 77]).unwrap();
    let dv = dir.path().join("damaged.dv");
    ffmpeg(&[
        "-i",
        sdr.to_str().unwrap(),
        "-vf",
        "scale=720:576",
        "-c:v",
        "dvvideo",
        "-pix_fmt",
        "yuv420p",
        "-r",
        "25",
        "-f",
        "dv",
        dv.to_str().unwrap(),
    ]);
    let mut bytes = std::fs::read(&dv).unwrap();
    let len = bytes.len();
    let mut x: u32 = 7;
    for b in &mut bytes[len / 3..len / 2] {
        x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        if x >> 28 == 0 {
            *b ^= (x >> 20) as u8;
        }
    }
    std::fs::write(&dv, bytes).unwrap();
    for video in [&lying, &ts, &dv] {
        let out = dir.path().join(format!("out-{}", video.file_name().unwrap().to_string_lossy()));
        let started = std::time::Instant::now();
        match engine.analyze(video, &AnalyzeOptions::new(&out)) {
            Ok(sel) => {
                assert!(!sel.frames.is_empty(), "{}", video.display());
                for pick in &sel.frames {
                    let img = image::open(&pick.path).unwrap().to_rgb8();
                    assert!(!looks_broken(&img), "{}: pick {} is black or green", video.display(), pick.rank);
                }
            }
            Err(e) => assert_eq!(e.to_string().lines().count(), 1, "{e}"),
        }
        assert!(started.elapsed().as_secs() < 60, "{} took {:?}", video.display(), started.elapsed());
    }
}

/// Adds a Dolby Vision configuration box (`dvcC`, or `dvvC` above profile 7) to the first
/// video sample entry of an MP4 whose `moov` comes after its media data (FFmpeg's
/// default), as a phone writes it; the sizes of every box around it grow to match.
fn with_dolby_vision(mp4: &[u8], profile: u8, compatibility: u8) -> Vec<u8> {
    let kind: &[u8; 4] = if profile > 7 { b"dvvC" } else { b"dvcC" };
    let mut dv = Vec::with_capacity(32);
    dv.extend_from_slice(&32u32.to_be_bytes());
    dv.extend_from_slice(kind);
    dv.extend_from_slice(&[1, 0]); // version 1.0
    let bits: u16 = (u16::from(profile) << 9) | (6 << 3) | (1 << 2) | 1; // level 6, RPU, base layer
    dv.extend_from_slice(&bits.to_be_bytes());
    dv.push(compatibility << 4);
    dv.extend_from_slice(&[0; 19]);
    // Walk moov > trak > mdia > minf > stbl > stsd > (hvc1|hev1), remembering each box.
    let path: [&[u8]; 6] = [b"moov", b"trak", b"mdia", b"minf", b"stbl", b"stsd"];
    let mut parents: Vec<usize> = Vec::new();
    let (mut at, mut end) = (0usize, mp4.len());
    for (depth, want) in path.iter().enumerate() {
        loop {
            assert!(at + 8 <= end, "no {} box", String::from_utf8_lossy(want));
            let size = u32::from_be_bytes(mp4[at..at + 4].try_into().unwrap()) as usize;
            if &mp4[at + 4..at + 8] == *want {
                parents.push(at);
                end = at + size;
                // stsd has a version/flags word and an entry count before its entries.
                at += if depth == 5 { 16 } else { 8 };
                break;
            }
            at += size;
        }
    }
    let entry = at;
    let entry_size = u32::from_be_bytes(mp4[entry..entry + 4].try_into().unwrap()) as usize;
    assert!(matches!(&mp4[entry + 4..entry + 8], b"hvc1" | b"hev1"), "an HEVC sample entry");
    parents.push(entry);
    let mut out = mp4.to_vec();
    for &p in &parents {
        let size = u32::from_be_bytes(out[p..p + 4].try_into().unwrap()) + dv.len() as u32;
        out[p..p + 4].copy_from_slice(&size.to_be_bytes());
    }
    out.splice(entry + entry_size..entry + entry_size, dv);
    out
}

#[test]
fn dolby_vision_profile_5_is_refused_with_the_reason_profile_8_shows_its_base_layer() {
    let dir = tempfile::tempdir().unwrap();
    let sdr = sdr_source(dir.path());
    let hlg = hdr_version(&sdr, dir.path(), "arib-std-b67");
    let hevc = dir.path().join("hlg.mp4");
    ffmpeg(&["-i", hlg.to_str().unwrap(), "-c", "copy", "-tag:v", "hvc1", hevc.to_str().unwrap()]);
    let bytes = std::fs::read(&hevc).unwrap();
    let engine = engine();

    let p5 = dir.path().join("IMG_0005.mp4");
    std::fs::write(&p5, with_dolby_vision(&bytes, 5, 0)).unwrap();
    let e =
        engine.analyze(&p5, &AnalyzeOptions::new(dir.path().join("p5"))).expect_err("profile 5 has no picture to show");
    assert!(matches!(e, keepsake_engine::EngineError::Unsupported { .. }), "{e:?}");
    assert!(e.to_string().contains("Dolby Vision profile 5"), "{e}");
    assert_eq!(e.kind(), "unsupported");

    let p8 = dir.path().join("IMG_0008.mp4");
    std::fs::write(&p8, with_dolby_vision(&bytes, 8, 4)).unwrap();
    let sel = engine.analyze(&p8, &AnalyzeOptions::new(dir.path().join("p8"))).unwrap();
    assert_eq!(sel.info.picture.dynamic_range, DynamicRange::Hlg);
    assert!(
        sel.info.picture.assumptions.iter().any(|a| a.contains("Dolby Vision profile 8") && a.contains("HLG")),
        "{:?}",
        sel.info.picture
    );
    assert_eq!(sel.frames.len(), 3);
}
