//! `keepsake watch` with real filesystem events, and crash safety under `kill -9`.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::*;

struct Watching {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Watching {
    fn start(env: &Env) -> Watching {
        let mut child = env.cmd().arg("watch").stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for l in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(l);
            }
        });
        let w = Watching { child, lines };
        w.wait_line("watching", Duration::from_secs(60));
        w
    }

    fn wait_line(&self, needle: &str, timeout: Duration) -> String {
        let start = Instant::now();
        loop {
            let left = timeout.checked_sub(start.elapsed()).unwrap_or_else(|| panic!("no '{needle}' from watch"));
            let l = self.lines.recv_timeout(left).unwrap_or_else(|_| panic!("no '{needle}' from watch"));
            if l.contains(needle) {
                return l;
            }
        }
    }

    fn kill9(mut self) {
        let _ = self.child.kill(); // SIGKILL
        let _ = self.child.wait();
    }
}

impl Drop for Watching {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Rows for a file name, straight from the database (cheap enough to poll often).
fn indexed(env: &Env, name: &str) -> i64 {
    if !env.data.join("library.sqlite3").exists() {
        return 0;
    }
    env.db().query_row("SELECT COUNT(*) FROM media WHERE name = ?1", [name], |r| r.get(0)).unwrap_or(0)
}

#[test]
fn a_video_copied_in_slowly_is_indexed_once_after_it_completes_and_gets_three_picks() {
    let env = Env::new();
    env.ok(&["add", env.album.to_str().unwrap()]);
    let src = env.tmp.path().join("src.mp4");
    make_video(&src, "testsrc2", 2.0);
    let bytes = std::fs::read(&src).unwrap();
    let watch = Watching::start(&env);

    // Copy in 10 chunks over ~2 s, checking it is not indexed half-written.
    let dest = env.album.join("slow.mp4");
    let mut f = std::fs::File::create(&dest).unwrap();
    let chunk = bytes.len().div_ceil(10);
    for part in bytes.chunks(chunk) {
        f.write_all(part).unwrap();
        f.flush().unwrap();
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(indexed(&env, "slow.mp4"), 0, "indexed while still being copied");
    }
    drop(f);
    let last_write = Instant::now();
    wait_for(Duration::from_secs(20), "slow.mp4 indexed", || (indexed(&env, "slow.mp4") > 0).then_some(()));
    let delay = last_write.elapsed();
    println!("delay from last write to indexed: {:.2} s", delay.as_secs_f64());
    eprintln!("delay from last write to indexed: {:.2} s", delay.as_secs_f64());

    let item = wait_for(Duration::from_secs(60), "slow.mp4 analysed", || {
        env.item("slow.mp4").filter(|i| i["state"] == "ready")
    });
    assert_eq!(frames(&item).len(), 3, "{item:#}");
    assert_eq!(item["size"].as_u64().unwrap(), bytes.len() as u64);
    watch.wait_line("analysed", Duration::from_secs(10));
    drop(watch);
    let added: i64 = env.db().query_row("SELECT COUNT(*) FROM media", [], |r| r.get(0)).unwrap();
    assert_eq!(added, 1, "indexed exactly once");
    let attempts: i64 = env.db().query_row("SELECT attempts FROM jobs", [], |r| r.get(0)).unwrap();
    assert_eq!(attempts, 1, "analysed once, not once per chunk");
}

#[test]
fn watch_follows_renames_across_roots_and_deleted_folders() {
    let env = Env::new();
    let second = env.tmp.path().join("second");
    std::fs::create_dir_all(&second).unwrap();
    make_video(&env.album.join("trip/v.mp4"), "testsrc2", 1.0);
    std::fs::copy(media("coffee.png"), env.album.join("trip/coffee.png")).unwrap();
    env.ok(&["add", env.album.to_str().unwrap()]);
    env.ok(&["add", second.to_str().unwrap()]);
    env.ok(&["analyze"]);
    let id = env.item("v.mp4").unwrap()["id"].clone();
    env.ok(&["cover", "set", env.album.join("trip/v.mp4").to_str().unwrap(), "--pick", "2"]);
    let watch = Watching::start(&env);

    std::fs::rename(env.album.join("trip/v.mp4"), second.join("moved.mp4")).unwrap();
    let moved = wait_for(Duration::from_secs(10), "moved.mp4 indexed", || env.item("moved.mp4"));
    assert_eq!(moved["id"], id);
    assert_eq!(moved["cover"]["kind"], "pick");
    assert_eq!(frames(&moved).len(), 3);

    std::fs::remove_dir_all(env.album.join("trip")).unwrap();
    wait_for(Duration::from_secs(10), "coffee.png gone", || env.item("coffee.png").is_none().then_some(()));
    assert_eq!(env.ls().len(), 1);
    drop(watch);
    assert!(!env.ok(&["jobs"]).contains("queued"), "no re-analysis");
}

fn integrity_ok(env: &Env) {
    let ok: String = env.db().query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(ok, "ok");
}

#[test]
fn kill_9_mid_scan_leaves_a_sound_database_without_duplicates() {
    let env = Env::new();
    env.ok(&["add", env.album.to_str().unwrap()]);
    // Enough new files that the start-up reconcile of `watch` is still running when
    // it is killed.
    for d in 0..40 {
        let dir = env.album.join(format!("d{d}"));
        std::fs::create_dir_all(&dir).unwrap();
        for i in 0..500 {
            std::fs::write(dir.join(format!("p{i}.jpg")), [d as u8, (i % 256) as u8]).unwrap();
        }
    }
    let mut child = env.cmd().arg("watch").stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let mut first = String::new();
    // Kill as soon as the first batch of the reconcile is committed.
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(30) {
        let n: i64 = env.db().query_row("SELECT COUNT(*) FROM media", [], |r| r.get(0)).unwrap_or(0);
        if n > 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = child.kill(); // SIGKILL
    let _ = child.wait();
    let _ = std::io::Read::read_to_string(child.stdout.as_mut().unwrap(), &mut first);
    integrity_ok(&env);
    let partial: i64 = env.db().query_row("SELECT COUNT(*) FROM media", [], |r| r.get(0)).unwrap();
    println!("killed after indexing {partial} of 20000 files (watch said: {first:?})");

    env.ok(&["scan"]);
    integrity_ok(&env);
    let distinct: i64 = env
        .db()
        .query_row("SELECT COUNT(DISTINCT path) FROM media WHERE presence = 'present'", [], |r| r.get(0))
        .unwrap();
    let total: i64 = env.db().query_row("SELECT COUNT(*) FROM media", [], |r| r.get(0)).unwrap();
    assert_eq!((distinct, total), (20_000, 20_000));
}

#[test]
fn kill_9_mid_analysis_then_the_interrupted_jobs_finish() {
    let env = Env::new();
    for (i, src) in ["testsrc2", "mandelbrot", "smptebars", "rgbtestsrc"].iter().enumerate() {
        make_video(&env.album.join(format!("v{i}.mp4")), src, 3.0);
    }
    env.ok(&["add", env.album.to_str().unwrap()]);
    let watch = Watching::start(&env);
    wait_for(Duration::from_secs(30), "a running job", || {
        let n: i64 = env.db().query_row("SELECT COUNT(*) FROM jobs WHERE state = 'running'", [], |r| r.get(0)).unwrap();
        (n > 0).then_some(())
    });
    watch.kill9();
    integrity_ok(&env);
    let running: i64 =
        env.db().query_row("SELECT COUNT(*) FROM jobs WHERE state = 'running'", [], |r| r.get(0)).unwrap();
    let ready_before: i64 =
        env.db().query_row("SELECT COUNT(*) FROM media WHERE state = 'ready'", [], |r| r.get(0)).unwrap();
    assert!(running > 0 || ready_before < 4, "killed mid-analysis");
    let out = env.ok(&["analyze"]);
    assert!(out.contains("0 failed"), "{out}");
    let items = env.ls();
    assert_eq!(items.len(), 4);
    for item in &items {
        assert_eq!(item["state"], "ready", "{item:#}");
        assert_eq!(frames(item).len(), 3);
    }
    integrity_ok(&env);
}

#[test]
fn a_storm_of_10k_new_files_is_indexed_in_batches_each_once() {
    let env = Env::new();
    env.ok(&["add", env.album.to_str().unwrap()]);
    let watch = Watching::start(&env);
    let started = Instant::now();
    for d in 0..20 {
        let dir = env.album.join(format!("import/{d}"));
        std::fs::create_dir_all(&dir).unwrap();
        for i in 0..500 {
            std::fs::write(dir.join(format!("IMG_{i}.jpg")), [d as u8, (i % 256) as u8, (i / 256) as u8]).unwrap();
        }
    }
    let count = || -> i64 { env.db().query_row("SELECT COUNT(*) FROM media", [], |r| r.get(0)).unwrap_or(0) };
    wait_for(Duration::from_secs(60), "10k files indexed", || (count() == 10_000).then_some(()));
    println!("10k-file storm indexed in {:.1} s", started.elapsed().as_secs_f64());
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(count(), 10_000);
    let dups: i64 = env
        .db()
        .query_row("SELECT COUNT(*) FROM (SELECT path FROM media GROUP BY path HAVING COUNT(*) > 1)", [], |r| r.get(0))
        .unwrap();
    assert_eq!(dups, 0);
    drop(watch);
}
