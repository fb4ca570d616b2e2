//! Keepsake's desktop shell: wires the library and engine to the window. No business
//! logic lives here; commands are thin calls into `keepsake-library`, images and videos
//! reach the web view through the `keepsake://` protocol, and library events are
//! forwarded as the `library` event.

mod commands;
mod events;
mod protocol;
#[cfg(target_os = "linux")]
mod rendering;
mod services;
mod state;
mod video_server;

use tauri::Manager;

/// A one-page app needs no back/forward page cache and no cache of images no page shows:
/// WebKit's "document viewer" model drops them, where the default browser model keeps up
/// to 64 MB of dead images after a scroll through thousands of tiles
/// (docs/bench-grid.md). Tiles stay cached on disk in the data directory.
fn tune_web_view(app: &tauri::App) {
    #[cfg(target_os = "linux")]
    if let Some(window) = app.get_webview_window("main") {
        let tuned = window.with_webview(|webview| {
            use webkit2gtk::{WebContextExt, WebViewExt};
            if let Some(context) = webview.inner().context() {
                context.set_cache_model(webkit2gtk::CacheModel::DocumentViewer);
            }
        });
        if let Err(e) = tuned {
            tracing::debug!(error = %e, "could not tune the web view");
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = app;
}

/// Starts the app: logging, state (data directory + library), protocol, commands,
/// background services, then the window.
pub fn run() {
    let launched = std::time::Instant::now();
    // Before any thread: the frames and photos the app decodes go back to the system
    // when freed instead of staying in the heap (docs/bench-grid.md).
    keepsake_library::return_large_blocks_when_freed();
    #[cfg(target_os = "linux")]
    let rendering = rendering::choose();
    let filter = tracing_subscriber::EnvFilter::try_from_env("KEEPSAKE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();

    #[cfg(target_os = "linux")]
    if std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none() {
        eprintln!("keepsake-app: no display to open a window on (neither DISPLAY nor WAYLAND_DISPLAY is set); the `keepsake` command works without one");
        std::process::exit(1);
    }
    #[cfg(target_os = "linux")]
    tracing::info!(?rendering, "web view rendering");
    let result = tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .register_asynchronous_uri_scheme_protocol(protocol::SCHEME, |ctx, request, responder| {
            let app = ctx.app_handle().clone();
            protocol::submit(Box::new(move || responder.respond(protocol::handle(&app, &request))));
        })
        .setup(move |app| {
            let state = state::AppState::open(launched)?;
            tune_web_view(app);
            app.manage(state);
            app.manage(video_server::Lazy::default());
            services::start(app.handle());
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::system::app_info,
            commands::system::window_ready,
            commands::albums::list_albums,
            commands::albums::add_album,
            commands::albums::remove_album,
            commands::media::query_media,
            commands::media::media_detail,
            commands::media::motion_clip,
            commands::media::video_base,
            commands::browse::date_sections,
            commands::browse::list_events,
            commands::browse::rename_event,
            commands::browse::list_memories,
            commands::covers::set_cover,
            commands::covers::choose_cover_image,
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
