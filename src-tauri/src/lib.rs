//! Keepsake's desktop shell: wires the library and engine to the window. No business
//! logic lives here; commands are thin calls into `keepsake-library`, images and videos
//! reach the web view through the `keepsake://` protocol, and library events are
//! forwarded as the `library` event.

mod commands;
mod events;
mod preview;
mod protocol;
mod services;
mod state;

use tauri::Manager;

/// Starts the app: logging, state (data directory + library), protocol, commands,
/// background services, then the window.
pub fn run() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("KEEPSAKE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();

    let result = tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .register_asynchronous_uri_scheme_protocol(protocol::SCHEME, |ctx, request, responder| {
            let app = ctx.app_handle().clone();
            tauri::async_runtime::spawn_blocking(move || responder.respond(protocol::handle(&app, &request)));
        })
        .setup(|app| {
            let state = state::AppState::open()?;
            app.manage(state);
            services::start(app.handle());
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::system::app_info,
            commands::albums::list_albums,
            commands::albums::add_album,
            commands::albums::remove_album,
            commands::media::query_media,
            commands::media::media_detail,
            commands::covers::set_cover,
            commands::covers::reset_cover,
            commands::queue::queue_progress,
            commands::queue::set_queue_paused,
            commands::slideshow::export_slideshow,
        ])
        .build(tauri::generate_context!());
    let app = match result {
        Ok(app) => app,
        Err(err) => {
            eprintln!("keepsake-app: {err}");
            std::process::exit(1);
        }
    };
    app.run(|handle, event| {
        if let tauri::RunEvent::Exit = event {
            if let Some(state) = handle.try_state::<state::AppState>() {
                state.stop.store(true, std::sync::atomic::Ordering::Relaxed);
                if let Ok(mut w) = state.watcher.lock() {
                    w.take();
                }
            }
        }
    });
}
