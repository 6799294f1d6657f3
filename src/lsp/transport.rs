//! The stdio transport: LSP's `Content-Length` framing read and written here rather than by
//! lsp-server, whose reader ends the connection at the first malformed message. A message that
//! is not UTF-8 or not JSON-RPC is answered with a parse error (-32700, `id: null`, as JSON-RPC
//! says) and the server goes on. A lone surrogate escape (`"\ud800"`, as JavaScript's
//! `JSON.stringify` writes) is read as U+FFFD, which has the same UTF-16 length, so the
//! server's text keeps the editor's positions.

use std::io::{self, BufRead, Write};
use std::thread;

use crossbeam_channel::{Receiver, Sender, bounded};
use lsp_server::{Connection, Message};

/// The connection over stdin and stdout, and the threads serving it.
pub fn stdio() -> (Connection, Threads) {
    let (writer_sender, writer_receiver) = bounded::<Outgoing>(0);
    let (reader_sender, reader_receiver) = bounded::<Message>(0);
    let (message_sender, message_receiver) = bounded::<Message>(0);
    // Messages from the server and parse errors from the reader share one writer.
    let forward = writer_sender.clone();
    let forwarder = thread::spawn(move || {
        for message in message_receiver {
            if forward.send(Outgoing::Message(message)).is_err() {
                break;
            }
        }
    });
    let writer = thread::spawn(move || write_all(&writer_receiver, &mut io::stdout().lock()));
    let reader =
        thread::spawn(move || read_all(&mut io::stdin().lock(), &reader_sender, &writer_sender));
    let connection = Connection {
        sender: message_sender,
        receiver: reader_receiver,
    };
    (
        connection,
        Threads {
            reader,
            forwarder,
            writer,
        },
    )
}

pub struct Threads {
    reader: thread::JoinHandle<()>,
    forwarder: thread::JoinHandle<()>,
    writer: thread::JoinHandle<io::Result<()>>,
}

impl Threads {
    /// Waits for the writer to send what is left. The reader is not waited for: after `exit`
    /// it may still be blocked on stdin, which the client may keep open.
    pub fn join(self) -> io::Result<()> {
        drop(self.reader);
        let _ = self.forwarder.join();
        self.writer
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the writer thread failed")))
    }
}

enum Outgoing {
    Message(Message),
    /// A JSON-RPC error without a request id.
    ParseError(String),
}

fn write_all(receiver: &Receiver<Outgoing>, out: &mut impl Write) -> io::Result<()> {
    for outgoing in receiver {
        match outgoing {
            Outgoing::Message(message) => message.write(out)?,
            Outgoing::ParseError(reason) => {
                let body = serde_json::json!({
                    "jsonrpc": "2.0",
                    "id": null,
                    "error": { "code": -32700, "message": reason },
                })
                .to_string();
                write!(out, "Content-Length: {}\r\n\r\n{body}", body.len())?;
                out.flush()?;
            }
        }
    }
    Ok(())
}

/// Reads messages until stdin ends or the client says `exit`.
fn read_all(input: &mut impl BufRead, messages: &Sender<Message>, errors: &Sender<Outgoing>) {
    loop {
        let body = match read_frame(input) {
            Frame::End => return,
            Frame::Malformed(reason) => {
                let _ = errors.send(Outgoing::ParseError(reason));
                continue;
            }
            Frame::Body(body) => body,
        };
        match parse(&body) {
            Ok(message) => {
                let exit = matches!(&message, Message::Notification(n) if n.method == "exit");
                if messages.send(message).is_err() || exit {
                    return;
                }
            }
            Err(reason) => {
                let _ = errors.send(Outgoing::ParseError(reason));
            }
        }
    }
}

enum Frame {
    Body(Vec<u8>),
    /// A header without a usable `Content-Length`: the reader resumes at the next header.
    Malformed(String),
    End,
}

/// Reads one `Content-Length` framed body.
fn read_frame(input: &mut impl BufRead) -> Frame {
    let mut length = None;
    let mut bad_header = None;
    loop {
        let mut line = Vec::new();
        match input.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return Frame::End,
            Ok(_) => {}
        }
        let line = String::from_utf8_lossy(&line);
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            if length.is_some() || bad_header.is_some() {
                break;
            }
            continue;
        }
        match line.split_once(':') {
            Some((name, value)) if name.trim().eq_ignore_ascii_case("content-length") => {
                match value.trim().parse::<usize>() {
                    Ok(n) => length = Some(n),
                    Err(_) => bad_header = Some(format!("bad Content-Length: {line:?}")),
                }
            }
            Some(_) => {}
            None => bad_header = Some(format!("malformed header: {line:?}")),
        }
    }
    let Some(length) = length else {
        return Frame::Malformed(bad_header.unwrap_or_else(|| "no Content-Length".into()));
    };
    let mut body = vec![0; length];
    if input.read_exact(&mut body).is_err() {
        return Frame::End;
    }
    Frame::Body(body)
}

/// A message of a body, or why it is not one.
fn parse(body: &[u8]) -> Result<Message, String> {
    let text = std::str::from_utf8(body).map_err(|err| format!("not UTF-8: {err}"))?;
    let text = replace_lone_surrogates(text);
    serde_json::from_str(&text).map_err(|err| format!("not a JSON-RPC message: {err}"))
}

/// `\uD800`–`\uDFFF` escapes that are not a high surrogate followed by a low one, as `\uFFFD`.
fn replace_lone_surrogates(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains("\\u") {
        return text.into();
    }
    let surrogate = |at: usize| -> Option<u16> {
        let hex = text.get(at + 2..at + 6)?;
        let unit = u16::from_str_radix(hex, 16).ok()?;
        (text[at..].starts_with("\\u") && (0xD800..=0xDFFF).contains(&unit)).then_some(unit)
    };
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at] != b'\\' {
            at += 1;
            continue;
        }
        // An escaped backslash is not the start of an escape.
        if bytes.get(at + 1) == Some(&b'\\') {
            at += 2;
            continue;
        }
        match surrogate(at) {
            Some(0xD800..=0xDBFF)
                if surrogate(at + 6).is_some_and(|low| (0xDC00..=0xDFFF).contains(&low)) =>
            {
                at += 12;
            }
            Some(_) => {
                out.push_str(&text[copied..at]);
                out.push_str("\\uFFFD");
                at += 6;
                copied = at;
            }
            None => at += 1,
        }
    }
    out.push_str(&text[copied..]);
    out.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(input: &[u8]) -> Vec<Result<Message, String>> {
        let (messages, received) = crossbeam_channel::unbounded();
        let (errors, failed) = crossbeam_channel::unbounded();
        read_all(&mut &input[..], &messages, &errors);
        drop((messages, errors));
        let mut out: Vec<Result<Message, String>> = Vec::new();
        // Order between the two channels is lost; the tests below count each.
        out.extend(received.into_iter().map(Ok));
        out.extend(failed.into_iter().map(|e| match e {
            Outgoing::ParseError(reason) => Err(reason),
            Outgoing::Message(_) => unreachable!(),
        }));
        out
    }

    fn frame(body: &[u8]) -> Vec<u8> {
        let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
        out.extend_from_slice(body);
        out
    }

    #[test]
    fn malformed_messages_are_errors_and_reading_goes_on() {
        let good = br#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#;
        let mut input = Vec::new();
        input.extend(frame(b"{\"jsonrpc\": \"2.0\", \"id\": 99, \"method\": "));
        input.extend(frame(
            b"{\"jsonrpc\":\"2.0\",\"method\":\"x\",\"params\":{\"t\":\"\xff\xfe\xc3\"}}",
        ));
        input.extend(b"Content-Length: lots\r\n\r\n");
        input.extend(b"garbage line\r\n\r\n");
        input.extend(frame(good));
        let read = frames(&input);
        let oks = read.iter().filter(|r| r.is_ok()).count();
        let errors: Vec<&String> = read.iter().filter_map(|r| r.as_ref().err()).collect();
        assert_eq!(oks, 1, "{read:?}");
        assert_eq!(errors.len(), 4, "{errors:?}");
        assert!(errors.iter().any(|e| e.contains("not UTF-8")));
    }

    #[test]
    fn lone_surrogates_read_as_the_replacement_character() {
        let body = br#"{"jsonrpc":"2.0","method":"m","params":{"a":"web\ud800shop","b":"\uD83D\uDE80","c":"\\ud800","d":"x\udc00"}}"#;
        let read = frames(&frame(body));
        let Some(Ok(Message::Notification(n))) = read.first() else {
            panic!("{read:?}");
        };
        assert_eq!(n.params["a"], "web\u{fffd}shop");
        assert_eq!(n.params["b"], "\u{1f680}");
        assert_eq!(n.params["c"], "\\ud800");
        assert_eq!(n.params["d"], "x\u{fffd}");
    }

    #[test]
    fn a_parse_error_is_written_with_a_null_id() {
        let (sender, receiver) = crossbeam_channel::unbounded();
        sender.send(Outgoing::ParseError("bad".into())).unwrap();
        drop(sender);
        let mut out = Vec::new();
        write_all(&receiver, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let body = text.split("\r\n\r\n").nth(1).unwrap();
        let value: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(value["id"], serde_json::Value::Null);
        assert_eq!(value["error"]["code"], -32700);
    }
}
