//! The app's own process stays light and safe: FFmpeg (about 60 shared libraries, 13 MiB
//! of the window process's memory), ONNX Runtime and libheif (C decoders of HEVC and AV1
//! photos, fed files from anywhere) are loaded only by `keepsake worker` processes. A dependency that pulled them back in would fail here, not in a memory
//! benchmark weeks later.

use std::process::Command;

#[test]
fn the_app_links_neither_ffmpeg_nor_onnx_runtime_nor_libheif() {
    let exe = env!("CARGO_BIN_EXE_keepsake-app");
    let out = Command::new("readelf").args(["--dynamic", "--wide", exe]).output().expect("readelf (binutils) runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    let needed: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("(NEEDED)"))
        .filter_map(|l| l.split('[').nth(1).and_then(|rest| rest.split(']').next()))
        .collect();
    assert!(needed.iter().any(|l| l.starts_with("libwebkit2gtk")), "read the app's own libraries: {needed:?}");
    let heavy: Vec<&&str> = needed
        .iter()
        .filter(|l| {
            [
                "libavcodec",
                "libavformat",
                "libavutil",
                "libswscale",
                "libswresample",
                "libonnxruntime",
                "libheif",
                "libde265",
            ]
            .iter()
            .any(|h| l.starts_with(h))
        })
        .collect();
    assert!(heavy.is_empty(), "the app links {heavy:?}; that work belongs in `keepsake worker`");
}
