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
use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use memmap2::{MmapOptions, MmapRaw};

/// The name of the counter file in a service directory.
pub(crate) const CHANGES_FILE: &str = ".changes";

/// Two `u64` counters: started at offset 0, finished at offset 8.
const FILE_LEN: u64 = 16;

/// The mapped counters of one service directory.
pub(crate) struct ChangeCounter {
    map: MmapRaw,
    /// The mapped file, kept open to tell whether it was unlinked.
    file: fs::File,
}

impl ChangeCounter {
    /// Opens and maps the counter file in `dir`. Writers pass `create`, readers do not: a
    /// read creates nothing, and returns `Ok(None)` if the file does not exist yet.
    pub(crate) fn open(dir: &Path, create: bool) -> io::Result<Option<Self>> {
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(create).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = match options.open(dir.join(CHANGES_FILE)) {
            Ok(file) => file,
            Err(err) if err.kind() == io::ErrorKind::NotFound && !create => return Ok(None),
            Err(err) => return Err(err),
        };
        let meta = file.metadata()?;
        if !meta.is_file() {
            return Err(io::Error::other(format!("{CHANGES_FILE} is not a regular file")));
        }
        if meta.len() < FILE_LEN {
            if !create {
                // A writer has created the file and is about to size it.
                return Ok(None);
            }
            // Growing a file fills it with zeros. A second writer that grows it to the same
            // length changes nothing, so counts raised in between stay.
            file.set_len(FILE_LEN)?;
        }
        // Only a program other than SecureStore could shrink the file after this check, and
        // touching the mapping past the end of the file would then raise SIGBUS.
        let map = MmapOptions::new().len(FILE_LEN as usize).map_raw(&file)?;
        Ok(Some(ChangeCounter { map, file }))
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

    /// Returns whether the mapped file is still linked into a directory. A file that was
    /// deleted or replaced by another program no longer counts anyone's changes.
    #[cfg(unix)]
    pub(crate) fn is_linked(&self) -> bool {
        use std::os::unix::fs::MetadataExt;
        self.file.metadata().is_ok_and(|meta| meta.nlink() > 0)
    }

    /// Without link counts the state of the file is unknown, so nothing is cached.
    #[cfg(not(unix))]
    pub(crate) fn is_linked(&self) -> bool {
        false
    }
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

    #[test]
    fn readers_create_nothing() {
        let dir = tempfile::tempdir().unwrap();
        assert!(ChangeCounter::open(dir.path(), false).unwrap().is_none());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn change_is_seen_by_other_mapping() {
        let dir = tempfile::tempdir().unwrap();
        let writer = ChangeCounter::open(dir.path(), true).unwrap().unwrap();
        let reader = ChangeCounter::open(dir.path(), false).unwrap().unwrap();
        assert_eq!(reader.settled(), Some(0));

        let change = writer.begin();
        assert_eq!(reader.settled(), None);
        assert_eq!(reader.started_count(), 1);
        drop(change);
        assert_eq!(reader.settled(), Some(1));
    }

    #[test]
    fn settle_ends_abandoned_change() {
        let dir = tempfile::tempdir().unwrap();
        let counter = ChangeCounter::open(dir.path(), true).unwrap().unwrap();
        std::mem::forget(counter.begin());
        assert_eq!(counter.settled(), None);

        let reopened = ChangeCounter::open(dir.path(), true).unwrap().unwrap();
        assert_eq!(reopened.settled(), None);
        reopened.settle();
        assert_eq!(counter.settled(), Some(1));
    }

    #[test]
    fn reopening_keeps_counts() {
        let dir = tempfile::tempdir().unwrap();
        let first = ChangeCounter::open(dir.path(), true).unwrap().unwrap();
        drop(first.begin());
        drop(first.begin());
        let second = ChangeCounter::open(dir.path(), true).unwrap().unwrap();
        assert_eq!(second.settled(), Some(2));
    }

    #[test]
    fn unlinked_file_is_detected() {
        let dir = tempfile::tempdir().unwrap();
        let counter = ChangeCounter::open(dir.path(), true).unwrap().unwrap();
        assert!(counter.is_linked());
        fs::remove_file(dir.path().join(CHANGES_FILE)).unwrap();
        assert!(!counter.is_linked());
    }

    #[test]
    fn short_file_is_not_mapped_by_readers() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(CHANGES_FILE), [0u8; 4]).unwrap();
        assert!(ChangeCounter::open(dir.path(), false).unwrap().is_none());
        let writer = ChangeCounter::open(dir.path(), true).unwrap().unwrap();
        assert_eq!(writer.settled(), Some(0));
    }
}
