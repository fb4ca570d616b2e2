// Grid benchmark driver (see grid.sh). The library is built by the app itself from a
// folder of N photos (hard links to one small JPEG, so the tree costs almost no disk),
// then the app is started again and measured.
import { execFileSync } from "node:child_process";
import { copyFileSync, linkSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { launchApp, sleep, until } from "../e2e/webdriver.mjs";

const N = Number(process.argv[2] || 100000);
/** Extra web view settings to try (GRID_VIEW_ENV='{"WEBKIT_DISABLE_COMPOSITING_MODE":"0"}'). */
const VIEW_ENV = JSON.parse(process.env.GRID_VIEW_ENV || "{}");
const work = mkdtempSync(join(tmpdir(), "keepsake-bench-grid-"));
const album = join(work, "album");
const dataDir = join(work, "data");
mkdirSync(album);
const seed = join(work, "seed.jpg");
execFileSync("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=320x240:d=1", "-frames:v", "1", seed]);
for (let d = 0; d * 1000 < N; d++) {
  const dir = join(album, `day-${String(d).padStart(3, "0")}`);
  mkdirSync(dir);
  // One copy per folder, hard-linked within it: a file may have at most 65,000 links.
  const first = join(dir, `photo-${String(d * 1000).padStart(6, "0")}.jpg`);
  copyFileSync(seed, first);
  for (let i = d * 1000 + 1; i < Math.min(N, (d + 1) * 1000); i++) linkSync(first, join(dir, `photo-${String(i).padStart(6, "0")}.jpg`));
}

const ticks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
const bootTime = Number(/btime (\d+)/.exec(readFileSync("/proc/stat", "utf8"))[1]);

/** The keepsake-app process (started by WebKitWebDriver) and all its descendants. */
function processTree() {
  const procs = readdirSync("/proc").filter((p) => /^\d+$/.test(p)).map((pid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      return { pid: Number(pid), ppid: Number(fields[1]), comm, start: Number(fields[19]), rssPages: Number(fields[21]) };
    } catch {
      return null;
    }
  }).filter(Boolean);
  const app = procs.filter((p) => p.comm.startsWith("keepsake-app")).sort((a, b) => b.start - a.start)[0];
  if (!app) throw new Error("keepsake-app is not running");
  const tree = [app];
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of procs) if (!tree.includes(p) && tree.some((t) => t.pid === p.ppid)) { tree.push(p); grew = true; }
  }
  return { app, tree };
}

/**
 * Proportional set size: each shared page (WebKit's libraries are mapped by the app and
 * by both WebKit processes) counted once across the tree, so the sum is what the app
 * really costs. Plain RSS sums count those libraries three times.
 */
function pssMiB(pid) {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
  const kb = Number(/^Pss:\s+(\d+) kB/m.exec(rollup)?.[1] ?? NaN);
  return Math.round(kb / 1024);
}

const results = {};
try {
  // 1. Index the folder (not measured): the app adds it from its command line.
  let app = await launchApp({ env: { KEEPSAKE_DATA_DIR: dataDir, ...VIEW_ENV }, args: [album] });
  await until(async () => Number(await app.exec("return document.querySelector('[data-testid=grid]')?.dataset.total || 0")) === N, { timeoutMs: 600000, intervalMs: 1000, what: `${N} items indexed` });
  await app.quit();

  // 2. Launch on the indexed library and measure.
  app = await launchApp({ env: { KEEPSAKE_DATA_DIR: dataDir, ...VIEW_ENV } });
  try {
    await app.waitFor('[data-testid="tile"]', 30000);
    const { app: proc } = processTree();
    const startedMs = (bootTime + proc.start / ticks) * 1000;
    // The mark is set in the animation frame after the first tiles render: wait for it.
    let paintedMs = null;
    await until(async () => (paintedMs = await app.exec("const m = performance.getEntriesByName('keepsake-grid-first-paint')[0]; return m ? performance.timeOrigin + m.startTime : null;")) != null, { timeoutMs: 10000, what: "the first-paint mark" });
    results.firstPaintMs = Math.round(paintedMs - startedMs);
    // How much of that is the web view starting (process start to the page's time origin).
    const originMs = await app.exec("return performance.timeOrigin;");
    results.webViewStartMs = Math.round(originMs - startedMs);
    results.total = Number(await app.exec("return document.querySelector('[data-testid=grid]').dataset.total"));

    // Scroll through the grid for 4 s at a steady pace (~3 screens a second), counting frames.
    await sleep(1000);
    results.scroll = await app.execAsync(`const done = arguments[arguments.length - 1];
      const grid = document.querySelector('[data-testid=grid]');
      const times = []; const t0 = performance.now(); const speed = grid.clientHeight * 3 / 1000;
      function step(now) {
        times.push(now);
        grid.scrollTop = (now - t0) * speed;
        if (now - t0 < 4000) requestAnimationFrame(step);
        else {
          const gaps = times.slice(1).map((t, i) => t - times[i]).sort((a, b) => a - b);
          done({ frames: times.length, seconds: (times[times.length - 1] - times[0]) / 1000,
                 fps: (times.length - 1) / ((times[times.length - 1] - times[0]) / 1000),
                 p95FrameMs: gaps[Math.floor(gaps.length * 0.95)], maxFrameMs: gaps[gaps.length - 1],
                 rowsInDom: document.querySelectorAll('[data-testid=grid] .row').length,
                 tilesInDom: document.querySelectorAll('[data-testid=tile]').length,
                 scrolledPx: grid.scrollTop });
        }
      }
      requestAnimationFrame(step);`);
    await sleep(1500);
    const { tree } = processTree();
    const page = 4096;
    results.memory = tree.map((p) => ({ process: p.comm, pid: p.pid, rssMiB: Math.round((p.rssPages * page) / 1048576), pssMiB: pssMiB(p.pid) }));
    results.rssTotalMiB = results.memory.reduce((s, p) => s + p.rssMiB, 0);
    results.pssTotalMiB = results.memory.reduce((s, p) => s + p.pssMiB, 0);
  } finally {
    await app.quit();
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

const ok = { paint: results.firstPaintMs <= 1000, fps: results.scroll.fps >= 50, memory: results.pssTotalMiB < 300 };
const md = `# Grid benchmark

Generated by \`tests/bench/grid.sh\` (\`make bench\`) on ${new Date().toISOString()}: a library of
${results.total.toLocaleString("en")} items, the release app under Xvfb (1280×800, software rendering),
measured inside the web view over WebDriver.

| measure | goal | result | |
|---|---|---|---|
| first grid paint after process start | ≤ 1000 ms | ${results.firstPaintMs} ms (the web view's own start, process start to the page's time origin: ${results.webViewStartMs} ms) | ${ok.paint ? "pass" : "FAIL"} |
| scrolling (rAF frames during a 4 s scripted scroll at 3 screens/s) | ≥ 50 fps | ${results.scroll.fps.toFixed(1)} fps (p95 frame ${results.scroll.p95FrameMs.toFixed(1)} ms, worst ${results.scroll.maxFrameMs.toFixed(1)} ms) | ${ok.fps ? "pass" : "FAIL"} |
| memory: app + WebKit processes (PSS: shared pages counted once) | < 300 MB | ${results.pssTotalMiB} MiB (plain RSS sum, shared libraries counted per process: ${results.rssTotalMiB} MiB) | ${ok.memory ? "pass" : "FAIL"} |

DOM during the scroll: ${results.scroll.rowsInDom} rows, ${results.scroll.tilesInDom} tiles (virtualized), ${Math.round(results.scroll.scrolledPx).toLocaleString("en")} px scrolled.

Processes (PSS / RSS): ${results.memory.map((p) => `${p.process} ${p.pssMiB} / ${p.rssMiB} MiB`).join(", ")}.
`;
mkdirSync("docs", { recursive: true });
writeFileSync("docs/bench-grid.md", md);
console.log(md);
console.log(JSON.stringify(results));
if (!ok.paint || !ok.fps || !ok.memory) process.exitCode = 1;
