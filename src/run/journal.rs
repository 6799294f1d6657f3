//! The journal's single writer: the process holding the run's lock appends every change, one
//! line each, before acting on it, and now and then rewrites the whole record as a snapshot
//! (which empties the journal). Writes reach the disk (`fdatasync`) at most once a second, and
//! at once before a deploy starts.

use std::time::{Duration, Instant};

use super::record::{Change, RunRecord, Store};

/// How many journal entries are written before the next full snapshot of `run.json`.
const SNAPSHOT_EVERY: usize = 2000;

/// Longest time a journaled change waits for `fdatasync`.
const SYNC_EVERY: Duration = Duration::from_secs(1);

pub struct Journal {
    store: Store,
    id: String,
    snapshotted: bool,
    journaled: usize,
    durable: bool,
    last_sync: Instant,
}

impl Journal {
    pub fn new(store: Store, id: String) -> Journal {
        Journal {
            store,
            id,
            snapshotted: false,
            journaled: 0,
            durable: false,
            last_sync: Instant::now(),
        }
    }

    /// The next write is a full snapshot.
    pub fn snapshot_next(&mut self) {
        self.snapshotted = false;
    }

    /// The next write is flushed to disk before it returns.
    pub fn durable_next(&mut self, durable: bool) {
        self.durable |= durable;
    }

    /// Records `changes` (already applied to `record`): appended to the journal, or, the first
    /// time and every [`SNAPSHOT_EVERY`] entries, as a new snapshot of the same `record`.
    pub fn write(&mut self, record: &RunRecord, changes: &[Change]) -> std::io::Result<()> {
        if !self.snapshotted || self.journaled + changes.len() > SNAPSHOT_EVERY {
            self.store.save(record)?;
            self.snapshotted = true;
            self.journaled = 0;
            self.durable = false;
            self.last_sync = Instant::now();
            return Ok(());
        }
        if changes.is_empty() {
            return Ok(());
        }
        let sync = self.durable || self.last_sync.elapsed() >= SYNC_EVERY;
        self.store.append_with(&self.id, changes, sync)?;
        self.journaled += changes.len();
        if sync {
            self.durable = false;
            self.last_sync = Instant::now();
        }
        Ok(())
    }
}
