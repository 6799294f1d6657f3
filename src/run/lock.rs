//! File locks: one per live run (so a resume or an approval cannot race the `cdl` driving it)
//! and per environment slot (so `concurrency = N` deploys at most N at once across runs).

use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

fn open(path: &Path) -> std::io::Result<File> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
}

/// Locks a run; `Ok(None)` when another live process holds it. The lock lasts as long as the
/// returned file is open, and the OS releases it when the process dies, even by `kill -9`.
pub fn try_lock_run(path: &Path) -> std::io::Result<Option<File>> {
    let file = open(path)?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(TryLockError::WouldBlock) => Ok(None),
        Err(TryLockError::Error(e)) => Err(e),
    }
}

/// Takes one of `slots` locks of an environment, waiting (and saying so once) while all are
/// held. `None` when cancelled while waiting.
pub fn lock_environment(
    dir: &Path,
    environment: &str,
    slots: u32,
    cancel: &AtomicBool,
    on_wait: &dyn Fn(String),
) -> std::io::Result<Option<File>> {
    let files: Vec<File> = (0..slots.max(1))
        .map(|slot| open(&dir.join(format!("{environment}.{slot}.lock"))))
        .collect::<Result<_, _>>()?;
    let mut said = false;
    loop {
        for file in &files {
            match file.try_lock() {
                Ok(()) => return Ok(Some(file.try_clone()?)),
                Err(TryLockError::WouldBlock) => {}
                Err(TryLockError::Error(e)) => return Err(e),
            }
        }
        if !said {
            on_wait(format!(
                "waiting for the environment `{environment}`: another run is deploying to it (concurrency = {slots})"
            ));
            said = true;
        }
        if cancel.load(Ordering::SeqCst) {
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
