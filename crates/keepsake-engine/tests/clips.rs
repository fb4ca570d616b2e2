//! Phone clips: short, 720p or more, a keyframe every second. The engine samples them at
//! their keyframes instead of decoding every frame; these tests check it still avoids
//! the bad stretches and that every pick is the picture at its reported time.

mod common;
use common::*;

use keepsake_engine::AnalyzeOptions;

/// A 15-second 1280×720 clip with a keyframe every second, and two bad stretches.
fn phone_clip(dir: &std::path::Path) -> std::path::PathBuf {
    let small = compose(
        dir,
        "small.mp4",
        &[
            photo("coffee.png", 3.0),
            colour("color=c=black", 2.0, ""),
            photo("astronaut.png", 3.0),
            photo_with("chelsea.png", 2.0, "gblur=sigma=8"),
            photo("chelsea.png", 3.0),
            photo("rocket.jpg", 2.0),
        ],
    );
    let clip = dir.join("IMG_1234.MOV");
    ffmpeg(&[
        "-i",
        small.to_str().unwrap(),
        "-vf",
        "scale=1280:720,setsar=1",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-g",
        "25",
        "-keyint_min",
        "25",
        "-sc_threshold",
        "0",
        "-pix_fmt",
        "yuv420p",
        clip.to_str().unwrap(),
    ]);
    clip
}

#[test]
fn a_phone_clip_is_sampled_at_its_keyframes_and_avoids_bad_stretches() {
    let dir = tempfile::tempdir().unwrap();
    let clip = phone_clip(dir.path());
    let out = dir.path().join("picks");
    let sel = engine().analyze(&clip, &AnalyzeOptions::new(&out)).unwrap();
    // Every candidate is a keyframe (one a second), none of the 375 frames in between.
    assert!(sel.candidates.len() >= 12 && sel.candidates.len() <= 15, "{} candidates", sel.candidates.len());
    for c in &sel.candidates {
        assert!((c.time - c.time.round()).abs() < 0.02, "candidate at {:.3} s is not a keyframe", c.time);
    }
    assert_eq!(sel.frames.len(), 3);
    assert_no_pick_in(&sel, 3.0, 5.0, "black");
    assert_no_pick_in(&sel, 8.0, 10.0, "defocus");
    // Each image is the picture at its reported time: the same moment rendered alone.
    for pick in &sel.frames {
        let got = image::open(&pick.path).unwrap().to_rgb8();
        let again = out.join(format!("again{}.png", pick.rank));
        engine().render_moment(&clip, pick.time, &again, None).unwrap();
        let want = image::open(&again).unwrap().to_rgb8();
        assert_eq!(got.dimensions(), (1280, 720));
        let diff: f64 = got
            .pixels()
            .zip(want.pixels())
            .map(|(a, b)| (0..3).map(|c| (f64::from(a.0[c]) - f64::from(b.0[c])).abs()).sum::<f64>())
            .sum::<f64>()
            / (1280.0 * 720.0 * 3.0);
        assert!(
            diff < 4.0,
            "pick {} at {:.2} s differs from the frame at that time by {diff:.1}",
            pick.rank,
            pick.time
        );
    }
}
