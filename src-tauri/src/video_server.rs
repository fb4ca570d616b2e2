//! Videos reach the window's player over a loopback HTTP server, not the `keepsake://`
//! protocol: WebKitGTK hands `<video>` sources to GStreamer, which has no handler for an
//! app's custom scheme (MEDIA_ERR_SRC_NOT_SUPPORTED, tauri-apps/tauri#3725), and a whole
//! video (hundreds of MB) cannot cross as bytes the way a Live Photo's motion does. This
//! is the usual way around it (compare tauri-plugin-localhost), kept as small as it can be:
//!
//! - bound to 127.0.0.1 on a port the system picks, so nothing off this computer reaches it;
//! - every URL starts with a per-launch secret of 256 random bits
//!   (`http://127.0.0.1:PORT/SECRET/video/<id>`), which only the window learns (the
//!   `video_base` command): another local program or a web page cannot guess it. A wrong
//!   secret is 403 before anything else is looked at;
//! - the Host header must be `127.0.0.1:PORT` (403 otherwise), so a DNS name rebound to
//!   127.0.0.1 by a web page cannot use the server even if it learnt a URL;
//! - it serves only `GET`/`HEAD /SECRET/video/<id>` for an indexed video, parsed and
//!   checked by the `keepsake://` protocol's own code (`protocol::parse`,
//!   `protocol::servable_video`): a file or folder that became a symbolic link is 403, a
//!   vanished one 404, anything but a video inside an album 403. Everything else is 404
//!   (405 for another method);
//! - with Range support (206, `Content-Range`, `Accept-Ranges`, 416), streaming the file
//!   in chunks from disk, each response on its own thread (at most [`MAX_STREAMS`] at once),
//!   never on the window's threads.
//!
//! No CORS header is ever sent, so a page can play what it is given but never read it.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use keepsake_library::Library;
use tiny_http::{Header, Method, Request, Response, Server, StatusCode};

use crate::protocol::{self, Resource};

/// Responses streaming at once; a player opens two or three connections (one more per
/// seek while the last one drains), so this is only a bound, never reached in use.
const MAX_STREAMS: usize = 16;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("no random numbers for the video server's secret: {0}")]
    Random(getrandom::Error),
    #[error("could not listen on 127.0.0.1 for video playback: {0}")]
    Listen(String),
    #[error("could not start the video server's thread: {0}")]
    Thread(std::io::Error),
}

/// The running server; dropping it stops it.
pub struct VideoServer {
    server: Arc<Server>,
    base: String,
    stop: Arc<AtomicBool>,
}

impl VideoServer {
    /// Binds 127.0.0.1 on a free port and answers on a thread of its own.
    pub fn start(library: Library) -> Result<Self, StartError> {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).map_err(StartError::Random)?;
        let secret: String = secret.iter().map(|b| format!("{b:02x}")).collect();
        let server = Server::http("127.0.0.1:0").map_err(|e| StartError::Listen(e.to_string()))?;
        let port = server
            .server_addr()
            .to_ip()
            .map(|a| a.port())
            .ok_or_else(|| StartError::Listen("not a TCP address".into()))?;
        let server = Arc::new(server);
        let gate = Arc::new(Gate { secret, host: format!("127.0.0.1:{port}"), library, streams: AtomicUsize::new(0) });
        let base = format!("http://{}/{}", gate.host, gate.secret);
        let (accept, stop) = (Arc::clone(&server), Arc::new(AtomicBool::new(false)));
        let stopping = Arc::clone(&stop);
        std::thread::Builder::new()
            .name("keepsake-video".into())
            .spawn(move || loop {
                match accept.recv() {
                    Ok(request) => Gate::dispatch(&gate, request),
                    // Unblocked by `drop`: the last reference to the server goes with this
                    // thread, which closes the socket.
                    Err(_) if stopping.load(Ordering::SeqCst) => break,
                    Err(e) => {
                        // A failed accept (out of file descriptors, say): keep serving.
                        tracing::warn!(error = %e, "video server: a connection failed");
                        std::thread::sleep(std::time::Duration::from_millis(50));
                    }
                }
            })
            .map_err(StartError::Thread)?;
        tracing::info!(port, "video server listening on 127.0.0.1");
        Ok(Self { server, base, stop })
    }

    /// `http://127.0.0.1:PORT/SECRET`: a video is `{base}/video/<id>`.
    pub fn base(&self) -> &str {
        &self.base
    }
}

impl Drop for VideoServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        self.server.unblock();
    }
}

/// The server, started by the first `video_base` command (and again by a later one if it
/// could not start), held in the app's state.
#[derive(Default)]
pub struct Lazy(Mutex<Option<VideoServer>>);

impl Lazy {
    /// The base URL, starting the server if it is not running.
    pub fn base(&self, library: &Library) -> Result<String, StartError> {
        let mut server = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(running) = server.as_ref() {
            return Ok(running.base().to_owned());
        }
        let started = VideoServer::start(library.clone())?;
        let base = started.base().to_owned();
        *server = Some(started);
        Ok(base)
    }
}

/// What every request must get past, and what it may reach.
struct Gate {
    secret: String,
    /// `127.0.0.1:PORT`, the only Host header accepted.
    host: String,
    library: Library,
    streams: AtomicUsize,
}

/// What a request gets, decided before any byte of a file is sent.
enum Answer {
    Refused(u16, String),
    Video { path: PathBuf, range: Option<String> },
}

impl Gate {
    /// Answers refusals on the accepting thread (they are a few bytes) and streams a video
    /// on a thread of its own, so a paused player holding its connection blocks nobody.
    fn dispatch(gate: &Arc<Self>, request: Request) {
        let (path, range) = match gate.check(&request) {
            Answer::Video { path, range } => (path, range),
            Answer::Refused(status, why) => return respond_text(request, status, &why),
        };
        if gate.streams.fetch_add(1, Ordering::SeqCst) >= MAX_STREAMS {
            gate.streams.fetch_sub(1, Ordering::SeqCst);
            return respond_text(request, 503, "too many videos playing at once");
        }
        // The request moves into the thread; if the thread cannot start, the request is
        // dropped with it, which closes its connection (the player reports an error).
        let streams = Arc::clone(gate);
        let spawned = std::thread::Builder::new().name("keepsake-video-stream".into()).spawn(move || {
            stream(request, &path, range.as_deref());
            streams.streams.fetch_sub(1, Ordering::SeqCst);
        });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "could not start a thread to stream a video");
            gate.streams.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// Host, secret, method and resource, in that order; the file checks last.
    fn check(&self, request: &Request) -> Answer {
        let refuse = |status: u16, why: &str| Answer::Refused(status, why.to_owned());
        let hosts: Vec<&Header> = request.headers().iter().filter(|h| h.field.equiv("Host")).collect();
        if hosts.len() != 1 || !hosts[0].value.as_str().eq_ignore_ascii_case(&self.host) {
            return refuse(403, "wrong host");
        }
        let path = request.url().split(['?', '#']).next().unwrap_or_default();
        let Some((secret, rest)) = path.strip_prefix('/').and_then(|p| p.split_once('/')) else {
            return refuse(403, "forbidden");
        };
        if !same_secret(secret, &self.secret) {
            return refuse(403, "forbidden");
        }
        if !matches!(request.method(), Method::Get | Method::Head) {
            return refuse(405, "only GET and HEAD");
        }
        // The protocol's parser, so ids follow its rules; only its `video/<id>` is served.
        let Some(Resource::Video(id)) = protocol::parse(rest) else {
            return refuse(404, "not a Keepsake video");
        };
        // The window is showing something: background passes hold off.
        self.library.note_viewing();
        match protocol::servable_video(&self.library, id) {
            Ok(path) => {
                let range = request.headers().iter().find(|h| h.field.equiv("Range")).map(|h| h.value.to_string());
                Answer::Video { path, range }
            }
            Err((status, why)) => Answer::Refused(status.as_u16(), why),
        }
    }
}

/// Compares the whole secret whatever the first difference, so response times do not
/// tell a guesser how much of it was right.
fn same_secret(given: &str, secret: &str) -> bool {
    given.len() == secret.len() && given.bytes().zip(secret.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

fn header(name: &str, value: &str) -> Option<Header> {
    Header::from_bytes(name.as_bytes(), value.as_bytes()).ok()
}

/// A short plain-text answer (a refusal).
fn respond_text(request: Request, status: u16, body: &str) {
    let mut response = Response::from_string(body).with_status_code(StatusCode(status));
    let allow = (status == 405).then(|| header("Allow", "GET, HEAD"));
    for h in [header("Content-Type", "text/plain; charset=utf-8"), header("Cache-Control", "no-store")]
        .into_iter()
        .chain(allow)
        .flatten()
    {
        response.add_header(h);
    }
    if let Err(e) = request.respond(response) {
        tracing::debug!(error = %e, "video server: could not answer");
    }
}

/// Bytes read from disk at a time while streaming.
const READ_CHUNK: usize = 256 * 1024;

/// Sends the file, or the asked-for range of it, read from disk as the socket takes it.
fn stream(request: Request, path: &Path, range: Option<&str>) {
    let opened = std::fs::File::open(path).and_then(|f| f.metadata().map(|m| (f, m.len())));
    let (mut file, len) = match opened {
        Ok(found) => found,
        Err(e) => return respond_text(request, 404, &e.to_string()),
    };
    let (status, start, end) = match range {
        None => (200, 0, len.checked_sub(1)),
        Some(asked) => match protocol::requested_range(asked, len) {
            Some((start, end)) => (206, start, Some(end)),
            None => {
                let mut response = Response::empty(StatusCode(416));
                for h in [header("Content-Range", &format!("bytes */{len}")), header("Accept-Ranges", "bytes")]
                    .into_iter()
                    .flatten()
                {
                    response.add_header(h);
                }
                if let Err(e) = request.respond(response) {
                    tracing::debug!(error = %e, "video server: could not answer");
                }
                return;
            }
        },
    };
    let count = end.map_or(0, |end| end - start + 1);
    let (Ok(length), Ok(_)) = (usize::try_from(count), file.seek(SeekFrom::Start(start))) else {
        return respond_text(request, 500, "could not read the video");
    };
    let mut headers: Vec<Option<Header>> = vec![
        header("Content-Type", protocol::mime(path)),
        header("Accept-Ranges", "bytes"),
        header("Cache-Control", "no-store"),
    ];
    if let (206, Some(end)) = (status, end) {
        headers.push(header("Content-Range", &format!("bytes {start}-{end}/{len}")));
    }
    let body = std::io::BufReader::with_capacity(READ_CHUNK, file).take(count);
    let response = Response::new(StatusCode(status), headers.into_iter().flatten().collect(), body, Some(length), None)
        // Always a Content-Length (never chunked): players learn the size from it.
        .with_chunked_threshold(usize::MAX);
    if let Err(e) = request.respond(response) {
        // A player that seeks closes the connection it no longer needs: not worth a warning.
        tracing::debug!(error = %e, path = %path.display(), "video stream ended early");
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::net::TcpStream;

    use super::*;

    /// A reply as it came over the socket.
    struct Reply {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    }

    impl Reply {
        fn header(&self, name: &str) -> Option<&str> {
            self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
        }
    }

    /// Sends one raw request to the server (closing after it) and reads the whole reply.
    fn send(server: &VideoServer, raw: &str) -> Reply {
        let port = server.server.server_addr().to_ip().unwrap().port();
        let mut socket = TcpStream::connect(("127.0.0.1", port)).unwrap();
        socket.write_all(raw.as_bytes()).unwrap();
        let mut reply = Vec::new();
        socket.read_to_end(&mut reply).unwrap();
        let split = reply.windows(4).position(|w| w == b"\r\n\r\n").expect("a complete head");
        let head = String::from_utf8(reply[..split].to_vec()).unwrap();
        let mut lines = head.split("\r\n");
        let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
        let headers =
            lines.filter_map(|l| l.split_once(':')).map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned())).collect();
        Reply { status, headers, body: reply[split + 4..].to_vec() }
    }

    /// `METHOD path` with the right Host header and any `extra` header lines.
    fn ask(server: &VideoServer, method: &str, path: &str, extra: &str) -> Reply {
        let host = server.base().trim_start_matches("http://").split('/').next().unwrap().to_owned();
        send(server, &format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\n{extra}Connection: close\r\n\r\n"))
    }

    /// The path part of the base (`/SECRET`).
    fn secret_path(server: &VideoServer) -> String {
        let base = server.base().trim_start_matches("http://");
        base[base.find('/').unwrap()..].to_owned()
    }

    /// A real library on a temporary album: `clip.mp4` (10 000 known bytes), `other.mp4`
    /// and a photo, indexed by the library's own scan.
    struct Fixture {
        _tmp: tempfile::TempDir,
        album: PathBuf,
        library: Library,
        data: Vec<u8>,
    }

    impl Fixture {
        fn new() -> Self {
            let tmp = tempfile::tempdir().unwrap();
            let base = std::fs::canonicalize(tmp.path()).unwrap();
            let album = base.join("album");
            std::fs::create_dir_all(&album).unwrap();
            let data: Vec<u8> = (0..10_000u32).map(|i| (i * 7 % 251) as u8).collect();
            std::fs::write(album.join("clip.mp4"), &data).unwrap();
            std::fs::write(album.join("other.mov"), vec![9u8; 3000]).unwrap();
            std::fs::write(album.join("still.jpg"), vec![1u8; 100]).unwrap();
            std::fs::write(base.join("secret.txt"), b"not for the page").unwrap();
            let library = Library::open(&base.join("data")).unwrap();
            library.index().add_root(&album, &|_| {}).unwrap();
            Self { _tmp: tmp, album, library, data }
        }

        fn id(&self, name: &str) -> i64 {
            self.library.catalog().media_by_path(&self.album.join(name)).unwrap().item.id
        }
    }

    #[test]
    fn serves_a_video_whole_and_in_ranges() {
        let f = Fixture::new();
        let server = VideoServer::start(f.library.clone()).unwrap();
        assert!(server.base().starts_with("http://127.0.0.1:"), "{}", server.base());
        let secret = secret_path(&server);
        assert_eq!(secret.len(), 1 + 64, "256 bits of secret, in hex: {secret}");
        let url = format!("{secret}/video/{}", f.id("clip.mp4"));

        let whole = ask(&server, "GET", &url, "");
        assert_eq!(whole.status, 200);
        assert_eq!(whole.body, f.data);
        assert_eq!(whole.header("Content-Length"), Some("10000"));
        assert_eq!(whole.header("Content-Type"), Some("video/mp4"));
        assert_eq!(whole.header("Accept-Ranges"), Some("bytes"));
        assert_eq!(whole.header("Access-Control-Allow-Origin"), None, "no page may read it");

        let part = ask(&server, "GET", &url, "Range: bytes=100-199\r\n");
        assert_eq!(part.status, 206);
        assert_eq!(part.header("Content-Range"), Some("bytes 100-199/10000"));
        assert_eq!(part.header("Content-Length"), Some("100"));
        assert_eq!(part.body, &f.data[100..200]);

        // Open-ended ranges stream to the end, however far (no chunk cap here).
        let tail = ask(&server, "GET", &url, "Range: bytes=2500-\r\n");
        assert_eq!(tail.status, 206);
        assert_eq!(tail.header("Content-Range"), Some("bytes 2500-9999/10000"));
        assert_eq!(tail.body, &f.data[2500..]);
        let suffix = ask(&server, "GET", &url, "Range: bytes=-10\r\n");
        assert_eq!((suffix.status, suffix.body.as_slice()), (206, &f.data[9990..]));

        for unsatisfiable in ["bytes=10000-", "bytes=20000-20001", "bytes=5-1", "items=0-1"] {
            let r = ask(&server, "GET", &url, &format!("Range: {unsatisfiable}\r\n"));
            assert_eq!(r.status, 416, "{unsatisfiable}");
            assert_eq!(r.header("Content-Range"), Some("bytes */10000"), "{unsatisfiable}");
            assert!(r.body.is_empty());
        }

        let mov = ask(&server, "GET", &format!("{secret}/video/{}", f.id("other.mov")), "");
        assert_eq!((mov.status, mov.body.len()), (200, 3000));
        assert_eq!(mov.header("Content-Type"), Some("video/quicktime"));
    }

    #[test]
    fn head_answers_the_headers_without_the_body() {
        let f = Fixture::new();
        let server = VideoServer::start(f.library.clone()).unwrap();
        let url = format!("{}/video/{}", secret_path(&server), f.id("clip.mp4"));
        let head = ask(&server, "HEAD", &url, "");
        assert_eq!(head.status, 200);
        assert_eq!(head.header("Content-Length"), Some("10000"));
        assert_eq!(head.header("Accept-Ranges"), Some("bytes"));
        assert!(head.body.is_empty(), "{} bytes after a HEAD", head.body.len());
        let ranged = ask(&server, "HEAD", &url, "Range: bytes=0-9\r\n");
        assert_eq!((ranged.status, ranged.header("Content-Range")), (206, Some("bytes 0-9/10000")));
        assert!(ranged.body.is_empty());
    }

    #[test]
    fn refuses_a_wrong_secret_a_wrong_host_and_other_paths() {
        let f = Fixture::new();
        let server = VideoServer::start(f.library.clone()).unwrap();
        let secret = secret_path(&server);
        let clip = f.id("clip.mp4");
        let good = format!("{secret}/video/{clip}");
        assert_eq!(ask(&server, "GET", &good, "").status, 200);

        // The secret: missing, wrong, one character off, a prefix, or longer: 403, file or not.
        let mut off_by_one = secret.clone().into_bytes();
        let last = off_by_one.len() - 1;
        off_by_one[last] = if off_by_one[last] == b'0' { b'1' } else { b'0' };
        let off_by_one = String::from_utf8(off_by_one).unwrap();
        for path in [
            format!("/video/{clip}"),
            format!("/{}/video/{clip}", "0".repeat(64)),
            format!("{off_by_one}/video/{clip}"),
            format!("{}/video/{clip}", &secret[..secret.len() - 1]),
            format!("{secret}0/video/{clip}"),
            "/".into(),
            secret.clone(),
        ] {
            let r = ask(&server, "GET", &path, "");
            assert_eq!(r.status, 403, "{path}");
            assert!(!r.body.windows(4).any(|w| w == &f.data[..4]), "{path}: no byte of the video");
        }

        // The Host header must name this server: a rebound DNS name is refused.
        let port = server.server.server_addr().to_ip().unwrap().port();
        for host in [
            format!("localhost:{port}"),
            format!("evil.example:{port}"),
            "127.0.0.1".into(),
            format!("127.0.0.1:{}", port.wrapping_add(1)),
        ] {
            let r = send(&server, &format!("GET {good} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"));
            assert_eq!(r.status, 403, "{host}");
        }
        let twice = send(
            &server,
            &format!(
                "GET {good} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nHost: evil.example\r\nConnection: close\r\n\r\n"
            ),
        );
        assert_eq!(twice.status, 403, "two Host headers");
        let none = send(&server, &format!("GET {good} HTTP/1.0\r\n\r\n"));
        assert_eq!(none.status, 403, "no Host header");

        // With the secret, only `video/<id>` exists.
        for path in [
            format!("{secret}/cover/{clip}"),
            format!("{secret}/photo/{clip}"),
            format!("{secret}/video/{clip}/1"),
            format!("{secret}/video/0"),
            format!("{secret}/video/-1"),
            format!("{secret}/video/abc"),
            format!("{secret}/video/..%2F..%2Fsecret.txt"),
            format!("{secret}/../secret.txt"),
            format!("{secret}/etc/passwd"),
            format!("{secret}/"),
        ] {
            assert_eq!(ask(&server, "GET", &path, "").status, 404, "{path}");
        }
        // A query string changes nothing.
        assert_eq!(ask(&server, "GET", &format!("{good}?t=1"), "").status, 200);

        let post = ask(&server, "POST", &good, "Content-Length: 0\r\n");
        assert_eq!((post.status, post.header("Allow")), (405, Some("GET, HEAD")));
        assert_eq!(ask(&server, "DELETE", &good, "").status, 405);
        assert_eq!(std::fs::read(f.album.join("clip.mp4")).unwrap(), f.data, "the file is untouched");
    }

    #[test]
    fn refuses_unknown_ids_photos_links_and_vanished_files() {
        let f = Fixture::new();
        let server = VideoServer::start(f.library.clone()).unwrap();
        let secret = secret_path(&server);
        let status = |id: i64| ask(&server, "GET", &format!("{secret}/video/{id}"), "").status;
        let clip = f.id("clip.mp4");
        assert_eq!(status(clip), 200);
        assert_eq!(status(i64::MAX), 404, "not in the index");
        assert_eq!(status(clip + 1000), 404, "not in the index");
        assert_eq!(status(f.id("still.jpg")), 403, "a photo is not a video");

        // The file became a link to a file outside the album: refused though the index
        // still names a path in the album.
        let outside = f.album.parent().unwrap().join("secret.txt");
        std::fs::remove_file(f.album.join("clip.mp4")).unwrap();
        std::os::unix::fs::symlink(&outside, f.album.join("clip.mp4")).unwrap();
        let linked = ask(&server, "GET", &format!("{secret}/video/{clip}"), "");
        assert_eq!(linked.status, 403);
        assert!(!String::from_utf8_lossy(&linked.body).contains("not for the page"));

        std::fs::remove_file(f.album.join("clip.mp4")).unwrap();
        assert_eq!(status(clip), 404, "gone");
    }

    /// Each launch gets its own secret, and a stopped server stops answering.
    #[test]
    fn each_server_has_its_own_secret_and_stops_when_dropped() {
        let f = Fixture::new();
        let (a, b) = (VideoServer::start(f.library.clone()).unwrap(), VideoServer::start(f.library.clone()).unwrap());
        assert_ne!(secret_path(&a), secret_path(&b));
        let clip = f.id("clip.mp4");
        assert_eq!(ask(&a, "GET", &format!("{}/video/{clip}", secret_path(&b)), "").status, 403);
        let lazy = Lazy::default();
        let base = lazy.base(&f.library).unwrap();
        assert_eq!(lazy.base(&f.library).unwrap(), base, "started once");

        let port = a.server.server_addr().to_ip().unwrap().port();
        drop(a);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while TcpStream::connect(("127.0.0.1", port)).is_ok() {
            assert!(std::time::Instant::now() < deadline, "still listening after it was dropped");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert_eq!(ask(&b, "GET", &format!("{}/video/{clip}", secret_path(&b)), "").status, 200, "the other runs on");
    }
}
