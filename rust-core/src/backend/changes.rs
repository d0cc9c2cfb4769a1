//! The change counter of a service directory, shared by every process that opens the store.
//!
//! The file `.changes` contains two 64-bit counters, mapped into memory by each process that
//! uses them: how many changes of the service have started and how many have finished. A
//! change is any write that can alter what a read returns: `set`, `delete`, creating or
//! replacing the root key, and `delete_service`. A change starts after its writer takes the
//! service lock and finishes before the writer releases it.
//!
//! Readers cache an entry's file only together with the `started` count it was read at, and
//! only while no change was in progress. A cached file is used while both counters still
//! equal that count. Any change that finished since then has raised both, so a read never
//! returns a value older than a write that returned before the read began.
//!
//! A writer killed during a change leaves `started` ahead of `finished`. Readers then read
//! from disk until a holder of the exclusive lock, which knows that no change is in
//! progress, makes the counters equal again ([`ChangeCounter::settle`]).
#![allow(unsafe_code)]

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use memmap2::{MmapOptions, MmapRaw};

use crate::fsutil::TEMP_PREFIX;

/// The name of the counter file in a service directory.
pub(crate) const CHANGES_FILE: &str = ".changes";

/// Two `u64` counters: started at offset 0, finished at offset 8.
const FILE_LEN: u64 = 16;

/// The mapped counters of one service directory.
pub(crate) struct ChangeCounter {
    map: MmapRaw,
    /// The device and inode number of the mapped file. The mapping keeps the inode in use,
    /// so no other file can get this number while the counter exists.
    identity: Option<(u64, u64)>,
}

impl ChangeCounter {
    /// Maps the counter file in `dir` for a reader. Returns `Ok(None)` if there is none yet,
    /// or if the path names something other than a counter file. A read creates nothing.
    pub(crate) fn open_existing(dir: &Path) -> io::Result<Option<Self>> {
        match Self::map(&dir.join(CHANGES_FILE)) {
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
            other => other,
        }
    }

    /// Maps the counter file in `dir` for a writer, creating it if it is missing. Returns
    /// `Ok(None)` if the path names something other than a counter file (a symbolic link, a
    /// file of the wrong size) and `replace_invalid` is false. With `replace_invalid`, such
    /// a file is replaced by a new counter file, which only a holder of the exclusive service
    /// lock may do: a writer under the shared lock may have counted a change in the old one.
    /// Call only while holding the service lock.
    pub(crate) fn open_for_write(dir: &Path, replace_invalid: bool) -> io::Result<Option<Self>> {
        let path = dir.join(CHANGES_FILE);
        let missing = match Self::map(&path) {
            Ok(Some(counter)) => return Ok(Some(counter)),
            Ok(None) => false,
            Err(err) if err.kind() == io::ErrorKind::NotFound => true,
            Err(err) => return Err(err),
        };
        if !missing && !replace_invalid {
            return Ok(None);
        }
        // The new file gets its 16 bytes by a write, not by growing it, so that its blocks
        // are allocated now. On a full disk the write fails here. A sparse file would instead
        // kill the process with SIGBUS at the first store through the mapping.
        let mut suffix = [0u8; 8];
        getrandom::fill(&mut suffix).map_err(io::Error::other)?;
        let temp = dir.join(format!("{TEMP_PREFIX}changes-{}", hex::encode(suffix)));
        let result = write_zeroed(&temp).and_then(|()| {
            if missing {
                // A link never replaces a counter file that another writer created meanwhile.
                match fs::hard_link(&temp, &path) {
                    Err(err) if err.kind() != io::ErrorKind::AlreadyExists => Err(err),
                    _ => Ok(()),
                }
            } else {
                fs::rename(&temp, &path)
            }
        });
        let _ = fs::remove_file(&temp);
        result?;
        Self::map(&path)?
            .map(Some)
            .ok_or_else(|| io::Error::other(format!("{CHANGES_FILE} is not a regular file of {FILE_LEN} bytes")))
    }

    /// Maps the file at `path`, or returns `Ok(None)` if it is not a regular file of
    /// [`FILE_LEN`] bytes. Symbolic links are not followed.
    fn map(path: &Path) -> io::Result<Option<Self>> {
        let mut options = OpenOptions::new();
        options.read(true).write(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.custom_flags(libc::O_NOFOLLOW).mode(0o600);
        }
        let file = match options.open(path) {
            Ok(file) => file,
            // A symbolic link fails with ELOOP and a directory with EISDIR: neither is a
            // counter file.
            Err(err) if err.kind() != io::ErrorKind::NotFound && is_link_or_directory(path) => return Ok(None),
            Err(err) => return Err(err),
        };
        let meta = file.metadata()?;
        if !meta.is_file() || meta.len() != FILE_LEN {
            return Ok(None);
        }
        // NOTE: a program other than SecureStore that shrinks the file after this check
        // makes the next access to the mapping raise SIGBUS. Readers check the size before
        // each use (see `is_current`), which leaves only a short window.
        let map = MmapOptions::new().len(FILE_LEN as usize).map_raw(&file)?;
        Ok(Some(ChangeCounter { map, identity: identity(&meta) }))
    }

    fn counter(&self, index: usize) -> &AtomicU64 {
        debug_assert!(index < 2);
        // SAFETY: the mapping is FILE_LEN bytes long, page-aligned (so both 8-byte slots are
        // aligned for AtomicU64), lives as long as `self`, and every process changes it only
        // through atomic operations.
        unsafe { &*self.map.as_ptr().cast::<AtomicU64>().add(index) }
    }

    fn started(&self) -> &AtomicU64 {
        self.counter(0)
    }

    fn finished(&self) -> &AtomicU64 {
        self.counter(1)
    }

    /// Returns the number of changes started so far.
    pub(crate) fn started_count(&self) -> u64 {
        self.started().load(Ordering::SeqCst)
    }

    /// Returns the number of changes started so far if every one of them has finished, or
    /// `None` while a change is in progress (or its writer was killed).
    pub(crate) fn settled(&self) -> Option<u64> {
        // `started` first: if `finished` then equals it, no change was in progress at the
        // moment `finished` was read.
        let started = self.started().load(Ordering::SeqCst);
        let finished = self.finished().load(Ordering::SeqCst);
        (started == finished).then_some(started)
    }

    /// Starts a change. The change finishes when the returned guard is dropped, whether the
    /// write succeeded or not. Call only while holding the service lock.
    pub(crate) fn begin(&self) -> Change<'_> {
        self.started().fetch_add(1, Ordering::SeqCst);
        Change { counter: self }
    }

    /// Marks every started change finished. Call only while holding the exclusive service
    /// lock, because then no change can be in progress. Changes left unfinished by a killed
    /// writer keep readers from caching until this is called.
    pub(crate) fn settle(&self) {
        let started = self.started().load(Ordering::SeqCst);
        self.finished().fetch_max(started, Ordering::SeqCst);
    }

    /// Returns whether `path`, the counter file's path in its service directory, still names
    /// the mapped file at its full size. A file that was deleted, replaced or moved away,
    /// alone or with its directory, no longer counts the changes of the entries at that path.
    pub(crate) fn is_current(&self, path: &Path) -> bool {
        match (fs::symlink_metadata(path), self.identity) {
            (Ok(meta), Some(mapped)) => meta.len() == FILE_LEN && identity(&meta) == Some(mapped),
            _ => false,
        }
    }
}

/// Returns the device and inode number of a file. Without them (on Windows) no counter
/// is ever current, so nothing is cached.
#[cfg(unix)]
fn identity(meta: &fs::Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    Some((meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
fn identity(_meta: &fs::Metadata) -> Option<(u64, u64)> {
    None
}

fn is_link_or_directory(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|meta| meta.file_type().is_symlink() || meta.is_dir())
}

fn write_zeroed(path: &Path) -> io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(&[0u8; FILE_LEN as usize])
}

/// A change in progress; dropping it finishes the change.
pub(crate) struct Change<'a> {
    counter: &'a ChangeCounter,
}

impl Drop for Change<'_> {
    fn drop(&mut self) {
        self.counter.finished().fetch_add(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(dir: &tempfile::TempDir) -> std::path::PathBuf {
        dir.path().join(CHANGES_FILE)
    }

    #[test]
    fn readers_create_nothing() {
        let dir = tempfile::tempdir().unwrap();
        assert!(ChangeCounter::open_existing(dir.path()).unwrap().is_none());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn change_is_seen_by_other_mapping() {
        let dir = tempfile::tempdir().unwrap();
        let writer = ChangeCounter::open_for_write(dir.path(), false).unwrap().unwrap();
        let reader = ChangeCounter::open_existing(dir.path()).unwrap().unwrap();
        assert_eq!(reader.settled(), Some(0));

        let change = writer.begin();
        assert_eq!(reader.settled(), None);
        assert_eq!(reader.started_count(), 1);
        drop(change);
        assert_eq!(reader.settled(), Some(1));
        // Only the counter file is left: the temporary file it was written to is gone.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn settle_ends_abandoned_change() {
        let dir = tempfile::tempdir().unwrap();
        let counter = ChangeCounter::open_for_write(dir.path(), false).unwrap().unwrap();
        std::mem::forget(counter.begin());
        assert_eq!(counter.settled(), None);

        let reopened = ChangeCounter::open_for_write(dir.path(), false).unwrap().unwrap();
        assert_eq!(reopened.settled(), None);
        reopened.settle();
        assert_eq!(counter.settled(), Some(1));
    }

    #[test]
    fn reopening_keeps_counts() {
        let dir = tempfile::tempdir().unwrap();
        let first = ChangeCounter::open_for_write(dir.path(), false).unwrap().unwrap();
        drop(first.begin());
        drop(first.begin());
        let second = ChangeCounter::open_for_write(dir.path(), false).unwrap().unwrap();
        assert_eq!(second.settled(), Some(2));
    }

    #[test]
    fn removed_or_replaced_file_is_not_current() {
        let dir = tempfile::tempdir().unwrap();
        let counter = ChangeCounter::open_for_write(dir.path(), false).unwrap().unwrap();
        assert!(counter.is_current(&path(&dir)));
        fs::remove_file(path(&dir)).unwrap();
        assert!(!counter.is_current(&path(&dir)));

        let replacement = ChangeCounter::open_for_write(dir.path(), false).unwrap().unwrap();
        assert!(!counter.is_current(&path(&dir)));
        assert!(replacement.is_current(&path(&dir)));
    }

    #[test]
    fn moved_directory_is_not_current() {
        let parent = tempfile::tempdir().unwrap();
        let dir = parent.path().join("service");
        fs::create_dir(&dir).unwrap();
        let counter = ChangeCounter::open_for_write(&dir, false).unwrap().unwrap();
        fs::rename(&dir, parent.path().join("moved")).unwrap();
        fs::create_dir(&dir).unwrap();
        fs::copy(parent.path().join("moved").join(CHANGES_FILE), dir.join(CHANGES_FILE)).unwrap();
        assert!(!counter.is_current(&dir.join(CHANGES_FILE)));
    }

    #[test]
    fn short_file_is_not_mapped() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(path(&dir), [0u8; 4]).unwrap();
        assert!(ChangeCounter::open_existing(dir.path()).unwrap().is_none());
        assert!(ChangeCounter::open_for_write(dir.path(), false).unwrap().is_none());

        let replaced = ChangeCounter::open_for_write(dir.path(), true).unwrap().unwrap();
        assert_eq!(replaced.settled(), Some(0));
        assert_eq!(fs::metadata(path(&dir)).unwrap().len(), FILE_LEN);
    }

    #[cfg(unix)]
    #[test]
    fn symbolic_link_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let target = outside.path().join("target");
        std::os::unix::fs::symlink(&target, path(&dir)).unwrap();
        assert!(ChangeCounter::open_existing(dir.path()).unwrap().is_none());
        assert!(ChangeCounter::open_for_write(dir.path(), false).unwrap().is_none());

        let replaced = ChangeCounter::open_for_write(dir.path(), true).unwrap().unwrap();
        assert!(replaced.is_current(&path(&dir)));
        assert!(fs::symlink_metadata(path(&dir)).unwrap().is_file());
        assert!(!target.exists(), "nothing is created outside the store");
    }

    #[test]
    fn directory_in_place_is_an_error_for_writers() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(path(&dir)).unwrap();
        assert!(ChangeCounter::open_existing(dir.path()).unwrap().is_none());
        assert!(ChangeCounter::open_for_write(dir.path(), true).is_err());
    }
}
