//! Library subcommands: `add`, `remove`, `scan`, `analyze`, `watch`, `status`, `ls`,
//! `thumbnails`, `cover`, `jobs`. Each opens the library in the data directory (KEEPSAKE_DATA_DIR
//! overrides it), does one thing and prints a short human summary (or JSON).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use keepsake_library::{
    Analyzer, AnalyzerConfig, CoverChoice, ImageKey, Library, LibraryEvent, MediaDetail, MediaKind, MediaQuery,
    MediaState, QueueProgress, ScanProgress, ScanReport, SortOrder, Watcher, WatcherConfig,
};
use serde::Serialize;

#[derive(Debug, Subcommand)]
pub enum LibraryCommand {
    /// Register an album folder and index it; its videos are queued for analysis.
    Add { dir: PathBuf },
    /// Forget an album folder (its files are never touched).
    Remove { dir: PathBuf },
    /// Reconcile every album folder with the disk (new, changed, moved, deleted, unplugged).
    Scan,
    /// Analyse queued videos with worker processes until the queue is empty.
    Analyze,
    /// Watch the album folders and analyse new videos until Ctrl-C.
    Watch,
    /// Album folders, counts and the queue.
    Status,
    /// List indexed media.
    Ls(LsArgs),
    /// Make every photo's grid copy, as the app does on first view; prints how many were
    /// made and which failed (an unreadable photo is reported, not an error).
    Thumbnails(ThumbnailsArgs),
    /// Choose or reset the cover of a video.
    #[command(subcommand)]
    Cover(CoverCommand),
    /// The analysis jobs.
    Jobs(JobsArgs),
    /// Events (runs of pictures without a long pause), newest first.
    Events(EventsArgs),
    /// Today's memories and the best of each past year.
    Memories(MemoriesArgs),
    /// Run as an engine worker (JSON lines on stdin/stdout); used by `analyze` and the app.
    Worker,
}

#[derive(Debug, Args)]
pub struct LsArgs {
    /// JSON: an array of media with their frames and cover.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct EventsArgs {
    /// JSON: an array of events with their counts and cover.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct MemoriesArgs {
    /// JSON: an array of memories with their items.
    #[arg(long)]
    json: bool,
    /// The moment to look back from, in unix seconds (default: now).
    #[arg(long)]
    now: Option<i64>,
}

#[derive(Debug, Args)]
pub struct ThumbnailsArgs {
    /// JSON: one object per photo with its thumbnail or the reason it has none.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Subcommand)]
pub enum CoverCommand {
    /// Set the cover: one of the picks, a moment, or an image of your own.
    Set {
        file: PathBuf,
        #[arg(long, group = "choice")]
        pick: Option<u32>,
        #[arg(long, group = "choice")]
        time: Option<f64>,
        #[arg(long, group = "choice")]
        image: Option<PathBuf>,
    },
    /// Go back to the automatic cover.
    Reset { file: PathBuf },
}

#[derive(Debug, Args)]
pub struct JobsArgs {
    /// Only failed jobs.
    #[arg(long)]
    failed: bool,
    /// Queue failed jobs again.
    #[arg(long)]
    retry: bool,
}

fn open() -> Result<Library> {
    let dir = keepsake_library::paths::data_dir()?;
    Library::open(&dir).with_context(|| format!("cannot open the library in {}", dir.display()))
}

pub fn run(cmd: LibraryCommand) -> Result<ExitCode> {
    match cmd {
        LibraryCommand::Worker => return crate::worker::run(),
        LibraryCommand::Add { dir } => add(&dir)?,
        LibraryCommand::Remove { dir } => remove(&dir)?,
        LibraryCommand::Scan => {
            let lib = open()?;
            let bar = scan_bar();
            let report = lib.index().scan_all(&|p| scan_progress(&bar, p))?;
            bar.finish_and_clear();
            print_report(&report);
        }
        LibraryCommand::Analyze => analyze()?,
        LibraryCommand::Watch => watch()?,
        LibraryCommand::Status => status()?,
        LibraryCommand::Ls(args) => ls(args)?,
        LibraryCommand::Thumbnails(args) => thumbnails(args)?,
        LibraryCommand::Cover(c) => cover(c)?,
        LibraryCommand::Jobs(args) => jobs(args)?,
        LibraryCommand::Events(args) => events(args)?,
        LibraryCommand::Memories(args) => memories(args)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Scanning's spinner on stderr. indicatif redraws it in place on a terminal and hides it
/// elsewhere (a log file gets the report only), as the analysis bar below.
fn scan_bar() -> ProgressBar {
    let style = ProgressStyle::with_template("{spinner} {msg}").unwrap_or_else(|_| ProgressStyle::default_spinner());
    ProgressBar::new_spinner().with_style(style)
}

fn scan_progress(bar: &ProgressBar, p: ScanProgress) {
    bar.set_message(format!("scanning {}: {} files", p.root.display(), p.files_seen));
    bar.tick();
}

fn print_report(r: &ScanReport) {
    println!(
        "{} added, {} changed, {} moved, {} removed, {} missing, {} restored, {} unchanged",
        r.added, r.changed, r.moved, r.removed, r.missing, r.restored, r.unchanged
    );
    for (path, why) in &r.unreadable {
        println!("could not read {}: {why}", path.display());
    }
    for root in &r.offline_roots {
        println!("album folder {} is not there (unplugged?); its media are marked missing", root.display());
    }
}

fn add(dir: &Path) -> Result<()> {
    let lib = open()?;
    let bar = scan_bar();
    let (root, report) = lib.index().add_root(dir, &|p| scan_progress(&bar, p))?;
    bar.finish_and_clear();
    println!("added {} ({} photos, {} videos)", root.path.display(), root.photos, root.videos);
    print_report(&report);
    Ok(())
}

fn remove(dir: &Path) -> Result<()> {
    let lib = open()?;
    let abs = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    let root = match lib.index().root_by_path(dir)? {
        Some(r) => r,
        None => lib
            .index()
            .roots()?
            .into_iter()
            .find(|r| r.path == abs)
            .with_context(|| format!("{} is not an album folder", dir.display()))?,
    };
    lib.index().remove_root(root.id)?;
    println!("removed {} from the library (no files were touched)", root.path.display());
    Ok(())
}

/// The analysis bar on stderr: drawn in place on a terminal; elsewhere (a log, a CI job)
/// indicatif hides it and each update is printed as a line instead, so the log still
/// shows how far the queue got.
fn analysis_bar() -> ProgressBar {
    let style = ProgressStyle::with_template("[{bar:30}] {pos}/{len} analysed, {msg}")
        .map(|s| s.progress_chars("## "))
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    ProgressBar::new(0).with_style(style)
}

fn show_progress(bar: &ProgressBar, p: &QueueProgress) {
    let eta = p.eta_s.map(|s| format!(", ETA {s:.0} s")).unwrap_or_default();
    let current = p.running.first().map(|c| format!(" — {}", c.display())).unwrap_or_default();
    let message = format!("{} failed{eta}{current}", p.failed);
    bar.set_length(p.total);
    bar.set_position(p.done + p.failed);
    if bar.is_hidden() {
        eprintln!("{}/{} analysed, {message}", p.done + p.failed, p.total);
    }
    bar.set_message(message);
}

fn analyze() -> Result<()> {
    let lib = open()?;
    let config = AnalyzerConfig::from_env();
    if lib.queue().is_paused()? {
        println!("the queue is paused; resume it from the app (or `keepsake jobs --retry` for failed jobs)");
    }
    let analyzer = Analyzer::new(lib.clone(), config);
    let bar = analysis_bar();
    let summary = analyzer.run_until_empty(&|ev| match ev {
        LibraryEvent::Progress(p) => show_progress(&bar, &p),
        LibraryEvent::JobFinished { id, ok: false, error, .. } => {
            let path = lib.catalog().media_by_id(id).map(|d| d.item.path.display().to_string()).unwrap_or_default();
            bar.suspend(|| eprintln!("failed: {path}: {}", error.unwrap_or_default()));
        }
        LibraryEvent::Warning { message } => bar.suspend(|| eprintln!("warning: {message}")),
        _ => {}
    })?;
    bar.finish_and_clear();
    println!("{} analysed, {} failed", summary.analysed, summary.failed);
    Ok(())
}

fn print_event(lib: &Library, ev: &LibraryEvent) {
    let name = |id| {
        lib.catalog().media_by_id(id).map(|d| d.item.path.display().to_string()).unwrap_or_else(|_| format!("#{id}"))
    };
    let line = match ev {
        LibraryEvent::MediaAdded { path, .. } => format!("added {}", path.display()),
        LibraryEvent::MediaChanged { path, .. } => format!("changed {}", path.display()),
        LibraryEvent::MediaRemoved { path, .. } => format!("removed {}", path.display()),
        LibraryEvent::MediaMoved { from, to, .. } => format!("moved {} -> {}", from.display(), to.display()),
        LibraryEvent::JobFinished { id, ok: true, .. } => format!("analysed {}", name(*id)),
        LibraryEvent::JobFinished { id, ok: false, error, .. } => {
            format!("failed {}: {}", name(*id), error.clone().unwrap_or_default())
        }
        LibraryEvent::Warning { message } => format!("warning: {message}"),
        LibraryEvent::CoverChanged { .. } | LibraryEvent::Progress(_) | LibraryEvent::DatesRead { .. } => return,
    };
    println!("{line}");
    let _ = std::io::stdout().flush();
}

fn watch() -> Result<()> {
    let lib = open()?;
    let stop = Arc::new(AtomicBool::new(false));
    let s = stop.clone();
    ctrlc::set_handler(move || s.store(true, Ordering::Relaxed)).context("cannot install the Ctrl-C handler")?;
    let bar = scan_bar();
    let report = lib.index().scan_all(&|p| scan_progress(&bar, p))?;
    bar.finish_and_clear();
    print_report(&report);
    let lib2 = lib.clone();
    // KEEPSAKE_POLL_SECONDS forces polling; network shares are polled anyway.
    let watcher = Watcher::start(lib.clone(), WatcherConfig::from_env(), move |ev| print_event(&lib2, &ev))?;
    let roots = lib.index().roots()?;
    println!("watching {} album folder(s); Ctrl-C to stop", roots.len());
    for root in &roots {
        if let Some(every) = root.rescan_every_s {
            let on = if root.filesystem.is_empty() { String::new() } else { format!(" ({})", root.filesystem) };
            println!("  {}{on}: rescanned every {every} s", root.path.display());
        }
    }
    let _ = std::io::stdout().flush();
    let analyzer = Analyzer::new(lib.clone(), AnalyzerConfig::from_env());
    analyzer.run_forever(&stop, &|ev| print_event(&lib, &ev))?;
    watcher.stop();
    println!("stopped");
    Ok(())
}

fn status() -> Result<()> {
    let lib = open()?;
    println!("data directory: {}", lib.data_dir().display());
    let roots = lib.index().roots()?;
    if roots.is_empty() {
        println!("no album folders yet: `keepsake add DIR`");
    }
    for r in &roots {
        let online = if r.online { "" } else { "  [not there: unplugged?]" };
        println!("{}: {} photos, {} videos{online}", r.path.display(), r.photos, r.videos);
    }
    let all = lib.catalog().media(&MediaQuery::default())?;
    let count = |s: MediaState| all.iter().filter(|m| m.state == s).count();
    println!(
        "media: {} ready, {} pending, {} failed, {} missing",
        count(MediaState::Ready),
        count(MediaState::Pending),
        count(MediaState::Failed),
        count(MediaState::Missing)
    );
    let p = lib.queue().progress()?;
    println!(
        "queue: {} done, {} queued, {} running, {} failed{}",
        p.done,
        p.queued,
        p.running.len(),
        p.failed,
        if p.paused { " (paused)" } else { "" }
    );
    Ok(())
}

/// The `ls --json` shape (stable contract for tests and scripts).
#[derive(Serialize)]
struct LsEntry<'a> {
    #[serde(flatten)]
    detail: &'a MediaDetail,
}

fn ls(args: LsArgs) -> Result<()> {
    let lib = open()?;
    let items = lib.catalog().media(&MediaQuery { sort: SortOrder::Name, ..Default::default() })?;
    let mut details = Vec::with_capacity(items.len());
    for item in items {
        details.push(lib.catalog().media_by_id(item.id)?);
    }
    if args.json {
        let entries: Vec<LsEntry> = details.iter().map(|d| LsEntry { detail: d }).collect();
        println!("{}", serde_json::to_string_pretty(&entries)?);
        return Ok(());
    }
    for d in &details {
        let state = serde_json::to_value(d.item.state)?.as_str().unwrap_or("").to_owned();
        let cover = serde_json::to_value(d.cover.kind)?.as_str().unwrap_or("").to_owned();
        let err = d.item.error.as_deref().map(|e| format!("  ({e})")).unwrap_or_default();
        println!(
            "{state:8} {:5} {} frames  cover={cover:5}  {}{err}",
            if d.item.kind == MediaKind::Video { "video" } else { "photo" },
            d.frames.len(),
            d.item.path.display()
        );
    }
    Ok(())
}

/// One photo in `thumbnails --json`.
#[derive(Serialize)]
struct ThumbnailEntry {
    id: i64,
    path: PathBuf,
    /// The grid copy, when one was made (or was there already).
    thumbnail: Option<PathBuf>,
    /// Why the photo has none: it is unreadable (and marked `failed`).
    failed: Option<String>,
    /// Why making it went wrong for a reason that is not the photo's own.
    error: Option<String>,
}

/// Renders each photo's grid thumbnail and its small copy through
/// [`keepsake_library::ImageStore::image_path`], the path the app's `keepsake://`
/// protocol takes. Unreadable photos are marked failed by the library and listed here;
/// any other error makes the command fail at the end.
fn thumbnails(args: ThumbnailsArgs) -> Result<()> {
    let lib = open()?;
    let photos = lib.catalog().media(&MediaQuery {
        kind: Some(MediaKind::Photo),
        sort: SortOrder::Name,
        ..Default::default()
    })?;
    let mut entries = Vec::with_capacity(photos.len());
    for item in photos {
        let mut entry =
            ThumbnailEntry { id: item.id, path: item.path.clone(), thumbnail: None, failed: None, error: None };
        match item.state {
            MediaState::Missing => continue,
            MediaState::Failed => entry.failed = Some(item.error.unwrap_or_else(|| "unreadable photo".into())),
            _ => match lib.images().image_path(&ImageKey::Photo(item.id)) {
                Ok(path) => match lib.images().image_path(&ImageKey::Small(Box::new(ImageKey::Photo(item.id)))) {
                    Ok(_) => entry.thumbnail = Some(path),
                    Err(e) => entry.error = Some(format!("small copy: {e}")),
                },
                // The library marks a photo it cannot read `failed`, with the reason.
                Err(e) => match lib.catalog().media_by_id(item.id) {
                    Ok(d) if d.item.state == MediaState::Failed => {
                        entry.failed = Some(d.item.error.unwrap_or_else(|| e.to_string()))
                    }
                    _ => entry.error = Some(e.to_string()),
                },
            },
        }
        entries.push(entry);
    }
    let made = entries.iter().filter(|e| e.thumbnail.is_some()).count();
    let failed = entries.iter().filter(|e| e.failed.is_some()).count();
    let errors = entries.iter().filter(|e| e.error.is_some()).count();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&entries)?);
    } else {
        // Reasons mostly name the file already.
        let about = |e: &ThumbnailEntry, why: &str| {
            let path = e.path.display().to_string();
            if why.starts_with(&path) {
                why.to_owned()
            } else {
                format!("{path}: {why}")
            }
        };
        for e in &entries {
            if let Some(why) = &e.failed {
                println!("unreadable {}", about(e, why));
            }
            if let Some(why) = &e.error {
                println!("error {}", about(e, why));
            }
        }
        println!("{made} thumbnails made, {failed} photos unreadable, {errors} errors");
    }
    if errors > 0 {
        bail!("{errors} photo thumbnail(s) could not be made for a reason other than the photo");
    }
    Ok(())
}

fn cover(cmd: CoverCommand) -> Result<()> {
    let lib = open()?;
    match cmd {
        CoverCommand::Set { file, pick, time, image } => {
            let choice = match (pick, time, image) {
                (Some(n), None, None) => CoverChoice::Pick(n),
                (None, Some(t), None) => CoverChoice::Time(t),
                (None, None, Some(img)) => CoverChoice::Image(img),
                _ => bail!("give exactly one of --pick N, --time SECONDS or --image IMG"),
            };
            let detail = lib.catalog().media_by_path(&file)?;
            let cover = lib.covers().set_cover(detail.item.id, choice)?;
            let path = cover.path.map(|p| p.display().to_string()).unwrap_or_else(|| "(not rendered yet)".into());
            println!("cover of {} set: {}", detail.item.path.display(), path);
        }
        CoverCommand::Reset { file } => {
            let detail = lib.catalog().media_by_path(&file)?;
            lib.covers().reset_cover(detail.item.id)?;
            println!("cover of {} is automatic again", detail.item.path.display());
        }
    }
    Ok(())
}

fn jobs(args: JobsArgs) -> Result<()> {
    let lib = open()?;
    if args.retry {
        let n = lib.queue().retry_failed()?;
        println!("{n} job(s) queued again; run `keepsake analyze`");
        return Ok(());
    }
    for j in lib.queue().list(args.failed)? {
        let err = match (j.error, j.error_kind) {
            (Some(e), Some(kind)) => format!("  [{}] {e}", kind.as_str()),
            (Some(e), None) => format!("  {e}"),
            (None, _) => String::new(),
        };
        println!("{:11} {:9} attempts={} {}{err}", j.kind.as_str(), j.state.as_str(), j.attempts, j.path.display());
    }
    Ok(())
}

fn events(args: EventsArgs) -> Result<()> {
    let lib = open()?;
    let events = lib.catalog().events(None)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&events)?);
        return Ok(());
    }
    for e in &events {
        let cover = e.cover.as_ref().map(|c| c.path.display().to_string()).unwrap_or_default();
        println!("{:>6}  {:<32} {:>5} photos {:>4} videos  {cover}", e.id, e.name, e.photos, e.videos);
    }
    Ok(())
}

fn memories(args: MemoriesArgs) -> Result<()> {
    let lib = open()?;
    let now = match args.now {
        Some(t) => t,
        None => std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs() as i64,
    };
    let memories = lib.catalog().memories(now)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&memories)?);
        return Ok(());
    }
    for m in &memories {
        println!("{}: {} ({} to play)", m.title, m.subtitle, m.items.len());
    }
    Ok(())
}
