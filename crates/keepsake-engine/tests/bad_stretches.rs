//! One generated video per kind of bad frame; no pick may land inside the planted stretch.
//! Layout: 3 s good photo, 3 s bad stretch (on a different photo, so a naive scene-spread
//! picker would want it), 3 s good photo.

mod common;
use common::*;

fn check(name: &str, bad: Segment) {
    let dir = tempfile::tempdir().unwrap();
    let video =
        compose(dir.path(), &format!("{name}.mp4"), &[photo("astronaut.png", 3.0), bad, photo("coffee.png", 3.0)]);
    let sel = analyze(&video, &dir.path().join("out"));
    assert_eq!(sel.frames.len(), 3, "{name}: three picks");
    // The stretch is [3, 6); allow for one frame of slack at its edges.
    assert_no_pick_in(&sel, 2.96, 6.04, name);
    assert!(
        sel.candidates.iter().any(|c| c.rejected.is_some() && c.time > 3.2 && c.time < 5.8),
        "{name}: stretch was rejected"
    );
}

#[test]
fn black_stretch_is_never_picked() {
    check("black", colour("color=c=black", 3.0, ""));
}

#[test]
fn title_card_is_never_picked() {
    let text = "drawtext=fontfile=/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf:text='Summer 2024':fontsize=36:fontcolor=white:x=(w-tw)/2:y=(h-th)/2";
    check("title", colour("color=c=0x203060", 3.0, text));
}

#[test]
fn defocused_stretch_is_never_picked() {
    check("defocus", photo_with("chelsea.png", 3.0, "gblur=sigma=10"));
}

#[test]
fn motion_blurred_stretch_is_never_picked() {
    check("motion", photo_with("motorcycle.png", 3.0, "avgblur=sizeX=24:sizeY=1"));
}

#[test]
fn over_exposed_stretch_is_never_picked() {
    check("over", photo_with("chelsea.png", 3.0, "eq=brightness=0.55:contrast=0.7"));
}

#[test]
fn under_exposed_stretch_is_never_picked() {
    check("under", photo_with("chelsea.png", 3.0, "eq=brightness=-0.42:contrast=0.5"));
}

#[test]
fn fade_through_black_is_never_picked() {
    let dir = tempfile::tempdir().unwrap();
    // 4 s astronaut fading out over its last 1.5 s, 4 s coffee fading in over 1.5 s.
    let video = compose(
        dir.path(),
        "fade.mp4",
        &[
            photo_with("astronaut.png", 4.0, "fade=t=out:st=2.5:d=1.5"),
            photo_with("coffee.png", 4.0, "fade=t=in:st=0:d=1.5"),
        ],
    );
    let sel = analyze(&video, &dir.path().join("out"));
    assert_eq!(sel.frames.len(), 3);
    assert_no_pick_in(&sel, 2.56, 5.44, "fade");
}

#[test]
fn three_scenes_give_three_picks_in_three_scenes() {
    let dir = tempfile::tempdir().unwrap();
    let video = compose(
        dir.path(),
        "scenes.mp4",
        &[photo("astronaut.png", 3.0), photo("coffee.png", 3.0), photo("chelsea.png", 3.0)],
    );
    let sel = analyze(&video, &dir.path().join("out"));
    let mut scenes: Vec<usize> = sel.frames.iter().map(|p| (p.time / 3.0).floor() as usize).collect();
    scenes.sort();
    assert_eq!(scenes, vec![0, 1, 2], "picks at {:?}", sel.frames.iter().map(|p| p.time).collect::<Vec<_>>());
    for p in &sel.frames {
        assert!(p.path.is_file());
        assert_eq!((p.width, p.height), (320, 240));
        assert!(p.reasons.scene >= 1 && p.reasons.scenes >= 3);
    }
    assert!(!sel.low_confidence);
    assert_eq!(sel.curve.len(), sel.candidates.len());
}
