// The end-to-end suites' driver for the REAL keepsake-app binary: tauri-driver (which fronts
// WebKitWebDriver on Linux) launches the app, and every WebDriver command goes through
// selenium-webdriver (tests/e2e/package.json, installed by scripts/setup.sh). No browser
// stand-in: every test talks to the Tauri app exactly as a user's window would run. What
// stays here is ours, not WebDriver protocol: starting tauri-driver, answering native
// dialogs through X11, and AppSession's short names for the commands the suites use.
//
//   const app = await launchApp({ dataDir });   // spawns tauri-driver + the app
//   const el = await app.waitFor('[data-testid="tile"]');
//   await app.quit();
import { execFileSync, spawn } from "node:child_process";
import { Agent } from "node:http";
import { createServer, connect } from "node:net";
import { mkdirSync, writeFileSync, existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Builder, By, Capabilities } from "selenium-webdriver";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

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

/**
 * selenium-webdriver's HTTP client waits for an answer forever; fetch, which this file
 * used before, gave up after 300 s without one (undici's headersTimeout). Kept, because
 * WebKitWebDriver can leave a command unanswered: a new session whose app died while
 * starting (measured: still waiting after 10 minutes), a screenshot of a page where
 * nothing moves (see viewer.test.mjs). A connection silent for this long is closed, and
 * the command fails with this message instead of hanging the suite.
 */
const ANSWER_TIMEOUT_MS = 300_000;
class AnswerTimeoutAgent extends Agent {
  constructor() {
    super({ keepAlive: true, timeout: ANSWER_TIMEOUT_MS });
  }
  createConnection(options, callback) {
    const socket = super.createConnection(options, callback);
    socket.once("timeout", () =>
      socket.destroy(new Error(`WebDriver did not answer within ${ANSWER_TIMEOUT_MS / 1000} s`)));
    return socket;
  }
}

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

/**
 * One WebDriver session against a running keepsake-app: thin names over selenium-webdriver's
 * WebDriver (`webdriver`, for anything not named here) and its WebElements (what
 * findAll/waitFor return and the element methods take).
 */
export class AppSession {
  constructor(webdriver, tauriDriver) {
    this.webdriver = webdriver;
    this.tauriDriver = tauriDriver;
  }

  /** Elements matching a CSS selector (possibly none). */
  findAll(css) { return this.webdriver.findElements(By.css(css)); }

  /**
   * The first element matching `css`, waiting for it to appear. Kept on our `until` rather
   * than the library's `driver.wait(until.elementLocated(...))`: that wait gives up on the
   * first error a poll throws (lib/webdriver.js: a rejected condition rejects the wait),
   * where `until` polls on through them (a page mid-reload) and names the selector when
   * it times out; the suites use the same `until` for conditions WebDriver doesn't see.
   */
  async waitFor(css, timeoutMs = 20000) {
    return until(async () => (await this.findAll(css))[0], { timeoutMs, what: css });
  }

  text(el) { return el.getText(); }
  /** The element's attribute as the page wrote it (W3C Get Element Attribute). */
  attr(el, name) { return el.getDomAttribute(name); }
  prop(el, name) { return el.getProperty(name); }
  click(el) { return el.click(); }
  type(el, text) { return el.sendKeys(text); }
  clear(el) { return el.clear(); }
  title() { return this.webdriver.getTitle(); }
  /** Presses and releases each character of `text` (selenium-webdriver's Key values too). */
  keys(text) { return this.webdriver.actions().sendKeys(text).perform(); }
  /** A pointer and keyboard action builder (selenium-webdriver's Actions): `.perform()` sends it. */
  actions() { return this.webdriver.actions(); }
  /** Releases every key and button the actions left pressed. */
  releaseActions() { return this.webdriver.actions().clear(); }
  /** Runs `script` (a function body) in the page; `arguments` holds `args`. */
  exec(script, args = []) { return this.webdriver.executeScript(script, ...args); }
  execAsync(script, args = []) { return this.webdriver.executeAsyncScript(script, ...args); }

  /** Saves a PNG screenshot of the window. */
  async screenshot(file) {
    if (!file.includes("/")) file = join(screenshotDir(), file);
    const b64 = await this.webdriver.takeScreenshot();
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, Buffer.from(b64, "base64"));
    return file;
  }

  /** Ends the session, closing the app, and stops tauri-driver. */
  async quit() {
    try {
      await this.webdriver.quit();
    } catch {
      /* the app may be gone already */
    }
    await this.tauriDriver.stop();
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
  const tauriDriver = {
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
    const capabilities = new Capabilities().set("tauri:options", { application: app, args });
    const webdriver = await new Builder()
      .disableEnvironmentOverrides() // SELENIUM_* variables must not send the suites elsewhere
      .usingServer(`http://127.0.0.1:${port}`)
      .usingHttpAgent(new AnswerTimeoutAgent())
      .withCapabilities(capabilities)
      .forBrowser("wry") // what Tauri's WebDriver guide names it (the builder needs one)
      .build();
    return new AppSession(webdriver, tauriDriver);
  } catch (e) {
    await tauriDriver.stop();
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
