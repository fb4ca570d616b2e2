// Photos families have besides JPEG, end to end: a phone's HEIC, an AVIF, a scanner's
// 16-bit LZW TIFF and CMYK JPEG, a BMP, a 16-bit PNG and a camera's DNG, a Live Photo
// (HEIC + MOV) and a Pixel motion photo (a JPEG with its MP4 appended), made here by
// real encoders (heif-enc, FFmpeg's x264 and libaom, ImageMagick, exiftool) from registry
// photos, and the files a real album also holds: a truncated HEIC (a copy cut short), a
// HEIC declaring a 30 000 x 30 000 picture, a broken AVIF, a RAW without a preview and a
// motion photo whose video offset points past its end. The real app shows every good
// photo with its own colours, shows the Live pair as one tile that moves, plays the
// motion photo, says "Unreadable" and why for each bad one, keeps running, and writes
// nothing into the album.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { launchApp, until } from "./webdriver.mjs";

const MEDIA = "tests/media";
let work, album, dataDir;
/** Each good photo's source picture (1200 x 900 PNG), to compare its grid copy with. */
const sourceOf = {};

const run = (cmd, args) => execFileSync(cmd, args, { maxBuffer: 64 << 20, stdio: ["ignore", "pipe", "pipe"] });
const ffmpeg = (args) => run("ffmpeg", ["-v", "error", "-y", ...args]);

/** Decodes an image to RGB at w x h. */
const rgb = (input, w, h) => ffmpeg(["-i", input, "-frames:v", "1", "-vf", `scale=${w}:${h}`, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]);

/** Mean colour of each cell of a 4x3 grid over an RGB buffer. */
function cells(buf, w, h) {
  const out = [];
  for (let cy = 0; cy < 3; cy++) for (let cx = 0; cx < 4; cx++) {
    const sum = [0, 0, 0]; let n = 0;
    for (let y = Math.floor(cy * h / 3); y < Math.floor((cy + 1) * h / 3); y++) {
      for (let x = Math.floor(cx * w / 4); x < Math.floor((cx + 1) * w / 4); x++) {
        const i = 3 * (y * w + x);
        sum[0] += buf[i]; sum[1] += buf[i + 1]; sum[2] += buf[i + 2]; n++;
      }
    }
    out.push(sum.map((s) => s / n));
  }
  return out;
}

/** The largest difference of a cell's mean colour between two pictures (0-255). */
function worstCell(a, b) {
  const [ca, cb] = [cells(a, 160, 120), cells(b, 160, 120)];
  return Math.max(...ca.flatMap((c, i) => c.map((v, k) => Math.abs(v - cb[i][k]))));
}

/**
 * A DNG as cameras and Adobe's converter write them: IFD0 is a full-colour JPEG preview
 * (NewSubFileType 1, Compression 7), a SubIFD holds the 16-bit Bayer sensor data.
 * `preview` null gives a DNG with sensor data only.
 */
function dng(preview, { width, height, orientation = 1, date = "2015:06:20 14:00:00" }) {
  const chunks = [];
  let at = 8;
  const put = (buf) => { const off = at; chunks.push(buf); at += buf.length; if (at % 2) { chunks.push(Buffer.alloc(1)); at++; } return off; };
  const ascii = (s) => Buffer.from(`${s}\0`, "latin1");
  const TYPES = { BYTE: [1, 1], ASCII: [2, 1], SHORT: [3, 2], LONG: [4, 4] };
  /** One IFD from [tag, type, values | Buffer]; values longer than 4 bytes go out of line. */
  const ifd = (entries, next = 0) => {
    const body = Buffer.alloc(2 + 12 * entries.length + 4);
    body.writeUInt16LE(entries.length, 0);
    const outOfLine = [];
    entries.sort((a, b) => a[0] - b[0]).forEach(([tag, type, value], i) => {
      const [code, size] = TYPES[type];
      const data = Buffer.isBuffer(value) ? value : Buffer.alloc(value.length * size);
      if (!Buffer.isBuffer(value)) value.forEach((v, k) => (size === 1 ? data.writeUInt8(v, k) : size === 2 ? data.writeUInt16LE(v, 2 * k) : data.writeUInt32LE(v, 4 * k)));
      const e = 2 + 12 * i;
      body.writeUInt16LE(tag, e); body.writeUInt16LE(code, e + 2); body.writeUInt32LE(data.length / size, e + 4);
      if (data.length <= 4) data.copy(body, e + 8); else outOfLine.push([e + 8, data]);
    });
    body.writeUInt32LE(next, body.length - 4);
    for (const [slot, data] of outOfLine) body.writeUInt32LE(put(data), slot);
    return put(body);
  };
  // The sensor as big as the picture (a real camera's is, give or take its margins).
  const [rw, rh] = preview ? [width, height] : [64, 48];
  const sensor = put(Buffer.alloc(rw * rh * 2, 0x40));
  const raw = ifd([[0xfe, "LONG", [0]], [0x100, "LONG", [rw]], [0x101, "LONG", [rh]], [0x102, "SHORT", [16]], [0x103, "SHORT", [1]],
    [0x106, "SHORT", [32803]], [0x111, "LONG", [sensor]], [0x115, "SHORT", [1]], [0x116, "LONG", [rh]], [0x117, "LONG", [rw * rh * 2]],
    [0x828d, "SHORT", [2, 2]], [0x828e, "BYTE", [0, 1, 1, 2]]]);
  const common = [[0x10f, "ASCII", ascii("Keepsake")], [0x110, "ASCII", ascii("Test DNG")], [0x112, "SHORT", [orientation]],
    [0x132, "ASCII", ascii(date)], [0x14a, "LONG", [raw]], [0xc612, "BYTE", [1, 4, 0, 0]], [0xc614, "ASCII", ascii("Keepsake Test DNG")]];
  let ifd0;
  if (preview) {
    const jpeg = put(preview);
    ifd0 = ifd([...common, [0xfe, "LONG", [1]], [0x100, "LONG", [width]], [0x101, "LONG", [height]], [0x102, "SHORT", [8, 8, 8]],
      [0x103, "SHORT", [7]], [0x106, "SHORT", [6]], [0x111, "LONG", [jpeg]], [0x115, "SHORT", [3]], [0x116, "LONG", [height]],
      [0x117, "LONG", [preview.length]]]);
  } else {
    ifd0 = ifd([...common, [0xfe, "LONG", [1]], [0x100, "LONG", [8]], [0x101, "LONG", [6]], [0x102, "SHORT", [8, 8, 8]],
      [0x103, "SHORT", [1]], [0x106, "SHORT", [2]], [0x111, "LONG", [put(Buffer.alloc(8 * 6 * 3, 128))]], [0x115, "SHORT", [3]],
      [0x116, "LONG", [6]], [0x117, "LONG", [8 * 6 * 3]]]);
    // No JPEG anywhere: the "preview" above is 8x6 uncompressed, which is no preview.
  }
  const header = Buffer.alloc(8);
  header.write("II", 0, "latin1"); header.writeUInt16LE(42, 2); header.writeUInt32LE(ifd0, 4);
  return Buffer.concat([header, ...chunks]);
}

/** File name → sha256 of every file in a folder. */
function listing(dir) {
  return Object.fromEntries(readdirSync(dir).sort().map((n) => [n, createHash("sha256").update(readFileSync(join(dir, n))).digest("hex")]));
}

// The good photos, each made from its registry picture (`sourceOf`, 1200 x 900) by a real encoder.
const GOOD = ["IMG_0101.HEIC", "photo.avif", "scan 1998.tif", "scan cmyk.jpg", "old.bmp", "deep.png", "DSC_0042.DNG",
  "IMG_0042.HEIC", "PXL_20240101_MP.jpg", "PXL_20240102_MP.jpg"];
// The bad ones, and what their tile must say.
const BAD = {
  "IMG_0102.HEIC": /could not be decoded|not a photo/i,
  "IMG_0103.HEIC": /too large/i,
  "broken.avif": /could not be decoded|not a photo|decoder/i,
  "DSC_0043.DNG": /no embedded preview/i,
};

before(() => {
  work = mkdtempSync(join(tmpdir(), "keepsake-e2e-photos-"));
  album = join(work, "Phone and scans");
  dataDir = join(work, "data");
  mkdirSync(album);
  // 1200 x 900 pictures from the registry photos, and a JPEG of each with a camera's date.
  const source = (photo) => {
    const png = join(work, `${photo}.png`);
    const jpeg = join(work, `${photo}.jpg`);
    ffmpeg(["-i", join(MEDIA, photo), "-vf", "scale=1200:900", png]);
    run("convert", [png, "-quality", "92", jpeg]);
    run("exiftool", ["-q", "-overwrite_original", "-DateTimeOriginal=2019:07:14 10:20:30", jpeg]);
    return { png, jpeg };
  };
  const photos = Object.fromEntries(["chelsea.png", "coffee.png", "astronaut.png", "motorcycle.png", "rocket.jpg"].map((p) => [p, source(p)]));
  const make = (name, photo, fn) => {
    sourceOf[name] = photos[photo].png;
    fn(photos[photo], join(album, name));
  };
  make("IMG_0101.HEIC", "chelsea.png", (s, out) => run("heif-enc", ["-q", "75", s.jpeg, "-o", out]));
  make("photo.avif", "coffee.png", (s, out) =>
    ffmpeg(["-i", s.png, "-c:v", "libaom-av1", "-still-picture", "1", "-cpu-used", "8", "-crf", "24", "-frames:v", "1", out]));
  make("scan 1998.tif", "motorcycle.png", (s, out) => run("convert", [s.png, "-depth", "16", "-compress", "LZW", out]));
  make("scan cmyk.jpg", "astronaut.png", (s, out) => run("convert", [s.png, "-colorspace", "CMYK", "-quality", "92", out]));
  make("old.bmp", "rocket.jpg", (s, out) => run("convert", [s.png, out]));
  make("deep.png", "coffee.png", (s, out) => run("convert", [s.png, "-depth", "16", out]));
  make("DSC_0042.DNG", "motorcycle.png", (s, out) => writeFileSync(out, dng(readFileSync(s.jpeg), { width: 1200, height: 900 })));

  const heic = readFileSync(join(album, "IMG_0101.HEIC"));
  writeFileSync(join(album, "IMG_0102.HEIC"), heic.subarray(0, Math.floor(heic.length / 2)));
  const bomb = Buffer.from(heic);
  const ispe = bomb.indexOf("ispe") + 8;
  bomb.writeUInt32BE(30000, ispe); bomb.writeUInt32BE(30000, ispe + 4);
  writeFileSync(join(album, "IMG_0103.HEIC"), bomb);
  const avif = Buffer.from(readFileSync(join(album, "photo.avif")));
  for (let i = avif.indexOf("mdat") + 20; i < avif.length; i++) avif[i] = (i * 7919) % 251;
  writeFileSync(join(album, "broken.avif"), avif);
  writeFileSync(join(album, "DSC_0043.DNG"), dng(null, {}));

  // A Live Photo: the still and a 2-second movie of the same name, as an iPhone writes them.
  const clip = join(work, "clip.mp4");
  ffmpeg(["-loop", "1", "-framerate", "30", "-t", "2", "-i", photos["chelsea.png"].png, "-vf", "crop=800:600:x='200*t':y=150,scale=640:480,format=yuv420p",
    "-c:v", "libx264", "-crf", "23", "-movflags", "+faststart", clip]);
  make("IMG_0042.HEIC", "chelsea.png", (s, out) => run("heif-enc", ["-q", "75", s.jpeg, "-o", out]));
  ffmpeg(["-i", clip, "-c", "copy", "-f", "mov", join(album, "IMG_0042.MOV")]);
  // Pixel motion photos: the JPEG, MicroVideo XMP saying how far from the end its video
  // starts, then the MP4. One whose offset points past the start of the file.
  const motion = (name, offset) => {
    const still = join(work, name);
    sourceOf[name] = photos["chelsea.png"].png;
    run("convert", [sourceOf[name], "-quality", "90", still]);
    run("exiftool", ["-q", "-overwrite_original", "-XMP-GCamera:MicroVideo=1", "-XMP-GCamera:MicroVideoVersion=1",
      `-XMP-GCamera:MicroVideoOffset=${offset}`, still]);
    writeFileSync(join(album, name), Buffer.concat([readFileSync(still), readFileSync(clip)]));
  };
  const mp4Size = readFileSync(clip).length;
  motion("PXL_20240101_MP.jpg", mp4Size);
  motion("PXL_20240102_MP.jpg", 50_000_000);
});

after(() => rmSync(work, { recursive: true, force: true }));

/** The library's view of the album, through the CLI: name → item. */
function items() {
  const cli = join(process.env.KEEPSAKE_BIN_DIR ?? "target/debug", "keepsake");
  const list = JSON.parse(execFileSync(cli, ["ls", "--json"], { env: { ...process.env, KEEPSAKE_DATA_DIR: dataDir }, maxBuffer: 64 << 20 }).toString());
  return Object.fromEntries(list.map((i) => [i.name, i]));
}

test("photos: HEIC, AVIF, TIFF, CMYK, BMP, 16-bit PNG and DNG show their own colours; bad files say why", async () => {
  const before = listing(album);
  const app = await launchApp({ env: { KEEPSAKE_DATA_DIR: dataDir }, args: [album] });
  try {
    const total = GOOD.length + Object.keys(BAD).length;
    await until(async () => (await app.findAll('[data-testid="tile"]')).length === total, { timeoutMs: 30000, what: `${total} tiles` });
    // Every good photo's tile shows a picture; every bad one says "Unreadable" and why.
    const state = () => app.exec(`return Object.fromEntries([...document.querySelectorAll('[data-testid=tile]')].map(t => {
      const img = t.querySelector('img');
      return [t.title, { shown: !!img && img.complete && img.naturalWidth > 0, badge: t.querySelector('[data-testid=badge]')?.textContent ?? '',
        reason: t.querySelector('[data-testid=reason]')?.textContent ?? '' }];
    }))`);
    await until(async () => {
      const s = await state();
      return GOOD.every((n) => s[n]?.shown) && Object.keys(BAD).every((n) => s[n]?.badge.includes("Unreadable"));
    }, { timeoutMs: 60000, intervalMs: 300, what: "every good photo shown and every bad one marked unreadable" });
    const shown = await state();
    for (const [name, says] of Object.entries(BAD)) assert.match(shown[name].reason, says, `${name}: ${shown[name].reason}`);
    await app.screenshot("photos.png");

    // What a person sees: each grid copy has the original's colours where they belong
    // (a CMYK scan read as RGB, swapped channels or a wrong matrix move a cell by 40+).
    // Sizes and dates come from a background pass over new photos (it waits while the
    // window is busy showing them).
    const lib = await until(() => { const l = items(); return GOOD.every((n) => l[n]?.width) ? l : null; },
      { timeoutMs: 60000, intervalMs: 500, what: "every photo's size in the index" });
    const thumbs = join(dataDir, "thumbs");
    for (const name of GOOD) {
      const item = lib[name];
      assert.ok(item, `${name} is indexed`);
      assert.equal(item.kind, "photo", name);
      assert.deepEqual([item.width, item.height], [1200, 900], `${name}: display size`);
      const thumb = readdirSync(thumbs).find((f) => new RegExp(`^${item.id}-\\d+\\.jpg$`).test(f));
      assert.ok(thumb, `${name}: a grid copy in the data directory`);
      const diff = worstCell(rgb(join(thumbs, thumb), 160, 120), rgb(sourceOf[name], 160, 120));
      assert.ok(diff < 12, `${name}: a region's colour is ${diff.toFixed(1)} off the original`);
    }
    // Dates: from the HEIC's EXIF and the DNG's own tags, not the files' copy time.
    assert.equal(new Date(lib["IMG_0101.HEIC"].taken_at * 1000).toISOString(), "2019-07-14T10:20:30.000Z");
    assert.equal(new Date(lib["DSC_0042.DNG"].taken_at * 1000).toISOString(), "2015-06-20T14:00:00.000Z");

    // The window is still here and answers; the album is untouched.
    assert.ok((await app.title()).length > 0);
    assert.deepEqual(listing(album), before, "nothing in the album changed");
  } finally {
    await app.quit();
  }
});

/** Waits until `selector`'s video (inside the element found by `within`) plays: time advances. */
async function plays(app, selector, what) {
  const time = () => app.exec(`const v = document.querySelector(${JSON.stringify(selector)});
    return v && !v.error && v.readyState >= 2 ? v.currentTime : -1`);
  const state = () => app.exec(`const v = document.querySelector(${JSON.stringify(selector)});
    return v ? { src: v.currentSrc, ready: v.readyState, network: v.networkState, error: v.error && v.error.code + " " + v.error.message } : "no element"`);
  const first = await until(async () => ((await time()) >= 0 ? await time() : null), { timeoutMs: 20000, what: `${what} to load` })
    .catch(async (e) => { throw new Error(`${e.message}: ${JSON.stringify(await state())}`); });
  await until(async () => (await time()) > first + 0.3, { timeoutMs: 15000, what: `${what} to play` });
}

/** The tile of item `id`, scrolled into view: the grid builds only the rows in view, and
 * once the photos' dates are read (a few seconds after launch) the timeline regroups them
 * under their months, so a tile seen at first may have moved out of view. */
async function revealTile(app, id) {
  const selector = `[data-testid=tile][data-media-id="${id}"]`;
  await until(
    () =>
      app.exec(`const t = document.querySelector(${JSON.stringify(selector)});
        if (t) { t.scrollIntoView({ block: "center" }); return true; }
        const g = document.querySelector("[data-testid=grid]");
        g.scrollTop = g.scrollTop + g.clientHeight * 0.8 >= g.scrollHeight - g.clientHeight ? 0 : g.scrollTop + g.clientHeight * 0.8;
        return false;`),
    { timeoutMs: 20000, what: `tile ${id} in view` },
  );
  return app.waitFor(selector);
}

test("photos: a Live Photo is one tile that moves; a motion photo plays; one whose video is past its end is a still that says why", async () => {
  const app = await launchApp({ env: { KEEPSAKE_DATA_DIR: dataDir }, args: [album] });
  try {
    const tiles = () => app.exec("return Object.fromEntries([...document.querySelectorAll('[data-testid=tile]')].map(t => [t.title, { id: t.dataset.mediaId, motion: t.dataset.motion }]))");
    await until(async () => Object.keys(await tiles()).length === GOOD.length + Object.keys(BAD).length, { timeoutMs: 30000, what: "every tile" });
    const t = await tiles();
    assert.ok(!("IMG_0042.MOV" in t), "the Live Photo's movie is not a tile of its own");
    assert.equal(t["IMG_0042.HEIC"].motion, "live");
    assert.equal(t["PXL_20240101_MP.jpg"].motion, "embedded");
    assert.equal(t["PXL_20240102_MP.jpg"].motion, "none");
    const lib = items();
    assert.equal(lib["IMG_0042.MOV"], undefined, "the CLI lists the pair once too");

    // The Live tile plays its movie over the still while it has focus (as on hover).
    const live = `[data-testid=tile][data-media-id="${t["IMG_0042.HEIC"].id}"]`;
    await revealTile(app, t["IMG_0042.HEIC"].id);
    await app.exec(`document.querySelector(${JSON.stringify(live)}).focus()`);
    await plays(app, `${live} video[data-testid=motion]`, "the Live tile's motion");
    await app.screenshot("photos-live.png");

    // The motion photo plays in its detail panel, from the MP4 inside the JPEG.
    await app.click(await revealTile(app, t["PXL_20240101_MP.jpg"].id));
    await plays(app, "[data-testid=motion-player]", "the motion photo in the detail panel");
    assert.equal(await app.exec("return document.querySelector('[data-testid=motion-kind]').textContent"), "Motion photo");
    await app.screenshot("photos-motion.png");

    // The broken one is a still whose detail panel says why.
    await app.click(await revealTile(app, t["PXL_20240102_MP.jpg"].id));
    const note = await app.text(await app.waitFor("[data-testid=motion-note]"));
    assert.match(note, /past|offset|end/i, note);
    assert.equal((await app.findAll("[data-testid=motion-player]")).length, 0);
  } finally {
    await app.quit();
  }
});
