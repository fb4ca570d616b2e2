// Whole videos play in the window: WebKitGTK's media player (GStreamer) cannot load the
// app's keepsake:// scheme, so the app serves videos on 127.0.0.1 behind a per-launch
// secret (src-tauri/src/video_server.rs). Against the real app: a phone's HEVC .MOV (8-bit,
// and 10-bit HLG as iPhones record HDR), and an H.264 .mp4 with its index at the end (so
// the player must ask for ranges), each with sound, made here with the ffmpeg CLI. The detail panel's player decodes a
// picture of the file's size and its clock runs; the server answers ranges to whoever
// holds the URL, refuses a wrong secret, and the page itself cannot read the video.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { launchApp, sleep, until } from "./webdriver.mjs";

let work, album, dataDir;

const ffmpeg = (args) => execFileSync("ffmpeg", ["-v", "error", "-y", ...args], { maxBuffer: 64 << 20 });

/** Moving test pictures with a tone, `seconds` long. */
const source = (size, seconds) => [
  "-f", "lavfi", "-i", `testsrc2=size=${size}:rate=30:duration=${seconds}`,
  "-f", "lavfi", "-i", `sine=frequency=440:sample_rate=48000:duration=${seconds}`,
];

const CLIPS = [
  // A phone's recording: HEVC (hvc1, as iPhones tag it) with AAC, in a QuickTime file.
  { name: "IMG_0042.MOV", width: 1280, height: 720,
    args: [...source("1280x720", 6), "-c:v", "libx265", "-x265-params", "log-level=error", "-pix_fmt", "yuv420p", "-tag:v", "hvc1", "-c:a", "aac", "-b:a", "96k"] },
  // An iPhone's HDR recording: HEVC Main10, BT.2020 HLG. GStreamer decodes it (10-bit);
  // the web view does not tone-map it, but it plays.
  { name: "IMG_0043.MOV", width: 1280, height: 720,
    args: [...source("1280x720", 6), "-vf", "format=yuv420p10le", "-c:v", "libx265", "-x265-params", "log-level=error",
      "-color_primaries", "bt2020", "-color_trc", "arib-std-b67", "-colorspace", "bt2020nc", "-tag:v", "hvc1", "-c:a", "aac", "-b:a", "96k"] },
  // H.264 + AAC with the index (moov) after the data, as ffmpeg writes by default.
  { name: "birthday.mp4", width: 960, height: 540,
    args: [...source("960x540", 6), "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "96k"] },
];

before(() => {
  work = mkdtempSync(join(tmpdir(), "keepsake-e2e-playback-"));
  album = join(work, "Phone");
  dataDir = join(work, "data");
  mkdirSync(album);
  for (const clip of CLIPS) ffmpeg([...clip.args, join(album, clip.name)]);
});

after(() => rmSync(work, { recursive: true, force: true }));

/** The player's state, as the page sees it. */
const playerState = (app) =>
  app.exec(`const v = document.querySelector('[data-testid=player]');
    return v && { src: v.currentSrc, ready: v.readyState, time: v.currentTime, paused: v.paused,
      width: v.videoWidth, height: v.videoHeight, duration: v.duration, error: v.error && v.error.code };`);

test("playback: a phone's HEVC .MOVs (SDR and HDR) and an H.264 .mp4 play in the detail panel from the loopback server", async () => {
  const app = await launchApp({ env: { KEEPSAKE_DATA_DIR: dataDir }, args: [album] });
  try {
    await until(async () => (await app.findAll('[data-testid="tile"]')).length === CLIPS.length, { timeoutMs: 30000, what: `${CLIPS.length} tiles` });
    const ids = Object.fromEntries(await app.exec("return [...document.querySelectorAll('[data-testid=tile]')].map(t => [t.title, t.dataset.mediaId])"));
    for (const clip of CLIPS) {
      assert.ok(ids[clip.name], `${clip.name} has a tile`);
      await app.click(await app.waitFor(`[data-testid="tile"][data-media-id="${ids[clip.name]}"]`));
      await app.click(await app.waitFor('[data-testid="play"]'));
      const started = Date.now();
      const ready = await until(async () => {
        const s = await playerState(app);
        if (s?.error) throw new Error(`${clip.name}: media error ${s.error}`);
        // A picture: enough data, and its size known. Under load WebKit's GStreamer player
        // can say HAVE_CURRENT_DATA a moment before it reports the size (0x0 then).
        return s && s.ready >= 2 && s.width > 0 && s;
      }, { timeoutMs: 30000, intervalMs: 100, what: `${clip.name} to have a picture of a known size (readyState >= 2)` });
      const readyMs = Date.now() - started;
      assert.match(ready.src, new RegExp(`^http://127\\.0\\.0\\.1:\\d+/[0-9a-f]{64}/video/${ids[clip.name]}$`));
      assert.equal(`${ready.width}x${ready.height}`, `${clip.width}x${clip.height}`, `${clip.name}: the decoded picture's size`);
      assert.ok(Math.abs(ready.duration - 6) < 0.2, `${clip.name}: duration ${ready.duration}`);

      // Its clock runs (it started on the click; with sound, so the play button's
      // gesture is what lets it).
      if (ready.paused) await app.exec("return document.querySelector('[data-testid=player]').play().then(() => true)");
      const t0 = (await playerState(app)).time;
      await sleep(2000);
      const later = await playerState(app);
      assert.equal(later.error, null, `${clip.name}: no media error`);
      assert.ok(later.time - t0 > 1.0, `${clip.name}: played ${(later.time - t0).toFixed(2)} s in 2 s (from ${t0.toFixed(2)})`);
      // Always under artifacts/ (never docs/screenshots, where `make screenshots` sends bare names).
      await app.screenshot(join("artifacts", "e2e", `playback-${clip.name.replace(/\W/g, "_")}.png`));
      console.log(`${clip.name}: picture after ${readyMs} ms, ${(later.time - t0).toFixed(2)} s played in 2 s`);

      // Whoever holds the URL gets ranges of the very file; a wrong secret gets nothing.
      const size = statSync(join(album, clip.name)).size;
      const part = await fetch(ready.src, { headers: { Range: "bytes=100-199" } });
      assert.equal(part.status, 206);
      assert.equal(part.headers.get("content-range"), `bytes 100-199/${size}`);
      assert.equal((await part.arrayBuffer()).byteLength, 100);
      const forged = ready.src.replace(/\/[0-9a-f]{64}\//, `/${"0".repeat(64)}/`);
      assert.equal((await fetch(forged)).status, 403);
    }

    // The page may play the video but not read it (CSP connect-src; no CORS header).
    const read = await app.execAsync(`const done = arguments[arguments.length - 1];
      fetch(document.querySelector('[data-testid=player]').currentSrc).then(r => done("read " + r.status), e => done("refused"));`);
    assert.equal(read, "refused");
  } finally {
    await app.quit();
  }
});
