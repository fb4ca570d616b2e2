//! Keepsake's desktop shell: wires the library and engine to the window. No business
//! logic lives here; commands are thin calls into `keepsake-library`/`keepsake-engine`.

mod commands;
mod state;

use tauri::Manager;

/// Starts the app: logging, state (data directory), commands, then the window.
pub fn run() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("KEEPSAKE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();

    let result = tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .setup(|app| {
            let state = state::AppState::open()?;
            app.manage(state);
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![commands::system::app_info])
        .run(tauri::generate_context!());
    if let Err(err) = result {
        eprintln!("keepsake-app: {err}");
        std::process::exit(1);
    }
}
