//! `keepsake`: Keepsake's engine and library, headless.
//!
//! Each area owns a module with its own subcommands, flattened into one command line:
//! `doctor` (this machine's set-up), `engine_cmd` (thumbs, preview, worker) and
//! `library_cmd` (add, scan, analyze, watch, ls, cover, jobs, ...).

mod doctor;
mod engine_cmd;
mod library_cmd;
mod photo;
mod worker;
mod worker_engine;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Keepsake: every video in your family album gets a cover worth looking at.
#[derive(Debug, Parser)]
#[command(name = "keepsake", version, about, long_about = None)]
struct Cli {
    /// More log output (repeat for more); KEEPSAKE_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check FFmpeg, ONNX Runtime, the models and the data directory.
    Doctor(doctor::DoctorArgs),
    #[command(flatten)]
    Engine(engine_cmd::EngineCommand),
    #[command(flatten)]
    Library(library_cmd::LibraryCommand),
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("KEEPSAKE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    let result = match cli.command {
        Command::Doctor(args) => doctor::run(args),
        Command::Engine(cmd) => engine_cmd::run(cmd),
        Command::Library(cmd) => library_cmd::run(cmd),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("keepsake: {err:#}");
            ExitCode::FAILURE
        }
    }
}
