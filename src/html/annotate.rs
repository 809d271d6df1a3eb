//! Every byte of a record, named: the fields of the record header, of each handshake message in
//! it, of an alert or a ChangeCipherSpec, and the parts of a protected record.
//!
//! The annotator is a second, independent reading of the bytes (the codec in [`crate::wire`]
//! decides what toytls accepts; this only explains). It never fails and never panics: bytes it
//! cannot explain (a message cut short, an unknown type) become one field saying so, so a page
//! can be made of any connection, to any server.

use crate::record::ContentType;
use crate::wire::alert::{AlertDescription, AlertLevel};
use crate::wire::messages::{HandshakeType, hex};
use messages::{certificate, client_hello, client_key_exchange, server_hello};
use std::ops::Range;

mod messages;

/// What kind of field it is, for colour: every field of one kind is drawn alike.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Record header: content type, version, length.
    Record,
    /// A handshake message's 4-byte header, or a length prefix inside a message.
    Length,
    /// A field of a message in the clear (versions, suites, extensions...).
    Field,
    /// Random values: the hellos' randoms, session IDs.
    Random,
    /// A certificate.
    Cert,
    /// The RSA-encrypted pre-master secret: on the wire, but only the server can read it.
    Encrypted,
    /// Ciphertext of a protected record.
    Ciphertext,
    /// The explicit nonce of a GCM record.
    Nonce,
    /// A MAC or AEAD tag.
    Tag,
    /// A secret value seen only inside a protected record (verify_data, application data).
    Inner,
}

impl Kind {
    /// The CSS class of the kind.
    pub fn class(self) -> &'static str {
        match self {
            Kind::Record => "k-rec",
            Kind::Length => "k-len",
            Kind::Field => "k-fld",
            Kind::Random => "k-rnd",
            Kind::Cert => "k-crt",
            Kind::Encrypted => "k-enc",
            Kind::Ciphertext => "k-ct",
            Kind::Nonce => "k-nonce",
            Kind::Tag => "k-tag",
            Kind::Inner => "k-in",
        }
    }
}

/// One byte range and what it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    pub range: Range<usize>,
    /// Where it sits: e.g. `ClientHello › cipher_suites[1]`.
    pub name: String,
    /// Its value, in words or hex.
    pub value: String,
    /// What it means.
    pub meaning: String,
    /// The section that defines it, e.g. `RFC 5246 7.4.1.2`.
    pub rfc: &'static str,
    pub kind: Kind,
}

/// A cursor that records fields; every read is clamped to the bytes there are.
struct Cut<'a> {
    b: &'a [u8],
    at: usize,
    /// Added to every range (where `b` starts in the record).
    base: usize,
    out: Vec<Field>,
}

impl<'a> Cut<'a> {
    fn new(b: &'a [u8], base: usize) -> Self {
        Cut {
            b,
            at: 0,
            base,
            out: Vec::new(),
        }
    }

    fn left(&self) -> usize {
        self.b.len() - self.at
    }

    /// Takes up to `n` bytes as one field; returns them (fewer if the input ends).
    fn take(
        &mut self,
        n: usize,
        name: impl Into<String>,
        kind: Kind,
        rfc: &'static str,
        describe: impl FnOnce(&[u8]) -> (String, String),
    ) -> &'a [u8] {
        let n = n.min(self.left());
        let bytes = &self.b[self.at..self.at + n];
        if n > 0 {
            let (value, meaning) = describe(bytes);
            self.out.push(Field {
                range: self.base + self.at..self.base + self.at + n,
                name: name.into(),
                value,
                meaning,
                rfc,
                kind,
            });
        }
        self.at += n;
        bytes
    }

    /// A big-endian length prefix of `n` bytes; returns its value.
    fn length(&mut self, n: usize, name: String, what: &str, rfc: &'static str) -> usize {
        let b = self.take(n, name, Kind::Length, rfc, |b| {
            (
                be(b).to_string(),
                format!("the length in bytes of {what} that follows"),
            )
        });
        if b.len() == n { be(b) } else { 0 }
    }

    /// A vector with a `prefix`-byte length (RFC 5246 4.3): the length as one field, then
    /// `item` called with a cursor over the vector's bytes and the item's index until it has
    /// taken them all (a lying length covers only the bytes there are).
    fn list(
        &mut self,
        prefix: usize,
        name: String,
        what: &str,
        rfc: &'static str,
        mut item: impl FnMut(&mut Cut<'a>, usize),
    ) {
        let n = self.length(prefix, name, what, rfc).min(self.left());
        let mut list = Cut::new(&self.b[self.at..self.at + n], self.base + self.at);
        let mut i = 0;
        while list.left() > 0 {
            let before = list.at;
            item(&mut list, i);
            if list.at == before {
                // An item that takes nothing would loop forever: name the rest and stop.
                list.rest("bytes left over", "", Kind::Field, rfc);
            }
            i += 1;
        }
        self.at += n;
        self.out.append(&mut list.out);
    }

    /// Whatever is left, as one field.
    fn rest(&mut self, name: impl Into<String>, meaning: &str, kind: Kind, rfc: &'static str) {
        let n = self.left();
        self.take(n, name, kind, rfc, |b| (short_hex(b), meaning.to_string()));
    }
}

fn be(b: &[u8]) -> usize {
    b.iter().fold(0usize, |a, &x| (a << 8) | x as usize)
}

/// Hex, cut after 24 bytes.
pub fn short_hex(b: &[u8]) -> String {
    if b.len() > 24 {
        format!("{}… ({} bytes)", hex(&b[..24]), b.len())
    } else {
        hex(b)
    }
}

fn version_name(b: &[u8]) -> String {
    match b {
        [3, 0] => "SSL 3.0 (03 00)".into(),
        [3, 1] => "TLS 1.0 (03 01)".into(),
        [3, 2] => "TLS 1.1 (03 02)".into(),
        [3, 3] => "TLS 1.2 (03 03)".into(),
        _ => hex(b),
    }
}

/// The fields of a record's 5-byte header (RFC 5246 6.2.1).
fn record_header(c: &mut Cut, protected: bool) {
    c.take(1, "record › type", Kind::Record, "RFC 5246 6.2.1", |b| {
        let name = ContentType::from_code(b[0]).map_or("unknown", |t| t.name());
        (
            format!("{name} ({})", b[0]),
            "what the record carries; always in the clear, even when the record is encrypted"
                .into(),
        )
    });
    c.take(
        2,
        "record › version",
        Kind::Record,
        "RFC 5246 6.2.1",
        |b| {
            (
                version_name(b),
                "the protocol version of the record layer".into(),
            )
        },
    );
    c.take(
        2,
        "record › length",
        Kind::Record,
        "RFC 5246 6.2.1",
        |b| {
            (
                format!("{} bytes", be(b)),
                if protected {
                    "the length of the protected fragment that follows (at most 2^14 + 2048)".into()
                } else {
                    "the length of the plaintext fragment that follows (at most 2^14)".into()
                },
            )
        },
    );
}

/// Where the parts of a record lie (mirrors [`crate::trace::RecordLayout`]).
pub struct Parts<'a> {
    pub wire: &'a [u8],
    pub header: Range<usize>,
    pub explicit_nonce: Range<usize>,
    pub body: Range<usize>,
    pub tag: Range<usize>,
}

/// The state a direction of a connection carries from one record to the next: a handshake
/// message may span records.
#[derive(Default, Clone)]
pub struct Carry {
    /// Bytes of a handshake message still to come, and its name.
    pending: usize,
    pending_name: String,
}

/// Names every byte of a record on the wire. `protection` is `Some((encryption, tag))` in words
/// for a protected record, `None` for a plaintext one.
pub fn record(
    p: &Parts,
    content_type: u8,
    protection: Option<(&str, &str)>,
    carry: &mut Carry,
) -> Vec<Field> {
    let mut c = Cut::new(&p.wire[..p.header.end.min(p.wire.len())], 0);
    record_header(&mut c, protection.is_some());
    let mut out = c.out;
    let body = |r: &Range<usize>| &p.wire[r.start.min(p.wire.len())..r.end.min(p.wire.len())];
    match protection {
        None => {
            let frag_start = p.header.end;
            let frag = &p.wire[frag_start.min(p.wire.len())..];
            out.extend(plaintext(frag, frag_start, content_type, carry));
        }
        Some((enc, tag)) => {
            let ciphertext = format!(
                "the {enc} ciphertext: as long as the plaintext, unreadable without the writer's \
                 key"
            );
            let mac = format!(
                "the {tag}: computed with a key only the two endpoints hold, over the sequence \
                 number, type, version and fragment; change one bit and the record is refused \
                 with bad_record_mac"
            );
            let pieces = [
                (
                    &p.explicit_nonce,
                    "explicit nonce",
                    "the per-record part of the GCM nonce (here, the sequence number), sent in \
                     the clear; the other 4 bytes are the writer's implicit IV",
                    Kind::Nonce,
                    "RFC 5288 3",
                ),
                (
                    &p.body,
                    "encrypted fragment",
                    ciphertext.as_str(),
                    Kind::Ciphertext,
                    "RFC 5246 6.2.3",
                ),
                (&p.tag, "tag", mac.as_str(), Kind::Tag, "RFC 5246 6.2.3"),
            ];
            for (range, name, meaning, kind, rfc) in pieces {
                let mut c = Cut::new(body(range), range.start);
                c.rest(name, meaning, kind, rfc);
                out.extend(c.out);
            }
        }
    }
    out
}

/// Names the bytes of a plaintext fragment (on the wire, or inside a protected record);
/// `base` is where it starts in the bytes shown.
pub fn plaintext(frag: &[u8], base: usize, content_type: u8, carry: &mut Carry) -> Vec<Field> {
    let mut c = Cut::new(frag, base);
    match ContentType::from_code(content_type) {
        Some(ContentType::Handshake) => handshake_messages(&mut c, carry, content_type),
        Some(ContentType::ChangeCipherSpec) => {
            c.take(1, "ChangeCipherSpec", Kind::Field, "RFC 5246 7.1", |b| {
                (
                    format!("change_cipher_spec ({})", b[0]),
                    "from the next record on, this direction is protected with the keys \
                         just derived (the pending state becomes current)"
                        .into(),
                )
            });
            c.rest("unexpected bytes", "", Kind::Field, "RFC 5246 7.1");
        }
        Some(ContentType::Alert) => {
            c.take(1, "alert › level", Kind::Field, "RFC 5246 7.2", |b| {
                let name = match AlertLevel::from_u8(b[0]) {
                    Some(AlertLevel::Warning) => "warning",
                    Some(AlertLevel::Fatal) => "fatal",
                    None => "unknown",
                };
                (
                    format!("{name} ({})", b[0]),
                    "fatal alerts end the connection at once".into(),
                )
            });
            c.take(
                1,
                "alert › description",
                Kind::Field,
                "RFC 5246 7.2",
                |b| {
                    let d = AlertDescription::from_u8(b[0]);
                    let meaning = if d == AlertDescription::CloseNotify {
                        "the sender will send nothing more: an orderly end, so a cut-off stream is \
                     never mistaken for a complete one (RFC 5246 7.2.1)"
                    } else {
                        "why the connection ends"
                    };
                    (format!("{} ({})", d.name(), b[0]), meaning.into())
                },
            );
            c.rest("unexpected bytes", "", Kind::Field, "RFC 5246 7.2");
        }
        Some(ContentType::ApplicationData) => {
            let n = c.left();
            c.take(n, "application data", Kind::Inner, "RFC 5246 10", |b| {
                (
                    text_or_hex(b),
                    "the bytes the application wrote, exactly as the peer's application \
                         will read them"
                        .into(),
                )
            });
        }
        None => c.rest(
            "fragment",
            "a content type toytls does not know",
            Kind::Field,
            "RFC 5246 6.2.1",
        ),
    }
    c.out
}

/// Printable text in quotes, else hex.
pub fn text_or_hex(b: &[u8]) -> String {
    match std::str::from_utf8(b) {
        Ok(s)
            if s.chars()
                .all(|ch| !ch.is_control() || ch == '\r' || ch == '\n') =>
        {
            format!("{s:?}")
        }
        _ => short_hex(b),
    }
}

fn handshake_messages(c: &mut Cut, carry: &mut Carry, _ct: u8) {
    if carry.pending > 0 {
        let n = carry.pending.min(c.left());
        let name = carry.pending_name.clone();
        c.take(
            n,
            format!("{name} (continued)"),
            Kind::Field,
            "RFC 5246 6.2.1",
            |b| {
                (
                short_hex(b),
                "the rest of a handshake message that began in an earlier record: a message may \
                 span records"
                    .into(),
            )
            },
        );
        carry.pending -= n;
    }
    while c.left() > 0 {
        let t = c.b[c.at];
        let name = HandshakeType::name_of(t);
        c.take(
            1,
            format!("{name} › msg_type"),
            Kind::Length,
            "RFC 5246 7.4",
            |b| {
                (
                    format!("{name} ({})", b[0]),
                    "which handshake message this is".into(),
                )
            },
        );
        let len = c.length(3, format!("{name} › length"), "the message", "RFC 5246 7.4");
        let avail = len.min(c.left());
        let body = &c.b[c.at..c.at + avail];
        let mut m = Cut::new(body, c.base + c.at);
        match HandshakeType::from_code(t) {
            Some(HandshakeType::ClientHello) => client_hello(&mut m),
            Some(HandshakeType::ServerHello) => server_hello(&mut m),
            Some(HandshakeType::Certificate) => certificate(&mut m),
            Some(HandshakeType::ServerHelloDone) | Some(HandshakeType::HelloRequest) => {}
            Some(HandshakeType::ClientKeyExchange) => client_key_exchange(&mut m),
            Some(HandshakeType::Finished) => {
                m.take(
                    12,
                    "Finished › verify_data",
                    Kind::Inner,
                    "RFC 5246 7.4.9",
                    |b| {
                        (
                            hex(b),
                            "PRF(master secret, finished_label, SHA-256(every handshake message \
                         before this one))[0..12]: proves the sender holds the keys and saw the \
                         same handshake; a man in the middle who changed any earlier message \
                         cannot make it match"
                                .into(),
                        )
                    },
                );
            }
            Some(HandshakeType::NewSessionTicket) => {
                m.take(
                    4,
                    "NewSessionTicket › lifetime_hint",
                    Kind::Field,
                    "RFC 5077 3.3",
                    |b| {
                        (
                            format!("{} s", be(b)),
                            "how long the client may keep the ticket".into(),
                        )
                    },
                );
                let n = m.length(
                    2,
                    "NewSessionTicket › ticket length".into(),
                    "the ticket",
                    "RFC 5077 3.3",
                );
                m.take(
                    n,
                    "NewSessionTicket › ticket",
                    Kind::Encrypted,
                    "RFC 5077 4",
                    |b| {
                        (
                            short_hex(b),
                            "the session's state, encrypted under a key only the server knows"
                                .into(),
                        )
                    },
                );
            }
            _ => {}
        }
        m.rest(
            format!("{name} › body"),
            "bytes of this message the page does not break down",
            Kind::Field,
            "RFC 5246 7.4",
        );
        c.out.append(&mut m.out);
        c.at += avail;
        if len > avail {
            carry.pending = len - avail;
            carry.pending_name = name;
        }
    }
}

#[cfg(test)]
mod tests;
