//! The terminal prompt of a gate: a line read from standard input that gives up at the gate's
//! deadline and at a signal (Ctrl-C), without waiting for Enter in either case.

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::record::now_ms;

/// What the person at the terminal did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Yes,
    No,
    /// The deadline passed before an answer (or with the answer typed after it).
    TimedOut,
    /// A signal arrived (Ctrl-C): no decision.
    Cancelled,
    /// Standard input ended: nobody is there to answer.
    Closed,
    /// The terminal is gone (the question could not be written): no decision, the run is
    /// cancelled.
    Gone,
}

/// Asks `question` on stderr and reads the answer from standard input, polling so that the
/// deadline (ms since the epoch) and `signal` (set by the signal handlers) are noticed at once.
/// Every write is fallible: a terminal that is gone (`EIO` after a hang-up, `EPIPE`) is no
/// answer, and the run is cancelled without a decision — never a panic, as `eprint!` would.
pub fn ask(question: &str, deadline_ms: Option<u64>, signal: &AtomicUsize) -> Answer {
    ask_on(&mut std::io::stderr(), question, deadline_ms, signal)
}

fn ask_on(
    terminal: &mut impl Write,
    question: &str,
    deadline_ms: Option<u64>,
    signal: &AtomicUsize,
) -> Answer {
    if write!(terminal, "{question} [y/N] ")
        .and_then(|()| terminal.flush())
        .is_err()
    {
        return Answer::Gone;
    }
    let answer = read_answer(deadline_ms, signal);
    let after = match answer {
        Answer::TimedOut => "\nno answer before the gate's timeout: rejected\n",
        Answer::Cancelled | Answer::Gone => "\ncancelled: no decision recorded\n",
        Answer::Closed => "\n",
        Answer::Yes | Answer::No => "",
    };
    let _ = terminal.write_all(after.as_bytes());
    answer
}

fn read_answer(deadline_ms: Option<u64>, signal: &AtomicUsize) -> Answer {
    let mut line: Vec<u8> = Vec::new();
    loop {
        if signal.load(Ordering::SeqCst) != 0 {
            return Answer::Cancelled;
        }
        let now = now_ms();
        if deadline_ms.is_some_and(|d| now >= d) {
            return Answer::TimedOut;
        }
        let wait = deadline_ms.map_or(100, |d| (d - now).min(100)) as libc::c_int;
        let mut poll = libc::pollfd {
            fd: libc::STDIN_FILENO,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd, for the duration of the call.
        let ready = unsafe { libc::poll(&mut poll, 1, wait) };
        if ready < 0 {
            if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Answer::Closed;
        }
        if ready == 0 {
            continue;
        }
        let mut byte = [0u8; 256];
        // SAFETY: reads into a buffer of the length given.
        let n = unsafe { libc::read(libc::STDIN_FILENO, byte.as_mut_ptr().cast(), byte.len()) };
        if n < 0 {
            if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Answer::Closed;
        }
        if n == 0 {
            return Answer::Closed;
        }
        line.extend_from_slice(&byte[..n as usize]);
        if let Some(end) = line.iter().position(|b| *b == b'\n') {
            // An answer typed after the deadline does not count.
            if deadline_ms.is_some_and(|d| now_ms() >= d) {
                return Answer::TimedOut;
            }
            let text = String::from_utf8_lossy(&line[..end]);
            return match text.trim() {
                "y" | "Y" | "yes" | "Yes" | "YES" => Answer::Yes,
                _ => Answer::No,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A terminal that was closed: every write fails as after a hang-up.
    struct Closed;

    impl Write for Closed {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::from_raw_os_error(libc::EIO))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Err(std::io::Error::from_raw_os_error(libc::EIO))
        }
    }

    #[test]
    fn a_gone_terminal_is_no_answer_and_no_panic() {
        let signal = AtomicUsize::new(0);
        assert_eq!(ask_on(&mut Closed, "approve?", None, &signal), Answer::Gone);
    }

    #[test]
    fn a_signal_cancels_without_waiting_for_enter() {
        let signal = AtomicUsize::new(1);
        let mut shown = Vec::new();
        assert_eq!(
            ask_on(&mut shown, "approve?", None, &signal),
            Answer::Cancelled
        );
        let shown = String::from_utf8(shown).unwrap();
        assert!(shown.starts_with("approve? [y/N] "), "{shown}");
        assert!(shown.contains("no decision recorded"), "{shown}");
    }
}
