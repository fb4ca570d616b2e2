//! Live Photos and motion photos with real media made at test time (ffmpeg, heif-enc,
//! exiftool): pairing by content identifier and by name, pairs that follow renames,
//! moves and deletions (scan and watcher), motion photos' embedded video served byte
//! for byte, broken ones shown as plain photos with the reason, and an album folder
//! that is never written to.
//!
//! Skipped (with a message) where ffmpeg, heif-enc or exiftool is not installed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use keepsake_library::*;

fn have(tool: &str) -> bool {
    Command::new(tool).arg("-ver").output().is_ok()
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// Media made once per test run: a 2-s movie, a 10-s movie, an MP4, a still (JPEG)
/// and a HEIC.
struct Fixtures {
    dir: PathBuf,
}

fn fixtures() -> &'static Fixtures {
    static F: OnceLock<Fixtures> = OnceLock::new();
    F.get_or_init(|| {
        // Real encoders or no test: a missing tool fails here, naming what installs it.
        assert!(
            have("ffmpeg") && have("exiftool") && Command::new("heif-enc").arg("--help").output().is_ok(),
            "ffmpeg, exiftool and heif-enc are needed (scripts/setup.sh test installs them)"
        );
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("live-fixtures-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let ff = |args: &str, out: &str| {
            let mut c = Command::new("ffmpeg");
            c.args(["-loglevel", "error", "-y"]).args(args.split(' ')).arg(dir.join(out));
            run(&mut c);
        };
        ff("-f lavfi -i testsrc2=duration=2:size=640x480:rate=30 -c:v libx264 -pix_fmt yuv420p", "two.mov");
        ff("-f lavfi -i testsrc2=duration=10:size=160x120:rate=10 -c:v libx264 -pix_fmt yuv420p", "ten.mov");
        ff("-f lavfi -i testsrc2=duration=2:size=320x240:rate=30 -c:v libx264 -pix_fmt yuv420p", "clip.mp4");
        let mut c = Command::new("ffmpeg");
        c.args(["-loglevel", "error", "-y", "-i"]).arg(dir.join("two.mov"));
        run(c.args(["-frames:v", "1"]).arg(dir.join("still.jpg")));
        std::fs::write(
            dir.join("keys.config"),
            "%Image::ExifTool::UserDefined = ('Image::ExifTool::QuickTime::Keys' => {\n\
             'com.apple.quicktime.content.identifier' => { Name => 'LiveContentID', Writable => 'string' },\n});\n1;\n",
        )
        .unwrap();
        Fixtures { dir }
    })
}

impl Fixtures {
    fn bytes(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.dir.join(name)).unwrap()
    }

    /// A movie of `secs` (2 or 10) at `dest`, with a content identifier when given
    /// (written by exiftool, as a QuickTime `keys`/`ilst` entry).
    fn movie(&self, dest: &Path, secs: u32, id: Option<&str>) {
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(self.dir.join(if secs > 4 { "ten.mov" } else { "two.mov" }), dest).unwrap();
        if let Some(id) = id {
            run(Command::new("exiftool")
                .arg("-config")
                .arg(self.dir.join("keys.config"))
                .args(["-q", "-overwrite_original", &format!("-Keys:LiveContentID={id}")])
                .arg(dest));
            let raw = std::fs::read(dest).unwrap();
            assert!(find(&raw, b"com.apple.quicktime.content.identifier").is_some(), "exiftool wrote the key");
        }
    }

    /// A JPEG still, with an Apple maker note holding `id` when given.
    fn jpeg(&self, dest: &Path, id: Option<&str>) {
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        let jpg = self.bytes("still.jpg");
        let out = match id {
            Some(id) => [&jpg[..2], &exif_app1(&apple_note(id)), &jpg[2..]].concat(),
            None => jpg,
        };
        std::fs::write(dest, out).unwrap();
    }

    /// A HEIC still (heif-enc keeps the JPEG's EXIF, maker note included).
    fn heic(&self, dest: &Path, id: &str) {
        let src = self.dir.join(format!("src-{id}.jpg"));
        self.jpeg(&src, Some(id));
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        run(Command::new("heif-enc").arg(&src).arg("-o").arg(dest));
        let out = Command::new("exiftool").args(["-s3", "-MediaGroupUUID"]).arg(dest).output().unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), id, "the HEIC carries the maker note");
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// An Apple maker note: `Apple iOS\0`, version 1, `MM`, an IFD with tag 0x0011.
fn apple_note(id: &str) -> Vec<u8> {
    let mut value = id.as_bytes().to_vec();
    value.push(0);
    let mut n = b"Apple iOS\0\0\x01MM".to_vec();
    n.extend_from_slice(&1u16.to_be_bytes());
    n.extend_from_slice(&0x11u16.to_be_bytes());
    n.extend_from_slice(&2u16.to_be_bytes());
    n.extend_from_slice(&(value.len() as u32).to_be_bytes());
    n.extend_from_slice(&(16u32 + 12 + 4).to_be_bytes());
    n.extend_from_slice(&0u32.to_be_bytes());
    n.extend_from_slice(&value);
    n
}

/// An EXIF APP1 segment: IFD0 pointing to an Exif IFD holding `note` as the MakerNote.
fn exif_app1(note: &[u8]) -> Vec<u8> {
    let mut t = b"MM\0*".to_vec();
    t.extend_from_slice(&8u32.to_be_bytes());
    let entry = |t: &mut Vec<u8>, tag: u16, ty: u16, count: u32, v: u32| {
        t.extend_from_slice(&1u16.to_be_bytes());
        t.extend_from_slice(&tag.to_be_bytes());
        t.extend_from_slice(&ty.to_be_bytes());
        t.extend_from_slice(&count.to_be_bytes());
        t.extend_from_slice(&v.to_be_bytes());
        t.extend_from_slice(&0u32.to_be_bytes());
    };
    entry(&mut t, 0x8769, 4, 1, 26);
    entry(&mut t, 0x927C, 7, note.len() as u32, 44);
    t.extend_from_slice(note);
    let body = [b"Exif\0\0".as_slice(), &t].concat();
    [&[0xFF, 0xE1][..], &((body.len() + 2) as u16).to_be_bytes(), &body].concat()
}

/// An XMP APP1 segment holding `packet`.
fn xmp_app1(packet: &str) -> Vec<u8> {
    let body = [b"http://ns.adobe.com/xap/1.0/\0".as_slice(), packet.as_bytes()].concat();
    [&[0xFF, 0xE1][..], &((body.len() + 2) as u16).to_be_bytes(), &body].concat()
}

/// Google's motion photo XMP: `GCamera:MotionPhoto` and a Container directory whose
/// `MotionPhoto` item is `video_len` bytes long.
fn pixel_xmp(video_len: u64) -> String {
    format!(
        r#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:GCamera="http://ns.google.com/photos/1.0/camera/"
 xmlns:Container="http://ns.google.com/photos/1.0/container/"
 xmlns:Item="http://ns.google.com/photos/1.0/container/item/"
 GCamera:MotionPhoto="1" GCamera:MotionPhotoVersion="1" GCamera:MotionPhotoPresentationTimestampUs="0">
<Container:Directory><rdf:Seq>
<rdf:li rdf:parseType="Resource">
 <Container:Item Item:Mime="image/jpeg" Item:Semantic="Primary" Item:Length="0" Item:Padding="0"/></rdf:li>
<rdf:li rdf:parseType="Resource">
 <Container:Item Item:Mime="video/mp4" Item:Semantic="MotionPhoto" Item:Length="{video_len}" Item:Padding="0"/></rdf:li>
</rdf:Seq></Container:Directory></rdf:Description></rdf:RDF></x:xmpmeta>"#
    )
}

/// Every file under `dir` with its bytes and mtime: the album must not change.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (Vec<u8>, std::time::SystemTime)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let meta = std::fs::symlink_metadata(e.path()).unwrap();
            if meta.is_dir() {
                stack.push(e.path());
            } else {
                out.insert(e.path(), (std::fs::read(e.path()).unwrap(), meta.modified().unwrap()));
            }
        }
    }
    out
}

fn no_progress(_: ScanProgress) {}

struct Album {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    lib: Library,
}

fn album() -> Album {
    let tmp = tempfile::tempdir().unwrap();
    let dir = std::fs::canonicalize(tmp.path()).unwrap().join("album");
    std::fs::create_dir_all(&dir).unwrap();
    let lib = Library::open(&tmp.path().join("data")).unwrap();
    Album { _tmp: tmp, dir, lib }
}

impl Album {
    fn grid(&self) -> Vec<MediaItem> {
        self.lib.catalog().media(&MediaQuery { sort: SortOrder::Name, ..Default::default() }).unwrap()
    }
    fn names(&self) -> Vec<String> {
        self.grid().into_iter().map(|m| m.name).collect()
    }
    fn item(&self, name: &str) -> MediaItem {
        self.grid().into_iter().find(|m| m.name == name).unwrap_or_else(|| panic!("{name} not in the grid"))
    }
    fn motion(&self, name: &str) -> Option<MotionKind> {
        self.item(name).motion
    }
    /// Ids with a queued analysis job.
    fn queued(&self) -> Vec<MediaId> {
        let jobs = self.lib.queue().list(false).unwrap();
        jobs.into_iter().filter(|j| j.state == JobState::Queued).map(|j| j.media_id).collect()
    }
    fn id_of(&self, path: &Path) -> MediaId {
        self.lib.catalog().media_by_path(path).unwrap().item.id
    }
    fn rescan(&self) {
        self.lib.index().scan_all(&no_progress).unwrap();
    }
    /// What the app's background photo job does next: each photo's date, size, place and
    /// embedded video, read from its file (a scan opens no photo).
    fn read_photo_facts(&self) {
        while self.lib.photo_jobs().read_facts(100).unwrap().checked > 0 {}
    }
}

#[test]
fn live_photos_pair_by_content_identifier_whatever_their_names() {
    let fx = fixtures();
    let a = album();
    fx.heic(&a.dir.join("IMG_0001.HEIC"), "8E3A-0001");
    fx.movie(&a.dir.join("clip-from-phone.MOV"), 2, Some("8E3A-0001"));
    fx.jpeg(&a.dir.join("IMG_0002.JPG"), Some("8E3A-0002"));
    fx.movie(&a.dir.join("IMG_0099.MOV"), 2, Some("8E3A-0002"));
    // Same identifier scheme, no partner: an ordinary short video.
    fx.movie(&a.dir.join("lonely.MOV"), 2, Some("8E3A-0003"));
    let before = snapshot(&a.dir);
    let (root, _) = a.lib.index().add_root(&a.dir, &no_progress).unwrap();

    assert_eq!(a.names(), ["IMG_0001.HEIC", "IMG_0002.JPG", "lonely.MOV"], "paired movies are not tiles");
    assert_eq!((root.photos, root.videos), (2, 1));
    assert_eq!(a.motion("IMG_0001.HEIC"), Some(MotionKind::Live));
    assert_eq!(a.motion("IMG_0002.JPG"), Some(MotionKind::Live));
    assert_eq!(a.motion("lonely.MOV"), None);
    let movie = a.id_of(&a.dir.join("clip-from-phone.MOV"));
    let lonely = a.id_of(&a.dir.join("lonely.MOV"));
    assert_eq!(a.queued(), vec![lonely], "only the unpaired movie is analysed");

    let still = a.item("IMG_0001.HEIC").id;
    let detail = a.lib.catalog().media_by_id(still).unwrap();
    assert_eq!(detail.motion_path.as_deref(), Some(a.dir.join("clip-from-phone.MOV").as_path()));
    let src = a.lib.catalog().motion_source(still).unwrap().unwrap();
    assert_eq!((src.path.clone(), src.offset, src.mime), (a.dir.join("clip-from-phone.MOV"), 0, "video/quicktime"));
    assert_eq!(a.lib.catalog().motion_clip(still).unwrap(), std::fs::read(a.dir.join("clip-from-phone.MOV")).unwrap());
    assert_eq!(a.lib.catalog().motion_source(lonely).unwrap(), None, "a video has no motion of its own");
    assert!(a.lib.catalog().media_by_id(movie).is_ok(), "the movie stays indexed");
    assert_eq!(snapshot(&a.dir), before, "nothing in the album changed");
}

#[test]
fn live_photos_pair_by_name_only_with_short_movies() {
    let fx = fixtures();
    let a = album();
    fx.jpeg(&a.dir.join("IMG_0042.JPG"), None);
    fx.movie(&a.dir.join("IMG_0042.MOV"), 2, None);
    fx.jpeg(&a.dir.join("IMG_0050.JPG"), None);
    fx.movie(&a.dir.join("IMG_0050.MOV"), 10, None);
    // Same name in another folder: not a pair.
    fx.jpeg(&a.dir.join("a/IMG_0060.JPG"), None);
    fx.movie(&a.dir.join("b/IMG_0060.MOV"), 2, None);
    // Same name, different identifiers: not a pair.
    fx.jpeg(&a.dir.join("IMG_0070.JPG"), Some("1F0C8A52-ONE"));
    fx.movie(&a.dir.join("IMG_0070.MOV"), 2, Some("77D1B3E0-TWO"));
    let before = snapshot(&a.dir);
    a.lib.index().add_root(&a.dir, &no_progress).unwrap();
    assert_eq!(
        a.names(),
        [
            "IMG_0042.JPG",
            "IMG_0050.JPG",
            "IMG_0050.MOV",
            "IMG_0060.JPG",
            "IMG_0060.MOV",
            "IMG_0070.JPG",
            "IMG_0070.MOV"
        ]
    );
    assert_eq!(a.motion("IMG_0042.JPG"), Some(MotionKind::Live));
    for plain in ["IMG_0050.JPG", "IMG_0060.JPG", "IMG_0070.JPG"] {
        assert_eq!(a.motion(plain), None, "{plain}");
    }
    let ten = a.item("IMG_0050.MOV").id;
    assert!(a.queued().contains(&ten), "the 10-s movie is an ordinary video");
    assert!(!a.queued().contains(&a.id_of(&a.dir.join("IMG_0042.MOV"))));
    assert_eq!(snapshot(&a.dir), before);
}

#[test]
fn pairs_follow_renames_moves_and_deletions_through_scans() {
    let fx = fixtures();
    let a = album();
    let still = a.dir.join("IMG_0001.HEIC");
    let movie = a.dir.join("IMG_0001.MOV");
    fx.heic(&still, "5A1D2C3B-ID-1");
    fx.movie(&movie, 2, Some("5A1D2C3B-ID-1"));
    let by_name = a.dir.join("IMG_0002.JPG");
    let by_name_movie = a.dir.join("IMG_0002.MOV");
    fx.jpeg(&by_name, None);
    fx.movie(&by_name_movie, 2, None);
    a.lib.index().add_root(&a.dir, &no_progress).unwrap();
    assert_eq!(a.names(), ["IMG_0001.HEIC", "IMG_0002.JPG"]);

    // Renamed movie: the identifier still pairs it; the name-paired one is let go.
    std::fs::rename(&movie, a.dir.join("renamed.MOV")).unwrap();
    std::fs::rename(&by_name_movie, a.dir.join("other.MOV")).unwrap();
    a.rescan();
    assert_eq!(a.names(), ["IMG_0001.HEIC", "IMG_0002.JPG", "other.MOV"]);
    assert_eq!(a.motion("IMG_0001.HEIC"), Some(MotionKind::Live));
    assert_eq!(a.motion("IMG_0002.JPG"), None);
    assert!(a.queued().contains(&a.item("other.MOV").id), "unpaired: analysed");
    // (Not analysed, so no fingerprint: the rename is a new row, found by the scan.)

    // Movie moved to another folder: an ordinary video there.
    std::fs::create_dir(a.dir.join("sub")).unwrap();
    std::fs::rename(a.dir.join("renamed.MOV"), a.dir.join("sub/renamed.MOV")).unwrap();
    a.rescan();
    assert_eq!(a.motion("IMG_0001.HEIC"), None);
    assert!(a.queued().contains(&a.item("renamed.MOV").id));

    // The still follows it: paired again in the new folder.
    std::fs::rename(&still, a.dir.join("sub/IMG_0001.HEIC")).unwrap();
    a.rescan();
    assert_eq!(a.motion("IMG_0001.HEIC"), Some(MotionKind::Live));
    assert!(!a.names().contains(&"renamed.MOV".to_owned()));
    let movie_id = a.id_of(&a.dir.join("sub/renamed.MOV"));
    assert!(!a.queued().contains(&movie_id), "paired again: its queued analysis is dropped");

    // Still deleted: the movie is a normal, analysed video again.
    std::fs::remove_file(a.dir.join("sub/IMG_0001.HEIC")).unwrap();
    a.rescan();
    assert_eq!(a.item("renamed.MOV").id, movie_id);
    assert!(a.queued().contains(&movie_id));

    // A new still for it, then the movie deleted: the still is a plain photo.
    fx.jpeg(&a.dir.join("sub/new.JPG"), Some("5A1D2C3B-ID-1"));
    a.rescan();
    assert_eq!(a.motion("new.JPG"), Some(MotionKind::Live));
    std::fs::remove_file(a.dir.join("sub/renamed.MOV")).unwrap();
    a.rescan();
    assert_eq!(a.motion("new.JPG"), None);
    assert_eq!(a.lib.catalog().motion_source(a.item("new.JPG").id).unwrap(), None);
}

/// Waits until `check` holds (the watcher works on its own thread).
fn eventually(what: &str, check: impl Fn() -> bool) {
    let t0 = Instant::now();
    while !check() {
        assert!(t0.elapsed() < Duration::from_secs(20), "timed out waiting for: {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn pairs_follow_renames_moves_and_deletions_through_the_watcher() {
    let fx = fixtures();
    let a = album();
    let still = a.dir.join("IMG_0001.JPG");
    let movie = a.dir.join("IMG_0001.MOV");
    fx.jpeg(&still, Some("9C8B7A6D-W-1"));
    fx.movie(&movie, 2, Some("9C8B7A6D-W-1"));
    std::fs::create_dir(a.dir.join("sub")).unwrap();
    a.lib.index().add_root(&a.dir, &no_progress).unwrap();
    assert_eq!(a.names(), ["IMG_0001.JPG"]);
    let (stable_for, debounce) = (Duration::from_millis(300), Duration::from_millis(100));
    let config = WatcherConfig { stable_for, debounce, ..Default::default() };
    let watcher = Watcher::start(a.lib.clone(), config, |_| {}).unwrap();

    // Movie renamed in place: still paired (identifier).
    std::fs::rename(&movie, a.dir.join("LIVE.MOV")).unwrap();
    eventually("the rename is seen, still paired", || {
        a.lib.catalog().media_by_path(&a.dir.join("LIVE.MOV")).is_ok()
            && a.names() == ["IMG_0001.JPG"]
            && a.motion("IMG_0001.JPG") == Some(MotionKind::Live)
    });

    // Movie moved out: a video of its own; moved back: paired again.
    std::fs::rename(a.dir.join("LIVE.MOV"), a.dir.join("sub/LIVE.MOV")).unwrap();
    eventually("the moved movie is a tile", || {
        a.names().contains(&"LIVE.MOV".to_owned()) && a.motion("IMG_0001.JPG").is_none()
    });
    std::fs::rename(a.dir.join("sub/LIVE.MOV"), a.dir.join("LIVE.MOV")).unwrap();
    eventually("paired again", || a.names() == ["IMG_0001.JPG"] && a.motion("IMG_0001.JPG") == Some(MotionKind::Live));

    // Still deleted: the movie is a video, queued for analysis.
    std::fs::remove_file(&still).unwrap();
    eventually("the movie is a tile", || a.names() == ["LIVE.MOV"]);
    let movie_id = a.item("LIVE.MOV").id;
    assert!(a.queued().contains(&movie_id));

    // A still copied in: paired; then the movie deleted: a plain photo.
    fx.jpeg(&a.dir.join("back.JPG"), Some("9C8B7A6D-W-1"));
    eventually("the new still pairs", || a.names() == ["back.JPG"] && a.motion("back.JPG") == Some(MotionKind::Live));
    std::fs::remove_file(a.dir.join("LIVE.MOV")).unwrap();
    eventually("the still is plain", || a.grid().first().is_some_and(|m| m.motion.is_none()));
    watcher.stop();
}

#[test]
fn motion_photos_serve_their_embedded_mp4_exactly() {
    let fx = fixtures();
    let a = album();
    let jpg = fx.bytes("still.jpg");
    let mp4 = fx.bytes("clip.mp4");
    assert_eq!(&mp4[4..8], b"ftyp");
    // Pixel: XMP with a Container directory, the MP4 at the end.
    let pixel = [&jpg[..2], &xmp_app1(&pixel_xmp(mp4.len() as u64)), &jpg[2..], &mp4].concat();
    std::fs::write(a.dir.join("PXL_1.MP.jpg"), &pixel).unwrap();
    // Older Pixels: GCamera:MicroVideo, written by exiftool, then the MP4 appended.
    let micro = a.dir.join("MVIMG_2.jpg");
    std::fs::write(&micro, &jpg).unwrap();
    run(Command::new("exiftool")
        .args([
            "-q",
            "-overwrite_original",
            "-XMP-GCamera:MicroVideo=1",
            "-XMP-GCamera:MicroVideoVersion=1",
            &format!("-XMP-GCamera:MicroVideoOffset={}", mp4.len()),
        ])
        .arg(&micro));
    let mut m = std::fs::read(&micro).unwrap();
    m.extend_from_slice(&mp4);
    std::fs::write(&micro, &m).unwrap();
    // Samsung: the image, `MotionPhoto_Data`, the MP4, and a trailer after it.
    let samsung = [&jpg[..], b"MotionPhoto_Data", &mp4, b"\0\0SEFHtrailer...SEFT"].concat();
    std::fs::write(a.dir.join("20240101_samsung.jpg"), &samsung).unwrap();
    // A plain photo.
    std::fs::write(a.dir.join("plain.jpg"), &jpg).unwrap();
    let before = snapshot(&a.dir);
    a.lib.index().add_root(&a.dir, &no_progress).unwrap();
    assert_eq!(a.motion("PXL_1.MP.jpg"), None, "not known before the photo's facts are read");
    a.read_photo_facts();

    assert_eq!(a.names().len(), 4);
    assert_eq!(a.motion("plain.jpg"), None);
    for name in ["PXL_1.MP.jpg", "MVIMG_2.jpg", "20240101_samsung.jpg"] {
        let item = a.item(name);
        assert_eq!(item.motion, Some(MotionKind::Embedded), "{name}");
        let src = a.lib.catalog().motion_source(item.id).unwrap().unwrap();
        assert_eq!(src.mime, "video/mp4");
        assert_eq!(src.length, mp4.len() as u64, "{name}");
        assert_eq!(a.lib.catalog().motion_clip(item.id).unwrap(), mp4, "{name}: the embedded bytes are the MP4");
        assert_eq!(a.lib.catalog().media_by_id(item.id).unwrap().motion_note, None);
    }
    assert_eq!(snapshot(&a.dir), before, "nothing in the album changed");

    // The file changed after indexing: the stored range is not served blindly.
    let px = a.item("PXL_1.MP.jpg").id;
    std::fs::write(a.dir.join("PXL_1.MP.jpg"), &jpg).unwrap();
    assert_eq!(a.lib.catalog().motion_source(px).unwrap(), None);
    a.rescan();
    a.read_photo_facts();
    assert_eq!(a.motion("PXL_1.MP.jpg"), None, "now a plain photo");
}

#[test]
fn broken_motion_photos_are_plain_photos_that_say_why() {
    let fx = fixtures();
    let a = album();
    let jpg = fx.bytes("still.jpg");
    let mp4 = fx.bytes("clip.mp4");
    let micro = |offset: &str| {
        format!(
            r#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description xmlns:GCamera="http://ns.google.com/photos/1.0/camera/" GCamera:MicroVideo="1"
 GCamera:MicroVideoOffset="{offset}"/></rdf:RDF></x:xmpmeta>"#
        )
    };
    let build = |xmp: &str, tail: &[u8]| [&jpg[..2], &xmp_app1(xmp), &jpg[2..], tail].concat();
    // The offset counts from the end: 0 points past the end.
    std::fs::write(a.dir.join("past_end.jpg"), build(&micro("0"), &mp4)).unwrap();
    std::fs::write(a.dir.join("too_long.jpg"), build(&pixel_xmp(100_000_000), &mp4)).unwrap();
    // The length is one byte off: no `ftyp` there.
    std::fs::write(a.dir.join("off_by_one.jpg"), build(&pixel_xmp(mp4.len() as u64 - 1), &mp4)).unwrap();
    std::fs::write(a.dir.join("no_length.jpg"), build(&micro("many"), &mp4)).unwrap();
    let before = snapshot(&a.dir);
    a.lib.index().add_root(&a.dir, &no_progress).unwrap();
    a.read_photo_facts();
    for (name, why) in [
        ("past_end.jpg", "motion photo's video offset points past the end"),
        ("too_long.jpg", "motion photo's video offset points before the start"),
        ("off_by_one.jpg", "motion photo's video does not start an MP4"),
        ("no_length.jpg", "motion photo's metadata names no video length"),
    ] {
        let item = a.item(name);
        assert_eq!(item.motion, None, "{name}");
        assert_eq!(a.lib.catalog().motion_source(item.id).unwrap(), None, "{name}");
        let note = a.lib.catalog().media_by_id(item.id).unwrap().motion_note.unwrap_or_default();
        assert!(note.starts_with(why), "{name}: {note}");
    }
    assert_eq!(snapshot(&a.dir), before);
}
