//! The run's keeper: one process per run (the `cdl` binary in a hidden mode, `cdl __keeper`),
//! in a session of its own, that forks — never execs — one supervisor per attempt, so that
//! starting an attempt costs a fork instead of starting the `cdl` binary again.
//!
//! The run sends each attempt's [`Spec`] on a socket together with the attempt's lock, already
//! locked (`SCM_RIGHTS`): the lock is held without a gap — by the run, then by the message in
//! flight, then by the keeper, then by the supervisor alone — so whoever can take it knows the
//! attempt's supervisor is gone. If the keeper dies, a request in flight dies with it and its
//! lock comes free (the attempt vanished); supervisors already forked run on by themselves (each
//! holds its own lock and writes its own result file) and are re-attached like any other.
//!
//! Each supervisor writes `ended <ticket>` on the keeper's standard output, a pipe back to the
//! run, once its result is in place and its locks are released: the run sees an attempt end at
//! once, without polling. The keeper is single-threaded (exec'd fresh, no threads are ever
//! started), so forking it is safe.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use super::process;
use super::supervisor::{self, Spec};

/// The first argument that makes `cdl` a keeper.
pub const MODE: &str = "__keeper";

/// How long the keeper waits for a request before it reaps its children again.
const REAP_EVERY: i32 = 100;

/// The run's side: the keeper process, the socket requests go on, the pipe events come back on.
pub struct Keeper {
    child: Child,
    requests: UnixStream,
    events: std::io::PipeReader,
    /// Bytes of an event line not complete yet.
    partial: Vec<u8>,
}

impl Keeper {
    /// Starts a keeper for this run.
    pub fn start() -> std::io::Result<Keeper> {
        let (requests, theirs) = UnixStream::pair()?;
        let (events, writer) = std::io::pipe()?;
        let mut command = Command::new(std::env::current_exe()?);
        command
            .arg(MODE)
            .stdin(Stdio::from(OwnedFd::from(theirs)))
            .stdout(writer)
            .stderr(Stdio::null());
        // SAFETY: setsid is async-signal-safe. A new session: a closed terminal or a Ctrl-C
        // reaches only the run, never the keeper or its supervisors.
        unsafe {
            command.pre_exec(|| {
                if libc::setsid() < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = command.spawn()?;
        // The copies of the keeper's ends went with `command`.
        drop(command);
        set_nonblocking(events.as_raw_fd());
        Ok(Keeper {
            child,
            requests,
            events,
            partial: Vec::new(),
        })
    }

    /// Hands an attempt over: its spec and its locked lock file, in one message.
    pub fn launch(&mut self, spec: &Spec, lock: &File) -> std::io::Result<()> {
        let body = serde_json::to_vec(spec).map_err(std::io::Error::other)?;
        let mut frame = Vec::with_capacity(body.len() + 8);
        frame.extend_from_slice(&(body.len() as u64).to_le_bytes());
        frame.extend_from_slice(&body);
        send_with_fd(&self.requests, &frame, lock.as_raw_fd())
    }

    /// The descriptor that becomes readable when a supervisor reports its end.
    pub fn events_fd(&self) -> RawFd {
        self.events.as_raw_fd()
    }

    /// The tickets of the attempts that reported their end since the last call.
    pub fn ended(&mut self) -> Vec<u64> {
        let mut buffer = [0u8; 4096];
        while let Ok(n) = self.events.read(&mut buffer) {
            if n == 0 {
                break;
            }
            self.partial.extend_from_slice(&buffer[..n]);
        }
        let mut tickets = Vec::new();
        let mut start = 0;
        while let Some(end) = self.partial[start..].iter().position(|b| *b == b'\n') {
            let line = &self.partial[start..start + end];
            if let Some(ticket) = std::str::from_utf8(line)
                .ok()
                .and_then(|l| l.strip_prefix("ended "))
                .and_then(|t| t.parse().ok())
            {
                tickets.push(ticket);
            }
            start += end + 1;
        }
        self.partial.drain(..start);
        tickets
    }
}

impl Drop for Keeper {
    /// No more requests: the keeper exits once its last supervisor has. The run waits a moment
    /// for it (normally nothing runs any more); a keeper with jobs still running is left to
    /// them.
    fn drop(&mut self) {
        let _ = self.requests.shutdown(std::net::Shutdown::Both);
        let until = Instant::now() + Duration::from_secs(2);
        while Instant::now() < until {
            if !matches!(self.child.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

/// Sends `bytes` with `fd` attached (`SCM_RIGHTS`); the descriptor travels with the first byte.
fn send_with_fd(socket: &UnixStream, bytes: &[u8], fd: RawFd) -> std::io::Result<()> {
    let size = std::mem::size_of::<RawFd>() as u32;
    // SAFETY: CMSG_SPACE/CMSG_LEN only compute sizes.
    let (space, len) = unsafe { (libc::CMSG_SPACE(size) as usize, libc::CMSG_LEN(size)) };
    let mut control = vec![0u64; space.div_ceil(8)];
    let mut iov = libc::iovec {
        iov_base: bytes.as_ptr() as *mut libc::c_void,
        iov_len: bytes.len(),
    };
    // SAFETY: a zeroed msghdr is valid; every pointer set below outlives the sendmsg call, and
    // the control buffer is aligned (u64) and large enough for one descriptor.
    unsafe {
        let mut message: libc::msghdr = std::mem::zeroed();
        message.msg_iov = &mut iov;
        message.msg_iovlen = 1;
        message.msg_control = control.as_mut_ptr().cast();
        message.msg_controllen = space as _;
        let header = libc::CMSG_FIRSTHDR(&message);
        (*header).cmsg_level = libc::SOL_SOCKET;
        (*header).cmsg_type = libc::SCM_RIGHTS;
        (*header).cmsg_len = len as _;
        std::ptr::copy_nonoverlapping(
            (&fd as *const RawFd).cast::<u8>(),
            libc::CMSG_DATA(header),
            size as usize,
        );
        let sent = libc::sendmsg(socket.as_raw_fd(), &message, libc::MSG_NOSIGNAL);
        if sent < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let sent = sent as usize;
        if sent < bytes.len() {
            // The descriptor went with the first part; the rest follows without one.
            let mut rest = socket;
            rest.write_all(&bytes[sent..])?;
        }
    }
    Ok(())
}

/// Reads what is there (blocking until something is), collecting the descriptors that came
/// with it (close-on-exec). `Ok(0)`: the run closed its end.
fn receive(
    socket: RawFd,
    buffer: &mut [u8],
    fds: &mut VecDeque<OwnedFd>,
) -> std::io::Result<usize> {
    let size = std::mem::size_of::<RawFd>() as u32;
    // Room for a few descriptors: one comes per request.
    // SAFETY: CMSG_SPACE only computes a size.
    let space = unsafe { libc::CMSG_SPACE(size * 16) } as usize;
    let mut control = vec![0u64; space.div_ceil(8)];
    let mut iov = libc::iovec {
        iov_base: buffer.as_mut_ptr().cast(),
        iov_len: buffer.len(),
    };
    // SAFETY: as in `send_with_fd`; the kernel writes at most `space` bytes of control data,
    // and each SCM_RIGHTS entry holds descriptors now owned by this process.
    unsafe {
        let mut message: libc::msghdr = std::mem::zeroed();
        message.msg_iov = &mut iov;
        message.msg_iovlen = 1;
        message.msg_control = control.as_mut_ptr().cast();
        message.msg_controllen = space as _;
        let got = libc::recvmsg(socket, &mut message, libc::MSG_CMSG_CLOEXEC);
        if got < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let mut header = libc::CMSG_FIRSTHDR(&message);
        while !header.is_null() {
            if (*header).cmsg_level == libc::SOL_SOCKET && (*header).cmsg_type == libc::SCM_RIGHTS {
                let data = libc::CMSG_DATA(header);
                let count =
                    ((*header).cmsg_len as usize - libc::CMSG_LEN(0) as usize) / size as usize;
                for i in 0..count {
                    let mut fd: RawFd = -1;
                    std::ptr::copy_nonoverlapping(
                        data.add(i * size as usize),
                        (&mut fd as *mut RawFd).cast::<u8>(),
                        size as usize,
                    );
                    fds.push_back(OwnedFd::from_raw_fd(fd));
                }
            }
            header = libc::CMSG_NXTHDR(&message, header);
        }
        Ok(got as usize)
    }
}

fn set_nonblocking(fd: RawFd) {
    // SAFETY: fcntl on a descriptor we own.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK);
    }
}

// ------------------------------------------------------------------ the keeper's side

/// `cdl __keeper`: requests on standard input (a socket), events out on standard output (a
/// pipe to the run). Exits once the run closed its end and every supervisor it forked is gone.
pub fn main() -> ExitCode {
    // SAFETY: dispositions only; a closed terminal, a Ctrl-C or a closed pipe must not stop
    // the keeper (the run decides what stops).
    unsafe {
        for signal in [libc::SIGHUP, libc::SIGINT, libc::SIGPIPE] {
            libc::signal(signal, libc::SIG_IGN);
        }
    }
    process::become_subreaper();
    let mut buffer = vec![0u8; 256 * 1024];
    let mut pending: Vec<u8> = Vec::new();
    let mut fds: VecDeque<OwnedFd> = VecDeque::new();
    loop {
        reap();
        let mut poll = libc::pollfd {
            fd: 0,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd, for the duration of the call.
        let ready = unsafe { libc::poll(&mut poll, 1, REAP_EVERY) };
        if ready <= 0 {
            continue;
        }
        match receive(0, &mut buffer, &mut fds) {
            Ok(0) => break,
            Ok(n) => pending.extend_from_slice(&buffer[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        }
        while let Some(body) = next_frame(&mut pending) {
            // Each request carries its lock; a request without one is not started (its lock
            // file, if any, is free: the attempt vanished).
            let Some(lock) = fds.pop_front() else {
                continue;
            };
            if let Ok(spec) = serde_json::from_slice::<Spec>(&body) {
                fork_supervisor(spec, lock);
            }
        }
    }
    // The run is gone or done: wait for every supervisor (and what they leave) to end.
    drop(fds);
    loop {
        let mut status = 0;
        // SAFETY: waitpid with a valid out pointer.
        let pid = unsafe { libc::waitpid(-1, &mut status, 0) };
        if pid < 0 && std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
            break;
        }
    }
    ExitCode::SUCCESS
}

/// The next complete request (a little-endian length, then the spec), if there is one.
fn next_frame(pending: &mut Vec<u8>) -> Option<Vec<u8>> {
    let len = u64::from_le_bytes(pending.get(..8)?.try_into().ok()?) as usize;
    if pending.len() < 8 + len {
        return None;
    }
    let body = pending[8..8 + len].to_vec();
    pending.drain(..8 + len);
    Some(body)
}

/// Reaps every child that ended (supervisors, and orphans adopted as a subreaper).
fn reap() {
    loop {
        let mut status = 0;
        // SAFETY: waitpid with WNOHANG and a valid out pointer.
        if unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) } <= 0 {
            return;
        }
    }
}

/// Forks the attempt's supervisor. The child runs [`supervisor::supervise`] and exits; the
/// keeper's copy of the lock is closed at once, so the supervisor alone holds it.
fn fork_supervisor(spec: Spec, lock: OwnedFd) {
    // Stop signals wait until the supervisor's handlers are in place.
    // SAFETY: sigprocmask on this (single) thread.
    unsafe { supervisor::block_stop_signals(libc::SIG_BLOCK) };
    // SAFETY: the keeper is single-threaded, so the child may run any code.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        // The request socket is the keeper's alone: the run must see it close when the keeper
        // dies, whatever supervisors live on.
        // SAFETY: closing our own descriptor 0 and pointing it at /dev/null.
        unsafe {
            libc::close(0);
            libc::signal(libc::SIGINT, libc::SIG_DFL);
        }
        if let Ok(null) = File::open("/dev/null") {
            // SAFETY: dup2 onto the now free descriptor 0.
            unsafe { libc::dup2(null.as_raw_fd(), 0) };
        }
        let code = supervisor::supervise(spec, File::from(lock), Some(1));
        // SAFETY: the supervisor's work is done; leave without running the keeper's exit path.
        unsafe { libc::_exit(code) };
    }
    drop(lock);
    // SAFETY: as above.
    unsafe { supervisor::block_stop_signals(libc::SIG_UNBLOCK) };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn locked_file(dir: &std::path::Path, name: &str) -> (std::path::PathBuf, File) {
        let path = dir.join(name);
        let file = File::create(&path).unwrap();
        file.try_lock().unwrap();
        (path, file)
    }

    fn lock_is_free(path: &std::path::Path) -> bool {
        File::open(path).unwrap().try_lock().is_ok()
    }

    #[test]
    fn a_lock_handed_over_stays_held_until_its_receiver_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let (path, lock) = locked_file(dir.path(), "a.lock");
        let (ours, theirs) = UnixStream::pair().unwrap();
        send_with_fd(&ours, b"hello", lock.as_raw_fd()).unwrap();
        drop(lock);
        // In flight: nobody has received it, and the lock is still held.
        assert!(!lock_is_free(&path));
        let mut buffer = [0u8; 64];
        let mut fds = VecDeque::new();
        let n = receive(theirs.as_raw_fd(), &mut buffer, &mut fds).unwrap();
        assert_eq!(&buffer[..n], b"hello");
        assert_eq!(fds.len(), 1);
        assert!(!lock_is_free(&path));
        drop(fds);
        assert!(lock_is_free(&path));
    }

    #[test]
    fn a_request_lost_with_its_keeper_frees_its_lock() {
        let dir = tempfile::tempdir().unwrap();
        let (path, lock) = locked_file(dir.path(), "b.lock");
        let (ours, theirs) = UnixStream::pair().unwrap();
        send_with_fd(&ours, b"x", lock.as_raw_fd()).unwrap();
        drop(lock);
        assert!(!lock_is_free(&path));
        // The keeper died without reading: the socket and the message in flight are gone.
        drop(theirs);
        drop(ours);
        assert!(lock_is_free(&path));
    }

    #[test]
    fn requests_sent_back_to_back_keep_their_own_locks_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let (ours, theirs) = UnixStream::pair().unwrap();
        let mut paths = Vec::new();
        for (i, size) in [10usize, 300_000, 1].into_iter().enumerate() {
            let (path, lock) = locked_file(dir.path(), &format!("{i}.lock"));
            let body = vec![b'a' + i as u8; size];
            let mut frame = (body.len() as u64).to_le_bytes().to_vec();
            frame.extend_from_slice(&body);
            let writer = ours.try_clone().unwrap();
            let sent = std::thread::spawn(move || {
                send_with_fd(&writer, &frame, lock.as_raw_fd()).unwrap();
            });
            paths.push(path);
            // Read while sending (a big frame does not fit in the socket's buffer).
            let mut pending = Vec::new();
            let mut fds = VecDeque::new();
            let mut buffer = vec![0u8; 64 * 1024];
            let body = loop {
                if let Some(body) = next_frame(&mut pending) {
                    break body;
                }
                let n = receive(theirs.as_raw_fd(), &mut buffer, &mut fds).unwrap();
                assert!(n > 0);
                pending.extend_from_slice(&buffer[..n]);
            };
            sent.join().unwrap();
            assert_eq!(body.len(), size);
            assert!(body.iter().all(|b| *b == b'a' + i as u8));
            assert_eq!(fds.len(), 1, "one lock per request");
            assert!(pending.is_empty());
            let received = File::from(fds.pop_front().unwrap());
            assert!(!lock_is_free(&paths[i]));
            drop(received);
            assert!(lock_is_free(&paths[i]));
        }
    }

    #[test]
    fn a_frame_is_complete_only_with_all_its_bytes() {
        let mut pending = 5u64.to_le_bytes().to_vec();
        pending.extend_from_slice(b"abc");
        assert_eq!(next_frame(&mut pending), None);
        pending.extend_from_slice(b"de");
        pending.extend_from_slice(&0u64.to_le_bytes());
        assert_eq!(next_frame(&mut pending).as_deref(), Some(&b"abcde"[..]));
        assert_eq!(next_frame(&mut pending).as_deref(), Some(&b""[..]));
        assert_eq!(next_frame(&mut pending), None);
    }
}
