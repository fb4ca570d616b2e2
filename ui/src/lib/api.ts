// The UI's only door to the app: typed wrappers over Tauri commands and events. Tests
// mock `@tauri-apps/api/core`, `@tauri-apps/api/event` and the dialog plugin here, at
// the IPC boundary, and nowhere else.
import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import {
  SMALL_TILE_SIDE,
  type Album,
  type AlbumEvent,
  type AppInfo,
  type CommandError,
  type CoverChoice,
  type DateSection,
  type ErrorCode,
  type ExportFormat,
  type LibraryEvent,
  type MediaDetail,
  type MediaPage,
  type MediaQuery,
  type Memory,
  type QueueProgress,
  type SectionSize,
  type ShellEvent,
  type SortOrder,
} from "./types.gen";

// The types that cross from the app (and back) are generated from the Rust ones: see
// types.gen.ts (`make types`). Everything below is the page's own.
export * from "./types.gen";

/** How many items the grid asks for at a time. */
export const GRID_PAGE = 120;

/** Answers asked for before the window was built (see `warmStart`), each used once
 * and only while fresh: a later call asks again. */
const early = new Map<string, { answer: Promise<unknown>; at: number }>();
const EARLY_FRESH_MS = 5000;

/** A key for a command and its arguments that does not depend on key order. */
function callKey(cmd: string, args?: Record<string, unknown>): string {
  const sorted = (_k: string, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v;
  return `${cmd} ${JSON.stringify(args ?? {}, sorted)}`;
}

/**
 * A failed command: `code` to act on, `message` (one line) to show. Its name is empty, so
 * `String(e)` and `${e}` are the message alone, as with the plain strings of before.
 */
export class AppError extends Error {
  constructor(readonly code: ErrorCode | "unknown", message: string) {
    super(message);
    this.name = "";
  }
}

/** The app's `{code, message}` rejection as an `AppError`; anything else as it came. */
function asAppError(e: unknown): unknown {
  if (e && typeof e === "object" && "code" in e && "message" in e) {
    const { code, message } = e as CommandError;
    return new AppError(code, String(message));
  }
  return e;
}

/** Whether `e` is a failed command of kind `code`. */
export function failedWith(e: unknown, code: ErrorCode): boolean {
  return e instanceof AppError && e.code === code;
}

/** Invokes a command, or takes the answer `warmStart` already asked for. */
function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  const key = callKey(cmd, args);
  const waiting = early.get(key);
  if (waiting) {
    early.delete(key);
    if (performance.now() - waiting.at < EARLY_FRESH_MS) return (waiting.answer as Promise<T>).catch((e) => Promise.reject(asAppError(e)));
  }
  return invoke<T>(cmd, args).catch((e) => Promise.reject(asAppError(e)));
}

/**
 * Asks for what the first screen shows (the first grid page, the albums, the engine's
 * progress) before the window is built, so the answers travel while the page lays
 * itself out; the components then find them waiting. Saves a round trip at launch.
 */
export function warmStart(sort: SortOrder) {
  const first: [string, Record<string, unknown> | undefined][] = [
    ["query_media", { query: { root: null, kind: null, search: null, sort, offset: 0, limit: GRID_PAGE } }],
    ["list_albums", undefined],
    ["queue_progress", undefined],
  ];
  for (const [cmd, args] of first) {
    const answer = invoke(cmd, args);
    answer.catch(() => {}); // the component that takes it reports a failure
    early.set(callKey(cmd, args), { answer, at: performance.now() });
  }
}

const SORT_KEY = "keepsake.sort";

/** The grid order the user chose last time. */
export function storedSort(): SortOrder {
  const v = localStorage.getItem(SORT_KEY);
  return v === "taken_asc" || v === "name" || v === "taken_desc" ? v : "taken_desc";
}

/** Remembers the grid order for the next launch. */
export function storeSort(sort: SortOrder) {
  localStorage.setItem(SORT_KEY, sort);
}

/** Engine set-up and data directory, as `keepsake doctor` reports them. */
export function appInfo(): Promise<AppInfo> {
  return call<AppInfo>("app_info");
}

/** Watched folders (and the demo album) with their counts, for the sidebar. */
export function listAlbums(): Promise<Album[]> {
  return call<Album[]>("list_albums");
}

/**
 * Asks the user for a folder in the native dialog (opened by the app: the page never names
 * a path) and starts watching it; null when they cancel. Its media appear through
 * `library` events as the scan runs.
 */
export function addAlbum(): Promise<Album | null> {
  return call<Album | null>("add_album");
}

/** Stops watching a folder (the user's files are untouched; the demo album is deleted). */
export function removeAlbum(id: number): Promise<void> {
  return call<void>("remove_album", { id });
}

/** One page of the grid. */
export function queryMedia(query: MediaQuery): Promise<MediaPage> {
  return call<MediaPage>("query_media", { query });
}

/** The timeline's headers for `query`, in its order (none when sorted by name); the
 * counts add up to the query's total. */
export function dateSections(query: MediaQuery, by: SectionSize): Promise<DateSection[]> {
  return call<DateSection[]>("date_sections", { query, by });
}

/** Events, newest first; with an album id, those with items in that album. */
export function listEvents(root: number | null): Promise<AlbumEvent[]> {
  return call<AlbumEvent[]>("list_events", { root });
}

/** Names an event; null or blank gives it back its dates. */
export function renameEvent(id: number, name: string | null): Promise<AlbumEvent> {
  return call<AlbumEvent>("rename_event", { id, name });
}

/** Today's memories first, then Best of each past year, newest first. */
export function listMemories(): Promise<Memory[]> {
  return call<Memory[]>("list_memories");
}

/** Everything the detail panel shows about one item. */
export function mediaDetail(id: number): Promise<MediaDetail> {
  return call<MediaDetail>("media_detail", { id });
}

/** Replaces a video's cover with a pick or a moment; returns the new detail. */
export function setCover(id: number, choice: CoverChoice): Promise<MediaDetail> {
  return call<MediaDetail>("set_cover", { id, choice });
}

/**
 * Asks the user for an image in the native dialog (opened by the app) and makes it the
 * video's cover; the new detail, or null when they cancel.
 */
export function chooseCoverImage(id: number): Promise<MediaDetail | null> {
  return call<MediaDetail | null>("choose_cover_image", { id });
}

/** Goes back to the engine's own first pick. */
export function resetCover(id: number): Promise<MediaDetail> {
  return call<MediaDetail>("reset_cover", { id });
}

/**
 * Tells the app the window has painted its first grid, so it starts the background work
 * (folder watching, the catch-up scan, analysis) it held back to keep the launch fast.
 */
export function windowReady(): Promise<void> {
  return call<void>("window_ready", { pageMs: performance.now() });
}

/** The background engine's progress right now. */
export function queueProgress(): Promise<QueueProgress> {
  return call<QueueProgress>("queue_progress");
}

/** Pauses or resumes background analysis. */
export function setQueuePaused(paused: boolean): Promise<QueueProgress> {
  return call<QueueProgress>("set_queue_paused", { paused });
}

/**
 * Encodes a slideshow of the given media to MP4 or animated WebP, into a file the user
 * names in the native save dialog (suggested from `title`); returns the file written, or
 * null if they cancelled.
 */
export function exportSlideshow(ids: number[], format: ExportFormat, title: string): Promise<string | null> {
  return call<string | null>("export_slideshow", { ids, format, title });
}

/** Subscribes to library events; returns the unsubscribe function. */
export function onLibraryEvent(handler: (event: LibraryEvent | ShellEvent) => void): Promise<UnlistenFn> {
  return listen<LibraryEvent | ShellEvent>("library", (e) => handler(e.payload));
}

// ---- keepsake:// image URLs (served by id from the data directory, never by path) ----

function protocolBase(): string {
  // WebKitGTK/WKWebView use the scheme directly; WebView2 maps it to http://<scheme>.localhost.
  const windows = typeof navigator !== "undefined" && /Windows/.test(navigator.userAgent);
  return windows ? "http://keepsake.localhost" : "keepsake://localhost";
}

/** The cover a tile shows (changes with `version` so caches refresh). */
export function coverUrl(id: number, version: number): string {
  return `${protocolBase()}/cover/${id}?v=${version}`;
}

/** One of the engine's picks. */
export function frameUrl(id: number, rank: number, version = 0): string {
  return `${protocolBase()}/frame/${id}/${rank}?v=${version}`;
}

/** Whether a tile this wide (CSS px) is sharp with the small copies on this screen. */
export function smallTiles(tileWidth: number): boolean {
  const ratio = typeof window !== "undefined" && window.devicePixelRatio > 0 ? window.devicePixelRatio : 1;
  return tileWidth * ratio <= SMALL_TILE_SIDE;
}

const grid = (small: boolean) => `${protocolBase()}/${small ? "small/" : ""}`;

/** A tile's copy of a pick (512 px long, or 256 px short side when `small`): the grid
 * never loads the full-size frames. */
export function tileFrameUrl(id: number, rank: number, version = 0, small = false): string {
  return `${grid(small)}tile/${id}/${rank}?v=${version}`;
}

/** A tile's copy of the cover (512 px, or 256 when `small`). */
export function tileCoverUrl(id: number, version: number, small = false): string {
  return `${grid(small)}tile/${id}/cover?v=${version}`;
}

/** A photo's upright thumbnail (512 px, or 256 when `small`). */
export function photoUrl(id: number, version = 0, small = false): string {
  return `${grid(small)}photo/${id}?v=${version}`;
}

/** A photo at screen size (at most 2560 px long, upright), for the full-window viewer:
 * rendered like the grid copies, so HEIC and RAW open too. */
export function viewUrl(id: number, version = 0): string {
  return `${protocolBase()}/view/${id}?v=${version}`;
}

/** Any moment of a video, rendered on demand by the engine. */
export function momentUrl(id: number, time: number): string {
  return `${protocolBase()}/moment/${id}/${Math.max(0, Math.round(time * 1000))}`;
}

/** Where whole videos play from: the app's loopback server (`http://127.0.0.1:PORT/SECRET`),
 * once `loadVideoBase` has its answer. */
let videoBase: string | null = null;
let videoBaseAsked: Promise<string | null> | null = null;

/**
 * Asks the app once where videos play from (`video_base`; main.ts asks at startup), so
 * `videoUrl` can stay synchronous. WebKitGTK's media player cannot load `keepsake://`
 * URLs and a whole video is too big to cross as bytes, so the app serves videos by id on
 * 127.0.0.1 behind a per-launch secret. Resolves to null (and asks again next time) if
 * the server could not start.
 */
export function loadVideoBase(): Promise<string | null> {
  videoBaseAsked ??= call<string>("video_base").then(
    (base) => (videoBase = typeof base === "string" && base.startsWith("http://127.0.0.1:") ? base : null),
    (e) => {
      console.warn("no video server", e);
      videoBaseAsked = null;
      return null;
    },
  );
  return videoBaseAsked;
}

/** The video itself, served with Range support for in-window playback (by the loopback
 * server once `loadVideoBase` has answered; before that, or without it, the
 * `keepsake://` URL, which WebKitGTK cannot play). */
export function videoUrl(id: number): string {
  return videoBase ? `${videoBase}/video/${id}` : `${protocolBase()}/video/${id}`;
}

/** Motions already fetched, least recently used first: a tile hovered again plays at once. */
const motionClips = new Map<number, Promise<string>>();
const KEEP_MOTION_CLIPS = 8;

/**
 * A still's motion (a Live Photo's movie, or the MP4 inside a motion photo) as a blob URL.
 * It crosses as bytes (`motion_clip`) because WebKitGTK's media player cannot load
 * `keepsake://` URLs; a few seconds of phone video is a few megabytes.
 */
export function motionClip(id: number): Promise<string> {
  const kept = motionClips.get(id);
  if (kept) {
    motionClips.delete(id);
    motionClips.set(id, kept);
    return kept;
  }
  const clip = call<ArrayBuffer>("motion_clip", { id }).then((bytes) => URL.createObjectURL(new Blob([bytes], { type: "video/mp4" })));
  clip.catch(() => motionClips.delete(id));
  motionClips.set(id, clip);
  for (const [oldest, url] of motionClips) {
    if (motionClips.size <= KEEP_MOTION_CLIPS) break;
    motionClips.delete(oldest);
    url.then((u) => URL.revokeObjectURL(u), () => {});
  }
  return clip;
}

/** Svelte action for a `<video>`: plays still `id`'s motion ([`motionClip`]); one that
 * cannot be fetched fires the element's `error`, as an unplayable source would. */
export function motionSource(node: HTMLVideoElement, id: number) {
  let current = id;
  const load = (want: number) =>
    motionClip(want).then(
      (url) => {
        if (current === want) node.src = url;
      },
      () => {
        if (current === want) node.dispatchEvent(new Event("error"));
      },
    );
  void load(id);
  return {
    update(next: number) {
      if (next === current) return;
      current = next;
      void load(next);
    },
    destroy() {
      current = -1;
      node.removeAttribute("src");
    },
  };
}

/** Full screen for the slideshow (the window plugin's own command, granted in capabilities). */
export async function setFullscreen(on: boolean): Promise<void> {
  try {
    await invoke("plugin:window|set_fullscreen", { label: "main", value: on });
  } catch (e) {
    console.warn("full screen unavailable", e);
  }
}
