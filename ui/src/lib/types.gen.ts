// Generated from the Rust types that cross to the page (src-tauri/src/commands/contract.rs);
// do not edit. Regenerate with `make types`; `make lint` fails when this file is stale.
// Doc comments are the Rust ones.

/**
 * The kinds of [`LibraryError`] a caller can act on, named as they cross to the page
 * (`snake_case`).
 */
export type ErrorCode = "database" | "io" | "not_a_folder" | "not_in_library" | "nested_album" | "data_directory" | "not_found" | "invalid" | "unreadable" | "worker" | "watch" | "internal";

/**
 * An error as the page sees it: `{"code": "not_found", "message": "no media with id 7"}`.
 * The message is one readable line for the user; the code (the library's
 * [`ErrorCode`]) is what the page acts on (an item gone from the library closes its
 * panel, for one).
 */
export type CommandError = { code: ErrorCode, message: string, };

/**
 * Whether one manifest file is present and intact.
 */
export type AssetStatus = "ok" | "missing" | "checksum_mismatch";

/**
 * One file of the model manifest as found on disk.
 */
export type AssetReport = { name: string, 
/**
 * `models` or `runtime`.
 */
group: string, path: string, status: AssetStatus, };

/**
 * FFmpeg library versions, as linked by the worker.
 */
export type FfmpegVersions = { avformat: string, avcodec: string, avutil: string, swscale: string, };

/**
 * The part of a [`RuntimeResult::report`] the app's about panel shows: the shape of
 * `keepsake_engine::runtime::RuntimeReport`, which the library does not link. The
 * worker's report carries more (its sandbox, test probes); the page gets only this.
 */
export type RuntimeReport = { ffmpeg: FfmpegVersions, 
/**
 * Where ONNX Runtime was found, if anywhere.
 */
onnxruntime: string | null, 
/**
 * Why ONNX Runtime is unusable, when it is.
 */
onnxruntime_problem: string | null, 
/**
 * The version ONNX Runtime reported once actually loaded (e.g. "1.31.1").
 */
onnxruntime_version?: string | null, 
/**
 * The model manifest the assets were checked against.
 */
manifest: string, assets: Array<AssetReport>, };

/**
 * What the about panel and the status line show.
 */
export type AppInfo = { version: string, data_dir: string, 
/**
 * `keepsake doctor --json`'s report, from a worker (the app never loads the engine),
 * the part the page shows.
 */
runtime: RuntimeReport, complete: boolean, };

/**
 * Local disk, or a network share / FUSE mount that other computers may change.
 */
export type Storage = "local" | "network";

/**
 * A root as the sidebar shows it, flagged when it is the generated demo album.
 */
export type Album = { demo: boolean, id: number, path: string, name: string, online: boolean, photos: number, videos: number, 
/**
 * On this computer's disks, or on a network share / FUSE mount whose changes made
 * elsewhere inotify never reports (see [`crate::storage`]).
 */
storage?: Storage, 
/**
 * Its filesystem's name (`ext4`, `nfs`, `cifs`, `fuse.sshfs`); empty when unknown.
 */
filesystem?: string, 
/**
 * How often the watcher rescans it, in seconds; None when it is only watched live.
 */
rescan_every_s?: number | null, };

/**
 * Photo or video, decided by file extension at scan time.
 */
export type MediaKind = "photo" | "video";

/**
 * What a tile shows: waiting for analysis, ready, failed (see `error`), or its file
 * is on a disk that is not plugged in right now.
 */
export type MediaState = "pending" | "ready" | "failed" | "missing";

/**
 * Where the cover a tile shows comes from: the engine's first pick, another pick,
 * a moment the user chose, or an image the user supplied.
 */
export type CoverKind = "auto" | "pick" | "time" | "image";

/**
 * Grid order.
 */
export type SortOrder = "taken_desc" | "taken_asc" | "name";

/**
 * A page of the grid: filters plus offset/limit so 100k items never load at once.
 */
export type MediaQuery = { root?: number | null, kind?: MediaKind | null, 
/**
 * Case-insensitive substring of the file name or path.
 */
search?: string | null, 
/**
 * Items of one event ([`crate::Event`]).
 */
event?: number | null, sort: SortOrder, offset: number, 
/**
 * 0 means no limit.
 */
limit: number, };

/**
 * How a still moves (see [`crate::motion`]).
 */
export type MotionKind = "live" | "embedded";

/**
 * One grid tile: everything the UI needs without another query.
 */
export type MediaItem = { id: number, root_id: number, path: string, name: string, kind: MediaKind, state: MediaState, error: string | null, size: number, duration: number | null, width: number | null, height: number | null, 
/**
 * Unix seconds: EXIF DateTimeOriginal, QuickTime creation_time, else mtime.
 */
taken_at: number, 
/**
 * Ranks of the picks that have images (empty until analysed).
 */
frame_ranks: Array<number>, cover_kind: CoverKind, 
/**
 * Changes whenever the cover image changes, so the UI can bust its caches.
 */
cover_version: number, 
/**
 * A still that moves: a Live Photo (its movie is hidden from the grid) or a motion
 * photo (an MP4 inside the JPEG); served as `keepsake://…/motion/<id>`.
 */
motion?: MotionKind | null, };

/**
 * One page of the grid plus the total for the scroll bar.
 */
export type MediaPage = { items: Array<MediaItem>, total: number, };

/**
 * Why a pick won, in numbers the detail panel shows as badges: the engine's
 * `keepsake_engine::Reasons`, as the worker reports it. Every field is optional because
 * picks stored by older versions lack some (or all: `{}`); a missing one is not shown,
 * and is left out of the JSON rather than sent as 0.
 */
export type Reasons = { 
/**
 * 0..1, relative to the sharpest frames of this video.
 */
sharpness?: number, 
/**
 * 0..1, 1 = well exposed (mid luma, no clipping).
 */
exposure?: number, 
/**
 * Faces in the written frame (0 when detection is unavailable).
 */
faces?: number, 
/**
 * Scene number (1-based, in time order) the pick comes from.
 */
scene?: number, 
/**
 * 0..1, colour and contrast.
 */
aesthetics?: number, 
/**
 * 0..1, share of the video's length the scene covers.
 */
scene_weight?: number, 
/**
 * Number of scenes found.
 */
scenes?: number, 
/**
 * One-line human explanation.
 */
summary?: string, };

/**
 * One of the engine's picks, as stored: its time, score and the reasons it was chosen.
 */
export type Frame = { rank: number, time: number, score: number, 
/**
 * The image, inside the data directory.
 */
path: string, width: number, height: number, reasons: Reasons, };

/**
 * Why a candidate frame was refused as a cover (`keepsake_engine::RejectReason`); the
 * timeline shades these stretches.
 */
export type RejectReason = "black" | "under_exposed" | "over_exposed" | "flat" | "defocus" | "motion_blur" | "transition" | "cut";

/**
 * One point of the engine's per-candidate quality curve, drawn along the detail
 * panel's timeline (`keepsake_engine::CurvePoint`, as the worker reports it).
 */
export type CurvePoint = { 
/**
 * Seconds into the video.
 */
time: number, 
/**
 * 0..1; 0 for rejected candidates.
 */
quality: number, rejected: RejectReason | null, };

/**
 * The cover in effect for a media item.
 */
export type Cover = { kind: CoverKind, 
/**
 * Rank of the pick in use (auto = 1, pick = the chosen rank).
 */
rank: number | null, 
/**
 * The moment, for `time` covers (and the pick's time for auto/pick).
 */
time: number | null, 
/**
 * The cover image inside the data directory, when there is one yet.
 */
path: string | null, version: number, };

/**
 * Where an item's date taken comes from (`media.taken_source`).
 */
export type DateSource = "exif" | "container" | "file_time" | "not_read_yet";

/**
 * Everything the detail panel shows about one item.
 */
export type MediaDetail = { rotation: number | null, codec: string | null, 
/**
 * How the engine had to read the pictures (HDR tone-mapped, deinterlaced,
 * non-square pixels), in words; empty for plain video and for photos.
 */
picture: Array<string>, 
/**
 * Why a motion photo's video could not be used (it shows as a plain photo).
 */
motion_note?: string | null, 
/**
 * A Live Photo's movie file.
 */
motion_path?: string | null, 
/**
 * Where `taken_at` came from, so the page can say when it is only the file's time.
 */
taken_source: DateSource, frames: Array<Frame>, 
/**
 * The engine's per-candidate quality curve, in time order (for the timeline); empty
 * for photos and for videos not analysed yet.
 */
curve: Array<CurvePoint>, cover: Cover, id: number, root_id: number, path: string, name: string, kind: MediaKind, state: MediaState, error: string | null, size: number, duration: number | null, width: number | null, height: number | null, 
/**
 * Unix seconds: EXIF DateTimeOriginal, QuickTime creation_time, else mtime.
 */
taken_at: number, 
/**
 * Ranks of the picks that have images (empty until analysed).
 */
frame_ranks: Array<number>, cover_kind: CoverKind, 
/**
 * Changes whenever the cover image changes, so the UI can bust its caches.
 */
cover_version: number, 
/**
 * A still that moves: a Live Photo (its movie is hidden from the grid) or a motion
 * photo (an MP4 inside the JPEG); served as `keepsake://…/motion/<id>`.
 */
motion?: MotionKind | null, };

/**
 * What the user asks for as a cover.
 */
export type CoverChoice = { "pick": number } | { "time": number } | { "image": string };

/**
 * Queue progress for a progress bar: counts, what runs now, and an ETA.
 */
export type QueueProgress = { done: number, total: number, failed: number, queued: number, running: Array<string>, eta_s: number | null, paused: boolean, };

/**
 * What kind of failure ended a job, for a caller that acts on it rather than only
 * showing the message (the page can say "this file is damaged" or "the analysis ran out
 * of memory; it will be retried"). Stored in `jobs.error_kind` and sent with
 * [`LibraryEvent::JobFinished`].
 *
 * The first kinds are the engine's own (`EngineError::kind()` in keepsake-engine): the
 * worker refused the file and says why with one of them, over the worker protocol
 * ([`crate::protocol::WorkerResponse::error_kind`]). The rest say what happened to the
 * worker process ([`crate::WorkerFailure`]) or on the library's side.
 */
export type FailureKind = "not_found" | "empty" | "not_media" | "no_video_stream" | "undecodable" | "unsupported" | "too_large" | "io" | "ffmpeg" | "encode" | "invalid_request" | "refused" | "worker_start" | "worker_crashed" | "out_of_memory" | "worker_hung" | "worker_protocol" | "gone" | "internal";

/**
 * What the watcher and the analyzer report, for the app to forward to the UI.
 */
export type LibraryEvent = { "type": "media_added", id: number, path: string, } | { "type": "media_changed", id: number, path: string, } | { "type": "media_removed", id: number, path: string, } | { "type": "media_moved", id: number, from: string, to: string, } | { "type": "cover_changed", id: number, version: number, } | { "type": "job_finished", id: number, ok: boolean, error: string | null, error_kind: FailureKind | null, } | { "type": "progress" } & QueueProgress | { "type": "warning", message: string, } | { "type": "dates_read", photos: number, };

/**
 * Events the shell adds to the library's own.
 */
export type ShellEvent = { "type": "albums_changed" };

/**
 * The file types a slideshow can be exported as (`ExportFormat` on the page).
 */
export type ExportFormat = "mp4" | "webp";

/**
 * One timeline header, in the grid's order.
 */
export type DateSection = { 
/**
 * `2019-07` (month) or `2019-07-14` (day), in local time.
 */
key: string, count: number, };

/**
 * How finely the timeline's headers divide the grid.
 */
export type SectionSize = "month" | "day";

/**
 * A run of photos and videos taken without a long pause: an afternoon, a party, a trip.
 * `AlbumEvent` on the page, where `Event` is the DOM's.
 */
export type AlbumEvent = { id: number, 
/**
 * The user's name, else its dates: "12–14 Aug 2021", "3 Aug 2021".
 */
name: string, 
/**
 * Whether the user named it.
 */
named: boolean, 
/**
 * Unix seconds of its first and last shot.
 */
start_at: number, end_at: number, count: number, photos: number, videos: number, 
/**
 * Its best picture (faces first, then the engine's score).
 */
cover: MediaItem | null, };

/**
 * What kind of memory.
 */
export type MemoryKind = "on_this_day" | "years_ago" | "best_of_year";

/**
 * A collection to play: its pictures in time order.
 */
export type Memory = { 
/**
 * Stable id: "on-this-day-2023-11-30", "years-ago-3-2026-w48", "best-of-2021".
 */
key: string, kind: MemoryKind, 
/**
 * "On this day", "3 years ago this week", "Best of 2021".
 */
title: string, 
/**
 * "30 Nov 2023 · 14 photos & videos".
 */
subtitle: string, cover: MediaItem, items: Array<MediaItem>, };

// ---- constants ----

/** Short side of the small grid copies (`small/…` URLs; the library's `SMALL_TILE_SIDE`). */
export const SMALL_TILE_SIDE = 256;
/** The longest event name the library stores, in characters. */
export const MAX_EVENT_NAME = 200;
