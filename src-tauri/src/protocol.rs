//! The `keepsake://` protocol: images and videos by id, never by path. Images resolve
//! through the library to files inside the data directory; videos are served only when
//! the indexed file lies inside an album root, with HTTP Range support for playback.
//!
//! URLs (`keepsake://localhost/…` on Linux/macOS, `http://keepsake.localhost/…` on Windows):
//! `cover/<id>`, `frame/<id>/<rank>`, `photo/<id>`, `tile/<id>/<rank>` and `tile/<id>/cover`
//! (grid-size copies for tiles; `small/` before `photo` or `tile` asks for a 256-px copy),
//! `view/<id>` (a photo at screen size, for the full-window viewer),
//! `moment/<id>/<milliseconds>`, `video/<id>`. A Live Photo's or motion photo's motion is
//! not served here: WebKitGTK's media player cannot read a custom scheme, so it crosses
//! as bytes (the `motion_clip` command) and plays from a blob URL.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, Once};

use keepsake_library::{ImageKey, LibraryError, LibraryEvent, MediaKind};
use tauri::http::{header, Request, Response, StatusCode};
use tauri::{AppHandle, Manager};

use crate::state::AppState;

/// The scheme name registered with the web view.
pub const SCHEME: &str = "keepsake";

/// Largest body one Range response carries; players ask again for the rest.
const MAX_CHUNK: u64 = 4 * 1024 * 1024;

/// What a URL asks for, after validation.
#[derive(Debug, PartialEq)]
pub enum Resource {
    Image(ImageKey),
    Moment { id: i64, millis: u64 },
    Video(i64),
}

/// Parses a request path; anything else is refused.
pub fn parse(path: &str) -> Option<Resource> {
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let id = |s: &str| s.parse::<i64>().ok().filter(|n| *n > 0);
    match parts.as_slice() {
        ["cover", i] => Some(Resource::Image(ImageKey::Cover(id(i)?))),
        ["frame", i, r] => {
            Some(Resource::Image(ImageKey::Frame(id(i)?, r.parse::<u32>().ok().filter(|r| (1..=16).contains(r))?)))
        }
        ["photo", i] => Some(Resource::Image(ImageKey::Photo(id(i)?))),
        ["view", i] => Some(Resource::Image(ImageKey::View(id(i)?))),
        ["tile", i, "cover"] => Some(Resource::Image(ImageKey::TileCover(id(i)?))),
        ["tile", i, r] => {
            Some(Resource::Image(ImageKey::TileFrame(id(i)?, r.parse::<u32>().ok().filter(|r| (1..=16).contains(r))?)))
        }
        ["moment", i, ms] => {
            Some(Resource::Moment { id: id(i)?, millis: ms.parse().ok().filter(|m| *m < 48 * 3600 * 1000)? })
        }
        ["video", i] => Some(Resource::Video(id(i)?)),
        // `small/photo/<id>`, `small/tile/<id>/<rank>`, `small/tile/<id>/cover`.
        ["small", "photo" | "tile", ..] => match parse(&parts[1..].join("/"))? {
            Resource::Image(key) => Some(Resource::Image(ImageKey::Small(Box::new(key)))),
            _ => None,
        },
        _ => None,
    }
}

/// At most this many requests render or read at once: a fast scroll asks for hundreds of
/// thumbnails, and rendering them all in parallel would starve the window.
const MAX_CONCURRENT: usize = 4;

/// A request waiting for a protocol thread.
pub type Job = Box<dyn FnOnce() + Send>;

static PENDING: (Mutex<Vec<Job>>, Condvar) = (Mutex::new(Vec::new()), Condvar::new());
static WORKERS: Once = Once::new();
static STARTED: AtomicUsize = AtomicUsize::new(0);

/// Runs `job` on one of [`MAX_CONCURRENT`] protocol threads, newest request first:
/// during a fast scroll the tiles now in view were asked for last, and those scrolled
/// past can wait. A fixed pool, because a thread per waiting request (the async
/// runtime's blocking pool) grew the app to 80 threads at every launch.
pub fn submit(job: Job) {
    WORKERS.call_once(|| {
        for n in 0..MAX_CONCURRENT {
            let spawned = std::thread::Builder::new().name(format!("keepsake-protocol-{n}")).spawn(|| {
                // Below the web view: rendering a thumbnail the first time it is shown
                // must not take the frame the scroll needs (scrolling a fresh 100k
                // import, interleaved runs: 45-51 fps at normal priority, 53-54 at nice 10).
                keepsake_library::lower_thread_priority();
                loop {
                    let job = {
                        let (lock, cv) = &PENDING;
                        let mut pending = lock.lock().unwrap_or_else(|p| p.into_inner());
                        loop {
                            match pending.pop() {
                                Some(job) => break job,
                                None => pending = cv.wait(pending).unwrap_or_else(|p| p.into_inner()),
                            }
                        }
                    };
                    job();
                }
            });
            match spawned {
                Ok(_) => _ = STARTED.fetch_add(1, Ordering::SeqCst),
                Err(e) => tracing::error!(error = %e, "could not start a protocol thread"),
            }
        }
    });
    if STARTED.load(Ordering::SeqCst) == 0 {
        return job();
    }
    let (lock, cv) = &PENDING;
    lock.lock().unwrap_or_else(|p| p.into_inner()).push(job);
    cv.notify_one();
}

/// Answers one request (runs on a protocol thread, see [`submit`]).
pub fn handle(app: &AppHandle, request: &Request<Vec<u8>>) -> Response<Vec<u8>> {
    let state = app.state::<AppState>();
    let Some(resource) = parse(request.uri().path()) else {
        return text(StatusCode::BAD_REQUEST, "not a Keepsake resource");
    };
    // The window is showing things: background passes hold off (`Library::note_viewing`).
    state.library.note_viewing();
    match resource {
        Resource::Image(key) => match state.library.images().image_path(&key) {
            Ok(path) => file_response(&path, "max-age=31536000, immutable"),
            Err(e) => {
                if let LibraryError::Unreadable { id, .. } = &e {
                    // Marked failed just now: the grid refreshes the tile, which then
                    // says "Unreadable" and why (and asks for no picture again).
                    if let Ok(detail) = state.library.catalog().media_by_id(*id) {
                        crate::events::emit_library(
                            app,
                            &LibraryEvent::MediaChanged { id: *id, path: detail.item.path },
                        );
                    }
                }
                text(StatusCode::NOT_FOUND, &e.to_string())
            }
        },
        Resource::Moment { id, millis } => match state.library.images().moment_preview(id, millis) {
            Ok(path) => file_response(&path, "max-age=3600"),
            Err(e) => text(StatusCode::NOT_FOUND, &e.to_string()),
        },
        Resource::Video(id) => {
            let path = match servable_video(&state.library, id) {
                Ok(path) => path,
                Err((status, why)) => return text(status, &why),
            };
            let range = request.headers().get(header::RANGE).and_then(|v| v.to_str().ok()).map(str::to_owned);
            video_response(&path, range.as_deref())
        }
    }
}

/// The file `video/<id>` may serve: a video of the index that is really where the
/// index says, inside an album. The index can be stale, so the disk is asked: a file
/// that became a symbolic link (to `/etc/passwd`, or anywhere), or whose folder did,
/// is refused (403), as the scan never indexes one; a file that is gone is 404. The
/// loopback video server (`video_server.rs`) asks the same.
pub(crate) fn servable_video(library: &keepsake_library::Library, id: i64) -> Result<PathBuf, (StatusCode, String)> {
    let detail = library.catalog().media_by_id(id).map_err(|e| (StatusCode::NOT_FOUND, e.to_string()))?;
    let path = detail.item.path;
    let real = std::fs::canonicalize(&path).map_err(|e| (StatusCode::NOT_FOUND, e.to_string()))?;
    if detail.item.kind != MediaKind::Video || real != path || !library.index().in_an_album(&real).unwrap_or(false) {
        return Err((StatusCode::FORBIDDEN, "not a video inside an album".into()));
    }
    Ok(path)
}

fn text(status: StatusCode, body: &str) -> Response<Vec<u8>> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(body.as_bytes().to_vec())
        .unwrap_or_else(|_| Response::new(Vec::new()))
}

pub(crate) fn mime(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).map(|e| e.to_ascii_lowercase()).as_deref() {
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("png") => "image/png",
        Some("webp") => "image/webp",
        Some("gif") => "image/gif",
        Some("mp4" | "m4v") => "video/mp4",
        Some("mov") => "video/quicktime",
        Some("webm") => "video/webm",
        Some("mkv") => "video/x-matroska",
        _ => "application/octet-stream",
    }
}

fn file_response(path: &Path, cache: &str) -> Response<Vec<u8>> {
    match std::fs::read(path) {
        Ok(bytes) => Response::builder()
            .status(StatusCode::OK)
            .header(header::CONTENT_TYPE, mime(path))
            .header(header::CACHE_CONTROL, cache)
            .body(bytes)
            .unwrap_or_else(|_| Response::new(Vec::new())),
        Err(e) => text(StatusCode::NOT_FOUND, &e.to_string()),
    }
}

/// `bytes=START-END` (END optional) → the inclusive range to send, capped in size.
pub fn parse_range(header: &str, len: u64) -> Option<(u64, u64)> {
    requested_range(header, len).map(|(start, end)| (start, end.min(start + MAX_CHUNK - 1)))
}

/// `bytes=START-END` (END optional; the first of a list) → the inclusive range asked
/// for, within the file; None when nothing of it is (416). The loopback video server
/// streams all of it.
pub(crate) fn requested_range(header: &str, len: u64) -> Option<(u64, u64)> {
    let spec = header.trim().strip_prefix("bytes=")?;
    let (start, end) = spec.split(',').next()?.split_once('-')?;
    let (start, end) = match (start.trim(), end.trim()) {
        ("", suffix) => {
            let n: u64 = suffix.parse().ok()?;
            (len.saturating_sub(n), len.checked_sub(1)?)
        }
        (s, "") => (s.parse().ok()?, len.checked_sub(1)?),
        // An end past the file (even past u64, "0-99999999999999999999") means "to the end".
        (s, e) if !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit()) => {
            (s.parse().ok()?, e.parse::<u64>().unwrap_or(u64::MAX).min(len.checked_sub(1)?))
        }
        _ => return None,
    };
    if start > end || start >= len {
        return None;
    }
    Some((start, end))
}

fn video_response(path: &Path, range: Option<&str>) -> Response<Vec<u8>> {
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => return text(StatusCode::NOT_FOUND, &e.to_string()),
    };
    let len = match file.metadata() {
        Ok(m) => m.len(),
        Err(e) => return text(StatusCode::NOT_FOUND, &e.to_string()),
    };
    let (start, end) = match range {
        Some(r) => match parse_range(r, len) {
            Some(found) => found,
            None => {
                return Response::builder()
                    .status(StatusCode::RANGE_NOT_SATISFIABLE)
                    .header(header::CONTENT_RANGE, format!("bytes */{len}"))
                    .body(Vec::new())
                    .unwrap_or_else(|_| Response::new(Vec::new()))
            }
        },
        None => (0, len.saturating_sub(1).min(MAX_CHUNK - 1)),
    };
    let mut body = vec![0u8; if len == 0 { 0 } else { (end - start + 1) as usize }];
    if let Err(e) = file.seek(SeekFrom::Start(start)).and_then(|_| file.read_exact(&mut body)) {
        return text(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string());
    }
    let partial = range.is_some() || (end + 1) < len;
    let mut builder = Response::builder()
        .status(if partial { StatusCode::PARTIAL_CONTENT } else { StatusCode::OK })
        .header(header::CONTENT_TYPE, mime(path))
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::CONTENT_LENGTH, body.len().to_string());
    if partial {
        builder = builder.header(header::CONTENT_RANGE, format!("bytes {start}-{end}/{len}"));
    }
    builder.body(body).unwrap_or_else(|_| Response::new(Vec::new()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_only_known_resources_with_valid_ids() {
        assert_eq!(parse("/cover/12"), Some(Resource::Image(ImageKey::Cover(12))));
        assert_eq!(parse("/frame/3/2"), Some(Resource::Image(ImageKey::Frame(3, 2))));
        assert_eq!(parse("/photo/9"), Some(Resource::Image(ImageKey::Photo(9))));
        assert_eq!(parse("/tile/4/3"), Some(Resource::Image(ImageKey::TileFrame(4, 3))));
        assert_eq!(parse("/tile/4/cover"), Some(Resource::Image(ImageKey::TileCover(4))));
        assert_eq!(
            parse("/small/tile/4/3"),
            Some(Resource::Image(ImageKey::Small(Box::new(ImageKey::TileFrame(4, 3)))))
        );
        assert_eq!(parse("/small/photo/9"), Some(Resource::Image(ImageKey::Small(Box::new(ImageKey::Photo(9))))));
        assert_eq!(parse("/view/9"), Some(Resource::Image(ImageKey::View(9))));
        assert_eq!(parse("/small/view/9"), None, "the viewer's copy has no small copy");
        assert_eq!(parse("/view/0"), None);
        assert_eq!(parse("/view/9/1"), None);
        assert_eq!(parse("/small/cover/9"), None, "only grid images have small copies");
        assert_eq!(parse("/small/small/photo/9"), None);
        assert_eq!(parse("/small/tile/0/1"), None);
        assert_eq!(parse("/tile/4/17"), None);
        assert_eq!(parse("/tile/4/../../etc"), None);
        assert_eq!(parse("/moment/4/7250"), Some(Resource::Moment { id: 4, millis: 7250 }));
        assert_eq!(parse("/video/5"), Some(Resource::Video(5)));
        // A still's motion crosses as bytes (`motion_clip`): WebKitGTK cannot play this scheme.
        assert_eq!(parse("/motion/5"), None);
        for bad in [
            "/cover/-1",
            "/cover/0",
            "/cover/abc",
            "/frame/3/0",
            "/frame/3/99",
            "/etc/passwd",
            "/cover/1/../../x",
            "/%2Fetc%2Fpasswd",
            "",
            "/video/1/2",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn ranges_follow_rfc_7233() {
        assert_eq!(parse_range("bytes=0-99", 1000), Some((0, 99)));
        assert_eq!(parse_range("bytes=900-", 1000), Some((900, 999)));
        assert_eq!(parse_range("bytes=-100", 1000), Some((900, 999)));
        assert_eq!(parse_range("bytes=0-5000", 1000), Some((0, 999)));
        assert_eq!(parse_range("bytes=1000-", 1000), None);
        assert_eq!(parse_range("bytes=5-1", 1000), None);
        assert_eq!(parse_range("items=0-1", 1000), None);
        // Large files come in bounded chunks.
        assert_eq!(parse_range("bytes=0-", 100 * MAX_CHUNK), Some((0, MAX_CHUNK - 1)));
    }

    /// What a hostile page or a confused player may send: nothing panics, nothing reads
    /// outside the file, and an end past the file means "to the end".
    #[test]
    fn hostile_ranges_are_refused_or_clamped() {
        assert_eq!(parse_range("bytes=-0", 1000), None, "an empty suffix");
        assert_eq!(parse_range("bytes=18446744073709551615-", 1000), None);
        assert_eq!(parse_range("bytes=0-99999999999999999999", 1000), Some((0, 999)));
        assert_eq!(parse_range("bytes=-99999999999999999999", 1000), None);
        assert_eq!(parse_range("bytes=0-1", 0), None, "an empty file has no bytes to give");
        assert_eq!(parse_range("bytes=-1", 0), None);
        for junk in ["bytes=", "bytes=-", "bytes=a-b", "bytes=1-2x", "bytes= - ", "bytes=0--1", "bytes=\u{0}"] {
            assert_eq!(parse_range(junk, 1000), None, "{junk}");
        }
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.mp4");
        std::fs::write(&empty, b"").unwrap();
        assert_eq!(video_response(&empty, Some("bytes=0-")).status(), StatusCode::RANGE_NOT_SATISFIABLE);
        let whole = video_response(&empty, None);
        assert_eq!(whole.status(), StatusCode::OK);
        assert!(whole.body().is_empty());
        let clip = dir.path().join("clip.mp4");
        std::fs::write(&clip, vec![7u8; 5000]).unwrap();
        let r = video_response(&clip, Some("bytes=4990-99999999999999999999"));
        assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
        assert_eq!(r.headers()[header::CONTENT_RANGE], "bytes 4990-4999/5000");
        assert_eq!(r.body().len(), 10);
    }

    #[test]
    fn hostile_ids_and_paths_are_refused() {
        let huge = ["/video/9223372036854775808", "/video/99999999999999999999999", "/cover/18446744073709551616"];
        // ("/video/+5" and "//video/5" are video 5: the same item, no harm.)
        let signs = ["/video/-0", "/video/0x10", "/video/ 5", "/video/5 ", "/video/", "/video//5"];
        let escapes =
            ["/video/..%2F..%2Fetc%2Fpasswd", "/video/5%2F..", "/../../etc/passwd", "/video/../../etc/passwd"];
        for bad in huge.iter().chain(&signs).chain(&escapes) {
            assert_eq!(parse(bad), None, "{bad}");
        }
        // The largest id parses, and is simply not in the index.
        assert_eq!(parse("/video/9223372036854775807"), Some(Resource::Video(i64::MAX)));
        let tmp = tempfile::tempdir().unwrap();
        let library = keepsake_library::Library::open(&tmp.path().join("data")).unwrap();
        for id in [i64::MAX, 1] {
            let refused = servable_video(&library, id).err().map(|(status, _)| status);
            assert_eq!(refused, Some(StatusCode::NOT_FOUND), "{id}");
        }
    }

    /// Every hostile Range header on an empty file: nothing to give, and no panic.
    #[test]
    fn hostile_ranges_on_an_empty_file() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.mp4");
        std::fs::write(&empty, b"").unwrap();
        for range in
            ["bytes=-0", "bytes=18446744073709551615-", "bytes=0-99999999999999999999", "bytes=0-0", "bytes=-1"]
        {
            let r = video_response(&empty, Some(range));
            assert_eq!(r.status(), StatusCode::RANGE_NOT_SATISFIABLE, "{range}");
            assert_eq!(r.headers()[header::CONTENT_RANGE], "bytes */0", "{range}");
            assert!(r.body().is_empty(), "{range}");
        }
    }

    /// A video indexed in an album whose file was then replaced by a symbolic link (to
    /// a file outside, to `/etc/passwd`, even to another video of the album), or whose
    /// folder was: refused with 403, though the index still names a path in the album.
    #[test]
    fn a_video_that_became_a_link_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let base = std::fs::canonicalize(tmp.path()).unwrap();
        let (album, outside) = (base.join("album"), base.join("outside"));
        std::fs::create_dir_all(album.join("trip")).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(album.join("clip.mp4"), vec![1u8; 1000]).unwrap();
        std::fs::write(album.join("other.mp4"), vec![2u8; 1000]).unwrap();
        std::fs::write(album.join("trip/beach.mp4"), vec![3u8; 1000]).unwrap();
        std::fs::write(outside.join("secret.mp4"), b"secret").unwrap();
        std::fs::write(outside.join("beach.mp4"), b"another secret").unwrap();
        let library = keepsake_library::Library::open(&base.join("data")).unwrap();
        library.index().add_root(&album, &|_| {}).unwrap();
        let id = |name: &str| library.catalog().media_by_path(&album.join(name)).unwrap().item.id;
        let (clip, beach) = (id("clip.mp4"), id("trip/beach.mp4"));
        assert_eq!(servable_video(&library, clip).ok(), Some(album.join("clip.mp4")));
        assert_eq!(servable_video(&library, beach).ok(), Some(album.join("trip/beach.mp4")));
        let status = |id: i64| servable_video(&library, id).err().map(|(status, _)| status);
        for target in [outside.join("secret.mp4"), PathBuf::from("/etc/passwd"), album.join("other.mp4")] {
            std::fs::remove_file(album.join("clip.mp4")).unwrap();
            std::os::unix::fs::symlink(&target, album.join("clip.mp4")).unwrap();
            assert_eq!(status(clip), Some(StatusCode::FORBIDDEN), "{}", target.display());
        }
        std::fs::rename(album.join("trip"), base.join("trip-moved")).unwrap();
        std::os::unix::fs::symlink(&outside, album.join("trip")).unwrap();
        assert_eq!(status(beach), Some(StatusCode::FORBIDDEN), "a folder that became a link");
        std::fs::remove_file(album.join("clip.mp4")).unwrap();
        assert_eq!(status(clip), Some(StatusCode::NOT_FOUND), "gone");
    }

    #[test]
    fn serves_a_video_range_from_a_real_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("clip.mp4");
        let data: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
        std::fs::write(&path, &data).unwrap();
        let r = video_response(&path, Some("bytes=100-199"));
        assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
        assert_eq!(r.headers()[header::CONTENT_RANGE], "bytes 100-199/10000");
        assert_eq!(r.headers()[header::CONTENT_TYPE], "video/mp4");
        assert_eq!(r.body().as_slice(), &data[100..200]);
        let whole = video_response(&path, None);
        assert_eq!(whole.status(), StatusCode::OK);
        assert_eq!(whole.body().len(), 10_000);
        assert_eq!(video_response(&path, Some("bytes=20000-")).status(), StatusCode::RANGE_NOT_SATISFIABLE);
    }
}
