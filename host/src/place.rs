//! Where a file that is written whole (an export, a calibration table) goes.
//!
//! A regular file (or a new one) is written under a temporary name beside it and renamed over
//! it when complete, so an interrupted run never leaves a file that looks finished. Renaming
//! over anything else would destroy it: a FIFO or a character device (`/dev/stdout`, a pipe,
//! `/dev/null`) is written in place instead, a symlink is followed (the file it points to is
//! replaced, the link stays), and a directory, a block device or a socket is refused.

use std::fs::{File, OpenOptions};
use std::io::ErrorKind;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

/// How the file at a path is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// Write `part`, then rename it to `target` (the path, or the file its symlink points to).
    Replace { target: PathBuf, part: PathBuf },
    /// Write the path itself, a stream that cannot be replaced (FIFO, character device).
    InPlace,
}

#[derive(Debug, thiserror::Error)]
pub enum PlaceError {
    #[error("{path}: is {what}; refusing to replace it\nhelp: give the path of a regular file")]
    Refused { path: PathBuf, what: &'static str },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// How to write `path`; a replacement's temporary file is the target's name with `suffix`
/// appended.
pub fn placement(path: &Path, suffix: &str) -> Result<Placement, PlaceError> {
    let io = |source| PlaceError::Io { path: path.to_owned(), source };
    let target = match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == ErrorKind::NotFound => path.to_owned(),
        Err(e) => return Err(io(e)),
        Ok(m) if m.file_type().is_symlink() => match std::fs::canonicalize(path) {
            Ok(t) => t,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                return Err(PlaceError::Refused { path: path.to_owned(), what: "a symlink to a missing file" })
            }
            Err(e) => return Err(io(e)),
        },
        Ok(_) => path.to_owned(),
    };
    let refused = |what| Err(PlaceError::Refused { path: path.to_owned(), what });
    match std::fs::metadata(&target) {
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        Err(e) => return Err(io(e)),
        Ok(m) => {
            let t = m.file_type();
            if t.is_fifo() || t.is_char_device() {
                return Ok(Placement::InPlace);
            }
            if t.is_dir() {
                return refused("a directory");
            }
            if t.is_block_device() {
                return refused("a block device");
            }
            if t.is_socket() {
                return refused("a socket");
            }
        }
    }
    let mut part = target.as_os_str().to_owned();
    part.push(suffix);
    Ok(Placement::Replace { target, part: PathBuf::from(part) })
}

/// Opens `path` as [`placement`] says: the temporary file (created or truncated), or the path
/// itself for writing in place. Returns the file and the path written.
pub fn create(path: &Path, placement: &Placement) -> Result<(File, PathBuf), PlaceError> {
    let (file, written) = match placement {
        Placement::Replace { part, .. } => (File::create(part), part.clone()),
        Placement::InPlace => (OpenOptions::new().write(true).open(path), path.to_owned()),
    };
    let file = file.map_err(|source| PlaceError::Io { path: written.clone(), source })?;
    Ok((file, written))
}

/// Gives a finished file its name: renames the temporary file over the target (nothing to do
/// in place).
pub fn finish(placement: &Placement) -> Result<(), PlaceError> {
    match placement {
        Placement::Replace { target, part } => {
            std::fs::rename(part, target).map_err(|source| PlaceError::Io { path: target.clone(), source })
        }
        Placement::InPlace => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regular and new files are replaced; a symlink's target is replaced and the link kept;
    /// FIFOs and character devices are written in place; directories are refused.
    #[test]
    fn only_regular_files_are_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.csv");
        let part = dir.path().join("a.csv.part");
        assert_eq!(placement(&file, ".part").unwrap(), Placement::Replace { target: file.clone(), part: part.clone() });
        std::fs::write(&file, "old").unwrap();
        assert_eq!(placement(&file, ".part").unwrap(), Placement::Replace { target: file.clone(), part });

        let link = dir.path().join("link.csv");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        let canon = std::fs::canonicalize(&file).unwrap();
        match placement(&link, ".part").unwrap() {
            Placement::Replace { target, .. } => assert_eq!(target, canon),
            p => panic!("{p:?}"),
        }
        let dangling = dir.path().join("dangling.csv");
        std::os::unix::fs::symlink(dir.path().join("missing"), &dangling).unwrap();
        assert!(matches!(placement(&dangling, ".part"), Err(PlaceError::Refused { .. })));

        let fifo = dir.path().join("f");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        assert_eq!(placement(&fifo, ".part").unwrap(), Placement::InPlace);
        assert_eq!(placement(Path::new("/dev/null"), ".part").unwrap(), Placement::InPlace);
        let e = placement(dir.path(), ".part").unwrap_err();
        assert!(e.to_string().contains("is a directory; refusing to replace it"), "{e}");
    }
}
