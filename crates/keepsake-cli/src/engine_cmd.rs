//! The engine's subcommands: `thumbs` (best frames of a video) and `preview` (animated
//! loop). Output follows the CLI contract in docs/architecture.md; `make eval` and `make bench` parse it.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::anyhow;
use keepsake_engine::{AnalyzeOptions, Engine, EngineConfig, EngineError, PreviewOptions, Selection};

/// The engine's subcommands, flattened into `keepsake`'s command line.
#[derive(Debug, clap::Subcommand)]
pub enum EngineCommand {
    /// Pick the best frames of a video and write them as JPEGs.
    Thumbs(ThumbsArgs),
    /// Write a short looping animation (.gif) of a video's best moments.
    Preview(PreviewArgs),
    /// Write a photo's grid copy (upright, longest side at most --max-side), as the app
    /// makes it.
    Thumbnail(ThumbnailArgs),
}

/// Options for `keepsake thumbnail`.
#[derive(Debug, clap::Args)]
pub struct ThumbnailArgs {
    /// The photo.
    photo: PathBuf,
    /// Output file (.jpg, .png or .webp).
    #[arg(long)]
    out: PathBuf,
    /// Longest side of the copy.
    #[arg(long, default_value_t = 512)]
    max_side: u32,
}

/// Options for `keepsake thumbs`.
#[derive(Debug, clap::Args)]
pub struct ThumbsArgs {
    /// The video file.
    video: PathBuf,
    /// Folder for the images (default: ./<video name>_thumbs).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Number of frames to pick.
    #[arg(long, default_value_t = 3)]
    count: usize,
    /// Print one JSON object on stdout.
    #[arg(long)]
    json: bool,
    /// Print every candidate and why each pick won.
    #[arg(long)]
    explain: bool,
    /// Also write a contact sheet PNG of all candidates.
    #[arg(long, value_name = "FILE.png")]
    sheet: Option<PathBuf>,
    /// Longest side of the written images (default: the video's size).
    #[arg(long)]
    max_side: Option<u32>,
    /// Number of candidate frames to analyse.
    #[arg(long, default_value_t = 40)]
    candidates: usize,
}

/// Options for `keepsake preview`.
#[derive(Debug, clap::Args)]
pub struct PreviewArgs {
    /// The video file.
    video: PathBuf,
    /// Output file (.gif).
    #[arg(long)]
    out: PathBuf,
    /// Longest side of the animation.
    #[arg(long, default_value_t = 320)]
    max_side: u32,
}

/// `keepsake: <file>: <reason>` — one line, no repeated cause chain.
fn one_line(e: EngineError) -> anyhow::Error {
    anyhow!("{e}")
}

pub fn run(cmd: EngineCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        EngineCommand::Thumbs(args) => thumbs(args),
        EngineCommand::Preview(args) => preview(args),
        EngineCommand::Thumbnail(args) => thumbnail(args),
    }
}

fn default_out_dir(video: &Path) -> PathBuf {
    let stem = video.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "video".into());
    PathBuf::from(format!("{stem}_thumbs"))
}

fn thumbs(args: ThumbsArgs) -> anyhow::Result<ExitCode> {
    let engine = Engine::new(EngineConfig::discover());
    let out_dir = args.out.clone().unwrap_or_else(|| default_out_dir(&args.video));
    let mut opts = AnalyzeOptions::new(out_dir);
    opts.count = args.count.max(1);
    opts.max_side = args.max_side;
    opts.candidates = args.candidates;
    let selection = engine.analyze(&args.video, &opts).map_err(one_line)?;
    if let Some(sheet) = &args.sheet {
        engine.contact_sheet(&selection, sheet).map_err(one_line)?;
    }
    if args.json {
        println!("{}", serde_json::to_string(&contract_json(&selection))?);
    } else {
        print_summary(&selection);
    }
    if args.explain {
        // With --json, stdout stays one JSON object: the table goes to stderr.
        let table = explain(&selection);
        if args.json {
            eprint!("{table}");
        } else {
            print!("{table}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The CLI contract's object, plus extra fields (codec, low_confidence, faces, curve).
fn contract_json(s: &Selection) -> serde_json::Value {
    serde_json::json!({
        "video": s.video,
        "duration": s.info.duration,
        "width": s.info.width,
        "height": s.info.height,
        "rotation": s.info.rotation,
        "codec": s.info.codec,
        "frame_rate": s.info.frame_rate,
        "created_at": s.info.created_at,
        "picture": s.info.picture,
        "frames": s.frames,
        "elapsed_ms": s.elapsed_ms,
        "low_confidence": s.low_confidence,
        "faces": s.faces,
        "curve": s.curve,
        "candidates": s.candidates,
    })
}

/// Rotation in words. The engine counts clockwise degrees to turn stored frames upright;
/// ffprobe prints the display matrix's counter-clockwise angle, so a 270° turn here is
/// ffprobe's `rotation=90`. Spelling out the direction avoids that confusion.
fn rotation_note(rotation: i32) -> String {
    match rotation.rem_euclid(360) {
        0 => String::new(),
        r => format!(", stored sideways: turned {r}° clockwise to show upright"),
    }
}

fn print_summary(s: &Selection) {
    println!(
        "{}: {:.1} s, {}x{} upright, {}{}, {} candidates, {} ms",
        s.video.display(),
        s.info.duration,
        s.info.width,
        s.info.height,
        s.info.codec,
        rotation_note(s.info.rotation),
        s.candidates.len(),
        s.elapsed_ms
    );
    let notes = s.info.picture.notes((s.info.coded_width, s.info.coded_height));
    if !notes.is_empty() {
        println!("  picture: {}", notes.join("; "));
    }
    if s.low_confidence {
        println!("  low confidence: every candidate looked poor; consider choosing a cover by hand");
    }
    if let keepsake_engine::FaceAvailability::Unavailable { reason } = &s.faces {
        println!("  faces not checked: {reason}");
    }
    for p in &s.frames {
        println!(
            "  #{} {:>8.2} s  score {:.2}  {}x{}  {}",
            p.rank,
            p.time,
            p.score,
            p.width,
            p.height,
            p.path.display()
        );
    }
}

fn explain(s: &Selection) -> String {
    use std::fmt::Write;
    let mut t = String::new();
    let p = &s.info.picture;
    let _ = writeln!(
        t,
        "picture: {:?}, primaries {}, transfer {}, matrix {}, {} range, {}, pixel aspect {}:{}",
        p.dynamic_range,
        p.primaries,
        p.transfer,
        p.matrix,
        if p.full_range { "full" } else { "video" },
        if p.interlaced { "interlaced (deinterlaced)" } else { "progressive" },
        p.pixel_aspect[0],
        p.pixel_aspect[1]
    );
    for a in &p.assumptions {
        let _ = writeln!(t, "  assumed: {a}");
    }
    let _ = writeln!(
        t,
        "{:>9} {:>5} {:>5} {:>5} {:>5} {:>5} {:>5} {:>5} {:>5} {:>5}  verdict",
        "time", "qual", "luma", "sharp", "iso", "unif", "colr", "contr", "faces", "scene"
    );
    for c in &s.candidates {
        let f = &c.features;
        let verdict = match (c.picked, c.rejected) {
            (Some(rank), None) => format!("PICK #{rank}"),
            (Some(rank), Some(r)) => format!("PICK #{rank} (least bad; {})", r.label()),
            (None, Some(r)) => format!("rejected: {}", r.label()),
            (None, None) => String::new(),
        };
        let _ = writeln!(
            t,
            "{:>9.2} {:>5.2} {:>5.2} {:>5.2} {:>5.2} {:>5.2} {:>5.2} {:>5.2} {:>5} {:>5}  {}",
            c.time,
            c.quality,
            f.luma,
            f.sharpness,
            f.isotropy,
            f.uniformity,
            f.colourfulness,
            f.contrast,
            f.faces,
            c.scene,
            verdict
        );
    }
    let _ = writeln!(t);
    for p in &s.frames {
        let _ = writeln!(t, "pick #{} at {:.2} s (score {:.2}): {}", p.rank, p.time, p.score, p.reasons.summary);
    }
    t
}

fn preview(args: PreviewArgs) -> anyhow::Result<ExitCode> {
    let engine = Engine::new(EngineConfig::discover());
    let opts = PreviewOptions { max_side: args.max_side, ..PreviewOptions::default() };
    let r = engine.preview(&args.video, &args.out, &opts).map_err(one_line)?;
    println!(
        "{}: {}x{}, {} frames from {} moments, {} bytes",
        r.path.display(),
        r.width,
        r.height,
        r.frames,
        r.moments.len(),
        r.bytes
    );
    Ok(ExitCode::SUCCESS)
}

fn thumbnail(args: ThumbnailArgs) -> anyhow::Result<ExitCode> {
    let t = crate::photo::thumbnail(&args.photo, &args.out, args.max_side).map_err(|e| anyhow!("{e}"))?;
    println!("{}: {}x{}", args.out.display(), t.width, t.height);
    Ok(ExitCode::SUCCESS)
}
