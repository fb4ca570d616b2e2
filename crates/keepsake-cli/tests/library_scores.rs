//! Picture scores for events and memories (`media.score`, `faces`, `dhash`) through the
//! real `keepsake worker`, the real engine and the real face model (`scripts/setup.sh`):
//! photos scored in the background from their grid copies, a changed photo scored
//! again, videos judged by their best pick (stored with the analysis, and filled in for
//! videos analysed before scores existed).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use image::imageops::FilterType;
use image::RgbImage;
use keepsake_library::*;

fn worker() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_keepsake"))
}

fn media(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/media").join(name)
}

fn rgb(name: &str) -> RgbImage {
    image::open(media(name)).unwrap_or_else(|e| panic!("{name}: {e}")).to_rgb8()
}

/// `img` at 2048 px wide (a camera's photo rather than a web image), so the grid copy
/// is shrunk from it as from a real photo.
fn camera_size(img: &RgbImage) -> RgbImage {
    let h = img.height() * 2048 / img.width();
    image::imageops::resize(img, 2048, h, FilterType::CatmullRom)
}

fn darker(img: &RgbImage, gain: f32) -> RgbImage {
    let mut out = img.clone();
    for p in out.pixels_mut() {
        p.0 = p.0.map(|c| (c as f32 * gain).round().clamp(0.0, 255.0) as u8);
    }
    out
}

/// (score, faces, dhash) of the item named `name`.
fn scores(lib: &Library, name: &str) -> (Option<f64>, Option<i64>, Option<i64>) {
    let id = by_name(lib, name).id;
    let conn = rusqlite::Connection::open(lib.data_dir().join("library.sqlite3")).unwrap();
    conn.query_row("SELECT score, faces, dhash FROM media WHERE id = ?1", [id], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
    })
    .unwrap()
}

fn by_name(lib: &Library, name: &str) -> MediaItem {
    lib.catalog().media(&MediaQuery { search: Some(name.into()), ..Default::default() }).unwrap()[0].clone()
}

/// Runs the app's analyzer (background passes included) until `done`, or fails.
fn run_analyzer_until(lib: &Library, what: &str, done: impl Fn() -> bool) {
    let config = AnalyzerConfig { worker_exe: worker(), workers: 1, ..AnalyzerConfig::from_env() };
    let analyzer = Analyzer::new(lib.clone(), config);
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| analyzer.run_forever(&stop, &|_| {}).unwrap());
        let deadline = Instant::now() + Duration::from_secs(120);
        while !done() {
            if Instant::now() > deadline {
                stop.store(true, Ordering::Relaxed);
                panic!("timed out waiting for {what}");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        stop.store(true, Ordering::Relaxed);
    });
}

/// Photos are scored in the background from their grid copies: a sharp, well-exposed
/// photo above its blurred and its under-exposed copy; faces seen on the portrait and
/// nowhere else; two shots of a burst hash alike, unrelated photos do not. A photo
/// that changes is scored again.
#[test]
fn photos_are_scored_from_their_grid_copies_and_again_when_they_change() {
    let tmp = tempfile::tempdir().unwrap();
    let album = tmp.path().join("album");
    std::fs::create_dir_all(&album).unwrap();
    let street = camera_size(&rgb("motorcycle.png"));
    street.save(album.join("sharp.jpg")).unwrap();
    image::imageops::blur(&street, 12.0).save(album.join("blurred.jpg")).unwrap();
    darker(&street, 0.2).save(album.join("dark.jpg")).unwrap();
    camera_size(&rgb("astronaut.png")).save(album.join("portrait.jpg")).unwrap();
    camera_size(&rgb("coffee.png")).save(album.join("coffee.jpg")).unwrap();
    // A burst: the same cat twice, the second a touch darker and shifted by 1 %.
    let cat = camera_size(&rgb("chelsea.png"));
    cat.save(album.join("burst_1.jpg")).unwrap();
    let (w, h) = cat.dimensions();
    let shifted = image::imageops::crop_imm(&cat, w / 100, 0, w - w / 100, h).to_image();
    darker(&image::imageops::resize(&shifted, w, h, FilterType::Triangle), 0.93)
        .save(album.join("burst_2.jpg"))
        .unwrap();

    let lib = Library::open_with_worker(&tmp.path().join("data"), Some(worker())).unwrap();
    lib.index().add_root(&album, &|_| {}).unwrap();
    let names = ["sharp.jpg", "blurred.jpg", "dark.jpg", "portrait.jpg", "coffee.jpg", "burst_1.jpg", "burst_2.jpg"];
    run_analyzer_until(&lib, "every photo scored", || names.iter().all(|n| scores(&lib, n).0.is_some()));

    let score = |n: &str| scores(&lib, n).0.unwrap();
    let (sharp, blurred, dark) = (score("sharp.jpg"), score("blurred.jpg"), score("dark.jpg"));
    assert!((0.0..=1.0).contains(&sharp), "{sharp}");
    assert!(sharp > blurred + 0.1, "sharp {sharp} vs blurred {blurred}");
    assert!(sharp > dark + 0.3, "sharp {sharp} vs under-exposed {dark}");
    assert_eq!(scores(&lib, "portrait.jpg").1, Some(1), "the astronaut's face");
    for n in ["sharp.jpg", "coffee.jpg", "burst_1.jpg"] {
        assert_eq!(scores(&lib, n).1, Some(0), "{n}: no faces");
    }
    let hash = |n: &str| scores(&lib, n).2.unwrap_or_else(|| panic!("{n} has no difference hash"));
    let burst = dhash_distance(hash("burst_1.jpg"), hash("burst_2.jpg"));
    assert!(burst <= 6, "a burst's two shots differ in {burst} bits");
    for (a, b) in [("burst_1.jpg", "coffee.jpg"), ("sharp.jpg", "portrait.jpg"), ("coffee.jpg", "portrait.jpg")] {
        let d = dhash_distance(hash(a), hash(b));
        assert!(d >= 16, "{a} and {b} differ in only {d} bits");
    }
    // The hash is the grid copy's, as anyone can compute it from the file.
    let grid = lib.images().image_path(&ImageKey::Photo(by_name(&lib, "sharp.jpg").id)).unwrap();
    assert_eq!(dhash(&grid).unwrap(), hash("sharp.jpg"));

    // The sharp photo is replaced by a blurred shot: its scores are forgotten at the
    // rescan, and it is scored again, now as the blurred one is.
    let before = scores(&lib, "sharp.jpg");
    image::imageops::blur(&street, 12.0).save(album.join("sharp.jpg")).unwrap();
    lib.index().scan_all(&|_| {}).unwrap();
    assert_eq!(scores(&lib, "sharp.jpg"), (None, None, None), "a changed file's scores are cleared");
    // (A new analyzer, as after the app restarts: the workers the last one kept died
    // with its thread, and are replaced rather than handed the batch.)
    run_analyzer_until(&lib, "the changed photo scored again", || scores(&lib, "sharp.jpg").0.is_some());
    let after = scores(&lib, "sharp.jpg");
    assert!(after.0.unwrap() < before.0.unwrap() - 0.1, "{before:?} then {after:?}");
    assert!((after.0.unwrap() - blurred).abs() < 0.02, "{after:?} vs the blurred copy's {blurred}");
}

/// A video takes its best pick's score and faces when its analysis is stored, and the
/// pick's image's difference hash; a video analysed before scores existed gets them
/// from its stored picks.
#[test]
fn videos_take_their_best_picks_score_and_faces() {
    let tmp = tempfile::tempdir().unwrap();
    let album = tmp.path().join("album");
    std::fs::create_dir_all(&album).unwrap();
    // Three seconds of the astronaut's portrait, then two of coffee.
    let status = std::process::Command::new("ffmpeg")
        .args(["-y", "-v", "error", "-loop", "1", "-t", "3", "-i"])
        .arg(media("astronaut.png"))
        .args(["-loop", "1", "-t", "2", "-i"])
        .arg(media("coffee.png"))
        .args(["-filter_complex", "[0]scale=640:360,setsar=1[a];[1]scale=640:360,setsar=1[b];[a][b]concat=n=2:v=1"])
        .args(["-r", "10", "-pix_fmt", "yuv420p", "-c:v", "libx264"])
        .arg(album.join("portrait.mp4"))
        .status()
        .expect("ffmpeg (scripts/setup.sh installs it)");
    assert!(status.success());
    let lib = Library::open_with_worker(&tmp.path().join("data"), Some(worker())).unwrap();
    lib.index().add_root(&album, &|_| {}).unwrap();
    let config = AnalyzerConfig { worker_exe: worker(), workers: 1, ..AnalyzerConfig::from_env() };
    let summary = Analyzer::new(lib.clone(), config).run_until_empty(&|_| {}).unwrap();
    assert_eq!(summary.analysed, 1, "{summary:?}");

    let detail = lib.catalog().media_by_id(by_name(&lib, "portrait.mp4").id).unwrap();
    let best = detail.frames.iter().min_by_key(|f| f.rank).unwrap();
    let stored = scores(&lib, "portrait.mp4");
    assert_eq!(stored.0, Some(best.score), "the best pick's score");
    let pick_faces = i64::from(best.reasons.faces.expect("the engine reports faces per pick"));
    assert_eq!(stored.1, Some(pick_faces));
    assert!(pick_faces >= 1, "the best pick shows the astronaut: {:?}", best.reasons);
    assert!(best.reasons.summary.as_deref().is_some_and(|s| !s.is_empty()), "{:?}", best.reasons);
    // The quality curve comes back typed: one point per candidate, in time order, 0..1.
    assert!(detail.curve.len() >= 3, "{:?}", detail.curve);
    assert!(detail.curve.windows(2).all(|w| w[0].time <= w[1].time), "{:?}", detail.curve);
    assert!(detail.curve.iter().all(|p| (0.0..=1.0).contains(&p.quality)), "{:?}", detail.curve);
    assert_eq!(stored.2, Some(dhash(&best.path).unwrap()), "the best pick's difference hash");

    // As if analysed before scores existed, with the score job schema v9 gives such a
    // video: the background pass fills them from the picks.
    let conn = rusqlite::Connection::open(lib.data_dir().join("library.sqlite3")).unwrap();
    conn.execute("UPDATE media SET score = NULL, faces = NULL, dhash = NULL", []).unwrap();
    conn.execute("INSERT INTO jobs (media_id, kind, created_ms) SELECT id, 'score', 0 FROM media", []).unwrap();
    assert_eq!(lib.photo_jobs().score(16, &|| false).unwrap(), 1);
    assert_eq!(scores(&lib, "portrait.mp4"), stored);
    assert_eq!(lib.photo_jobs().score(16, &|| false).unwrap(), 0, "nothing left to score");
}
