//! The page's TypeScript types, generated from the Rust types the commands and the
//! `library` event send it (and the ones the page sends back), so `ui/src/lib/api.ts`
//! cannot drift from what really crosses: a field renamed, made optional or given a new
//! enum value here changes the generated file, and svelte-check then finds every page
//! that assumed the old shape.
//!
//! One file, `ui/src/lib/types.gen.ts`, committed so the page builds without Rust.
//! `make types` rewrites it (this test with `KEEPSAKE_WRITE_TYPES=1`); otherwise the test
//! fails when the committed file differs from what the Rust types generate, and
//! `make lint` runs it. It lives in the app's crate because that is the only crate that
//! sees every type that crosses (the library's and the commands' own).
//!
//! Large integers (`i64` ids and unix seconds, `u64` counts and sizes) are `number` on
//! the page, as JSON gives them: none comes near 2^53.

use std::path::PathBuf;

use keepsake_library::model::FailureKind;
use keepsake_library::protocol::{AssetReport, AssetStatus, FfmpegVersions, RuntimeReport, SlideshowFormat};
use keepsake_library::{
    Cover, CoverChoice, CoverKind, CurvePoint, DateSection, DateSource, ErrorCode, Event, Frame, LibraryEvent,
    MediaDetail, MediaItem, MediaKind, MediaQuery, MediaState, Memory, MemoryKind, MotionKind, QueueProgress, Reasons,
    RejectReason, SectionSize, SortOrder, Storage, MAX_EVENT_NAME, SMALL_TILE_SIDE,
};
use ts_rs::{Config, TS};

use super::albums::Album;
use super::media::MediaPage;
use super::system::AppInfo;
use super::CommandError;
use crate::events::ShellEvent;

/// Where the generated file lives, from the repository root.
const GENERATED: &str = "ui/src/lib/types.gen.ts";

const HEADER: &str = "\
// Generated from the Rust types that cross to the page (src-tauri/src/commands/contract.rs);
// do not edit. Regenerate with `make types`; `make lint` fails when this file is stale.
// Doc comments are the Rust ones.
";

/// The file's text: every declaration, then the shared constants.
fn generate() -> String {
    let cfg = Config::new().with_large_int("number");
    let mut file = Declarations { cfg, text: String::from(HEADER), declared: Vec::new(), used: Vec::new() };
    // In the order a reader of api.ts meets them.
    file.add::<ErrorCode>();
    file.add::<CommandError>();
    file.add::<AssetStatus>();
    file.add::<AssetReport>();
    file.add::<FfmpegVersions>();
    file.add::<RuntimeReport>();
    file.add::<AppInfo>();
    file.add::<Storage>();
    file.add::<Album>();
    file.add::<MediaKind>();
    file.add::<MediaState>();
    file.add::<CoverKind>();
    file.add::<SortOrder>();
    file.add::<MediaQuery>();
    file.add::<MotionKind>();
    file.add::<MediaItem>();
    file.add::<MediaPage>();
    file.add::<Reasons>();
    file.add::<Frame>();
    file.add::<RejectReason>();
    file.add::<CurvePoint>();
    file.add::<Cover>();
    file.add::<DateSource>();
    file.add::<MediaDetail>();
    file.add::<CoverChoice>();
    file.add::<QueueProgress>();
    file.add::<FailureKind>();
    file.add::<LibraryEvent>();
    file.add::<ShellEvent>();
    file.add::<SlideshowFormat>();
    file.add::<DateSection>();
    file.add::<SectionSize>();
    file.add::<Event>();
    file.add::<MemoryKind>();
    file.add::<Memory>();

    let missing: Vec<&String> = file.used.iter().filter(|name| !file.declared.contains(name)).collect();
    assert!(missing.is_empty(), "types used on the page but not declared in {GENERATED}: {missing:?}");

    let mut text = file.text;
    text.push_str("\n// ---- constants ----\n\n");
    constant(
        &mut text,
        "Short side of the small grid copies (`small/…` URLs; the library's `SMALL_TILE_SIDE`).",
        "SMALL_TILE_SIDE",
        SMALL_TILE_SIDE,
    );
    constant(&mut text, "The longest event name the library stores, in characters.", "MAX_EVENT_NAME", MAX_EVENT_NAME);
    text
}

struct Declarations {
    cfg: Config,
    text: String,
    /// TypeScript names declared so far.
    declared: Vec<String>,
    /// TypeScript names the declarations refer to.
    used: Vec<String>,
}

impl Declarations {
    fn add<T: TS + 'static>(&mut self) {
        self.text.push('\n');
        if let Some(docs) = T::docs() {
            self.text.push_str(&docs);
        }
        self.text.push_str("export ");
        self.text.push_str(&T::decl(&self.cfg));
        self.text.push('\n');
        self.declared.push(T::ident(&self.cfg));
        self.used.extend(T::dependencies(&self.cfg).into_iter().map(|d| d.ts_name));
    }
}

fn constant(text: &mut String, doc: &str, name: &str, value: impl std::fmt::Display) {
    text.push_str(&format!("/** {doc} */\nexport const {name} = {value};\n"));
}

fn generated_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join(GENERATED)
}

/// The committed file is what the Rust types generate (`make types` rewrites it).
#[test]
fn page_types_are_current() {
    let text = generate();
    let path = generated_path();
    if std::env::var_os("KEEPSAKE_WRITE_TYPES").is_some() {
        std::fs::write(&path, &text).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != text {
        let (line, (ours, theirs)) = text
            .lines()
            .chain(std::iter::repeat(""))
            .zip(committed.lines().chain(std::iter::repeat("")))
            .enumerate()
            .find(|(_, (a, b))| a != b)
            .unwrap_or((0, ("", "")));
        panic!(
            "{GENERATED} is stale: the Rust types changed; run `make types` and commit it.\n\
             first difference, line {}:\n  generated: {ours}\n  committed: {theirs}",
            line + 1
        );
    }
}

/// What the page relies on, checked in the generated text itself (a ts-rs upgrade that
/// changed how serde attributes are read would change these).
#[test]
fn the_generated_types_say_what_serde_sends() {
    let text = generate();
    let has = |want: &str| assert!(text.contains(want), "{GENERATED} lacks {want:?}:\n{text}");
    // i64 and u64 as number, PathBuf as string, Option as `| null`.
    has("id: number");
    has("path: string");
    has("error: string | null");
    // #[serde(default)] fields older writers leave out: optional.
    has("motion?: MotionKind | null");
    // rename_all, and the renamed DOM-clashing Event.
    has(r#"export type SortOrder = "taken_desc" | "taken_asc" | "name";"#);
    has("export type AlbumEvent = ");
    has(r#"export type ExportFormat = "mp4" | "webp";"#);
    // Internally tagged events, the newtype variant's fields flattened in.
    has(r#"{ "type": "media_added", id: number, path: string, }"#);
    has(r#"{ "type": "progress" } & QueueProgress"#);
    // Externally tagged cover choice.
    has(r#"{ "pick": number }"#);
    // The curve and reasons are typed, not `unknown`.
    has("curve: Array<CurvePoint>");
    has("sharpness?: number");
    has(&format!("export const SMALL_TILE_SIDE = {SMALL_TILE_SIDE};"));
}
