//! Content fingerprints that recognise a moved or renamed file without reading it all:
//! the size plus a hash of a few sampled blocks (start, middle, end). Two different
//! videos of the same size differ in those blocks in practice; a full read of a
//! 4 GB video for every move would be far too slow.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use sha2::{Digest, Sha256};

/// Bytes read at each sample point.
const BLOCK: u64 = 64 * 1024;

/// `"<size>:<sha256 of sampled blocks>"` for the file at `path`: a regular file (not a
/// link, a named pipe or a device: see [`crate::util::open_regular`]), of which at
/// most three blocks are read.
pub fn fingerprint(path: &Path) -> std::io::Result<String> {
    let mut file: File = crate::util::open_regular(path, false)?;
    let size = file.metadata()?.len();
    let mut hasher = Sha256::new();
    hasher.update(size.to_le_bytes());
    // Small files are hashed whole; larger ones at three sample points.
    let samples: Vec<(u64, u64)> = if size <= 3 * BLOCK {
        vec![(0, size)]
    } else {
        vec![(0, BLOCK), (size / 2 - BLOCK / 2, BLOCK), (size - BLOCK, BLOCK)]
    };
    let mut buf = Vec::with_capacity((3 * BLOCK) as usize);
    for (off, len) in samples {
        file.seek(SeekFrom::Start(off))?;
        buf.clear();
        (&mut file).take(len).read_to_end(&mut buf)?;
        hasher.update(&buf);
    }
    Ok(format!("{size}:{}", hex::encode(hasher.finalize())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_content_same_fingerprint_and_a_changed_block_differs() {
        let dir = tempfile::tempdir().unwrap();
        let data: Vec<u8> = (0..1_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let a = dir.path().join("a.mp4");
        let b = dir.path().join("sub-b.mov");
        std::fs::write(&a, &data).unwrap();
        std::fs::write(&b, &data).unwrap();
        assert_eq!(fingerprint(&a).unwrap(), fingerprint(&b).unwrap());
        let mut changed = data.clone();
        changed[data.len() - 10] ^= 0xff; // inside the last sampled block
        std::fs::write(&b, &changed).unwrap();
        assert_ne!(fingerprint(&a).unwrap(), fingerprint(&b).unwrap());
        let small = dir.path().join("s.jpg");
        std::fs::write(&small, b"tiny").unwrap();
        assert!(fingerprint(&small).unwrap().starts_with("4:"));
    }
}
