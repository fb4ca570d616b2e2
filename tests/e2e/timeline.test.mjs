// The timeline, end to end against the real app: an album of photos taken over ten years
// (JPEGs made by FFmpeg from registry photos, dated by their EXIF DateTimeOriginal written with exiftool, the
// way cameras date them, and given a wrong mtime so a date read from the file's clock
// would be caught), grouped under month headers in date order with the right counts; a
// drag on the scrubber lands on the year dropped on; the keyboard walks the grid, opens
// the full-window viewer with Enter and the detail panel with `i`, and Esc gives focus
// back to the tile it came from.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Key } from "selenium-webdriver";
import { launchApp, sleep, until } from "./webdriver.mjs";

const run = (cmd, args) => execFileSync(cmd, args, { maxBuffer: 64 << 20, stdio: ["ignore", "pipe", "pipe"] });

/** month → how many photos, newest first: ten years, two or three months each, uneven. */
const MONTHS = [];
for (let y = 2023; y >= 2014; y--) {
  const picks = y % 3 === 0 ? [11, 7, 2] : [9, 4];
  for (const m of picks) MONTHS.push({ key: `${y}-${String(m).padStart(2, "0")}`, count: 2 + ((y * 7 + m) % 6) });
}
const TOTAL = MONTHS.reduce((n, m) => n + m.count, 0);
let work, album, dataDir;

before(() => {
  work = mkdtempSync(join(tmpdir(), "keepsake-e2e-timeline-"));
  album = join(work, "album");
  dataDir = join(work, "data");
  mkdirSync(album);
  // Ten looks, so the grid is not one picture 100 times over: the registry photos in
  // tests/media (scripts/setup.sh fetches them), each as it is and mirrored, at 4:3.
  const seeds = [];
  const media = new URL("../media/", import.meta.url).pathname;
  for (const name of ["astronaut.png", "chelsea.png", "coffee.png", "motorcycle.png", "rocket.jpg"]) {
    for (const flip of ["", ",hflip"]) {
      const f = join(work, `seed${seeds.length}.jpg`);
      const fill = `scale=640:480:force_original_aspect_ratio=increase,crop=640:480${flip}`;
      run("ffmpeg", ["-v", "error", "-y", "-i", join(media, name), "-vf", fill, "-frames:v", "1", "-q:v", "3", f]);
      seeds.push(f);
    }
  }
  // One exiftool run dates them all (-execute between files), from the middle of the month
  // at noon local time, so no time zone moves a photo across a month.
  const args = [];
  let n = 0;
  for (const { key, count } of MONTHS) {
    for (let i = 0; i < count; i++, n++) {
      const file = join(album, `IMG_${String(n).padStart(4, "0")}.jpg`);
      copyFileSync(seeds[n % seeds.length], file);
      const [y, m] = key.split("-");
      args.push("-overwrite_original", `-DateTimeOriginal=${y}:${m}:${String(10 + i).padStart(2, "0")} 12:00:00`, file, "-execute");
    }
  }
  writeFileSync(join(work, "exif.args"), args.join("\n"));
  run("exiftool", ["-q", "-@", join(work, "exif.args")]);
  // A wrong clock on every file: the same day in 2030. Headers from mtimes would say 2030.
  const wrong = new Date(2030, 0, 15, 12);
  n = 0;
  for (const { count } of MONTHS) for (let i = 0; i < count; i++, n++) utimesSync(join(album, `IMG_${String(n).padStart(4, "0")}.jpg`), wrong, wrong);
});

after(() => rmSync(work, { recursive: true, force: true }));

/** The library's items, through the CLI. */
function indexed() {
  const cli = join(process.env.KEEPSAKE_BIN_DIR ?? "target/debug", "keepsake");
  return JSON.parse(execFileSync(cli, ["ls", "--json"], { env: { ...process.env, KEEPSAKE_DATA_DIR: dataDir }, maxBuffer: 64 << 20 }).toString());
}

/** Every header of the grid, top to bottom, collected by scrolling through it. */
async function allHeaders(app) {
  return app.execAsync(`const done = arguments[arguments.length - 1];
    const grid = document.querySelector('[data-testid=grid]');
    const seen = new Map();
    const frame = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    (async () => {
      for (let top = 0; ; top += grid.clientHeight / 2) {
        grid.scrollTop = top;
        await frame();
        for (const h of document.querySelectorAll('[data-testid=date-header]'))
          seen.set(h.dataset.date, { key: h.dataset.date, count: Number(h.dataset.count), y: h.parentElement.offsetTop, text: h.textContent });
        if (top >= grid.scrollHeight) break;
      }
      grid.scrollTop = 0;
      await frame();
      done([...seen.values()].sort((a, b) => a.y - b.y));
    })();`);
}

/** The header at the top of the grid now (the sticky one, of the section in view). */
const topHeader = (app) =>
  app.exec(`const grid = document.querySelector('[data-testid=grid]');
    const r = grid.getBoundingClientRect();
    const el = document.elementFromPoint(r.left + 40, r.top + 20);
    return el?.closest('[data-testid=date-header]')?.dataset.date ?? null;`);

/** "November 2023" in the page's own words (its locale, or Intl's default when it has none Intl knows). */
const monthYear = (app, y, m) =>
  app.exec(`let l; try { l = Intl.getCanonicalLocales(navigator.language)[0]; } catch { l = undefined; }
    return new Intl.DateTimeFormat(l, { month: "long", year: "numeric" }).format(new Date(arguments[0], arguments[1] - 1, 1));`, [y, m]);

/** Chooses the sort order (the window remembers the last one across launches). */
async function setSort(app, value) {
  await app.waitFor('[data-testid="sort"]');
  await app.exec("const s = document.querySelector('[data-testid=sort]'); if (s.value !== arguments[0]) { s.value = arguments[0]; s.dispatchEvent(new Event('change', { bubbles: true })); }", [value]);
}

/**
 * The app up with every photo dated from its EXIF (the background pass; the CLI reads
 * the index, leaving the window alone) and showing those dates newest first (a new order
 * asks for the grid again: the window is not told when dates change).
 */
async function datedTimeline(app) {
  await until(async () => Number(await app.exec("return document.querySelector('[data-testid=grid]')?.dataset.total || 0")) === TOTAL, { timeoutMs: 30000, what: `${TOTAL} items` });
  await until(() => indexed().every((i) => new Date(i.taken_at * 1000).getFullYear() < 2030), { timeoutMs: 90000, intervalMs: 1000, what: "every photo dated from its EXIF" });
  await setSort(app, "taken_asc");
  await until(async () => (await app.exec("return document.querySelector('[data-testid=date-header]')?.dataset.date")) === MONTHS.at(-1).key, { what: "the oldest month first" });
  await setSort(app, "taken_desc");
  await until(async () => (await app.exec("return document.querySelector('[data-testid=date-header]')?.dataset.date")) === MONTHS[0].key, { what: "the newest month first" });
}

const focusedTile = (app) =>
  app.exec(`const f = document.querySelectorAll('[data-testid=tile][data-focused]');
    const a = document.activeElement;
    return { focused: [...f].map((t) => Number(t.dataset.index)), active: a?.dataset?.testid === 'tile' ? Number(a.dataset.index) : a?.tagName ?? null };`);

const KEY = { right: Key.ARROW_RIGHT, left: Key.ARROW_LEFT, down: Key.ARROW_DOWN, up: Key.ARROW_UP, enter: Key.ENTER, escape: Key.ESCAPE, home: Key.HOME, end: Key.END };

test("timeline: month headers in date order with their counts, from the photos' EXIF dates", async () => {
  const app = await launchApp({ env: { KEEPSAKE_DATA_DIR: dataDir }, args: [album] });
  try {
    await setSort(app, "taken_desc");
    await until(async () => Number(await app.exec("return document.querySelector('[data-testid=grid]')?.dataset.total || 0")) === TOTAL, { timeoutMs: 30000, what: `${TOTAL} items` });
    // Dates come from the photos' EXIF in a background pass that waits while the window
    // is busy showing pictures; until then they are the files' (wrong) clocks. Wait for
    // the index (through the CLI, leaving the window alone), then for the headers.
    await until(() => indexed().every((i) => new Date(i.taken_at * 1000).getFullYear() < 2030), { timeoutMs: 90000, intervalMs: 1000, what: "every photo dated from its EXIF" });
    // The window is not told when the background pass changes dates (no library event
    // for it yet), so the grid it shows keeps the order and headers it was given: a new
    // order asks again. Oldest first, then newest first.
    await setSort(app, "taken_asc");
    const oldest = await until(async () => {
      const h = await allHeaders(app);
      return h[0]?.key === MONTHS.at(-1).key ? h : null;
    }, { what: "headers oldest first" });
    assert.deepEqual(oldest.map((h) => h.key), MONTHS.map((m) => m.key).reverse());
    await setSort(app, "taken_desc");
    let last = [];
    const headers = await until(async () => {
      const h = (last = await allHeaders(app));
      return h.length === MONTHS.length && h[0].key === MONTHS[0].key ? h : null;
    }, { timeoutMs: 20000, intervalMs: 1000, what: "the EXIF months as headers" })
      .catch((e) => { throw new Error(`${e.message}; the headers: ${last.map((h) => `${h.key}:${h.count}`).join(" ")}`); });
    assert.deepEqual(headers.map(({ key, count }) => ({ key, count })), MONTHS, "every month, newest first, with its count");
    const first = await monthYear(app, Number(MONTHS[0].key.slice(0, 4)), Number(MONTHS[0].key.slice(5)));
    assert.equal(headers[0].text, `${first} · ${MONTHS[0].count} items`);
    // By name: no headers, no scrubber.
    await setSort(app, "name");
    await until(async () => (await app.findAll('[data-testid="tile"]')).length > 0 && (await app.findAll('[data-testid="date-header"]')).length === 0, { what: "a flat grid by name" });
    assert.equal((await app.findAll('[data-testid="scrubber"]')).length, 0);
    await setSort(app, "taken_desc");
    await app.waitFor('[data-testid="date-header"]');
  } finally {
    await app.quit();
  }
});

test("timeline: a drag on the scrubber lands on the year dropped on, showing the month while dragging", async () => {
  const app = await launchApp({ env: { KEEPSAKE_DATA_DIR: dataDir }, args: [album] });
  try {
    await datedTimeline(app);
    const scrubber = await app.waitFor('[data-testid="scrubber"]', 30000);
    assert.equal(await app.attr(scrubber, "role"), "slider");
    assert.ok((await app.attr(scrubber, "aria-label")).length > 0);
    assert.equal(await topHeader(app), MONTHS[0].key);
    const years = await app.exec("return [...document.querySelectorAll('[data-testid=scrubber-year]')].map((t) => t.dataset.year)");
    assert.deepEqual(years, [...new Set(MONTHS.map((m) => m.key.slice(0, 4)))]);
    // Press near the top of the track, drag down to 2016's tick, look, then drop.
    const geometry = () => app.exec(`const s = document.querySelector('[data-testid=scrubber]').getBoundingClientRect();
      const t = document.querySelector('[data-testid=scrubber-year][data-year="2016"]').getBoundingClientRect();
      return { x: Math.round(s.left + s.width / 2), top: Math.round(s.top + 4), tick: Math.round(t.top + 2) };`);
    const g = await geometry();
    await app.actions()
      .move({ x: g.x, y: g.top, duration: 0 })
      .press()
      .move({ x: g.x, y: Math.round((g.top + g.tick) / 2), duration: 150 })
      .move({ x: g.x, y: g.tick, duration: 150 })
      .perform();
    const label = await app.exec("return document.querySelector('[data-testid=scrubber-label]')?.textContent ?? null");
    assert.match(label ?? "", /2016/, `the label while dragging: ${label}`);
    // (No screenshot here: after pointer actions WebKitWebDriver's screenshot never answers.)
    await app.actions().release().perform();
    await app.releaseActions();
    const landed = await until(async () => { const k = await topHeader(app); return k?.startsWith("2016") ? k : null; }, { what: "2016 at the top", timeoutMs: 5000 })
      .catch(async (e) => { throw new Error(`${e.message}: top is ${await topHeader(app)}`); });
    assert.equal(landed, MONTHS.find((m) => m.key.startsWith("2016")).key, "the year's first month (newest first: its last)");
    assert.equal(await app.attr(scrubber, "aria-valuetext"), await monthYear(app, 2016, Number(landed.slice(5))));
    // The keyboard moves it too: Page Down is a year on.
    await app.exec("document.querySelector('[data-testid=scrubber]').focus()");
    await app.keys(Key.PAGE_DOWN);
    await until(async () => (await topHeader(app))?.startsWith("2015"), { what: "2015 after Page Down", timeoutMs: 5000 });
  } finally {
    await app.quit();
  }
});

test("timeline: the keyboard walks the grid, Enter opens the viewer, i the detail panel, and Esc gives focus back", async () => {
  const app = await launchApp({ env: { KEEPSAKE_DATA_DIR: dataDir }, args: [album] });
  try {
    await datedTimeline(app);
    await until(async () => (await app.findAll('[data-testid="tile"]')).length >= 10, { what: "tiles" });
    const columns = await app.exec(`const row = document.querySelector('.row'); return getComputedStyle(row).gridTemplateColumns.split(' ').length;`);
    // One tile is in the tab order (a roving tab stop): the first.
    const tabStops = await app.exec("return [...document.querySelectorAll('[data-testid=tile]')].filter((t) => t.tabIndex === 0).map((t) => Number(t.dataset.index))");
    assert.deepEqual(tabStops, [0]);
    await app.exec("document.querySelector('[data-testid=tile][data-index=\"0\"]').focus()");
    await until(async () => (await focusedTile(app)).active === 0, { what: "the first tile focused" });
    assert.deepEqual((await focusedTile(app)).focused, [0]);
    await app.keys(KEY.right);
    await until(async () => (await focusedTile(app)).active === 1, { what: "→ to the second tile" });
    assert.deepEqual((await focusedTile(app)).focused, [1]);
    // Down: the same column a row on, or, past the first month's rows, into the next month.
    await app.keys(KEY.down);
    const first = MONTHS[0].count;
    const down = 1 + columns < first ? 1 + columns : first + Math.min(1, MONTHS[1].count - 1);
    await until(async () => (await focusedTile(app)).active === down, { what: `↓ to tile ${down}` });
    await app.keys(KEY.left);
    await until(async () => (await focusedTile(app)).active === down - 1, { what: "← back one" });
    const at = down - 1;
    // End goes to the last item (scrolling there), Home back.
    await app.keys(KEY.end);
    await until(async () => (await focusedTile(app)).active === TOTAL - 1, { what: "End" });
    assert.ok(Number(await app.exec("return document.querySelector('[data-testid=grid]').scrollTop")) > 0);
    await app.keys(KEY.home);
    await until(async () => (await focusedTile(app)).active === 0, { what: "Home" });
    for (let i = 0; i < at; i++) await app.keys(KEY.right);
    await until(async () => (await focusedTile(app)).active === at, { what: `back at ${at}` });
    const id = await app.exec(`return document.querySelector('[data-testid=tile][data-index="${at}"]').dataset.mediaId`);

    // Enter: the full-window viewer, on this item; Esc: back to the same tile.
    await app.keys(KEY.enter);
    const viewer = await app.waitFor('[data-testid="viewer"]', 10000);
    assert.ok(viewer, "the viewer opened");
    await sleep(300);
    await app.keys(KEY.escape);
    await until(async () => (await app.findAll('[data-testid="viewer"]')).length === 0, { what: "the viewer to close" });
    await until(async () => (await focusedTile(app)).active === at, { what: "focus back on the tile after the viewer" });

    // i: the detail panel for this item; Esc closes it and focus is on the tile again.
    await app.keys("i");
    const panel = await app.waitFor('[data-testid="detail"]', 10000);
    assert.equal(await app.attr(panel, "data-media-id"), id);
    await app.exec("document.activeElement?.blur?.(); document.body.focus()");
    await app.keys(KEY.escape);
    await until(async () => (await app.findAll('[data-testid="detail"]')).length === 0, { what: "the panel to close" });
    await until(async () => (await focusedTile(app)).active === at, { what: "focus back on the tile after the panel" });
    assert.deepEqual((await focusedTile(app)).focused, [at]);

    // The picture for the README, last: WebKitWebDriver's screenshot sometimes never
    // answers in these runs (after pointer or key input; not understood yet), so it is
    // given 30 s and its absence is reported rather than failing what was checked above.
    await sleep(500); // the focus ring's 160 ms fade
    const shot = await Promise.race([app.screenshot("timeline.png").then(() => true), sleep(30000).then(() => false)]);
    if (!shot) console.warn("timeline.png: WebKitWebDriver's screenshot did not answer in 30 s");
  } finally {
    await app.quit();
  }
});
