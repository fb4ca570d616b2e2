// Videos families have besides clean H.264, end to end: a phone's HDR clip (HEVC Main10,
// BT.2020, HLG) and a camcorder's interlaced, anamorphic DV PAL 16:9 clip, made here
// with the ffmpeg CLI from registry photos. The real app analyses them; the test checks
// what a person would see: the HDR covers keep the colour of the SDR original (a naive
// decode loses a third of it), the DV covers are 16:9 (not squeezed to 720x576) and
// show no combing on moving edges.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { launchApp, until } from "./webdriver.mjs";

const MEDIA = "tests/media";
let work, album, dataDir, sdr;

const ffmpeg = (args) => execFileSync("ffmpeg", ["-v", "error", "-y", ...args], { maxBuffer: 64 << 20 });

/** Three photos, 2 s each with a slow pan (so fields differ: interlacing combs), at 50p. */
function makeSource(path) {
  const photos = ["astronaut.png", "coffee.png", "chelsea.png"];
  const inputs = photos.flatMap((p) => ["-loop", "1", "-framerate", "50", "-t", "2", "-i", join(MEDIA, p)]);
  const fit = (i) =>
    `[${i}:v]scale=1440:810:force_original_aspect_ratio=increase,crop=1440:810,crop=960:540:x='(iw-ow)*t/2':y='(ih-oh)/2',format=yuv420p,setsar=1[v${i}]`;
  const filter = `${photos.map((_, i) => fit(i)).join(";")};[v0][v1][v2]concat=n=3:v=1:a=0[out]`;
  ffmpeg([...inputs, "-filter_complex", filter, "-map", "[out]", "-c:v", "libx264", "-crf", "16", "-pix_fmt", "yuv420p", path]);
}

before(() => {
  work = mkdtempSync(join(tmpdir(), "keepsake-e2e-formats-"));
  album = join(work, "Camcorder and phone");
  dataDir = join(work, "data");
  mkdirSync(album);
  sdr = join(work, "source.mp4");
  makeSource(sdr);
  // A phone's HDR recording: SDR white at 75 % HLG (BT.2408), in linear light.
  ffmpeg(["-i", sdr, "-vf", "zscale=tin=bt709:min=bt709:pin=bt709:rin=tv:t=arib-std-b67:p=bt2020:m=bt2020nc:r=tv:npl=203,format=yuv420p10le",
    "-c:v", "libx265", "-x265-params", "log-level=error", "-color_primaries", "bt2020", "-color_trc", "arib-std-b67", "-colorspace", "bt2020nc",
    "-tag:v", "hvc1", join(album, "IMG_2041.MOV")]);
  // A DV camcorder tape: 720x576 stored, 16:9 shown, bottom field first.
  ffmpeg(["-i", sdr, "-vf", "scale=720:576,tinterlace=interleave_bottom,setsar=64/45", "-c:v", "dvvideo", "-pix_fmt", "yuv420p",
    "-r", "25", "-aspect", "16:9", "-top", "0", join(album, "tape 1998.avi")]);
});

after(() => rmSync(work, { recursive: true, force: true }));

/** Decodes an image or a video frame to RGB (w x h). */
function rgb(input, { at = null, w, h, vf = "" }) {
  const seek = at == null ? [] : ["-ss", String(at)];
  return ffmpeg([...seek, "-i", input, "-frames:v", "1", "-vf", `${vf}${vf ? "," : ""}scale=${w}:${h}`, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]);
}

/** Hasler–Süsstrunk colourfulness. */
function colourfulness(buf) {
  let n = 0, srg = 0, syb = 0, qrg = 0, qyb = 0;
  for (let i = 0; i < buf.length; i += 3) {
    const rg = buf[i] - buf[i + 1];
    const yb = 0.5 * (buf[i] + buf[i + 1]) - buf[i + 2];
    srg += rg; syb += yb; qrg += rg * rg; qyb += yb * yb; n++;
  }
  const mrg = srg / n, myb = syb / n;
  const sd = Math.sqrt(qrg / n - mrg * mrg + (qyb / n - myb * myb));
  return sd + 0.3 * Math.sqrt(mrg * mrg + myb * myb);
}

/** Combing: mean |Y(y) - (Y(y-1) + Y(y+1)) / 2| over the picture, on luma. */
function combEnergy(buf, w, h) {
  const y = (x, r) => { const i = 3 * (r * w + x); return 0.299 * buf[i] + 0.587 * buf[i + 1] + 0.114 * buf[i + 2]; };
  let sum = 0, n = 0;
  for (let r = 1; r < h - 1; r++) for (let x = 0; x < w; x += 2) { sum += Math.abs(y(x, r) - (y(x, r - 1) + y(x, r + 1)) / 2); n++; }
  return sum / n;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The picks the library holds for a file: [{ time, path }], read with the CLI. */
function picksOf(name) {
  const cli = join(process.env.KEEPSAKE_BIN_DIR ?? "target/debug", "keepsake");
  const items = JSON.parse(execFileSync(cli, ["ls", "--json"], { env: { ...process.env, KEEPSAKE_DATA_DIR: dataDir } }).toString());
  const item = items.find((i) => i.name === name);
  assert.ok(item, `${name} is in the library`);
  return item.frames.map((f) => ({ time: f.time, path: f.path }));
}

test("formats: an HDR phone clip keeps its colour, an interlaced 16:9 DV tape is wide and uncombed", async () => {
  const app = await launchApp({ env: { KEEPSAKE_DATA_DIR: dataDir }, args: [album] });
  try {
    await until(async () => (await app.findAll('[data-testid="tile"]')).length === 2, { timeoutMs: 30000, what: "2 tiles" });
    await until(
      async () => (await app.exec("return [...document.querySelectorAll('[data-testid=tile][data-kind=video]')].every(t => t.dataset.frames === '3')")),
      { timeoutMs: 180000, intervalMs: 500, what: "both videos to have three picks" },
    );
    const ids = Object.fromEntries(await app.exec("return [...document.querySelectorAll('[data-testid=tile]')].map(t => [t.title, t.dataset.mediaId])"));
    await app.screenshot(`formats.png`);

    // HDR: every pick keeps the colour of the SDR original at the same moment; the naive
    // decode of the same moments does not.
    const hdrPicks = picksOf("IMG_2041.MOV");
    assert.equal(hdrPicks.length, 3);
    for (const { time, path } of hdrPicks) {
      const want = colourfulness(rgb(sdr, { at: time, w: 320, h: 180 }));
      const naive = colourfulness(rgb(join(album, "IMG_2041.MOV"), { at: time, w: 320, h: 180 }));
      const got = colourfulness(rgb(path, { w: 320, h: 180 }));
      assert.ok(naive < 0.8 * want, `at ${time}s the naive HDR decode is washed out (${naive.toFixed(1)} vs ${want.toFixed(1)})`);
      assert.ok(got >= 0.8 * want && got <= 1.25 * want, `pick at ${time}s: colourfulness ${got.toFixed(1)}, SDR original ${want.toFixed(1)}`);
    }

    // DV: 16:9 pictures without combing (the same moment with woven fields combs).
    const dvPicks = picksOf("tape 1998.avi");
    assert.equal(dvPicks.length, 3);
    for (const { time, path } of dvPicks) {
      const size = execFileSync("ffprobe", ["-v", "error", "-show_entries", "stream=width,height", "-of", "csv=p=0", path]).toString().trim().split(",").map(Number);
      assert.ok(Math.abs(size[0] / size[1] - 16 / 9) < 0.02 * (16 / 9), `${path}: ${size.join("x")} is not 16:9`);
      const woven = combEnergy(rgb(join(album, "tape 1998.avi"), { at: time, w: 720, h: 576 }), 720, 576);
      const comb = combEnergy(rgb(path, { w: 720, h: 576 }), 720, 576);
      assert.ok(comb < 0.7 * woven, `pick at ${time}s: comb energy ${comb.toFixed(2)} vs woven fields ${woven.toFixed(2)}`);
    }

    // The detail panel shows the DV tape's picks wide, and says it was deinterlaced.
    await app.click(await app.waitFor(`[data-testid="tile"][data-media-id="${ids["tape 1998.avi"]}"]`));
    await until(async () => (await app.findAll('[data-testid="pick"]')).length === 3, { what: "three picks in the detail panel" });
    const ratios = await app.exec("return [...document.querySelectorAll('[data-testid=pick] img')].map(i => i.naturalWidth / Math.max(1, i.naturalHeight))");
    for (const r of ratios) assert.ok(Math.abs(r - 16 / 9) < 0.04, `detail pick aspect ${r}`);
    await app.click(await app.waitFor(`[data-testid="tile"][data-media-id="${ids["IMG_2041.MOV"]}"]`));
    await until(async () => (await app.exec("return document.body.innerText")).includes("HDR"), { what: "the detail panel to say the clip is HDR" });
    await app.screenshot(`formats-detail.png`);
  } finally {
    await app.quit();
  }
});
