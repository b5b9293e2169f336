//! Opening files that someone else may have replaced with something that is not a file.
//!
//! A FIFO where a settings file should be makes a plain `open` block until a writer appears,
//! which for a hook means forever; a device or a socket is no better. Every file
//! han-telemetry reads or writes is opened through here: without blocking (`O_NONBLOCK`),
//! then checked with `fstat` on the open descriptor (no window for a swap between the check
//! and the use), and refused unless it is a regular file. Store files are also opened
//! without following a symbolic link (`O_NOFOLLOW`) and must belong to the user.

use std::fmt;
use std::fs::{self, File, Metadata, OpenOptions};
use std::io;
use std::path::Path;

/// Why a file was not used.
#[derive(Debug)]
pub(crate) enum Refused {
    /// The operating system said no (missing, permission denied, ...).
    Io(io::Error),
    /// It is not a regular file: `what` is "a FIFO", "a socket", "a directory"...
    NotRegular(&'static str),
    /// A store file that belongs to another user (`uid`).
    Foreign(u32),
    /// A store file with another name elsewhere (a hard link): writing would change it too.
    Linked(u64),
}

impl Refused {
    /// Whether it is simply absent (a normal case for most files han-telemetry looks for).
    pub(crate) fn is_missing(&self) -> bool {
        matches!(self, Refused::Io(e)
            if matches!(e.kind(), io::ErrorKind::NotFound | io::ErrorKind::NotADirectory))
    }
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refused::Io(e) => write!(f, "{e}"),
            Refused::NotRegular(what) => write!(f, "is {what}, not a regular file"),
            Refused::Foreign(uid) => write!(f, "belongs to another user (uid {uid})"),
            Refused::Linked(n) => write!(f, "has {n} hard links (another name elsewhere)"),
        }
    }
}

impl From<io::Error> for Refused {
    fn from(e: io::Error) -> Self {
        Refused::Io(e)
    }
}

/// What a file type is, in words: "a FIFO", "a directory"...
pub(crate) fn kind_of(file_type: fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if file_type.is_fifo() {
            return "a FIFO";
        }
        if file_type.is_socket() {
            return "a socket";
        }
        if file_type.is_char_device() {
            return "a character device";
        }
        if file_type.is_block_device() {
            return "a block device";
        }
    }
    if file_type.is_dir() {
        "a directory"
    } else if file_type.is_symlink() {
        "a symbolic link"
    } else if file_type.is_file() {
        "a regular file"
    } else {
        "not a regular file"
    }
}

/// Opens `path` for reading, following symbolic links (settings files and certificates are
/// often links into a dotfiles repository), never blocking, and only if it is a regular file.
pub(crate) fn open_regular(path: &Path) -> Result<(File, Metadata), Refused> {
    // A first look without opening: opening some devices has effects of its own.
    let before = fs::metadata(path)?;
    if !before.is_file() {
        return Err(Refused::NotRegular(kind_of(before.file_type())));
    }
    let mut options = OpenOptions::new();
    options.read(true);
    non_blocking(&mut options, false);
    let file = options.open(path)?;
    let meta = regular(&file)?;
    Ok((file, meta))
}

/// Reads all of `path` (a regular file, see [`open_regular`]), at most `limit` bytes; more
/// is an error that says so.
pub(crate) fn read_regular(path: &Path, limit: u64) -> Result<Vec<u8>, Refused> {
    let (file, meta) = open_regular(path)?;
    read_bounded(file, &meta, limit)
}

/// Reads all of `file`, opened as `meta`, at most `limit` bytes; more is an error that says
/// so.
pub(crate) fn read_bounded(file: File, meta: &Metadata, limit: u64) -> Result<Vec<u8>, Refused> {
    use std::io::Read as _;
    if meta.len() > limit {
        return Err(Refused::Io(too_large(limit)));
    }
    let mut bytes = Vec::new();
    // Bounded: the file may grow between the check and the read.
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if u64::try_from(bytes.len()).map_or(true, |n| n > limit) {
        return Err(Refused::Io(too_large(limit)));
    }
    Ok(bytes)
}

/// Larger than `limit`, in words: bytes below 10 KiB, else KiB.
fn too_large(limit: u64) -> io::Error {
    io::Error::other(if limit < 10 * 1024 {
        format!("it is larger than {limit} bytes")
    } else {
        format!("it is larger than {} KiB", limit / 1024)
    })
}

/// Opens a store file: never through a symbolic link, never blocking, only a regular file.
/// `options` says how (read, append, create...). With `owned`, the file must also belong to
/// this user.
pub(crate) fn open_store_file(
    path: &Path,
    options: &mut OpenOptions,
    owned: bool,
) -> Result<(File, Metadata), Refused> {
    non_blocking(options, true);
    let file = options.open(path).map_err(|e| symlink_refused(path, e))?;
    let meta = regular(&file)?;
    if owned {
        if let Some(uid) = foreign_owner(&meta) {
            return Err(Refused::Foreign(uid));
        }
        let links = hard_links(&meta);
        if links > 1 {
            return Err(Refused::Linked(links));
        }
    }
    Ok((file, meta))
}

/// `O_NOFOLLOW` on a link fails with `ELOOP`: say what it was.
fn symlink_refused(path: &Path, e: io::Error) -> Refused {
    let is_link = fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    if is_link {
        Refused::NotRegular("a symbolic link (never followed in the store)")
    } else {
        Refused::Io(e)
    }
}

fn regular(file: &File) -> Result<Metadata, Refused> {
    let meta = file.metadata()?;
    if meta.is_file() {
        Ok(meta)
    } else {
        Err(Refused::NotRegular(kind_of(meta.file_type())))
    }
}

#[cfg(unix)]
fn non_blocking(options: &mut OpenOptions, no_follow: bool) {
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut flags = rustix::fs::OFlags::NONBLOCK;
    if no_follow {
        flags |= rustix::fs::OFlags::NOFOLLOW;
    }
    // The flag bits fit an `int`, as `open(2)` takes them.
    #[allow(clippy::cast_possible_wrap)]
    options.custom_flags(flags.bits() as i32);
}

#[cfg(not(unix))]
fn non_blocking(_options: &mut OpenOptions, _no_follow: bool) {}

/// This process's effective user id.
#[cfg(unix)]
pub(crate) fn my_uid() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// The owner of `meta` when it is not this user.
#[cfg(unix)]
pub(crate) fn foreign_owner(meta: &Metadata) -> Option<u32> {
    use std::os::unix::fs::MetadataExt as _;
    let uid = meta.uid();
    (uid != my_uid()).then_some(uid)
}

#[cfg(not(unix))]
pub(crate) fn foreign_owner(_meta: &Metadata) -> Option<u32> {
    None
}

#[cfg(unix)]
fn hard_links(meta: &Metadata) -> u64 {
    std::os::unix::fs::MetadataExt::nlink(meta)
}

#[cfg(not(unix))]
fn hard_links(_meta: &Metadata) -> u64 {
    1
}

/// The permission bits of `meta` (0 where there are none).
#[cfg(unix)]
pub(crate) fn mode(meta: &Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    meta.permissions().mode() & 0o7777
}

#[cfg(not(unix))]
pub(crate) fn mode(_meta: &Metadata) -> u32 {
    0
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::net::UnixListener;
    use std::process::Command;
    use std::time::{Duration, Instant};

    use super::*;
    use crate::test_support::TempDir;

    fn mkfifo(path: &Path) {
        let ok = Command::new("mkfifo")
            .arg(path)
            .status()
            .expect("mkfifo")
            .success();
        assert!(ok, "mkfifo {}", path.display());
    }

    #[test]
    fn a_fifo_a_socket_a_device_and_a_directory_are_refused_without_blocking() {
        let dir = TempDir::new("file-kinds");
        let fifo = dir.path().join("fifo");
        mkfifo(&fifo);
        let socket = dir.path().join("socket");
        let _listener = UnixListener::bind(&socket).unwrap();
        let started = Instant::now();
        for (path, what) in [
            (fifo.as_path(), "a FIFO"),
            (socket.as_path(), "a socket"),
            (Path::new("/dev/null"), "a character device"),
            (dir.path(), "a directory"),
        ] {
            let err = read_regular(path, 1024).unwrap_err();
            assert_eq!(err.to_string(), format!("is {what}, not a regular file"));
            let mut options = OpenOptions::new();
            options.read(true).append(true);
            let err = open_store_file(path, &mut options, true).unwrap_err();
            assert!(
                matches!(err, Refused::NotRegular(_) | Refused::Io(_)),
                "{err}"
            );
        }
        // Hanging would never return at all; this is generous.
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn store_files_are_never_opened_through_a_link_but_settings_files_are() {
        let dir = TempDir::new("file-links");
        let target = dir.write("target", "secret");
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let mut options = OpenOptions::new();
        options.append(true);
        let err = open_store_file(&link, &mut options, true).unwrap_err();
        assert!(err.to_string().contains("symbolic link"), "{err}");
        assert_eq!(fs::read_to_string(&target).unwrap(), "secret");
        assert_eq!(read_regular(&link, 1024).unwrap(), b"secret");
    }

    #[test]
    fn reads_are_bounded() {
        let dir = TempDir::new("file-bounded");
        let path = dir.write("big", &"x".repeat(20_000));
        let larger = |limit| read_regular(&path, limit).unwrap_err().to_string();
        assert_eq!(larger(1024), "it is larger than 1024 bytes");
        assert_eq!(larger(10 * 1024), "it is larger than 10 KiB");
        assert!(
            read_regular(&dir.path().join("none"), 1024)
                .unwrap_err()
                .is_missing()
        );
    }
}
