//! Following a job's log file as its supervisor writes it: new lines, read in bounded chunks,
//! for the console. The log is already masked.

use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;

/// At most this much is read per look, and a line longer than this is shown in pieces.
const CHUNK: usize = 256 * 1024;

pub struct Follow {
    path: PathBuf,
    offset: u64,
    partial: Vec<u8>,
}

impl Follow {
    /// Follows `path` from its current end (an earlier attempt's output is not shown again).
    pub fn new(path: PathBuf) -> Follow {
        let offset = std::fs::metadata(&path).map_or(0, |m| m.len());
        Follow {
            path,
            offset,
            partial: Vec::new(),
        }
    }

    /// Passes each new complete line to `out`; true when anything was read.
    pub fn poll(&mut self, out: &mut dyn FnMut(&str)) -> bool {
        let Ok(mut file) = std::fs::File::open(&self.path) else {
            return false;
        };
        // Only a regular file, and only up to its size now: a log replaced by a device or a
        // growing file never keeps the scheduler reading.
        let end = match file.metadata() {
            Ok(meta) if meta.is_file() => meta.len(),
            _ => return false,
        };
        let mut read_any = false;
        while self.offset < end {
            if file.seek(SeekFrom::Start(self.offset)).is_err() {
                return read_any;
            }
            let mut chunk = Vec::with_capacity(CHUNK.min(64 * 1024));
            let want = (end - self.offset).min(CHUNK as u64);
            let Ok(n) = (&mut file).take(want).read_to_end(&mut chunk) else {
                return read_any;
            };
            if n == 0 {
                return read_any;
            }
            read_any = true;
            self.offset += n as u64;
            self.partial.extend_from_slice(&chunk);
            let mut start = 0;
            while let Some(newline) = self.partial[start..].iter().position(|b| *b == b'\n') {
                let line = &self.partial[start..start + newline];
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                out(&String::from_utf8_lossy(line));
                start += newline + 1;
            }
            self.partial.drain(..start);
            if self.partial.len() >= CHUNK {
                out(&String::from_utf8_lossy(&self.partial));
                self.partial.clear();
            }
        }
        read_any
    }

    /// The rest, the last line even without its line break.
    pub fn finish(&mut self, out: &mut dyn FnMut(&str)) {
        self.poll(out);
        if !self.partial.is_empty() {
            out(&String::from_utf8_lossy(&self.partial));
            self.partial.clear();
        }
    }
}
