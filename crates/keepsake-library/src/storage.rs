//! Where an album folder lives: on this computer's own disks, or on a network share or
//! FUSE mount (NFS, SMB/CIFS, sshfs, 9p, Ceph, AFS…).
//!
//! Why it matters: inotify reports only changes made through this computer's kernel.
//! On a share, a photo copied in from another computer (or by the NAS itself) is never
//! seen by the watcher, so such roots are also rescanned periodically, cheaply (a walk
//! comparing size and mtime; see [`crate::Watcher`]), and the sidebar says so.
//!
//! Told by the filesystem magic number `statfs(2)` returns. FUSE says nothing about what
//! is behind it, so a FUSE mount is named from `/proc/self/mountinfo` (`fuse.sshfs`,
//! `fuse.rclone`), and `fuseblk` (ntfs-3g or exfat-fuse on a USB disk, whose every change
//! goes through this kernel) counts as local.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Local disk, or a network share / FUSE mount that other computers may change.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, Hash, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum Storage {
    #[default]
    Local,
    Network,
}

/// A folder's filesystem: its kind and its name (`ext4`, `nfs`, `cifs`, `fuse.sshfs`;
/// empty when it could not be told, e.g. the folder is not there).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filesystem {
    pub storage: Storage,
    pub name: String,
}

/// How often a root on a network share is rescanned, by default.
pub const NETWORK_POLL_EVERY: Duration = Duration::from_secs(5 * 60);

/// `KEEPSAKE_POLL_SECONDS=N`: every album is rescanned every N seconds and none is
/// watched live, as if all were shares changed from another computer (for tests, and
/// for filesystems the magic numbers do not know).
pub const POLL_ENV: &str = "KEEPSAKE_POLL_SECONDS";

/// The forced polling period from [`POLL_ENV`], if set to a positive whole number.
pub fn forced_poll() -> Option<Duration> {
    let secs: u64 = std::env::var(POLL_ENV).ok()?.trim().parse().ok()?;
    (secs > 0).then(|| Duration::from_secs(secs))
}

/// How often a root on `storage` is rescanned by the watcher (None: watched live only).
pub fn poll_every(storage: Storage) -> Option<Duration> {
    forced_poll().or(match storage {
        Storage::Network => Some(NETWORK_POLL_EVERY),
        Storage::Local => None,
    })
}

/// The kind and name of the filesystem with this `statfs` magic number. Unknown numbers
/// are local: a rescan every few minutes of a big local album would cost for nothing.
pub fn classify_magic(magic: u32) -> (Storage, &'static str) {
    use Storage::{Local, Network};
    match magic {
        0x6969 => (Network, "nfs"),
        0x517B => (Network, "smb"),
        0xFF53_4D42 => (Network, "cifs"),
        0xFE53_4D42 => (Network, "smb2"),
        0x6573_5546 => (Network, "fuse"),
        0x0102_1997 => (Network, "9p"),
        0x00C3_6400 => (Network, "ceph"),
        0x5346_414F | 0x6B41_4653 => (Network, "afs"),
        0x7375_7245 => (Network, "coda"),
        0x564C => (Network, "ncp"),
        0x0BD0_0BD0 => (Network, "lustre"),
        0x0116_1970 => (Network, "gfs2"),
        0x7461_636F => (Network, "ocfs2"),
        0xEF53 => (Local, "ext4"),
        0x0102_1994 => (Local, "tmpfs"),
        0x9123_683E => (Local, "btrfs"),
        0x5846_5342 => (Local, "xfs"),
        0x2FC1_2FC1 => (Local, "zfs"),
        0x794C_7630 => (Local, "overlay"),
        0x4D44 => (Local, "vfat"),
        0x2011_BAB0 => (Local, "exfat"),
        0x5346_544E | 0x7366_746E => (Local, "ntfs"),
        0xF2F5_2010 => (Local, "f2fs"),
        0x9660 => (Local, "iso9660"),
        0x7371_7368 => (Local, "squashfs"),
        0xF15F => (Local, "ecryptfs"),
        _ => (Local, ""),
    }
}

/// The filesystem holding `path`, asked of the system (no cache).
pub fn detect(path: &Path) -> Option<Filesystem> {
    use std::os::unix::ffi::OsStrExt;
    let c_path = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    let mut st = std::mem::MaybeUninit::<libc::statfs>::zeroed();
    // SAFETY: c_path is a NUL-terminated string and st a buffer of the right type; on
    // success the kernel has filled it.
    let st = unsafe {
        if libc::statfs(c_path.as_ptr(), st.as_mut_ptr()) != 0 {
            return None;
        }
        st.assume_init()
    };
    // The magic numbers are 32-bit; f_type's width varies with the architecture.
    let (mut storage, name) = classify_magic(st.f_type as u32);
    let mut name = name.to_owned();
    if name == "fuse" || name.is_empty() {
        if let Some(fstype) = mount_type(path) {
            if fstype == "fuseblk" {
                storage = Storage::Local;
            }
            name = fstype;
        }
    }
    Some(Filesystem { storage, name })
}

/// The type of the mount holding `path` (`fuse.sshfs`, `fuseblk`, `nfs4`), from
/// `/proc/self/mountinfo`: the longest mount point that `path` lies under.
fn mount_type(path: &Path) -> Option<String> {
    let path = std::fs::canonicalize(path).ok()?;
    let info = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    mount_type_in(&info, &path)
}

/// [`mount_type`] on the text of a mountinfo file.
fn mount_type_in(info: &str, path: &Path) -> Option<String> {
    let mut best: Option<(usize, String)> = None;
    for line in info.lines() {
        // id parent major:minor root mount_point options [optional…] - fstype source …
        let mut fields = line.split(' ');
        let Some(mount_point) = fields.nth(4) else { continue };
        let Some(fstype) = fields.skip_while(|f| *f != "-").nth(1) else { continue };
        let mount_point = unescape_octal(mount_point);
        let depth = Path::new(&mount_point).components().count();
        if path.starts_with(&mount_point) && best.as_ref().map_or(true, |(d, _)| depth >= *d) {
            best = Some((depth, fstype.to_owned()));
        }
    }
    best.map(|(_, t)| t)
}

/// mountinfo writes space, tab, newline and backslash in paths as `\040`-style octal.
fn unescape_octal(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes.get(i + 1..i + 4).filter(|d| d.iter().all(|b| (b'0'..=b'7').contains(b)));
        match (bytes[i], octal) {
            (b'\\', Some(d)) => {
                out.push((d[0] - b'0') * 64 + (d[1] - b'0') * 8 + (d[2] - b'0'));
                i += 4;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn cache() -> &'static Mutex<HashMap<PathBuf, Filesystem>> {
    static CACHE: OnceLock<Mutex<HashMap<PathBuf, Filesystem>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The filesystem of an album root, remembered (the sidebar lists roots often, and a
/// `statfs` on a share that stopped answering can take long). Unknown (folder not
/// there) is local and not remembered.
pub fn of_root(path: &Path) -> Filesystem {
    if let Some(fs) = cache().lock().ok().and_then(|c| c.get(path).cloned()) {
        return fs;
    }
    match detect(path) {
        Some(fs) => {
            if let Ok(mut c) = cache().lock() {
                c.insert(path.to_path_buf(), fs.clone());
            }
            fs
        }
        None => Filesystem { storage: Storage::Local, name: String::new() },
    }
}

/// Forgets what [`of_root`] remembered of `path`: its disk was unplugged or plugged in,
/// and something else may be mounted there now.
pub fn forget(path: &Path) {
    if let Ok(mut c) = cache().lock() {
        c.remove(path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_numbers_map_to_network_or_local() {
        for (magic, name) in [
            (0x6969, "nfs"),
            (0x517B, "smb"),
            (0xFF53_4D42, "cifs"),
            (0xFE53_4D42, "smb2"),
            (0x6573_5546, "fuse"),
            (0x0102_1997, "9p"),
            (0x00C3_6400, "ceph"),
            (0x6B41_4653, "afs"),
        ] {
            assert_eq!(classify_magic(magic), (Storage::Network, name), "{magic:#x}");
        }
        let local = [(0xEF53, "ext4"), (0x0102_1994, "tmpfs"), (0x9123_683E, "btrfs"), (0x794C_7630, "overlay")];
        for (magic, name) in local {
            assert_eq!(classify_magic(magic), (Storage::Local, name), "{magic:#x}");
        }
        assert_eq!(classify_magic(0x1234_5678), (Storage::Local, ""), "unknown is local");
        // f_type is a signed long on some architectures: CIFS's number comes back negative.
        assert_eq!(classify_magic(0xFF53_4D42_u32 as i32 as i64 as u32).0, Storage::Network);
    }

    /// The test's temporary folder is on a local disk (ext4, tmpfs, overlay in a
    /// container…): it is local, and named.
    #[test]
    fn a_temporary_folder_is_local() {
        let dir = tempfile::tempdir().unwrap();
        let fs = detect(dir.path()).unwrap();
        assert_eq!(fs.storage, Storage::Local, "{fs:?}");
        assert!(!fs.name.is_empty(), "{fs:?}");
        assert_eq!(of_root(dir.path()), fs);
        assert!(detect(&dir.path().join("not there")).is_none());
        assert_eq!(of_root(&dir.path().join("not there")).storage, Storage::Local);
    }

    #[test]
    fn mount_types_from_mountinfo() {
        let info = "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n\
                    40 22 0:40 / /mnt/nas rw,relatime shared:9 - nfs4 nas:/photos rw\n\
                    41 22 0:41 / /home/me/My\\040Share rw - fuse.sshfs me@box:/pics rw\n\
                    42 22 8:17 / /media/usb rw - fuseblk /dev/sdb1 rw\n";
        let t = |p: &str| mount_type_in(info, Path::new(p));
        assert_eq!(t("/mnt/nas/2024/a.jpg").as_deref(), Some("nfs4"));
        assert_eq!(t("/home/me/My Share/x").as_deref(), Some("fuse.sshfs"));
        assert_eq!(t("/media/usb").as_deref(), Some("fuseblk"));
        assert_eq!(t("/mnt/nasty").as_deref(), Some("ext4"), "a prefix of the name is not the mount");
        assert_eq!(unescape_octal("a\\134b\\040c\\9"), "a\\b c\\9");
    }
}
