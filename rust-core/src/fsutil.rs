//! Durable file operations.
//!
//! A write is complete only when its data and the directory entry that names it are on
//! stable storage: data goes to a temporary file in the same directory, which is fsynced,
//! renamed over the target and followed by an fsync of the directory. Readers therefore
//! see the old file or the new one, never a partial one. Directories are created with mode
//! 0700 and files with mode 0600 on Unix.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::Path;

/// Prefix of temporary files; they are never read as entries.
pub const TEMP_PREFIX: &str = ".tmp-";

/// Creates `dir` (and its parents) private to the current user if it does not exist, and
/// makes the new directory entry durable.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    match fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => return Ok(()),
        Ok(_) => {
            return Err(io::Error::new(io::ErrorKind::AlreadyExists, "path exists and is not a directory"))
        }
        Err(err) if err.kind() == io::ErrorKind::NotFound => {}
        Err(err) => return Err(err),
    }
    let missing: Vec<&Path> = dir.ancestors().take_while(|path| fs::metadata(path).is_err()).collect();
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)?;
    // Each new directory entry is durable only once its parent is synced.
    for created in missing {
        if let Some(parent) = created.parent().filter(|parent| !parent.as_os_str().is_empty()) {
            sync_dir(parent)?;
        }
    }
    Ok(())
}

/// Replaces `dir/name` with `bytes` atomically and durably.
pub fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<()> {
    let mut suffix = [0u8; 8];
    getrandom::fill(&mut suffix).map_err(io::Error::other)?;
    let temp = dir.join(format!("{TEMP_PREFIX}{}", hex::encode(suffix)));
    let result = write_new_file(&temp, bytes).and_then(|()| fs::rename(&temp, dir.join(name)));
    if let Err(err) = result {
        // Best effort: a leftover temporary file is ignored by every reader.
        let _ = fs::remove_file(&temp);
        return Err(err);
    }
    sync_dir(dir)
}

fn write_new_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Removes `path` durably. Removing a missing file succeeds.
pub fn remove_durably(dir: &Path, name: &str) -> io::Result<()> {
    match fs::remove_file(dir.join(name)) {
        Ok(()) => sync_dir(dir),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(err) => Err(err),
    }
}

/// Flushes a directory's entries to stable storage.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    // Windows cannot open a directory as a file; NTFS journals renames itself.
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// Reads a file, mapping "not found" to `None`.
pub fn read_optional(path: &Path) -> io::Result<Option<Vec<u8>>> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(err),
    }
}

/// The maximum buffer that [`read_sized`] allocates up front, whatever size the file reports.
const MAX_SIZE_HINT: usize = 1 << 20;

/// Reads `file` from its current position to the end, given the size that an `fstat` just
/// reported. `read_to_end` on a `File` would ask the kernel for the size and position again,
/// two system calls that cost a third of the read of a small entry file. The file may have
/// changed size since the `fstat`, so this reads until the kernel reports the end.
pub fn read_sized(mut file: &File, size: u64) -> io::Result<Vec<u8>> {
    // The byte beyond the expected size receives the read that finds the end. The buffer is
    // capped so that a huge file placed in the store cannot make it allocate its size.
    let expected = usize::try_from(size).unwrap_or(usize::MAX).min(MAX_SIZE_HINT);
    let mut bytes = vec![0u8; expected + 1];
    let mut filled = 0;
    loop {
        if filled == bytes.len() {
            bytes.resize(bytes.len() * 2, 0);
        }
        match file.read(&mut bytes[filled..]) {
            Ok(0) => break,
            Ok(read) => filled += read,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }
    bytes.truncate(filled);
    Ok(bytes)
}

/// Opens (creating if needed) a lock file and takes a shared or exclusive lock on it. The
/// lock is released when the returned file is dropped.
pub fn lock_file(path: &Path, exclusive: bool) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    loop {
        let file = options.open(path)?;
        if exclusive {
            file.lock()?;
        } else {
            file.lock_shared()?;
        }
        // A lock belongs to the file, not the path. If the lock file was deleted or replaced
        // while this process waited, another process may hold a lock on the new file, so the
        // lock is taken again on whatever the path names now.
        if names_same_file(&file, path)? {
            return Ok(file);
        }
    }
}

#[cfg(unix)]
fn names_same_file(file: &File, path: &Path) -> io::Result<bool> {
    use std::os::unix::fs::MetadataExt;
    let opened = file.metadata()?;
    match fs::metadata(path) {
        Ok(current) => Ok(opened.dev() == current.dev() && opened.ino() == current.ino()),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(err) => Err(err),
    }
}

#[cfg(not(unix))]
fn names_same_file(_file: &File, _path: &Path) -> io::Result<bool> {
    Ok(true)
}

/// Opens (creating if needed) a lock file and takes an exclusive lock if no one holds it.
/// Returns `None` when the lock is held elsewhere.
pub fn try_lock_file(path: &Path) -> io::Result<Option<File>> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(path)?;
    match file.try_lock() {
        Ok(()) if names_same_file(&file, path)? => Ok(Some(file)),
        Ok(()) => Ok(None),
        Err(fs::TryLockError::WouldBlock) => Ok(None),
        Err(fs::TryLockError::Error(err)) => Err(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_atomic_replaces_and_leaves_no_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        write_atomic(dir.path(), "f", b"one").unwrap();
        write_atomic(dir.path(), "f", b"two").unwrap();
        assert_eq!(fs::read(dir.path().join("f")).unwrap(), b"two");
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("f")]);
    }

    #[cfg(unix)]
    #[test]
    fn files_and_dirs_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let parent = tempfile::tempdir().unwrap();
        let dir = parent.path().join("a/b");
        create_private_dir(&dir).unwrap();
        write_atomic(&dir, "f", b"x").unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join("f")), 0o600);
    }

    #[test]
    fn read_sized_ignores_wrong_size() {
        let dir = tempfile::tempdir().unwrap();
        for len in [0usize, 1, 113, 4096, MAX_SIZE_HINT + 3] {
            let path = dir.path().join(format!("f{len}"));
            let contents: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            fs::write(&path, &contents).unwrap();
            // The true size, a size the file outgrew, one it shrank from, and one no file has.
            for reported in [len as u64, len as u64 / 2, len as u64 + 1000, u64::MAX] {
                let bytes = read_sized(&File::open(&path).unwrap(), reported).unwrap();
                assert!(bytes == contents, "{len} bytes read as {} with size {reported}", bytes.len());
            }
        }
    }

    #[test]
    fn read_sized_caps_buffer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        fs::write(&path, b"short").unwrap();
        let bytes = read_sized(&File::open(&path).unwrap(), u64::MAX).unwrap();
        assert_eq!(bytes, b"short");
        assert!(bytes.capacity() <= MAX_SIZE_HINT + 1, "reserved {} bytes", bytes.capacity());
    }

    #[test]
    fn remove_missing_file_succeeds() {
        let dir = tempfile::tempdir().unwrap();
        remove_durably(dir.path(), "absent").unwrap();
        assert_eq!(read_optional(&dir.path().join("absent")).unwrap(), None);
    }
}
