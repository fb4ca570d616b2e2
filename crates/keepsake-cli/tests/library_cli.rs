//! End-to-end tests of the library commands with the real binary, real SQLite files,
//! real videos made by the ffmpeg CLI and the real engine in worker processes.

mod common;

use common::*;

#[test]
fn add_then_analyze_gives_three_picks_and_ls_json_has_the_contract_fields() {
    let env = Env::new();
    make_video(&env.album.join("clip.mp4"), "testsrc2", 2.0);
    make_video(&env.album.join("trip/holiday.MOV"), "mandelbrot", 2.0);
    std::fs::copy(media("coffee.png"), env.album.join("coffee.png")).unwrap();
    std::fs::write(env.album.join("notes.txt"), "not media").unwrap();
    std::fs::create_dir_all(env.album.join(".hidden")).unwrap();
    make_video(&env.album.join(".hidden/secret.mp4"), "smptebars", 1.0);

    let out = env.ok(&["add", env.album.to_str().unwrap()]);
    assert!(out.contains("1 photos, 2 videos"), "{out}");
    let items = env.ls();
    assert_eq!(items.len(), 3, "hidden folders and non-media skipped: {items:#?}");
    let clip = env.item("clip.mp4").unwrap();
    assert_eq!(clip["kind"], "video");
    assert_eq!(clip["state"], "pending");
    assert_eq!(clip["cover"]["kind"], "auto");
    assert_eq!(env.item("coffee.png").unwrap()["state"], "ready");

    let out = env.ok(&["analyze"]);
    assert!(out.contains("2 analysed, 0 failed"), "{out}");
    for name in ["clip.mp4", "holiday.MOV"] {
        let item = env.item(name).unwrap();
        assert_eq!(item["state"], "ready", "{item:#}");
        let times = frames(&item);
        assert_eq!(times.len(), 3, "{item:#}");
        assert!(times.iter().all(|t| (0.0..=2.0).contains(t)), "{times:?}");
        for f in item["frames"].as_array().unwrap() {
            let p = std::path::Path::new(f["path"].as_str().unwrap());
            assert!(p.starts_with(&env.data) && p.is_file(), "frame image inside the data dir: {}", p.display());
        }
        assert_eq!(item["cover"]["kind"], "auto");
        assert!(item["duration"].as_f64().unwrap() > 1.5);
    }
    // Adding the same folder again changes nothing and queues nothing.
    let out = env.ok(&["add", env.album.to_str().unwrap()]);
    assert!(out.contains("0 added") && out.contains("3 unchanged"), "{out}");
    assert!(!env.ok(&["jobs"]).contains("queued"));
}

/// Each failure is stored with its kind (jobs.error_kind): the worker's crash, hang and
/// out-of-memory as the supervisor saw them, and a file the engine refused with the
/// engine's own kind, carried over the worker protocol.
#[test]
fn worker_abort_hang_and_oom_fail_only_their_job_with_the_reason() {
    let mut env = Env::new();
    make_video(&env.album.join("crashme.mp4"), "testsrc2", 1.0);
    make_video(&env.album.join("hangme.mp4"), "mandelbrot", 1.0);
    make_video(&env.album.join("greedy.mp4"), "rgbtestsrc", 1.0);
    make_video(&env.album.join("fine.mp4"), "smptebars", 1.0);
    std::fs::write(env.album.join("garbage.mp4"), b"this is not a video, only text named like one".repeat(40)).unwrap();
    env.ok(&["add", env.album.to_str().unwrap()]);
    env.extra_env = vec![
        ("KEEPSAKE_WORKER_TEST_FAULT".into(), "abort:crashme,hang:hangme,oom:greedy".into()),
        ("KEEPSAKE_JOB_TIMEOUT_S".into(), "3".into()),
        ("KEEPSAKE_JOB_ATTEMPTS".into(), "2".into()),
        // Low enough that the runaway worker stops after a few hundred MB, high enough
        // for a real analysis (the fine video must still succeed under it).
        ("KEEPSAKE_WORKER_MEMORY_MB".into(), "400".into()),
    ];
    let out = env.ok(&["analyze"]);
    assert!(out.contains("1 analysed, 4 failed"), "{out}");
    let kinds: std::collections::BTreeMap<String, (String, Option<String>)> = {
        let db = env.db();
        let mut stmt =
            db.prepare("SELECT m.name, j.state, j.error_kind FROM jobs j JOIN media m ON m.id = j.media_id").unwrap();
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?)))).unwrap();
        rows.map(|r| r.unwrap()).collect()
    };
    let kind = |name: &str| kinds[name].1.clone().unwrap_or_default();
    assert_eq!(kind("crashme.mp4"), "worker_crashed", "{kinds:?}");
    assert_eq!(kind("hangme.mp4"), "worker_hung", "{kinds:?}");
    assert_eq!(kind("greedy.mp4"), "out_of_memory", "{kinds:?}");
    assert_eq!(kind("garbage.mp4"), "not_media", "the engine's kind: {kinds:?}");
    assert_eq!(kinds["fine.mp4"], ("done".to_owned(), None));
    let garbage = env.item("garbage.mp4").unwrap();
    assert!(garbage["error"].as_str().unwrap().contains("not a video or photo"), "{garbage:#}");
    let greedy = env.item("greedy.mp4").unwrap();
    assert_eq!(greedy["state"], "failed");
    let reason = greedy["error"].as_str().unwrap();
    assert!(
        reason.contains("out of memory (a worker may use 400 MiB)") && reason.contains("memory allocation"),
        "{greedy:#}"
    );
    let crash = env.item("crashme.mp4").unwrap();
    assert_eq!(crash["state"], "failed");
    assert!(crash["error"].as_str().unwrap().contains("aborted"), "{crash:#}");
    let hang = env.item("hangme.mp4").unwrap();
    assert_eq!(hang["state"], "failed");
    assert!(hang["error"].as_str().unwrap().contains("hung"), "{hang:#}");
    let fine = env.item("fine.mp4").unwrap();
    assert_eq!(fine["state"], "ready");
    assert_eq!(frames(&fine).len(), 3);
    let failed = env.ok(&["jobs", "--failed"]);
    assert!(
        failed.contains("attempts=2")
            && failed.contains("crashme")
            && failed.contains("hangme")
            && failed.contains("greedy"),
        "{failed}"
    );
    assert!(failed.contains("[worker_hung] worker hung") && failed.contains("[out_of_memory] worker"), "{failed}");
    assert!(!failed.contains("fine.mp4"));
    // Without the fault, a retry succeeds.
    env.extra_env.clear();
    assert!(env.ok(&["jobs", "--retry"]).contains("4 job(s)"));
    assert!(env.ok(&["analyze"]).contains("3 analysed, 1 failed"), "the garbage file still fails");
}

#[test]
fn a_worker_crashing_on_a_chosen_moment_fails_that_request_only() {
    let mut env = Env::new();
    make_video(&env.album.join("crashme.mp4"), "testsrc2", 2.0);
    make_video(&env.album.join("fine.mp4"), "smptebars", 2.0);
    env.ok(&["add", env.album.to_str().unwrap()]);
    env.extra_env = vec![("KEEPSAKE_WORKER_TEST_FAULT".into(), "abort:crashme".into())];
    let crash = env.album.join("crashme.mp4");
    let out = env.run(&["cover", "set", crash.to_str().unwrap(), "--time", "1"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("worker aborted"), "{stderr}");
    assert_eq!(env.item("crashme.mp4").unwrap()["cover"]["kind"], "auto", "nothing recorded");
    // Another video's moment still renders, in a new worker.
    let fine = env.album.join("fine.mp4");
    env.ok(&["cover", "set", fine.to_str().unwrap(), "--time", "1"]);
    assert_eq!(env.item("fine.mp4").unwrap()["cover"]["kind"], "time");
}

#[test]
fn moving_a_video_under_a_new_name_keeps_picks_and_override_without_a_new_job() {
    let env = Env::new();
    make_video(&env.album.join("a/original.mp4"), "testsrc2", 2.0);
    make_video(&env.album.join("a/other.mp4"), "mandelbrot", 2.0);
    env.ok(&["add", env.album.to_str().unwrap()]);
    env.ok(&["analyze"]);
    let before = env.item("original.mp4").unwrap();
    let file = env.album.join("a/original.mp4");
    env.ok(&["cover", "set", file.to_str().unwrap(), "--pick", "2"]);
    let done_before: i64 =
        env.db().query_row("SELECT COUNT(*) FROM jobs WHERE state = 'done'", [], |r| r.get(0)).unwrap();

    std::fs::create_dir_all(env.album.join("b/deeper")).unwrap();
    std::fs::rename(&file, env.album.join("b/deeper/renamed.mp4")).unwrap();
    let out = env.ok(&["scan"]);
    assert!(out.contains("1 moved"), "{out}");

    assert!(env.item("original.mp4").is_none());
    let after = env.item("renamed.mp4").unwrap();
    assert_eq!(after["id"], before["id"]);
    assert_eq!(after["state"], "ready");
    assert_eq!(frames(&after), frames(&before));
    assert_eq!(after["cover"]["kind"], "pick");
    assert_eq!(after["cover"]["rank"], 2);
    assert_eq!(env.ls().len(), 2);
    let jobs = env.ok(&["jobs"]);
    assert!(!jobs.contains("queued"), "no new analysis job: {jobs}");
    let done_after: i64 =
        env.db().query_row("SELECT COUNT(*) FROM jobs WHERE state = 'done'", [], |r| r.get(0)).unwrap();
    assert_eq!(done_before, done_after);
}

#[test]
fn a_root_renamed_away_goes_missing_and_comes_back_with_its_overrides() {
    let env = Env::new();
    make_video(&env.album.join("v.mp4"), "testsrc2", 2.0);
    std::fs::copy(media("chelsea.png"), env.album.join("cat.png")).unwrap();
    env.ok(&["add", env.album.to_str().unwrap()]);
    env.ok(&["analyze"]);
    env.ok(&["cover", "set", env.album.join("v.mp4").to_str().unwrap(), "--pick", "3"]);

    let away = env.tmp.path().join("unplugged");
    std::fs::rename(&env.album, &away).unwrap();
    let out = env.ok(&["scan"]);
    assert!(out.contains("2 missing"), "{out}");
    let items = env.ls();
    assert_eq!(items.len(), 2);
    assert!(items.iter().all(|m| m["state"] == "missing"), "{items:#?}");
    assert!(env.ok(&["status"]).contains("not there"));
    assert!(away.join("v.mp4").is_file() && away.join("cat.png").is_file(), "nothing deleted");

    std::fs::rename(&away, &env.album).unwrap();
    let out = env.ok(&["scan"]);
    assert!(out.contains("2 restored"), "{out}");
    let v = env.item("v.mp4").unwrap();
    assert_eq!(v["state"], "ready");
    assert_eq!(frames(&v).len(), 3);
    assert_eq!(v["cover"]["kind"], "pick");
    assert_eq!(v["cover"]["rank"], 3);
    assert_eq!(env.item("cat.png").unwrap()["state"], "ready");
    assert!(!env.ok(&["jobs"]).contains("queued"));
}

fn png_chunk(kind: &[u8], data: &[u8]) -> Vec<u8> {
    let mut c = (data.len() as u32).to_be_bytes().to_vec();
    let mut body = kind.to_vec();
    body.extend_from_slice(data);
    c.extend_from_slice(&body);
    c.extend_from_slice(&crc32fast::hash(&body).to_be_bytes());
    c
}

/// A tiny file claiming to be a 20000×20000 PNG (a decompression bomb's header).
fn bomb_png() -> Vec<u8> {
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&20000u32.to_be_bytes());
    ihdr.extend_from_slice(&20000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(png_chunk(b"IHDR", &ihdr));
    png.extend(png_chunk(b"IDAT", &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]));
    png.extend(png_chunk(b"IEND", &[]));
    png
}

#[test]
fn bad_custom_covers_are_refused_and_nothing_is_stored_good_ones_are_downscaled() {
    let env = Env::new();
    make_video(&env.album.join("v.mp4"), "testsrc2", 1.0);
    env.ok(&["add", env.album.to_str().unwrap()]);
    let video = env.album.join("v.mp4");
    let uploads = env.tmp.path().join("uploads");
    std::fs::create_dir_all(&uploads).unwrap();
    let text = uploads.join("notes.png");
    std::fs::write(&text, "this is just text, not a picture\n").unwrap();
    let jpeg = std::fs::read(media("rocket.jpg")).unwrap();
    let truncated = uploads.join("cut.jpg");
    std::fs::write(&truncated, &jpeg[..jpeg.len() / 2]).unwrap();
    let bomb = uploads.join("bomb.png");
    std::fs::write(&bomb, bomb_png()).unwrap();
    let svg = uploads.join("vector.svg");
    std::fs::write(
        &svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>"#,
    )
    .unwrap();

    for (file, expect) in
        [(&text, "text file"), (&truncated, "truncated JPEG"), (&bomb, "megapixel limit"), (&svg, "SVG")]
    {
        let out = env.run(&["cover", "set", video.to_str().unwrap(), "--image", file.to_str().unwrap()]);
        assert!(!out.status.success(), "{} accepted", file.display());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expect), "{}: {err}", file.display());
        assert_eq!(err.trim().lines().count(), 1, "one clear line: {err}");
        let covers = env.data.join("covers");
        let stored = std::fs::read_dir(&covers).map(|d| d.count()).unwrap_or(0);
        assert_eq!(stored, 0, "nothing stored for {}", file.display());
        assert_eq!(env.item("v.mp4").unwrap()["cover"]["kind"], "auto");
    }

    // A real photo (a PNG renamed .dat: content decides) is accepted and re-encoded.
    let upload = uploads.join("astronaut.dat");
    std::fs::copy(media("astronaut.png"), &upload).unwrap();
    env.ok(&["cover", "set", video.to_str().unwrap(), "--image", upload.to_str().unwrap()]);
    std::fs::remove_file(&upload).unwrap(); // never referenced again
    let cover = env.item("v.mp4").unwrap()["cover"].clone();
    assert_eq!(cover["kind"], "image");
    let stored = std::path::PathBuf::from(cover["path"].as_str().unwrap());
    assert!(stored.starts_with(&env.data) && stored.is_file());
    let img = image::open(&stored).unwrap();
    assert!(img.width() <= 1920 && img.height() <= 1080);
    env.ok(&["cover", "reset", video.to_str().unwrap()]);
    assert!(!stored.exists(), "reset removes the stored image");
    assert_eq!(env.item("v.mp4").unwrap()["cover"]["kind"], "auto");
}

/// Camcorder and DVD footage through the library: `.vob`, `.ts` and `.dv` are indexed,
/// analysed in workers, stored at their display size (16:9, not the stored 720×576 or
/// 720×480) and the detail says what the engine did; a `.ts` that is TypeScript and a
/// `.vob` that is text are never counted as videos, or fail alone with a reason.
#[test]
fn camcorder_and_dvd_footage_is_indexed_at_display_size_with_what_was_done() {
    let env = Env::new();
    let ffmpeg = |args: &[&str]| {
        let st = std::process::Command::new("ffmpeg").args(["-y", "-v", "error"]).args(args).status().unwrap();
        assert!(st.success(), "ffmpeg {args:?}");
    };
    let src = "testsrc2=size=320x240:rate=50,format=yuv420p";
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        src,
        "-t",
        "2",
        "-vf",
        "scale=720:576,tinterlace=interleave_bottom,setsar=64/45",
        "-c:v",
        "dvvideo",
        "-pix_fmt",
        "yuv420p",
        "-r",
        "25",
        "-aspect",
        "16:9",
        "-top",
        "0",
        env.album.join("tape.dv").to_str().unwrap(),
    ]);
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        src,
        "-t",
        "2",
        "-vf",
        "scale=720:480,fps=59.94,tinterlace=interleave_top",
        "-target",
        "ntsc-dvd",
        "-flags",
        "+ildct+ilme",
        "-top",
        "1",
        "-aspect",
        "16:9",
        "-an",
        env.album.join("VTS_01_1.VOB").to_str().unwrap(),
    ]);
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        src,
        "-t",
        "2",
        "-c:v",
        "libx264",
        "-output_ts_offset",
        "10",
        "-f",
        "mpegts",
        env.album.join("broadcast.ts").to_str().unwrap(),
    ]);
    std::fs::write(env.album.join("app.ts"), "export const answer: number = 42;\n".repeat(20)).unwrap();
    std::fs::write(env.album.join("menu.vob"), "this is not a DVD\n").unwrap();

    env.ok(&["add", env.album.to_str().unwrap()]);
    assert!(env.item("app.ts").is_none(), "TypeScript is not a video");
    env.run(&["analyze"]);
    let dv = env.item("tape.dv").unwrap();
    assert_eq!(dv["state"], "ready", "{dv:#}");
    assert_eq!((dv["width"].as_u64(), dv["height"].as_u64()), (Some(1024), Some(576)), "{dv:#}");
    let notes = dv["picture"].as_array().unwrap().iter().map(|n| n.as_str().unwrap().to_owned()).collect::<Vec<_>>();
    assert!(notes.iter().any(|n| n.contains("deinterlaced")), "{notes:?}");
    assert!(notes.iter().any(|n| n.contains("non-square")), "{notes:?}");
    for f in dv["frames"].as_array().unwrap() {
        let (w, h) = (f["width"].as_f64().unwrap(), f["height"].as_f64().unwrap());
        assert!((w / h - 16.0 / 9.0).abs() < 0.03, "pick {w}x{h} is not 16:9");
    }
    let dvd = env.item("VTS_01_1.VOB").unwrap();
    assert_eq!(dvd["state"], "ready", "{dvd:#}");
    assert!((dvd["width"].as_f64().unwrap() / dvd["height"].as_f64().unwrap() - 16.0 / 9.0).abs() < 0.03, "{dvd:#}");
    let ts = env.item("broadcast.ts").unwrap();
    assert_eq!(ts["state"], "ready", "{ts:#}");
    let times = frames(&ts);
    assert!(
        times.iter().all(|t| (0.0..=2.05).contains(t)),
        "times from the stream's start, not the clock's: {times:?}"
    );
    let bad = env.item("menu.vob").unwrap();
    assert_eq!(bad["state"], "failed", "{bad:#}");
    assert!(bad["error"].as_str().is_some_and(|e| !e.is_empty() && !e.contains('\n')), "{bad:#}");
}

/// `keepsake add` refuses Keepsake's own data directory and any folder holding it, with
/// one line, and indexes nothing.
#[test]
fn adding_the_data_directory_or_a_folder_above_it_is_refused() {
    let env = Env::new();
    std::fs::write(env.album.join("a.jpg"), b"a photo").unwrap();
    env.ok(&["add", env.album.to_str().unwrap()]); // creates the data directory
    for dir in [env.data.clone(), env.tmp.path().to_path_buf(), env.data.join("frames")] {
        std::fs::create_dir_all(&dir).unwrap();
        let out = env.run(&["add", dir.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{}: {stderr}", dir.display());
        assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
        assert!(stderr.contains("Keepsake's own data"), "{stderr}");
    }
    let albums: i64 = env.db().query_row("SELECT COUNT(*) FROM roots", [], |r| r.get(0)).unwrap();
    assert_eq!(albums, 1, "only the real album");
    assert_eq!(env.ls().len(), 1);
}
