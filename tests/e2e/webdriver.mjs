// A small W3C WebDriver client over fetch, driving the REAL keepsake-app binary through
// tauri-driver (which fronts WebKitWebDriver on Linux). No browser stand-in: every test
// talks to the Tauri app exactly as a user's window would run.
//
//   const app = await launchApp({ dataDir });   // spawns tauri-driver + the app
//   const el = await app.waitFor('[data-testid="tile"]');
//   await app.quit();
import { execFileSync, spawn } from "node:child_process";
import { createServer, connect } from "node:net";
import { mkdirSync, writeFileSync, existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const ELEMENT = "element-6066-11e4-a52e-4f735466cecf";

/** Path of the app under test: $KEEPSAKE_APP, else the debug build. */
export function appPath() {
  const target = process.env.CARGO_TARGET_DIR || resolve(ROOT, "target");
  return process.env.KEEPSAKE_APP || resolve(target, "debug/keepsake-app");
}

function tauriDriverPath() {
  const root = process.env.TAURI_DRIVER_ROOT || resolve(ROOT, ".deps/tauri-driver");
  const local = resolve(root, "bin/tauri-driver");
  return existsSync(local) ? local : "tauri-driver";
}

async function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", rej);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

async function portOpen(port) {
  return new Promise((res) => {
    const s = connect(port, "127.0.0.1");
    s.once("connect", () => { s.destroy(); res(true); });
    s.once("error", () => res(false));
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns a truthy value or `timeoutMs` passes (then throws `what`). */
export async function until(fn, { timeoutMs = 15000, intervalMs = 150, what = "condition" } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last.message}` : ""}`);
}

/** One WebDriver session against a running keepsake-app. */
/**
 * Answers the app's native save dialog (titled `title`) with `path`, as a user would type
 * it: WebDriver only reaches the web page, so this goes through X11 with xdotool.
 */
export async function answerSaveDialog(title, path) {
  const xdo = (...args) => execFileSync("xdotool", args, { encoding: "utf8" }).trim();
  const window = await until(() => xdo("search", "--name", title).split("\n")[0], { timeoutMs: 15000, what: `the "${title}" dialog` });
  await sleep(500); // the dialog lays itself out before it takes keys
  xdo("windowfocus", "--sync", window);
  xdo("key", "--window", window, "ctrl+a");
  xdo("type", "--window", window, "--delay", "15", path);
  await sleep(200);
  xdo("key", "--window", window, "Return");
}

/**
 * Answers a native open dialog (the GTK file chooser the app opens) with `path` through
 * X11: typing a path that starts with "/" opens its location field; Return chooses.
 * `path` null cancels it with Escape.
 */
export async function answerOpenDialog(title, path) {
  const xdo = (...args) => execFileSync("xdotool", args, { encoding: "utf8" }).trim();
  const window = await until(() => xdo("search", "--name", title).split("\n")[0], { timeoutMs: 15000, what: `the "${title}" dialog` });
  await sleep(500);
  xdo("windowfocus", "--sync", window);
  if (path === null) {
    xdo("key", "--window", window, "Escape");
    return;
  }
  xdo("key", "--window", window, "ctrl+l");
  await sleep(200);
  xdo("type", "--window", window, "--delay", "15", path);
  await sleep(300);
  xdo("key", "--window", window, "Return");
}

export class AppSession {
  constructor(base, sessionId, driver) {
    this.base = base;
    this.sessionId = sessionId;
    this.driver = driver;
  }

  async cmd(method, path, body) {
    const res = await fetch(`${this.base}/session/${this.sessionId}${path}`, {
      method,
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json().catch(() => ({}));
    if (!res.ok) {
      const v = json.value || {};
      throw new Error(`WebDriver ${method} ${path}: ${v.error || res.status} ${v.message || ""}`.trim());
    }
    return json.value;
  }

  /** Elements matching a CSS selector (possibly none). */
  async findAll(css) {
    const els = await this.cmd("POST", "/elements", { using: "css selector", value: css });
    return els.map((e) => e[ELEMENT]);
  }

  /** The first element matching `css`, waiting for it to appear. */
  async waitFor(css, timeoutMs = 20000) {
    return until(async () => (await this.findAll(css))[0], { timeoutMs, what: css });
  }

  text(el) { return this.cmd("GET", `/element/${el}/text`); }
  attr(el, name) { return this.cmd("GET", `/element/${el}/attribute/${encodeURIComponent(name)}`); }
  prop(el, name) { return this.cmd("GET", `/element/${el}/property/${encodeURIComponent(name)}`); }
  click(el) { return this.cmd("POST", `/element/${el}/click`, {}); }
  type(el, text) { return this.cmd("POST", `/element/${el}/value`, { text }); }
  clear(el) { return this.cmd("POST", `/element/${el}/clear`, {}); }
  title() { return this.cmd("GET", "/title"); }
  keys(text) {
    const actions = [...text].flatMap((c) => [{ type: "keyDown", value: c }, { type: "keyUp", value: c }]);
    return this.cmd("POST", "/actions", { actions: [{ type: "key", id: "kbd", actions }] });
  }
  /** Runs `script` (a function body) in the page; `arguments` holds `args`. */
  exec(script, args = []) { return this.cmd("POST", "/execute/sync", { script, args }); }
  execAsync(script, args = []) { return this.cmd("POST", "/execute/async", { script, args }); }

  /** Saves a PNG screenshot of the window. */
  async screenshot(file) {
    if (!file.includes("/")) file = join(screenshotDir(), file);
    const b64 = await this.cmd("GET", "/screenshot");
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, Buffer.from(b64, "base64"));
    return file;
  }

  /** Ends the session, closing the app, and stops tauri-driver. */
  async quit() {
    try {
      await fetch(`${this.base}/session/${this.sessionId}`, { method: "DELETE" });
    } catch {
      /* the app may be gone already */
    }
    await this.driver.stop();
  }
}

/**
 * Starts tauri-driver (on free ports) and, through it, the real app with `env` added to
 * its environment (KEEPSAKE_DATA_DIR above all). Needs an X display (tests/e2e/run.sh
 * provides Xvfb).
 */
export async function launchApp({ env = {}, args = [], app = appPath() } = {}) {
  if (!existsSync(app)) throw new Error(`no app binary at ${app}: build it with \`make build\``);
  const port = await freePort();
  const nativePort = await freePort();
  const log = [];
  const child = spawn(
    tauriDriverPath(),
    ["--port", String(port), "--native-port", String(nativePort), "--native-driver", "/usr/bin/WebKitWebDriver"],
    {
      env: {
        ...process.env,
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
      // Its own process group: WebKitWebDriver, the app and the app's workers all end
      // with it, and none can hold this process's pipes open after a test.
      detached: true,
    },
  );
  child.stdout.on("data", (d) => log.push(String(d)));
  child.stderr.on("data", (d) => log.push(String(d)));
  let exited = false;
  child.on("exit", () => { exited = true; });
  const driver = {
    log,
    async stop() {
      const group = (sig) => { try { process.kill(-child.pid, sig); } catch { /* gone */ } };
      group("SIGTERM");
      await until(() => exited, { timeoutMs: 5000, what: "tauri-driver to exit" }).catch(() => {});
      await sleep(300);
      group("SIGKILL");
      child.stdout.destroy();
      child.stderr.destroy();
      child.unref();
    },
  };
  try {
    // tauri-driver answers before WebKitWebDriver listens (on the native port): wait for both.
    await until(async () => (await portOpen(port)) && (await portOpen(nativePort)), {
      timeoutMs: 20000,
      what: "tauri-driver and WebKitWebDriver to listen",
    });
    const base = `http://127.0.0.1:${port}`;
    const res = await fetch(`${base}/session`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        capabilities: { alwaysMatch: { "tauri:options": { application: app, args } } },
      }),
    });
    const json = await res.json();
    if (!res.ok || !json.value?.sessionId) {
      throw new Error(`could not start the app: ${JSON.stringify(json.value)}`);
    }
    return new AppSession(base, json.value.sessionId, driver);
  } catch (e) {
    await driver.stop();
    e.message += `\n--- tauri-driver output ---\n${log.join("")}`;
    throw e;
  }
}

/**
 * Where the suites' named screenshots go: `artifacts/e2e` (git-ignored) during `make test`,
 * so a test run leaves the work tree clean; `make screenshots` sets KEEPSAKE_SCREENSHOTS
 * to `docs/screenshots` to refresh the README's pictures from the real app.
 */
export function screenshotDir() {
  return process.env.KEEPSAKE_SCREENSHOTS || "artifacts/e2e";
}
