//! The app's allocator setting (`return_large_blocks_when_freed`), in a process of its
//! own: a large block freed goes back to the system, the second time too.

/// Resident bytes of this process.
fn resident() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: usize = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn a_freed_frame_goes_back_to_the_system_every_time() {
    keepsake_library::return_large_blocks_when_freed();
    // A 4K RGB frame. Without the setting, glibc maps the first one on its own and
    // then raises its bar to that size: the next ones come from the heap and stay.
    const FRAME: usize = 3840 * 2160 * 3;
    for round in 0..4 {
        let before = resident();
        let frame = std::hint::black_box(vec![round as u8 + 1; FRAME]);
        assert!(resident() >= before + FRAME / 2, "round {round}: the frame was written");
        drop(frame);
        let after = resident();
        assert!(
            after < before + FRAME / 4,
            "round {round}: {} MiB still resident after the frame was freed",
            (after - before) >> 20
        );
    }
}
