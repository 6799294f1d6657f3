//! Waking the scheduler the moment a supervisor reports its end on the keeper's pipe, or a child
//! exits (SIGCHLD through a self-pipe), instead of polling: a 3 ms job is seen done in
//! microseconds, not at the next tick.

use std::io::Read;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::time::Duration;

pub struct Waker {
    read: Option<UnixStream>,
    id: Option<signal_hook::SigId>,
}

impl Waker {
    /// Listens for SIGCHLD; without it (an error), [`Waker::wait`] simply sleeps.
    pub fn new() -> Waker {
        let Ok((read, write)) = UnixStream::pair() else {
            return Waker {
                read: None,
                id: None,
            };
        };
        let _ = read.set_nonblocking(true);
        match signal_hook::low_level::pipe::register(signal_hook::consts::SIGCHLD, write) {
            Ok(id) => Waker {
                read: Some(read),
                id: Some(id),
            },
            Err(_) => Waker {
                read: None,
                id: None,
            },
        }
    }

    /// Waits up to `timeout`, or until a child exited since the last call, or until `also`
    /// (the keeper's event pipe) is readable.
    pub fn wait(&mut self, timeout: Duration, also: Option<RawFd>) {
        let ms = timeout.as_millis().clamp(0, i32::MAX as u128) as i32;
        let mut polls = Vec::with_capacity(2);
        if let Some(read) = &self.read {
            polls.push(libc::pollfd {
                fd: read.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            });
        }
        if let Some(fd) = also {
            polls.push(libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            });
        }
        if polls.is_empty() {
            std::thread::sleep(timeout);
            return;
        }
        // SAFETY: valid pollfds, for the duration of the call.
        unsafe { libc::poll(polls.as_mut_ptr(), polls.len() as libc::nfds_t, ms) };
        if let Some(read) = &mut self.read {
            let mut buffer = [0u8; 64];
            while matches!(read.read(&mut buffer), Ok(n) if n > 0) {}
        }
    }
}

impl Drop for Waker {
    fn drop(&mut self) {
        if let Some(id) = self.id.take() {
            signal_hook::low_level::unregister(id);
        }
    }
}
