//! Process control for supervisors and resume: a child subreaper that kills every descendant
//! of a job (escaped with `setsid` or double-forked) until nothing is left, zombie or alive;
//! process groups; and the attempt cookie that finds what a vanished supervisor left behind.

use std::time::{Duration, Instant};

/// How many rounds of SIGKILL + reap before the survivors are counted as stragglers (processes
/// stuck in the kernel).
const KILL_ROUNDS: usize = 500;

/// Makes this process adopt orphaned descendants, so that they stay its own to signal and reap
/// (Linux; a no-op elsewhere).
pub fn become_subreaper() {
    #[cfg(target_os = "linux")]
    // SAFETY: prctl with PR_SET_CHILD_SUBREAPER takes plain integers and changes only this
    // process's own attribute.
    unsafe {
        libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    }
}

/// Sends a signal to every process of a group; false when the group no longer exists.
pub fn signal_group(group: i32, signal: i32) -> bool {
    // SAFETY: killpg only sends a signal; a negative or stale group id makes it fail harmlessly.
    group > 0 && unsafe { libc::killpg(group, signal) } == 0
}

/// This process's children, alive or zombie (`/proc/self/task/*/children`).
fn children() -> Vec<i32> {
    let mut out = Vec::new();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return out;
    };
    for task in tasks.flatten() {
        if let Ok(text) = std::fs::read_to_string(task.path().join("children")) {
            out.extend(
                text.split_whitespace()
                    .filter_map(|p| p.parse::<i32>().ok()),
            );
        }
    }
    out
}

/// Kills and reaps every descendant of this process (a subreaper adopts the grandchildren as
/// their parents die), until `waitpid` says there is no child left. Returns how many were
/// still there after the last round.
pub fn kill_descendants() -> usize {
    for round in 0..KILL_ROUNDS {
        for pid in children() {
            // SAFETY: our own child: its pid cannot be reused before we reap it.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        loop {
            let mut status = 0;
            // SAFETY: waitpid with WNOHANG; `status` is a valid out pointer.
            let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
            if pid > 0 {
                continue;
            }
            if pid < 0 {
                return 0;
            }
            break;
        }
        std::thread::sleep(Duration::from_millis(if round < 20 { 1 } else { 10 }));
    }
    children().len()
}

/// Stops a whole group: SIGTERM, a grace period, then SIGKILL. For process groups recorded by
/// runs of an older `cdl`, whose leaders are not our children.
pub fn kill_group(group: i32) {
    if !signal_group(group, libc::SIGTERM) {
        return;
    }
    let until = Instant::now() + Duration::from_millis(500);
    while Instant::now() < until {
        if !signal_group(group, 0) {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    signal_group(group, libc::SIGKILL);
}

/// Kills every process whose environment holds `CDL_ATTEMPT=<cookie>`: what a vanished
/// supervisor left behind (best effort: a process that cleared its environment escapes this).
/// `/proc` is looked through again until a pass finds none (bounded): a process the job forked
/// while a pass went by, after its place in the listing, is found by the next. Returns how many
/// signals were sent.
pub fn kill_by_cookie(cookie: &str) -> usize {
    let mut killed = 0;
    for round in 0..COOKIE_ROUNDS {
        let found = kill_by_cookie_once(cookie);
        if found == 0 {
            break;
        }
        killed += found;
        std::thread::sleep(Duration::from_millis(if round < 10 { 1 } else { 10 }));
    }
    killed
}

/// How many passes over `/proc` [`kill_by_cookie`] makes at most.
const COOKIE_ROUNDS: usize = 100;

fn kill_by_cookie_once(cookie: &str) -> usize {
    let needle = format!("CDL_ATTEMPT={cookie}\0").into_bytes();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    let mut killed = 0;
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        let Ok(environ) = std::fs::read(entry.path().join("environ")) else {
            continue;
        };
        if environ
            .windows(needle.len())
            .any(|w| w == needle.as_slice())
        {
            // SAFETY: kill only sends a signal.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            killed += 1;
        }
    }
    killed
}
