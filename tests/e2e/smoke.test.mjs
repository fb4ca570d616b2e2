// Walking skeleton, end to end: the real app starts under Xvfb, its window renders the
// UI, and the UI shows facts it can only have learnt from the Rust side over IPC — the
// linked FFmpeg version (checked against `keepsake doctor --json`), the data directory
// from KEEPSAKE_DATA_DIR, and ONNX Runtime's state.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, existsSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { launchApp, until } from "./webdriver.mjs";

const binDir = process.env.KEEPSAKE_BIN_DIR || resolve("target/debug");
const doctor = JSON.parse(
  execFileSync(join(binDir, "keepsake"), ["doctor", "--json"], { encoding: "utf8" }),
);

test("the app window shows the engine's set-up, learnt from Rust", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "keepsake-e2e-"));
  const app = await launchApp({ env: { KEEPSAKE_DATA_DIR: dataDir } });
  try {
    assert.equal(await app.title(), "Keepsake");
    await app.exec("document.querySelector('[data-testid=about-open]')?.click()");
    const status = await app.waitFor('[data-testid="engine-status"]');
    assert.ok(status);
    const ffmpeg = await app.text(await app.waitFor('[data-testid="ffmpeg"]'));
    assert.match(ffmpeg, new RegExp(doctor.ffmpeg.avcodec.replaceAll(".", "\\.")));
    const shownDir = await app.text(await app.waitFor('[data-testid="data-dir"]'));
    assert.equal(shownDir, dataDir);
    const ort = await app.text(await app.waitFor('[data-testid="onnxruntime"]'));
    assert.match(ort, /ready/);
    // The app created its data directory where it was told to, and nowhere else.
    assert.ok(existsSync(dataDir));
    await app.screenshot("artifacts/e2e/smoke.png");
  } finally {
    await app.quit();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test("a broken ORT_DYLIB_PATH is shown as unavailable, with the reason, not a crash", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "keepsake-e2e-"));
  const app = await launchApp({ env: { KEEPSAKE_DATA_DIR: dataDir, ORT_DYLIB_PATH: "/nonexistent/libonnxruntime.so" } });
  try {
    await app.exec("document.querySelector('[data-testid=about-open]')?.click()");
    const ort = await until(async () => {
      const el = (await app.findAll('[data-testid="onnxruntime"]'))[0];
      return el && (await app.text(el));
    }, { what: "the ONNX Runtime line" });
    assert.match(ort, /unavailable/);
    assert.match(ort, /\/nonexistent\/libonnxruntime\.so/);
  } finally {
    await app.quit();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
