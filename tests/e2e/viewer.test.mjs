// The full-window viewer, events and memories (#17), end to end against the real app.
// The album is made here: 3000x2000 JPEGs (FFmpeg, from the registry photos in
// tests/media) and a clip whose dates (EXIF and
// file times, the clip's creation_time) put them in three events, two of them on
// today's month and day in earlier years, so "On this day" memories exist. The app runs
// in UTC (TZ) so the dates computed here are the ones it groups by.
//
// - The keyboard opens the viewer on the focused tile (Enter; a double click too), →
//   shows the next item in the grid's order, the photo is the screen-size copy (2560 px
//   long, not the 512-px grid copy), `1` toggles 1:1, and Esc returns to the grid with
//   the item it ended on focused.
// - The Events page lists the events newest first, named from their dates; one opens as
//   its grid, is renamed, and keeps its name after a rescan and a relaunch.
// - A memory card plays its memory in the slideshow, which advances by itself and loops.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Key } from "selenium-webdriver";
import { launchApp, sleep, until } from "./webdriver.mjs";

const KEY = { enter: Key.ENTER, escape: Key.ESCAPE, right: Key.ARROW_RIGHT, left: Key.ARROW_LEFT };
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const ENV = { TZ: "UTC" };

let work, album, dataDir;
const now = new Date();
const [month, day] = [now.getUTCMonth(), now.getUTCDate()];
// 29 February has an "On this day" only in leap years.
const leap = month === 1 && day === 29;
const yearA = now.getUTCFullYear() - (leap ? 4 : 2);
const yearB = now.getUTCFullYear() - (leap ? 8 : 5);
const yearC = Math.min(2019, yearB - 2);
const dateName = (y, m, d) => `${d} ${MONTHS[m]} ${y}`;

/** The events the album holds, newest first: [name from its dates, files]. */
const EVENTS = [
  { name: dateName(yearA, month, day), at: [yearA, month, day, 10], files: ["a1.jpg", "a2.jpg", "a3.jpg", "a4.jpg"] },
  { name: dateName(yearB, month, day), at: [yearB, month, day, 15], files: ["b1.jpg", "b2.jpg", "b3.jpg"] },
  { name: dateName(yearC, 7, 3), at: [yearC, 7, 3, 9], files: ["c1.jpg", "c2.jpg", "c3.jpg", "c4.mp4"] },
];
const TOTAL = EVENTS.reduce((n, e) => n + e.files.length, 0);

const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { maxBuffer: 64 << 20, stdio: ["ignore", "pipe", "pipe"], ...opts });
const pad = (n) => String(n).padStart(2, "0");
const exifDate = (d) => `${d.getUTCFullYear()}:${pad(d.getUTCMonth() + 1)}:${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:00`;

/** The registry photos in tests/media (scripts/setup.sh fetches them). */
const MEDIA = new URL("../media/", import.meta.url).pathname;
const PHOTOS = ["astronaut.png", "chelsea.png", "coffee.png", "motorcycle.png", "rocket.jpg"];

/** A 3000x2000 photo taken at `when`: registry photo number `look`, mirrored every other
 * round, so no two of the first ten look alike. */
function photo(path, when, look) {
  const flip = Math.floor(look / PHOTOS.length) % 2 === 1 ? ",hflip" : "";
  const fill = `scale=3000:2000:force_original_aspect_ratio=increase:flags=lanczos,crop=3000:2000${flip}`;
  run("ffmpeg", ["-v", "error", "-y", "-i", join(MEDIA, PHOTOS[look % PHOTOS.length]), "-vf", fill, "-frames:v", "1", "-q:v", "3", path]);
  run("exiftool", ["-q", "-overwrite_original", `-DateTimeOriginal=${exifDate(when)}`, path]);
  utimesSync(path, when, when);
}

/** A 2-second clip with sound recorded at `when` (from the registry's Big Buck Bunny). */
function clip(path, when) {
  run("ffmpeg", ["-v", "error", "-y", "-i", join(MEDIA, "bigbuckbunny_5s.mp4"), "-t", "2", "-vf", "scale=640:360",
    "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac",
    "-metadata", `creation_time=${when.toISOString()}`, path]);
  utimesSync(path, when, when);
}

before(() => {
  work = mkdtempSync(join(tmpdir(), "keepsake-e2e-viewer-"));
  album = join(work, "Family");
  dataDir = join(work, "data");
  mkdirSync(album);
  let look = 0;
  for (const e of EVENTS) {
    const [y, m, d, h] = e.at;
    e.files.forEach((name, k) => {
      const when = new Date(Date.UTC(y, m, d, h, 10 * k));
      if (name.endsWith(".mp4")) clip(join(album, name), when);
      else photo(join(album, name), when, look++);
    });
  }
});

after(() => rmSync(work, { recursive: true, force: true }));

const cli = () => join(process.env.KEEPSAKE_BIN_DIR ?? "target/debug", "keepsake");

/** Presses keys as a person would (WebDriver key actions go to the focused element). */
const press = (app, ...keys) => app.keys(keys.join(""));

/** The tiles built, in the grid's order: index → media id. */
const tileIds = (app) => app.exec(`return Object.fromEntries([...document.querySelectorAll('[data-testid=tile]')].map(t => [t.dataset.index, t.dataset.mediaId]))`);

const viewerState = (app) => app.exec(`const v = document.querySelector('[data-testid=viewer]');
  if (!v) return null;
  const img = document.querySelector('[data-testid=viewer-image]');
  return { index: v.dataset.index, id: v.dataset.id, zoomed: v.dataset.zoomed, focusInside: v.contains(document.activeElement),
    natural: img && img.complete ? [img.naturalWidth, img.naturalHeight] : null, src: img ? img.getAttribute('src') : null }`);

/**
 * A screenshot of a page that is standing still. WebKitWebDriver takes it after the
 * web view's next presentation update, and a full-window viewer over a still photo
 * makes none, so the command would wait for ever: a 1-px dot (black, in the corner)
 * changes every frame meanwhile, and goes.
 */
async function still(app, name) {
  await app.exec(`const d = document.createElement('div'); d.id = 'e2e-tick';
    d.style.cssText = 'position:fixed;left:0;top:0;width:1px;height:1px;z-index:2147483647;pointer-events:none';
    document.body.append(d); let n = 0;
    const f = () => { if (!d.isConnected) return; d.style.background = n++ % 2 ? '#000001' : '#000000'; requestAnimationFrame(f); };
    requestAnimationFrame(f);`);
  try {
    return await app.screenshot(name);
  } finally {
    await app.exec(`document.getElementById('e2e-tick')?.remove()`);
  }
}

test("viewer, events and memories", async (t) => {
  const app = await launchApp({ env: { ...ENV, KEEPSAKE_DATA_DIR: dataDir }, args: [album] });
  try {
    // Every item is indexed (the grid's total), and the first tiles are built.
    await until(async () => (await app.exec(`return document.querySelector('[data-testid=grid]')?.dataset.total`)) === String(TOTAL) && (await tileIds(app))["2"],
      { timeoutMs: 40000, what: `${TOTAL} items` });

    await t.test("Enter opens the viewer, → shows the next item in grid order, Esc returns to it", async () => {
      const ids = await tileIds(app);
      await app.exec(`document.querySelector('[data-testid=tile][data-index="0"]').focus()`);
      await press(app, KEY.enter);
      // The viewer shows at once and learns its item a moment later: wait for the item.
      let v = await until(async () => { const s = await viewerState(app); return s?.id ? s : null; }, { what: "the viewer and its item" });
      assert.equal(v.index, "0");
      assert.equal(v.id, ids["0"]);
      assert.ok(v.focusInside, "focus moved into the viewer");
      // The newest photo, at screen size: its 3000x2000 original as the 2560-px copy.
      v = await until(async () => { const s = await viewerState(app); return s?.natural?.[0] > 0 ? s : null; }, { what: "the viewer's picture" });
      assert.deepEqual(v.natural, [2560, 1707], `the screen-size copy (${v.src})`);
      assert.match(v.src, /\/view\//);

      await press(app, KEY.right);
      v = await until(async () => { const s = await viewerState(app); return s?.index === "1" && s.natural?.[0] > 0 ? s : null; }, { what: "the next item" });
      assert.equal(v.id, ids["1"], "→ follows the grid's order");
      await press(app, "1");
      await until(async () => (await viewerState(app))?.zoomed === "true", { what: "1:1" });
      await press(app, "1");
      await until(async () => (await viewerState(app))?.zoomed === "false", { what: "back to fit" });
      await press(app, "i");
      await app.waitFor("[data-testid=viewer-info]");
      await still(app, "viewer.png");

      await press(app, KEY.escape);
      await until(async () => (await viewerState(app)) === null, { what: "the viewer to close" });
      const focused = await until(() => app.exec(`const f = document.querySelector('[data-testid=tile][data-focused]');
        return f && document.activeElement === f ? f.dataset.index : null`), { what: "the tile it ended on, focused" });
      assert.equal(focused, "1");

      // A double click opens it too, on the tile clicked.
      await app.actions().doubleClick(await app.waitFor('[data-testid=tile][data-index="2"]')).perform();
      // The viewer shows at once and learns its item a moment later: wait for the item.
      v = await until(async () => { const s = await viewerState(app); return s?.id ? s : null; }, { what: "the viewer, by double click" });
      assert.equal(v.id, ids["2"]);
      await press(app, KEY.left);
      await until(async () => (await viewerState(app))?.index === "1", { what: "← to the previous item" });
      // On to the clip: it plays in the window, with sound, from its start.
      for (let k = 0; k < TOTAL && (await app.exec(`return document.querySelector('[data-testid=viewer]').dataset.kind`)) !== "video"; k++) {
        const at = await app.exec(`return document.querySelector('[data-testid=viewer]').dataset.index`);
        await press(app, KEY.right);
        await until(async () => (await viewerState(app))?.index !== at, { what: "a step" });
      }
      const clipTime = () => app.exec(`const v = document.querySelector('[data-testid=viewer-video]');
        return v && !v.error && v.readyState >= 2 ? { t: v.currentTime, muted: v.muted, controls: v.controls } : null`);
      const first = await until(clipTime, { timeoutMs: 20000, what: "the clip to load in the viewer" });
      assert.deepEqual([first.muted, first.controls], [false, true], "sound on, with its scrubber");
      await until(async () => (await clipTime())?.t > first.t + 0.3, { timeoutMs: 15000, what: "the clip to play" });
      await app.click(await app.waitFor("[data-testid=viewer-close]"));
      await until(async () => (await viewerState(app)) === null, { what: "the viewer to close by its button" });
      await until(() => app.exec(`const f = document.activeElement; return f?.dataset?.testid === "tile" && f.dataset.focused != null`), { what: "focus back on the grid" });
    });

    await t.test("a memory plays in the slideshow, advancing by itself and looping", async () => {
      await app.click(await app.waitFor("[data-testid=view-all]"));
      const strip = await until(() => app.exec(`return [...document.querySelectorAll('[data-testid=memories-strip] [data-testid=memory]')].map(m => [m.dataset.key, m.dataset.kind])`)
        .then((l) => (l.length ? l : null)), { timeoutMs: 20000, what: "today's memories above the grid" });
      const iso = (y) => `${y}-${pad(month + 1)}-${pad(day)}`;
      assert.deepEqual(strip, [[`on-this-day-${iso(yearA)}`, "on_this_day"], [`on-this-day-${iso(yearB)}`, "on_this_day"]]);
      await app.click(await app.waitFor(`[data-testid=memory][data-key="on-this-day-${iso(yearA)}"]`));
      const show = await app.waitFor("[data-testid=slideshow]");
      assert.equal(await app.attr(show, "data-count"), "4", "the day's four photos");
      assert.equal(await app.attr(show, "aria-label"), "On this day");
      // By itself, after its interval.
      await until(async () => (await app.attr(show, "data-index")) === "1", { timeoutMs: 9000, what: "the slideshow to advance" });
      await until(() => app.exec(`const s = document.querySelector('[data-testid=slide]'); return s && s.complete && s.naturalWidth > 0`), { what: "the slide's picture" });
      await sleep(1200); // past the cross-fade
      await still(app, "memory.png");
      // And round: 1 → 2 → 3 → 0.
      const seen = [];
      for (let k = 0; k < 3; k++) {
        const before = await app.attr(show, "data-index");
        await press(app, KEY.right);
        await until(async () => (await app.attr(show, "data-index")) !== before, { what: "a step" });
        seen.push(await app.attr(show, "data-index"));
      }
      assert.deepEqual(seen.slice(-1), ["0"], `the slideshow loops: ${seen}`);
      await press(app, KEY.escape);
      await until(async () => (await app.findAll("[data-testid=slideshow]")).length === 0, { what: "the slideshow to close" });

      // The Memories page holds them too.
      await app.click(await app.waitFor("[data-testid=view-memories]"));
      await until(async () => (await app.findAll("[data-testid=memories] [data-testid=memory]")).length === 2, { what: "the Memories page" });
    });

    await t.test("events are listed newest first, named from their dates; one opens and is renamed", async () => {
      await app.click(await app.waitFor("[data-testid=view-events]"));
      const cards = await until(() => app.exec(`return [...document.querySelectorAll('[data-testid=event]')].map(c => ({ id: c.dataset.id, start: Number(c.dataset.start),
        name: c.querySelector('[data-testid=event-name]').textContent }))`).then((l) => (l.length === EVENTS.length ? l : null)), { timeoutMs: 20000, what: "three events" });
      assert.deepEqual(cards.map((c) => c.name), EVENTS.map((e) => e.name));
      assert.ok(cards[0].start > cards[1].start && cards[1].start > cards[2].start, "newest first");
      await until(() => app.exec(`return [...document.querySelectorAll('[data-testid=event] img')].filter(i => i.complete && i.naturalWidth > 0).length >= 2`),
        { what: "the events' covers" });
      await still(app, "events.png");

      await app.click(await app.waitFor(`[data-testid=event][data-id="${cards[2].id}"]`));
      await until(() => app.exec(`return document.querySelector('[data-testid=heading]')?.textContent`).then((h) => h === EVENTS[2].name), { what: "the event's name as heading" });
      await until(() => app.exec(`return document.querySelector('[data-testid=grid]')?.dataset.total`).then((n) => n === String(EVENTS[2].files.length)), { what: "the event's grid" });
      await app.click(await app.waitFor("[data-testid=event-rename]"));
      const input = await app.waitFor("[data-testid=event-name-input]");
      await app.type(input, `Summer trip${KEY.enter}`);
      await until(() => app.exec(`return document.querySelector('[data-testid=heading]')?.textContent`).then((h) => h === "Summer trip"), { what: "the new name" });
      await app.click(await app.waitFor("[data-testid=events-back]"));
      await until(() => app.exec(`return document.querySelector('[data-testid=event][data-id="${cards[2].id}"] [data-testid=event-name]')?.textContent`)
        .then((n) => n === "Summer trip"), { what: "the renamed card" });
    });
  } finally {
    await app.quit();
  }
});

test("a renamed event keeps its name after a rescan and a relaunch", async () => {
  // One more photo from that day, found by a rescan from the command line.
  const [y, m, d] = EVENTS[2].at;
  photo(join(album, "c5.jpg"), new Date(Date.UTC(y, m, d, 10, 30)), 7);
  run(cli(), ["scan"], { env: { ...process.env, ...ENV, KEEPSAKE_DATA_DIR: dataDir } });
  const app = await launchApp({ env: { ...ENV, KEEPSAKE_DATA_DIR: dataDir }, args: [album] });
  try {
    await app.click(await app.waitFor("[data-testid=view-events]"));
    const names = await until(() => app.exec(`return [...document.querySelectorAll('[data-testid=event]')].map(c => [c.querySelector('[data-testid=event-name]').textContent, c.textContent])`)
      .then((l) => (l.length === EVENTS.length ? l : null)), { timeoutMs: 20000, what: "the events" });
    assert.equal(names[2][0], "Summer trip");
    assert.match(names[2][1], /4 photos · 1 video/, "the new photo joined it");
    assert.deepEqual(names.slice(0, 2).map((n) => n[0]), [EVENTS[0].name, EVENTS[1].name]);
  } finally {
    await app.quit();
  }
});
