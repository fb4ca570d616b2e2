//! The worker's sandbox, entered first thing in `keepsake worker`, before any thread
//! starts and before any file of the user's is opened.
//!
//! A worker decodes files nobody vetted (a video off a phone, a HEIC from a chat) with
//! C libraries (FFmpeg, libheif, libde265, ONNX Runtime). If one of them is exploited,
//! the damage should stop at what the worker needs: it may read the system's libraries
//! and data, the ONNX Runtime library and the face models, and the folders its
//! supervisor names (the albums, or one request's inputs); it may write only the
//! folders its supervisor names (the job's output folder in the data directory); and it
//! may not reach the network. Concretely:
//!
//! - `PR_SET_NO_NEW_PRIVS`: nothing it executes gains privileges (setuid, file caps).
//! - Landlock (best effort, as far as the kernel's ABI goes): file access as above;
//!   from ABI 4 no TCP bind or connect; from ABI 6 no signals to processes outside the
//!   sandbox (the app) and no abstract UNIX sockets (D-Bus, X11) made outside it.
//! - seccomp: `socket(2)` for any family but UNIX and netlink fails with `EACCES`, so
//!   UDP and raw sockets are refused as well, on kernels without Landlock too. glibc
//!   uses netlink for interface lookups only; the worker never resolves names.
//!   `io_uring_setup` is refused as well: io_uring can open sockets past seccomp.
//!
//! Landlock cannot be loosened once applied, so a worker's grants are fixed for its
//! life; the supervisor starts a new worker when a request needs a path its workers
//! were not given. The grants arrive as JSON in [`SANDBOX_ENV`]; without it (a worker
//! started by hand) or with `off` the worker runs unsandboxed, and says so.

use std::path::{Path, PathBuf};

use landlock::{
    Access, AccessFs, AccessNet, BitFlags, LandlockStatus, PathBeneath, PathFd, Ruleset, RulesetAttr,
    RulesetCreatedAttr, RulesetStatus, Scope, ABI,
};
use serde::{Deserialize, Serialize};

/// Environment variable carrying the grants, set by the supervisor
/// (`keepsake-library`'s `worker_process`, which writes the same JSON shape).
pub const SANDBOX_ENV: &str = "KEEPSAKE_WORKER_SANDBOX";

/// The highest Landlock ABI asked for; older kernels get what they have.
const TARGET_ABI: ABI = ABI::V6;

/// What the supervisor gives a worker besides the system.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct Grants {
    /// Folders (or files) it may read: the albums, or one request's inputs.
    #[serde(default)]
    pub read: Vec<PathBuf>,
    /// Folders it may read and write: the job's output folder.
    #[serde(default)]
    pub write: Vec<PathBuf>,
}

/// Why the sandbox could not be entered; the worker then refuses to run.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("{SANDBOX_ENV} is not valid: {0}")]
    BadGrants(#[from] serde_json::Error),
    #[error("cannot set no-new-privileges: {0}")]
    NoNewPrivs(std::io::Error),
    #[error("cannot build the Landlock rules: {0}")]
    Landlock(#[from] landlock::RulesetError),
    #[error("cannot install the seccomp network filter: {0}")]
    Seccomp(std::io::Error),
}

/// What a worker got, as `keepsake doctor` and the runtime report show it.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct SandboxStatus {
    /// Whether the worker was asked to sandbox itself at all.
    pub enabled: bool,
    /// The kernel's Landlock ABI (0: none).
    pub landlock_abi: u32,
    /// `full`, `partial` (an older ABI: some rights not enforceable) or `none`.
    pub landlock: String,
    /// Why Landlock is not in force, if it is not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub landlock_problem: Option<String>,
    pub no_new_privs: bool,
    /// Whether IP (and other non-local) sockets are refused by seccomp.
    pub network_blocked: bool,
    /// The user paths granted, for the report.
    pub read: Vec<PathBuf>,
    pub write: Vec<PathBuf>,
}

/// The kernel's Landlock ABI version: `Ok(n)`, or why there is none.
pub fn landlock_abi() -> Result<u32, String> {
    const LANDLOCK_CREATE_RULESET_VERSION: libc::c_uint = 1;
    // SAFETY: with a null attribute pointer, size 0 and the VERSION flag the call only
    // returns the ABI version (or an error); it touches no memory.
    let v = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<libc::c_void>(),
            0usize,
            LANDLOCK_CREATE_RULESET_VERSION,
        )
    };
    if v > 0 {
        return u32::try_from(v).map_err(|_| format!("unexpected Landlock ABI {v}"));
    }
    let err = std::io::Error::last_os_error();
    Err(match err.raw_os_error() {
        Some(libc::ENOSYS) => "this kernel is built without Landlock".into(),
        Some(libc::EOPNOTSUPP) => "Landlock is built in but not enabled (add landlock to the lsm= boot option)".into(),
        _ => format!("Landlock unavailable: {err}"),
    })
}

/// Whether this build can install the network filter on this architecture.
pub fn seccomp_supported() -> bool {
    seccomp::AUDIT_ARCH.is_some()
}

/// Enters the sandbox the supervisor asked for in [`SANDBOX_ENV`]. Must run before
/// any thread is started (Landlock restricts the calling thread and its future
/// children only). `Ok` with `enabled: false` when no sandbox was asked for.
pub fn enter_from_env() -> Result<SandboxStatus, SandboxError> {
    match std::env::var(SANDBOX_ENV) {
        Ok(v) if v.trim() == "off" => Ok(SandboxStatus::default()),
        Ok(v) => enter(&serde_json::from_str::<Grants>(&v)?),
        Err(_) => Ok(SandboxStatus::default()),
    }
}

/// Restricts this process to `grants` plus what running needs.
pub fn enter(grants: &Grants) -> Result<SandboxStatus, SandboxError> {
    let mut status =
        SandboxStatus { enabled: true, read: grants.read.clone(), write: grants.write.clone(), ..Default::default() };
    // SAFETY: prctl with PR_SET_NO_NEW_PRIVS reads only its integer arguments.
    if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
        return Err(SandboxError::NoNewPrivs(std::io::Error::last_os_error()));
    }
    status.no_new_privs = true;
    match landlock_abi() {
        Ok(abi) => {
            status.landlock_abi = abi;
            let (enforced, problem) = restrict_files(grants)?;
            status.landlock = enforced.to_owned();
            status.landlock_problem = problem;
        }
        Err(why) => {
            status.landlock = "none".into();
            status.landlock_problem = Some(why);
        }
    }
    if seccomp_supported() {
        seccomp::deny_network().map_err(SandboxError::Seccomp)?;
        status.network_blocked = true;
    }
    Ok(status)
}

/// Places every process needs to read (and execute from): the system's libraries,
/// configuration (ld.so.cache, fonts, locale), and the CPU facts thread pools size
/// themselves by. Those missing on this system are skipped.
const SYSTEM_READ: &[&str] = &[
    "/usr",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/bin",
    "/sbin",
    "/etc",
    "/opt",
    "/nix/store",
    "/gnu/store",
    "/app",
    "/snap",
    "/proc/self",
    "/proc/cpuinfo",
    "/proc/meminfo",
    "/proc/stat",
    "/sys/devices/system/cpu",
    "/sys/devices/system/node",
    "/sys/fs/cgroup",
    "/dev/urandom",
    "/dev/random",
    "/dev/zero",
];

/// Device files a worker may write (and read).
const SYSTEM_WRITE: &[&str] = &["/dev/null"];

/// The engine's own files: the asset root's models and `.deps/` (ONNX Runtime),
/// `ORT_DYLIB_PATH`, `LD_LIBRARY_PATH`'s folders, and the worker executable.
fn engine_read() -> Vec<PathBuf> {
    let root = keepsake_engine::runtime::asset_root();
    let mut paths = vec![root.join("models"), root.join(".deps")];
    paths.extend(std::env::var_os("ORT_DYLIB_PATH").map(PathBuf::from));
    if let Some(dirs) = std::env::var_os("LD_LIBRARY_PATH") {
        paths.extend(std::env::split_paths(&dirs).filter(|d| d.is_absolute()));
    }
    paths.extend(std::env::current_exe().ok());
    paths
}

/// Applies the Landlock rules: returns `full`/`partial`, and a note when partial.
fn restrict_files(grants: &Grants) -> Result<(&'static str, Option<String>), SandboxError> {
    let abi = TARGET_ABI;
    let all = AccessFs::from_all(abi);
    let read = AccessFs::from_read(abi);
    let read_only = read & !AccessFs::Execute;
    let write = all & !(AccessFs::Execute | AccessFs::MakeChar | AccessFs::MakeBlock | AccessFs::MakeSock);
    let mut ruleset = Ruleset::default()
        .handle_access(all)?
        .handle_access(AccessNet::from_all(abi))?
        .scope(Scope::from_all(abi))?
        .create()?;
    let system = SYSTEM_READ.iter().map(PathBuf::from).chain(engine_read());
    for path in system {
        ruleset = add(ruleset, &path, read)?;
    }
    for path in SYSTEM_WRITE {
        ruleset = add(ruleset, Path::new(path), read_only | AccessFs::WriteFile | AccessFs::Truncate)?;
    }
    for path in &grants.read {
        ruleset = add(ruleset, path, read_only)?;
    }
    for path in &grants.write {
        ruleset = add(ruleset, path, write)?;
    }
    // No network rules: with TCP handled (ABI 4+), every bind and connect is refused.
    let restricted = ruleset.restrict_self()?;
    Ok(match restricted.ruleset {
        RulesetStatus::FullyEnforced => ("full", None),
        RulesetStatus::PartiallyEnforced => {
            let note = match restricted.landlock {
                LandlockStatus::Available { effective_abi, .. } => {
                    format!("Landlock ABI {} lacks some rights (TCP needs 4, signals 6)", effective_abi as u32)
                }
                _ => "some rights could not be enforced".to_owned(),
            };
            ("partial", Some(note))
        }
        RulesetStatus::NotEnforced => ("none", Some("the kernel refused the Landlock rules".into())),
    })
}

/// Adds a rule for `path` if it exists (a file gets only the rights a file can have).
fn add(
    ruleset: landlock::RulesetCreated,
    path: &Path,
    access: BitFlags<AccessFs>,
) -> Result<landlock::RulesetCreated, SandboxError> {
    let Ok(fd) = PathFd::new(path) else {
        return Ok(ruleset);
    };
    let access = if path.is_dir() { access } else { access & AccessFs::from_file(TARGET_ABI) };
    Ok(ruleset.add_rule(PathBeneath::new(fd, access))?)
}

/// The seccomp filter that keeps a worker off the network.
mod seccomp {
    use libc::{sock_filter, sock_fprog, BPF_ABS, BPF_JEQ, BPF_JGE, BPF_JMP, BPF_K, BPF_LD, BPF_RET, BPF_W};

    /// The audit architecture this build's system calls carry.
    #[cfg(target_arch = "x86_64")]
    pub const AUDIT_ARCH: Option<u32> = Some(0xC000_003E);
    #[cfg(target_arch = "aarch64")]
    pub const AUDIT_ARCH: Option<u32> = Some(0xC000_00B7);
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    pub const AUDIT_ARCH: Option<u32> = None;

    /// x32 system calls on x86_64 have this bit set; none are expected.
    const X32_SYSCALL_BIT: u32 = 0x4000_0000;

    const fn stmt(code: u32, k: u32) -> sock_filter {
        sock_filter { code: code as u16, jt: 0, jf: 0, k }
    }

    const fn jump(code: u32, k: u32, jt: u8, jf: u8) -> sock_filter {
        sock_filter { code: code as u16, jt, jf, k }
    }

    /// Installs, on every thread: `socket(family, ...)` fails with `EACCES` unless
    /// family is AF_UNIX or AF_NETLINK; `io_uring_setup` fails with `EACCES`; system
    /// calls of another architecture (i386 through `int 0x80`, x32) fail too.
    pub fn deny_network() -> std::io::Result<()> {
        let Some(arch) = AUDIT_ARCH else { return Ok(()) };
        let deny = libc::SECCOMP_RET_ERRNO | libc::EACCES as u32;
        let allow = libc::SECCOMP_RET_ALLOW;
        // struct seccomp_data { int nr; u32 arch; u64 ip; u64 args[6]; }: little-endian,
        // so args[0]'s low half (the family) is at offset 16.
        let filter = [
            /* 0 */ stmt(BPF_LD | BPF_W | BPF_ABS, 4),
            /* 1 */ jump(BPF_JMP | BPF_JEQ | BPF_K, arch, 1, 0),
            /* 2 */ stmt(BPF_RET | BPF_K, deny),
            /* 3 */ stmt(BPF_LD | BPF_W | BPF_ABS, 0),
            /* 4 */ jump(BPF_JMP | BPF_JGE | BPF_K, X32_SYSCALL_BIT, 6, 0),
            /* 5 */ jump(BPF_JMP | BPF_JEQ | BPF_K, libc::SYS_io_uring_setup as u32, 5, 0),
            /* 6 */ jump(BPF_JMP | BPF_JEQ | BPF_K, libc::SYS_socket as u32, 0, 5),
            /* 7 */ stmt(BPF_LD | BPF_W | BPF_ABS, 16),
            /* 8 */ jump(BPF_JMP | BPF_JEQ | BPF_K, libc::AF_UNIX as u32, 3, 0),
            /* 9 */ jump(BPF_JMP | BPF_JEQ | BPF_K, libc::AF_NETLINK as u32, 2, 0),
            /* 10 */ stmt(BPF_RET | BPF_K, deny),
            /* 11 */ stmt(BPF_RET | BPF_K, deny),
            /* 12 */ stmt(BPF_RET | BPF_K, allow),
        ];
        let prog = sock_fprog { len: filter.len() as u16, filter: filter.as_ptr() as *mut sock_filter };
        // SAFETY: `prog` points at `filter`, alive for the call; the kernel copies it.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_seccomp,
                libc::SECCOMP_SET_MODE_FILTER,
                libc::SECCOMP_FILTER_FLAG_TSYNC,
                &prog as *const sock_fprog,
            )
        };
        if rc != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(())
    }
}
