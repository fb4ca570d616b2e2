//! The library's public data types: what the CLI prints and the app sends to the UI.
//! All serde, with lowercase enum names, so JSON is stable and readable. The ones that
//! cross to the window's page also derive [`TS`]: the page's TypeScript types are
//! generated from them (`make types`), so the two cannot drift apart.
//!
//! A field with `#[serde(default)]` that older writers leave out is optional on the page
//! too (`#[ts(optional = nullable)]`): the page must cope with it missing.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Row id of an album root; stable for the life of the root.
pub type RootId = i64;
/// Row id of a media item; stable across renames, moves and re-analysis.
pub type MediaId = i64;
/// Row id of an event ([`crate::Event`]); kept across recomputations while the event
/// keeps most members.
pub type EventId = i64;

/// A registered album folder. `online` is false while its disk is unplugged.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, TS)]
pub struct Root {
    pub id: RootId,
    pub path: PathBuf,
    pub name: String,
    pub online: bool,
    pub photos: u64,
    pub videos: u64,
    /// On this computer's disks, or on a network share / FUSE mount whose changes made
    /// elsewhere inotify never reports (see [`crate::storage`]).
    #[serde(default)]
    #[ts(optional = nullable)]
    pub storage: crate::storage::Storage,
    /// Its filesystem's name (`ext4`, `nfs`, `cifs`, `fuse.sshfs`); empty when unknown.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub filesystem: String,
    /// How often the watcher rescans it, in seconds; None when it is only watched live.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub rescan_every_s: Option<u64>,
}

/// Photo or video, decided by file extension at scan time.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash, TS)]
#[serde(rename_all = "lowercase")]
pub enum MediaKind {
    Photo,
    Video,
}

impl MediaKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            MediaKind::Photo => "photo",
            MediaKind::Video => "video",
        }
    }
    pub(crate) fn parse(s: &str) -> MediaKind {
        if s == "video" {
            MediaKind::Video
        } else {
            MediaKind::Photo
        }
    }
}

/// What a tile shows: waiting for analysis, ready, failed (see `error`), or its file
/// is on a disk that is not plugged in right now.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, TS)]
#[serde(rename_all = "lowercase")]
pub enum MediaState {
    Pending,
    Ready,
    Failed,
    Missing,
}

/// Where the cover a tile shows comes from: the engine's first pick, another pick,
/// a moment the user chose, or an image the user supplied.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, TS)]
#[serde(rename_all = "lowercase")]
pub enum CoverKind {
    Auto,
    Pick,
    Time,
    Image,
}

/// Grid order.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, TS)]
#[serde(rename_all = "snake_case")]
pub enum SortOrder {
    #[default]
    TakenDesc,
    TakenAsc,
    Name,
}

/// A page of the grid: filters plus offset/limit so 100k items never load at once.
#[derive(Debug, Clone, Default, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct MediaQuery {
    #[ts(optional = nullable)]
    pub root: Option<RootId>,
    #[ts(optional = nullable)]
    pub kind: Option<MediaKind>,
    /// Case-insensitive substring of the file name or path.
    #[ts(optional = nullable)]
    pub search: Option<String>,
    /// Items of one event ([`crate::Event`]).
    #[ts(optional = nullable)]
    pub event: Option<EventId>,
    pub sort: SortOrder,
    pub offset: u64,
    /// 0 means no limit.
    pub limit: u64,
}

/// One grid tile: everything the UI needs without another query.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, TS)]
pub struct MediaItem {
    pub id: MediaId,
    pub root_id: RootId,
    pub path: PathBuf,
    pub name: String,
    pub kind: MediaKind,
    pub state: MediaState,
    pub error: Option<String>,
    pub size: u64,
    pub duration: Option<f64>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// Unix seconds: EXIF DateTimeOriginal, QuickTime creation_time, else mtime.
    pub taken_at: i64,
    /// Ranks of the picks that have images (empty until analysed).
    pub frame_ranks: Vec<u32>,
    pub cover_kind: CoverKind,
    /// Changes whenever the cover image changes, so the UI can bust its caches.
    pub cover_version: i64,
    /// A still that moves: a Live Photo (its movie is hidden from the grid) or a motion
    /// photo (an MP4 inside the JPEG); served as `keepsake://…/motion/<id>`.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub motion: Option<MotionKind>,
}

/// How a still moves (see [`crate::motion`]).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, TS)]
#[serde(rename_all = "lowercase")]
pub enum MotionKind {
    /// A Live Photo: the still and a movie file beside it.
    Live,
    /// A motion photo: the video is a byte range inside the still's file.
    Embedded,
}

/// One of the engine's picks, as stored: its time, score and the reasons it was chosen.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, TS)]
pub struct Frame {
    pub rank: u32,
    pub time: f64,
    pub score: f64,
    /// The image, inside the data directory.
    pub path: PathBuf,
    pub width: u32,
    pub height: u32,
    #[serde(default)]
    pub reasons: Reasons,
}

/// Why a pick won, in numbers the detail panel shows as badges: the engine's
/// `keepsake_engine::Reasons`, as the worker reports it. Every field is optional because
/// picks stored by older versions lack some (or all: `{}`); a missing one is not shown,
/// and is left out of the JSON rather than sent as 0.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, TS)]
#[serde(default)]
pub struct Reasons {
    /// 0..1, relative to the sharpest frames of this video.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub sharpness: Option<f32>,
    /// 0..1, 1 = well exposed (mid luma, no clipping).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub exposure: Option<f32>,
    /// Faces in the written frame (0 when detection is unavailable).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub faces: Option<u32>,
    /// Scene number (1-based, in time order) the pick comes from.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub scene: Option<u32>,
    /// 0..1, colour and contrast.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub aesthetics: Option<f32>,
    /// 0..1, share of the video's length the scene covers.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub scene_weight: Option<f32>,
    /// Number of scenes found.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub scenes: Option<u32>,
    /// One-line human explanation.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub summary: Option<String>,
}

/// One point of the engine's per-candidate quality curve, drawn along the detail
/// panel's timeline (`keepsake_engine::CurvePoint`, as the worker reports it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct CurvePoint {
    /// Seconds into the video.
    pub time: f64,
    /// 0..1; 0 for rejected candidates.
    pub quality: f32,
    pub rejected: Option<RejectReason>,
}

/// Why a candidate frame was refused as a cover (`keepsake_engine::RejectReason`); the
/// timeline shades these stretches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum RejectReason {
    /// Nearly all pixels near black.
    Black,
    /// Too dark to show anything, relative to the video and absolutely.
    UnderExposed,
    /// Washed out: large share of clipped highlights / very bright.
    OverExposed,
    /// A uniform frame: title card, solid colour, blank wall.
    Flat,
    /// Out of focus: far less detail than the video's typical frame, evenly soft.
    Defocus,
    /// Smeared by motion: directional loss of detail.
    MotionBlur,
    /// A fade or cross-dissolve: a frame blended between neighbours.
    Transition,
    /// Sitting on a shot boundary (decoded frame straddles a cut).
    Cut,
}

/// The cover in effect for a media item.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, TS)]
pub struct Cover {
    pub kind: CoverKind,
    /// Rank of the pick in use (auto = 1, pick = the chosen rank).
    pub rank: Option<u32>,
    /// The moment, for `time` covers (and the pick's time for auto/pick).
    pub time: Option<f64>,
    /// The cover image inside the data directory, when there is one yet.
    pub path: Option<PathBuf>,
    pub version: i64,
}

/// What the user asks for as a cover.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, TS)]
#[serde(rename_all = "lowercase")]
pub enum CoverChoice {
    /// One of the engine's picks, by rank (1-based).
    Pick(u32),
    /// A moment of the video, in seconds.
    Time(f64),
    /// An image file the user supplies; it is validated, re-encoded and copied in.
    Image(PathBuf),
}

/// Everything the detail panel shows about one item.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, TS)]
pub struct MediaDetail {
    #[serde(flatten)]
    pub item: MediaItem,
    pub rotation: Option<i32>,
    pub codec: Option<String>,
    /// How the engine had to read the pictures (HDR tone-mapped, deinterlaced,
    /// non-square pixels), in words; empty for plain video and for photos.
    pub picture: Vec<String>,
    /// Why a motion photo's video could not be used (it shows as a plain photo).
    #[serde(default)]
    #[ts(optional = nullable)]
    pub motion_note: Option<String>,
    /// A Live Photo's movie file.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub motion_path: Option<PathBuf>,
    /// Where `taken_at` came from, so the page can say when it is only the file's time.
    pub taken_source: DateSource,
    pub frames: Vec<Frame>,
    /// The engine's per-candidate quality curve, in time order (for the timeline); empty
    /// for photos and for videos not analysed yet.
    pub curve: Vec<CurvePoint>,
    pub cover: Cover,
}

/// `media.taken_source` of a photo whose date is not read yet: a bulk scan opens no
/// photo, the photo's facts job reads it (`crate::PhotoJobs::read_facts`).
pub(crate) const UNCHECKED: &str = "unchecked";

/// Where an item's date taken comes from (`media.taken_source`).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, TS)]
#[serde(rename_all = "snake_case")]
pub enum DateSource {
    /// The photo's own EXIF date.
    Exif,
    /// The video's own creation time (its container's metadata).
    Container,
    /// No date of its own: the file's modification time, which copying can change.
    FileTime,
    /// Not read yet: the background pass reads photos' dates after a big scan; the
    /// file's time stands in until then.
    NotReadYet,
}

impl DateSource {
    /// The stored name → source; a name this build does not know reads as the file's
    /// time (what `taken_at` is when no better date was found).
    pub(crate) fn from_stored(name: &str) -> DateSource {
        match name {
            "exif" => DateSource::Exif,
            "container" => DateSource::Container,
            UNCHECKED => DateSource::NotReadYet,
            _ => DateSource::FileTime,
        }
    }
}

/// Names an image the app may serve. Resolved to a file inside the data dir only, so
/// the `keepsake://` protocol never serves an arbitrary path.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "lowercase")]
pub enum ImageKey {
    Cover(MediaId),
    Frame(MediaId, u32),
    Photo(MediaId),
    /// A pick at grid size: a tile needs 512 px, not the full-HD original (a screen of
    /// video tiles decoding three full-size frames each would take a gigabyte).
    TileFrame(MediaId, u32),
    /// The cover at grid size.
    TileCover(MediaId),
    /// A photo at screen size, upright, for the full-window viewer: the original may be
    /// HEIC or RAW, which the web view cannot decode, and a 48-MP JPEG would be decoded
    /// whole for a screen of 2-4 MP.
    View(MediaId),
    /// A grid image (`Photo`, `TileFrame` or `TileCover`) whose short side is
    /// [`SMALL_TILE_SIDE`] px, for tiles that small: a 4:3 photo decodes to 341x256
    /// instead of 512x384 (44 % fewer pixels) for every tile on screen.
    Small(Box<ImageKey>),
}

/// Short side of [`ImageKey::Small`] images (a tile is square, so this is what counts).
pub const SMALL_TILE_SIDE: u32 = 256;

/// Scan progress, reported every few hundred files.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ScanProgress {
    pub root: PathBuf,
    pub files_seen: u64,
    pub current: Option<PathBuf>,
}

/// What a scan changed.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ScanReport {
    pub added: u64,
    pub changed: u64,
    pub moved: u64,
    pub removed: u64,
    pub missing: u64,
    pub restored: u64,
    pub unchanged: u64,
    /// Folders or files that could not be read, with the reason; the scan went on.
    pub unreadable: Vec<(PathBuf, String)>,
    /// Roots whose folder is not there (unplugged disk): their media are now missing.
    pub offline_roots: Vec<PathBuf>,
}

impl ScanReport {
    pub(crate) fn merge(&mut self, o: ScanReport) {
        self.added += o.added;
        self.changed += o.changed;
        self.moved += o.moved;
        self.removed += o.removed;
        self.missing += o.missing;
        self.restored += o.restored;
        self.unchanged += o.unchanged;
        self.unreadable.extend(o.unreadable);
        self.offline_roots.extend(o.offline_roots);
    }
}

/// Queue progress for a progress bar: counts, what runs now, and an ETA.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, TS)]
pub struct QueueProgress {
    pub done: u64,
    pub total: u64,
    pub failed: u64,
    pub queued: u64,
    pub running: Vec<PathBuf>,
    pub eta_s: Option<f64>,
    pub paused: bool,
}

/// What a job does. Every piece of background work on one file is a job in the one
/// persistent queue (`crate::jobs`), with its own runners in the [`crate::Analyzer`]:
/// videos are analysed by worker processes, several at once; photos' passes run on one
/// low-priority thread, in this order of kinds, yielding to the window. A photo has one
/// job that moves through its steps ([`JobKind::next_for_photo`]).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    /// A video's three best frames, its curve and score (`keepsake worker`).
    Analyse,
    /// A photo's date taken, upright size and place, read from its file after a bulk
    /// scan (which does not open files) or a change.
    PhotoFacts,
    /// A photo's grid copy, made ahead of its first view.
    GridCopy,
    /// A picture's score, faces and difference hash, for events and memories (a photo's
    /// from its grid copy through a worker; a video analysed before scores existed from
    /// its stored best pick).
    Score,
}

impl JobKind {
    /// Every kind, with its name in the index and in JSON.
    pub const ALL: [(JobKind, &'static str); 4] = [
        (JobKind::Analyse, "analyse"),
        (JobKind::PhotoFacts, "photo_facts"),
        (JobKind::GridCopy, "grid_copy"),
        (JobKind::Score, "score"),
    ];

    /// The kind's name in the `jobs` table (and in JSON).
    pub fn as_str(self) -> &'static str {
        Self::ALL.iter().find(|(k, _)| *k == self).map_or("analyse", |(_, n)| n)
    }

    /// The kind named `s`; `None` for a name this Keepsake does not know.
    pub fn parse(s: &str) -> Option<JobKind> {
        Self::ALL.iter().find(|(_, n)| *n == s).map(|(k, _)| *k)
    }
    /// What a photo's job does after this step: facts, then the grid copy, then the score.
    pub fn next_for_photo(self) -> Option<JobKind> {
        match self {
            JobKind::PhotoFacts => Some(JobKind::GridCopy),
            JobKind::GridCopy => Some(JobKind::Score),
            JobKind::Analyse | JobKind::Score => None,
        }
    }
}

/// State of one analysis job.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    Queued,
    Running,
    Done,
    Failed,
    Cancelled,
}

impl JobState {
    /// Every state, with its name in the index and in JSON.
    pub const ALL: [(JobState, &'static str); 5] = [
        (JobState::Queued, "queued"),
        (JobState::Running, "running"),
        (JobState::Done, "done"),
        (JobState::Failed, "failed"),
        (JobState::Cancelled, "cancelled"),
    ];

    /// The state's name in the `jobs` table (and in JSON).
    pub fn as_str(self) -> &'static str {
        Self::ALL.iter().find(|(s, _)| *s == self).map_or("queued", |(_, n)| n)
    }

    /// The state named `s`; `None` for a name this Keepsake does not know (read from
    /// the index, that is an error, never a guess: see `crate::jobs`).
    pub fn parse(s: &str) -> Option<JobState> {
        Self::ALL.iter().find(|(_, n)| *n == s).map(|(st, _)| *st)
    }
}

/// What kind of failure ended a job, for a caller that acts on it rather than only
/// showing the message (the page can say "this file is damaged" or "the analysis ran out
/// of memory; it will be retried"). Stored in `jobs.error_kind` and sent with
/// [`LibraryEvent::JobFinished`].
///
/// The first kinds are the engine's own (`EngineError::kind()` in keepsake-engine): the
/// worker refused the file and says why with one of them, over the worker protocol
/// ([`crate::protocol::WorkerResponse::error_kind`]). The rest say what happened to the
/// worker process ([`crate::WorkerFailure`]) or on the library's side.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash, TS)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// The file is not there (moved or deleted since it was indexed).
    NotFound,
    /// A zero-byte file.
    Empty,
    /// Not a video or photo the engine can read.
    NotMedia,
    /// A container without a video stream (audio only).
    NoVideoStream,
    /// Opened, but not one frame decoded.
    Undecodable,
    /// Recognised but not shown, rather than shown wrong (Dolby Vision profile 5).
    Unsupported,
    /// Larger than the engine's pixel limit.
    TooLarge,
    /// The worker could not read the input or write an output.
    Io,
    /// FFmpeg failed in a way not covered above.
    Ffmpeg,
    /// An output image could not be encoded.
    Encode,
    /// The worker was asked something it cannot do.
    InvalidRequest,
    /// The worker refused without a kind this Keepsake knows (an older or newer worker).
    Refused,
    /// The worker process could not be started.
    WorkerStart,
    /// The worker process ended without answering (a signal, an exit).
    WorkerCrashed,
    /// The worker ran out of its memory limit.
    OutOfMemory,
    /// The worker gave no answer in time and was stopped.
    WorkerHung,
    /// The worker broke the protocol (a reply too long or without its result, a pick
    /// outside the job's folder, its output closed while it went on running).
    WorkerProtocol,
    /// The video left its album before it was analysed.
    Gone,
    /// The library could not prepare the job or store its result.
    Internal,
}

impl FailureKind {
    /// Every kind, with its name in the index and in JSON.
    pub const ALL: [(FailureKind, &'static str); 19] = [
        (FailureKind::NotFound, "not_found"),
        (FailureKind::Empty, "empty"),
        (FailureKind::NotMedia, "not_media"),
        (FailureKind::NoVideoStream, "no_video_stream"),
        (FailureKind::Undecodable, "undecodable"),
        (FailureKind::Unsupported, "unsupported"),
        (FailureKind::TooLarge, "too_large"),
        (FailureKind::Io, "io"),
        (FailureKind::Ffmpeg, "ffmpeg"),
        (FailureKind::Encode, "encode"),
        (FailureKind::InvalidRequest, "invalid_request"),
        (FailureKind::Refused, "refused"),
        (FailureKind::WorkerStart, "worker_start"),
        (FailureKind::WorkerCrashed, "worker_crashed"),
        (FailureKind::OutOfMemory, "out_of_memory"),
        (FailureKind::WorkerHung, "worker_hung"),
        (FailureKind::WorkerProtocol, "worker_protocol"),
        (FailureKind::Gone, "gone"),
        (FailureKind::Internal, "internal"),
    ];

    /// The kind's name in the `jobs` table (and in JSON).
    pub fn as_str(self) -> &'static str {
        Self::ALL.iter().find(|(k, _)| *k == self).map_or("refused", |(_, n)| n)
    }

    /// The kind named `s`; `None` for a name this Keepsake does not know.
    pub fn parse(s: &str) -> Option<FailureKind> {
        Self::ALL.iter().find(|(_, n)| *n == s).map(|(k, _)| *k)
    }

    /// The kind for an engine's `EngineError::kind()` name as a worker sent it: that
    /// kind, or [`FailureKind::Refused`] for a name that is not one of the engine's.
    pub fn from_engine(name: &str) -> FailureKind {
        match FailureKind::parse(name) {
            Some(k) if k.is_engine_kind() => k,
            _ => FailureKind::Refused,
        }
    }

    /// Whether this is one of the engine's kinds (the worker refused the file), so the
    /// file itself is at fault and another attempt would fail the same way.
    pub fn is_engine_kind(self) -> bool {
        !matches!(
            self,
            FailureKind::Refused
                | FailureKind::WorkerStart
                | FailureKind::WorkerCrashed
                | FailureKind::OutOfMemory
                | FailureKind::WorkerHung
                | FailureKind::WorkerProtocol
                | FailureKind::Gone
                | FailureKind::Internal
        )
    }
}

/// One job, as `keepsake jobs` lists it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct JobInfo {
    pub id: i64,
    pub media_id: MediaId,
    pub kind: JobKind,
    pub path: PathBuf,
    pub state: JobState,
    pub priority: i64,
    pub attempts: u32,
    pub error: Option<String>,
    /// What kind of failure `error` is; `None` while it has none, and for failures
    /// stored before kinds were (schema v7 and earlier).
    #[serde(default)]
    pub error_kind: Option<FailureKind>,
}

/// What the watcher and the analyzer report, for the app to forward to the UI.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LibraryEvent {
    MediaAdded {
        id: MediaId,
        path: PathBuf,
    },
    MediaChanged {
        id: MediaId,
        path: PathBuf,
    },
    MediaRemoved {
        id: MediaId,
        path: PathBuf,
    },
    MediaMoved {
        id: MediaId,
        from: PathBuf,
        to: PathBuf,
    },
    CoverChanged {
        id: MediaId,
        version: i64,
    },
    /// A job ended: done, or failed for good with `error` (for a user) and `error_kind`
    /// (for the page to act on).
    JobFinished {
        id: MediaId,
        ok: bool,
        error: Option<String>,
        error_kind: Option<FailureKind>,
    },
    Progress(QueueProgress),
    Warning {
        message: String,
    },
    /// The background pass read the dates of `photos` photos from their files: the grid's
    /// order, its date headers and the events may have moved (sent at most every few
    /// seconds while a big import is read).
    DatesRead {
        photos: u64,
    },
}
