//! The journal's single writer: the process holding the run's lock appends every change, one
//! line each, before acting on it, and now and then rewrites the whole record as a snapshot
//! (which empties the journal). Writes reach the disk (`fdatasync`) at most once a second, and
//! at once before a deploy starts. Each line carries a sequence number and a CRC32C.

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
    /// Whether the journal may end in a cut-short line (before this writer's first append,
    /// and after a failed one): it is cut off before the next append.
    tail_suspect: bool,
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
            tail_suspect: true,
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

    /// Records `changes` (already applied to `record`): appended to the journal, numbered on
    /// from the record's `journal_seq` (which then counts them), or, the first time, after a
    /// failed write and every [`SNAPSHOT_EVERY`] entries, as a new snapshot of the same
    /// `record`.
    pub fn write(&mut self, record: &mut RunRecord, changes: &[Change]) -> std::io::Result<()> {
        self.write_unnamed(record, changes).map_err(|e| {
            let dir = self.store.run_dir(&self.id);
            std::io::Error::new(e.kind(), format!("{}: {e}", dir.display()))
        })
    }

    fn write_unnamed(&mut self, record: &mut RunRecord, changes: &[Change]) -> std::io::Result<()> {
        if !self.snapshotted || self.journaled + changes.len() > SNAPSHOT_EVERY {
            self.store.save(record)?;
            self.snapshotted = true;
            self.tail_suspect = false;
            self.journaled = 0;
            self.durable = false;
            self.last_sync = Instant::now();
            return Ok(());
        }
        if changes.is_empty() {
            return Ok(());
        }
        let sync = self.durable || self.last_sync.elapsed() >= SYNC_EVERY;
        let appended = if self.tail_suspect {
            self.store.cut_torn_tail(&self.id)
        } else {
            Ok(())
        }
        .and_then(|()| {
            self.store
                .append_with(&self.id, record.journal_seq + 1, changes, sync)
        });
        if let Err(error) = appended {
            // What reached the file is cut off again where possible; the next write is a
            // snapshot of the whole record either way.
            self.tail_suspect = true;
            self.snapshotted = false;
            return Err(error);
        }
        self.tail_suspect = false;
        record.journal_seq += changes.len() as u64;
        self.journaled += changes.len();
        if sync {
            self.durable = false;
            self.last_sync = Instant::now();
        }
        Ok(())
    }
}

/// A journal line: `SEQ CRC {json}\n`, where SEQ counts every change of the run from 1 (a
/// snapshot records the last one it holds as `journal_seq`) and CRC is the CRC32C, in 8 hex
/// digits, of the bytes `SEQ {json}`. A line without it (`{json}`, written by cdl before the
/// sequence numbers) is read as a journal of that older format, all of it or none.
pub fn encode(seq: u64, change: &Change, out: &mut Vec<u8>) -> std::io::Result<()> {
    let json = serde_json::to_vec(change).map_err(std::io::Error::other)?;
    let head = format!("{seq} ");
    let crc = crc32c(crc32c_update(!0, head.as_bytes()), &json);
    out.extend_from_slice(head.as_bytes());
    out.extend_from_slice(format!("{crc:08x} ").as_bytes());
    out.extend_from_slice(&json);
    out.push(b'\n');
    Ok(())
}

/// A journal line that does not read: its number (from 1) and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    pub line: usize,
    pub what: String,
}

/// The changes of a journal with a sequence number above `after` (the snapshot's
/// `journal_seq`), in order, with the last sequence number read. The bytes after the last line
/// break are a write cut short by a crash and are ignored (the next writer cuts them off before
/// it appends); any other line that does not read — a wrong CRC, bad JSON, a sequence number
/// out of order — is an error naming it.
pub fn decode(bytes: &[u8], after: u64) -> Result<(Vec<Change>, u64), BadLine> {
    let complete = &bytes[..complete_len(bytes)];
    let mut out = Vec::new();
    let mut last: Option<u64> = None;
    let mut legacy: Option<bool> = None;
    for (number, line) in complete.split_inclusive(|b| *b == b'\n').enumerate() {
        let line = &line[..line.len() - 1];
        let bad = |what: String| BadLine {
            line: number + 1,
            what,
        };
        let is_legacy = line.first() == Some(&b'{');
        if *legacy.get_or_insert(is_legacy) != is_legacy {
            return Err(bad(
                "a line without a sequence number and CRC among lines with them".into(),
            ));
        }
        if is_legacy {
            let change = serde_json::from_slice::<Change>(line)
                .map_err(|e| bad(format!("not a journal entry ({e})")))?;
            out.push(change);
            continue;
        }
        let (seq, change) = decode_line(line).map_err(bad)?;
        if let Some(last) = last
            && seq != last + 1
        {
            return Err(bad(format!(
                "its sequence number is {seq} after {last}: entries are missing or out of order"
            )));
        }
        if last.is_none() && seq > after + 1 {
            return Err(bad(format!(
                "its sequence number is {seq}, but the snapshot (run.json) ends at {after}: entries {}..{} are missing",
                after + 1,
                seq - 1
            )));
        }
        last = Some(seq);
        if seq > after {
            out.push(change);
        }
    }
    Ok((out, last.map_or(after, |l| l.max(after))))
}

/// How many bytes of `bytes` are whole lines (up to and with the last line break).
pub fn complete_len(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |end| end + 1)
}

fn decode_line(line: &[u8]) -> Result<(u64, Change), String> {
    let text = std::str::from_utf8(line).map_err(|_| "not UTF-8".to_string())?;
    let mut parts = text.splitn(3, ' ');
    let (Some(seq), Some(crc), Some(json)) = (parts.next(), parts.next(), parts.next()) else {
        return Err("not `SEQ CRC {entry}`".into());
    };
    let number = seq
        .parse::<u64>()
        .ok()
        .filter(|_| seq.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| format!("`{}` is not a sequence number", seq.escape_debug()))?;
    let expected = u32::from_str_radix(crc, 16)
        .ok()
        .filter(|_| crc.len() == 8 && crc.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
        .ok_or_else(|| format!("`{}` is not a CRC", crc.escape_debug()))?;
    let found = crc32c(
        crc32c_update(!0, format!("{seq} ").as_bytes()),
        json.as_bytes(),
    );
    if found != expected {
        return Err(format!(
            "its CRC32C is {found:08x}, the line says {expected:08x}: the line changed after it was written"
        ));
    }
    let change =
        serde_json::from_str::<Change>(json).map_err(|e| format!("not a journal entry ({e})"))?;
    Ok((number, change))
}

/// CRC32C (Castagnoli, reflected polynomial 0x82F63B78), as in iSCSI, ext4 and SSE 4.2: a
/// table-driven byte loop is fast enough for journal lines of a few hundred bytes.
const CRC32C_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u32;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0x82F6_3B78
            } else {
                crc >> 1
            };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
};

fn crc32c_update(mut crc: u32, bytes: &[u8]) -> u32 {
    for byte in bytes {
        crc = CRC32C_TABLE[((crc ^ u32::from(*byte)) & 0xff) as usize] ^ (crc >> 8);
    }
    crc
}

/// Finishes a CRC32C started with `!0` and fed with [`crc32c_update`], after `rest`.
fn crc32c(state: u32, rest: &[u8]) -> u32 {
    !crc32c_update(state, rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(n: i32) -> Change {
        Change::Group {
            job: format!("job-{n}"),
            group: n,
        }
    }

    /// A journal of `count` entries numbered from `first`.
    fn journal(first: u64, count: i32) -> Vec<u8> {
        let mut out = Vec::new();
        for n in 0..count {
            encode(first + n as u64, &change(n + 1), &mut out).unwrap();
        }
        out
    }

    #[test]
    fn a_journal_reads_back_in_order() {
        let (changes, last) = decode(&journal(1, 3), 0).unwrap();
        assert_eq!(changes, vec![change(1), change(2), change(3)]);
        assert_eq!(last, 3);
        assert_eq!(decode(b"", 7).unwrap(), (Vec::new(), 7));
    }

    #[test]
    fn a_torn_tail_at_every_byte_of_the_last_line_is_ignored() {
        let whole = journal(1, 3);
        let last_line = whole[..whole.len() - 1]
            .iter()
            .rposition(|b| *b == b'\n')
            .unwrap()
            + 1;
        // Every cut from the last line's first byte to just before its line break.
        for cut in last_line..whole.len() {
            let (changes, last) = decode(&whole[..cut], 0).unwrap();
            assert_eq!(changes, vec![change(1), change(2)], "cut at {cut}");
            assert_eq!(last, 2);
        }
        assert_eq!(decode(&whole, 0).unwrap().0.len(), 3);
    }

    #[test]
    fn a_changed_byte_in_any_line_is_an_error_naming_that_line() {
        let whole = journal(1, 3);
        let line_of = |at: usize| whole[..at].iter().filter(|b| **b == b'\n').count() + 1;
        let mut checked = 0;
        // Every byte but the final line break (without it, the last line is a torn tail),
        // changed to every other value.
        for at in 0..whole.len() - 1 {
            for flip in 1..=255u8 {
                let mut damaged = whole.clone();
                damaged[at] ^= flip;
                let bad = decode(&damaged, 0).expect_err(&format!("byte {at} ^ {flip:#x}"));
                assert_eq!(bad.line, line_of(at), "byte {at} ^ {flip:#x}: {}", bad.what);
                checked += 1;
            }
        }
        assert_eq!(checked, (whole.len() - 1) * 255);
    }

    #[test]
    fn entries_a_snapshot_holds_are_skipped() {
        // The snapshot (journal_seq 2) was renamed into place, the journal not yet emptied.
        let (changes, last) = decode(&journal(1, 3), 2).unwrap();
        assert_eq!(changes, vec![change(3)]);
        assert_eq!(last, 3);
        let (changes, last) = decode(&journal(1, 3), 5).unwrap();
        assert!(changes.is_empty());
        assert_eq!(last, 5);
    }

    #[test]
    fn a_gap_in_the_sequence_is_an_error_naming_the_line() {
        let mut text = journal(1, 2);
        encode(4, &change(4), &mut text).unwrap();
        let bad = decode(&text, 0).unwrap_err();
        assert_eq!(bad.line, 3);
        assert!(bad.what.contains("4 after 2"), "{}", bad.what);
        // Entries missing between the snapshot and the journal.
        let bad = decode(&journal(5, 2), 2).unwrap_err();
        assert_eq!(bad.line, 1);
        assert!(
            bad.what.contains("entries 3..4 are missing"),
            "{}",
            bad.what
        );
        // A line repeated.
        let mut text = journal(1, 2);
        text.extend_from_slice(&journal(2, 1));
        assert_eq!(decode(&text, 0).unwrap_err().line, 3);
    }

    #[test]
    fn old_and_new_lines_do_not_mix() {
        let mut text = journal(1, 1);
        text.extend_from_slice(&serde_json::to_vec(&change(2)).unwrap());
        text.push(b'\n');
        assert_eq!(decode(&text, 0).unwrap_err().line, 2);
    }

    proptest::proptest! {
        /// Never a panic, whatever the bytes.
        #[test]
        fn any_bytes_decode_or_fail_without_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300), after in 0u64..5) {
            let _ = decode(&bytes, after);
        }
    }

    #[test]
    fn crc32c_matches_the_standard_check_value() {
        assert_eq!(crc32c(!0, b"123456789"), 0xE306_9283);
        assert_eq!(crc32c(!0, b""), 0);
    }
}
