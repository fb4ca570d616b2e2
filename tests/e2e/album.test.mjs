// The album window end to end, against the real app, the real library and engine, and a
// folder of videos generated here with the ffmpeg CLI. The folder is given to the app on
// its command line (the native folder dialog can't be driven over WebDriver; the same
// `add_root` runs either way). Custom-cover upload uses the detail panel's "type a path"
// field, which calls the same `set_cover` command as the native dialog. The slideshow's
// save dialog is answered through X11 with xdotool (`answerSaveDialog`).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { answerOpenDialog, answerSaveDialog, launchApp, sleep, until } from "./webdriver.mjs";

let work, album, dataDir;

const MEDIA = "tests/media"; // registry photos (scripts/setup.sh fetches them)

/**
 * A clip of three scenes after a second of black: registry photos (or footage), two
 * seconds each with a slow zoom, so the album looks like one and the engine sees real
 * pictures (synthetic colour bars read as flat title cards).
 */
function makeVideo(path, photos) {
  const inputs = [["-f", "lavfi", "-i", "color=c=black:s=480x270:d=1:r=25"]];
  for (const p of photos) {
    // A photo is held; a clip (registry footage) plays two seconds from its middle.
    if (p.endsWith(".mp4")) inputs.push(["-ss", "3", "-t", "2", "-i", join(MEDIA, p)]);
    else inputs.push(["-loop", "1", "-framerate", "25", "-t", "2", "-i", join(MEDIA, p)]);
  }
  const n = inputs.length;
  const fit = (i) =>
    i === 0
      ? `[0:v]format=yuv420p,setsar=1[v0]`
      : `[${i}:v]scale=960:540:force_original_aspect_ratio=increase,crop=960:540,zoompan=z='1+0.002*on':x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)':d=1:s=480x270:fps=25,format=yuv420p,setsar=1[v${i}]`;
  const filter = `${Array.from({ length: n }, (_, i) => fit(i)).join(";")};${Array.from({ length: n }, (_, i) => `[v${i}]`).join("")}concat=n=${n}:v=1:a=0[out]`;
  execFileSync("ffmpeg", ["-v", "error", "-y", ...inputs.flat(), "-filter_complex", filter, "-map", "[out]", "-c:v", "libx264", "-pix_fmt", "yuv420p", path]);
}

before(() => {
  work = mkdtempSync(join(tmpdir(), "keepsake-e2e-album-"));
  album = join(work, "Summer 2024");
  dataDir = join(work, "data");
  mkdirSync(album);
  makeVideo(join(album, "picnic.mp4"), ["astronaut.png", "coffee.png", "chelsea.png"]);
  makeVideo(join(album, "garden.mp4"), ["rocket.jpg", "motorcycle.png", "bikes.mp4"]);
  execFileSync("ffmpeg", ["-v", "error", "-y", "-i", join(MEDIA, "chelsea.png"), "-vf", "scale=800:-2", join(album, "porch.jpg")]);
  writeFileSync(join(work, "notes.txt"), "this is not an image\n");
  writeFileSync(join(work, "broken.jpg"), "this is not an image either\n");
});

after(() => rmSync(work, { recursive: true, force: true }));

/** `src` of the image each video tile shows right now, by media id. */
const activeFrames = (app) =>
  app.exec(`return [...document.querySelectorAll('[data-testid=tile][data-kind=video]')].map(t => {
    const img = t.querySelector('img.active');
    return [t.dataset.mediaId, img ? img.getAttribute('src') : null, img ? img.naturalWidth : 0];
  });`);

test("album: tiles loop through three frames, covers can be overridden and persist, slideshow advances and exports where the user says", async () => {
  let app = await launchApp({ env: { KEEPSAKE_DATA_DIR: dataDir }, args: [album] });
  let videoId;
  try {
    // Tiles appear: two videos and a photo.
    await until(async () => (await app.findAll('[data-testid="tile"]')).length === 3, { timeoutMs: 30000, what: "3 tiles" });

    // Analysis finishes and every video tile has its three picks.
    await until(
      async () => (await app.exec("return [...document.querySelectorAll('[data-testid=tile][data-kind=video]')].every(t => t.dataset.frames === '3')")),
      { timeoutMs: 120000, intervalMs: 500, what: "every video tile to have three picks" },
    );

    // Each video tile's image changes over time through three different, loaded frames.
    const seen = new Map();
    for (let i = 0; i < 16; i++) {
      for (const [id, src, w] of await activeFrames(app)) {
        if (!seen.has(id)) seen.set(id, new Set());
        if (src && w > 0) seen.get(id).add(src);
      }
      await sleep(400);
    }
    assert.equal(seen.size, 2);
    for (const [id, srcs] of seen) {
      assert.equal(srcs.size, 3, `tile ${id} showed ${[...srcs].join(", ")}`);
      // Tiles of ~200 px at a pixel ratio of 1 load the 256-px copies.
      for (const s of srcs) assert.match(s, new RegExp(`^keepsake://localhost/small/tile/${id}/[123]\\?v=`));
    }
    await app.screenshot(`grid.png`);

    // The detail panel opens with the picks, their reasons and the timeline.
    const tile = await app.waitFor('[data-testid="tile"][data-kind="video"]');
    videoId = await app.attr(tile, "data-media-id");
    await app.click(tile);
    await app.waitFor('[data-testid="detail"]');
    await until(async () => (await app.findAll('[data-testid="pick"]')).length === 3, { what: "three picks" });
    await app.waitFor('[data-testid="timeline"] [data-testid="curve"]');
    await app.screenshot(`detail.png`);

    // Choose a moment on the timeline and use it as the cover.
    await app.exec(`const s = document.querySelector('[data-testid=timeline] [role=slider]');
      s.dispatchEvent(new KeyboardEvent('keydown', { key: 'End', bubbles: true }));
      s.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowLeft', shiftKey: true, bubbles: true }));`);
    await until(async () => (await app.exec("return document.querySelector('[data-testid=stage-image]')?.naturalWidth || 0")) > 0, { what: "the moment preview to render" });
    await app.click(await app.waitFor('[data-testid="use-moment"]'));
    await until(async () => (await app.attr(await app.waitFor('[data-testid="cover-kind"]'), "data-kind")) === "time", { timeoutMs: 30000, what: "a moment cover" });
    await until(
      async () => (await app.exec(`return document.querySelector('[data-testid=tile][data-media-id="${videoId}"] img.active')?.getAttribute('src') || ''`)).includes(`/tile/${videoId}/cover?`),
      { what: "the tile to show the new cover" },
    );

    // A bad image, chosen in the native dialog the app opens, is refused with the reason
    // shown inline.
    await app.exec("document.querySelector('[data-testid=upload]').click()");
    await answerOpenDialog("Choose a cover image", join(work, "broken.jpg"));
    const err = await app.text(await app.waitFor('[data-testid="cover-error"]', 20000));
    assert.match(err, /broken\.jpg/);
    assert.equal(await app.attr(await app.waitFor('[data-testid="cover-kind"]'), "data-kind"), "time");

    // The slideshow opens and advances on its own.
    await app.click(await app.waitFor('[data-testid="detail-close"]'));
    await app.click(await app.waitFor('[data-testid="slideshow-start"]'));
    const show = await app.waitFor('[data-testid="slideshow"]');
    const first = await app.attr(show, "data-index");
    await until(async () => (await app.attr(show, "data-index")) !== first, { timeoutMs: 10000, what: "the slideshow to advance" });
    await sleep(1200);
    await app.screenshot(`slideshow.png`);

    // Export asks where to save, in the native dialog, and writes an animated WebP there
    // (the name typed without its extension gets one).
    const exported = join(work, "shared", "Family show");
    mkdirSync(join(work, "shared"));
    await app.exec("document.querySelector('[data-testid=export-webp]').click()");
    await answerSaveDialog("Export slideshow", exported);
    await until(async () => (await app.exec("return document.body.innerText")).includes(`Slideshow saved to ${exported}.webp`), {
      timeoutMs: 60000,
      what: "the export to finish",
    });
    const webp = readFileSync(`${exported}.webp`);
    assert.equal(webp.subarray(0, 4).toString("latin1"), "RIFF");
    assert.equal(webp.subarray(8, 12).toString("latin1"), "WEBP");
    assert.ok(webp.toString("latin1").split("ANMF").length - 1 >= 2, "an animation of several frames");
    assert.ok(!existsSync(`${exported}.partial.webp`), "no half-written file left behind");
    await app.exec("window.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape' }))");
    await until(async () => (await app.findAll('[data-testid="slideshow"]')).length === 0, { what: "the slideshow to close" });

    // A compromised page cannot name paths: an image cover by path is refused, and
    // add_album ignores the folder it is given and asks the user (who cancels here).
    const refused = await app.execAsync(`const done = arguments[arguments.length - 1];
      window.__TAURI_INTERNALS__.invoke('set_cover', { id: ${videoId}, choice: { image: '/etc/hostname' } })
        .then(() => done('accepted'), (e) => done(JSON.stringify(e)));`);
    // Failed commands cross as {code, message}.
    assert.equal(JSON.parse(refused).code, "invalid", refused);
    assert.match(JSON.parse(refused).message, /dialog/);
    await app.exec(`window.__keepsakeAdd = window.__TAURI_INTERNALS__.invoke('add_album', { path: '/etc' }).then((a) => a, (e) => String(e));`);
    await answerOpenDialog("Add a folder to Keepsake", null);
    const added = await app.execAsync("const done = arguments[arguments.length - 1]; window.__keepsakeAdd.then(done);");
    assert.equal(added, null);
    assert.ok(!(await app.exec("return document.body.innerText")).includes("/etc"));
  } finally {
    await app.quit();
  }

  // While the app is closed, a photo is added to the album and another deleted.
  execFileSync("ffmpeg", ["-v", "error", "-y", "-i", join(MEDIA, "coffee.png"), "-vf", "scale=640:-2", join(album, "breakfast.jpg")]);
  rmSync(join(album, "porch.jpg"));

  // The chosen moment is still the cover after a restart, and the grid caught up with
  // the disk: the new photo is there, the deleted one gone, nothing else changed.
  app = await launchApp({ env: { KEEPSAKE_DATA_DIR: dataDir } });
  try {
    await until(
      async () => JSON.stringify(await app.exec("return [...document.querySelectorAll('[data-testid=tile]')].map(t => t.title).sort()")) ===
        JSON.stringify(["breakfast.jpg", "garden.mp4", "picnic.mp4"]),
      { timeoutMs: 20000, what: "the grid to show breakfast.jpg instead of porch.jpg" },
    );
    const tile = await app.waitFor(`[data-testid="tile"][data-media-id="${videoId}"]`, 30000);
    const src = await app.exec(`return document.querySelector('[data-testid=tile][data-media-id="${videoId}"] img')?.getAttribute('src')`);
    assert.match(src, new RegExp(`/tile/${videoId}/cover\\?`));
    await app.click(tile);
    await until(async () => (await app.attr(await app.waitFor('[data-testid="cover-kind"]'), "data-kind")) === "time", { what: "the moment cover after restart" });
  } finally {
    await app.quit();
  }
});

test("first launch shows the labelled demo album, which can be removed", async () => {
  const fresh = mkdtempSync(join(tmpdir(), "keepsake-e2e-demo-"));
  const app = await launchApp({ env: { KEEPSAKE_DATA_DIR: fresh } });
  try {
    await app.waitFor('[data-testid="demo-banner"]', 60000);
    await until(async () => (await app.findAll('[data-testid="tile"]')).length === 6, { timeoutMs: 60000, what: "the demo's 6 tiles" });
    const name = await app.text(await app.waitFor('[data-testid="album"]'));
    assert.match(name, /Demo album/);
    await app.exec("document.querySelector('.album .remove').click()");
    await app.waitFor('[data-testid="empty"]');
  } finally {
    await app.quit();
    rmSync(fresh, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  }
});
