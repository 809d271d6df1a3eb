//! The story of one connection: its steps in order, each record and secret where it happened.

use super::annotate::{self, Carry, Parts};
use super::{Connection, esc};
use crate::Side;
use crate::record::ContentType;
use crate::record::suite::lookup;
use crate::trace::{Dir, Note, Secret, TraceEvent};
use crate::wire::messages::HandshakeType;
use std::collections::BTreeSet;
use std::fmt::Write as _;
/// The steps of the story, in order; a connection shows those it reaches.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Step {
    Hello,
    ServerAnswer,
    Certificate,
    PreMaster,
    Keys,
    Finished,
    AppData,
    Close,
}

pub(super) struct Conn<'a> {
    pub(super) n: usize,
    pub(super) c: &'a Connection,
    pub(super) side: Side,
    pub(super) resumed: bool,
    pub(super) title: String,
    pub(super) out: String,
    pub(super) toc: String,
    pub(super) step_no: usize,
    pub(super) reached: BTreeSet<Step>,
    /// Handshake types this connection carried.
    pub(super) messages: BTreeSet<u8>,
    pub(super) first: BTreeSet<u8>,
    pub(super) carry_sent: Carry,
    pub(super) carry_recv: Carry,
    pub(super) records: usize,
    /// The writer of each key seen, for the line under a protected record.
    pub(super) aead: bool,
}

impl<'a> Conn<'a> {
    pub(super) fn new(n: usize, c: &'a Connection, first: BTreeSet<u8>) -> Self {
        let side = c.events.first().map_or(Side::Client, event_side);
        let resumed = c.events.iter().any(|e| {
            matches!(
                e,
                TraceEvent::Note {
                    note: Note::Resumed | Note::Resuming { .. } | Note::ResumingFromTicket,
                    ..
                }
            )
        });
        let title = format!(
            "Connection {n}: {}",
            if resumed {
                "the resumed (abbreviated) handshake"
            } else {
                "a full handshake"
            }
        );
        Conn {
            n,
            c,
            side,
            resumed,
            title,
            out: String::new(),
            toc: String::new(),
            step_no: 1,
            reached: BTreeSet::new(),
            messages: BTreeSet::new(),
            first,
            carry_sent: Carry::default(),
            carry_recv: Carry::default(),
            records: 0,
            aead: false,
        }
    }

    pub(super) fn me(&self) -> &'static str {
        self.side.name()
    }

    pub(super) fn peer(&self) -> &'static str {
        match self.side {
            Side::Client => "server",
            Side::Server => "client",
        }
    }

    fn heading(&mut self, id: &str, title: &str, text: &str) {
        self.step_no += 1;
        let n = self.n;
        let no = self.step_no;
        let _ = write!(
            self.out,
            "<h3 id=\"c{n}-{id}\"><span class=\"no\">{no}.</span> {}</h3>\n<p class=\"story\">{text}</p>\n",
            esc(title)
        );
        let _ = write!(
            self.toc,
            "<li><a href=\"#c{n}-{id}\">{}</a></li>",
            esc(title)
        );
    }

    fn step(&mut self, s: Step) {
        if !self.reached.insert(s) {
            return;
        }
        let resumed = self.resumed;
        match s {
            Step::Hello => self.heading(
                "hello",
                "ClientHello: what the client can do",
                if resumed {
                    "The client comes back and offers the session ID it was given last time: if \
                     the server still has the session, both can skip the certificate and the RSA \
                     step and make new keys from the master secret they already share."
                } else {
                    "The client opens with the versions, cipher suites and extensions it \
                     supports, and 32 random bytes of its own. Everything here is in the clear."
                },
            ),
            Step::ServerAnswer => self.heading(
                "server-hello",
                if resumed {
                    "ServerHello: the server resumes the session"
                } else {
                    "ServerHello, Certificate, ServerHelloDone: the server chooses and shows who it is"
                },
                if resumed {
                    "The server echoes the session ID: it remembers the master secret. No \
                     certificate follows, and no RSA operation happens on either side."
                } else {
                    "The server picks a version and a suite from the client's lists, adds its \
                     own 32 random bytes and a session ID, and sends its certificate chain: the \
                     RSA public key the client will encrypt to."
                },
            ),
            Step::Certificate => self.heading(
                "certificate",
                "The certificate check",
                "The client checks the chain up to a CA it trusts, the validity dates and that \
                 the certificate names the host it wanted. Without this, anyone could answer \
                 with their own key.",
            ),
            Step::PreMaster => self.heading(
                "pre-master",
                "The pre-master secret, under the server's RSA key",
                "The client picks 48 bytes (the version it offered, then 46 random bytes) and \
                 sends them in the ClientKeyExchange, encrypted with the server's public key. \
                 This is the only secret that ever travels, and it travels encrypted: only \
                 the holder of the server's private key can read it.",
            ),
            Step::Keys => self.heading(
                "keys",
                if resumed {
                    "New keys from the cached master secret"
                } else {
                    "The key schedule: from the pre-master secret to every key"
                },
                if resumed {
                    "No pre-master secret this time: the key block comes from the master secret \
                     of the first connection and the two new randoms, so the keys are new."
                } else {
                    "Both sides run the TLS 1.2 PRF (HMAC-SHA256 inside) on the same inputs and \
                     get the same bytes: the master secret from the pre-master secret, then the \
                     key block, cut into each direction's keys. Every input is shown: you can \
                     recompute each value yourself."
                },
            ),
            Step::Finished => self.heading(
                "finished",
                "ChangeCipherSpec and Finished",
                "ChangeCipherSpec switches a direction to the new keys; the Finished message \
                 that follows is the first protected record. Its verify_data is a PRF over a hash \
                 of every handshake message so far: it proves the sender has the keys and saw \
                 exactly the same handshake. The second Finished covers the first.",
            ),
            Step::AppData => self.heading(
                "app-data",
                "Application data",
                "From now on every record is encrypted and authenticated. On the wire only the \
                 5-byte header, the length and the ciphertext show; the tag makes any change \
                 detectable.",
            ),
            Step::Close => self.heading(
                "close",
                "close_notify",
                "Each side says it is done with a close_notify alert, itself a protected record, \
                 so that a truncation by an attacker cannot pass for the end of the data.",
            ),
        }
    }

    pub(super) fn run(&mut self) {
        let n = self.n;
        let _ = write!(
            self.out,
            "<section class=\"conn\" id=\"c{n}\" data-resumed=\"{}\">\n<h2>{}</h2>\n",
            self.resumed,
            esc(&self.title)
        );
        let _ = write!(
            self.out,
            "<h3 id=\"c{n}-tcp\"><span class=\"no\">1.</span> TCP connect</h3>\n\
             <p class=\"story\">{} over TCP. Seen from the {}: the records it sent and \
             received, in the order they happened.</p>\n",
            match self.side {
                Side::Client => format!("The client connects to {}", esc(&self.c.peer)),
                Side::Server => format!("A client, {}, connects", esc(&self.c.peer)),
            },
            self.me()
        );
        let _ = write!(self.toc, "<li><a href=\"#c{n}-tcp\">TCP connect</a></li>");
        for e in &self.c.events {
            if event_side(e) != self.side {
                continue;
            }
            self.event(e);
        }
        if self.resumed {
            self.skipped();
        }
        self.out.push_str("</section>\n");
    }

    fn event(&mut self, e: &TraceEvent) {
        match e {
            TraceEvent::Handshake { message, raw, .. } => {
                if let Some(&t) = raw.first() {
                    self.messages.insert(t);
                }
                match message {
                    HandshakeType::ClientHello => self.step(Step::Hello),
                    HandshakeType::ServerHello => self.step(Step::ServerAnswer),
                    HandshakeType::Finished => self.step(Step::Finished),
                    _ => {}
                }
            }
            TraceEvent::ChangeCipherSpec { .. } => self.step(Step::Finished),
            TraceEvent::Alert { .. } => self.step(Step::Close),
            TraceEvent::Note { note, .. } => {
                if matches!(note, Note::CertificateVerified { .. }) {
                    self.step(Step::Certificate);
                }
                let _ = writeln!(
                    self.out,
                    "<p class=\"note\"><span class=\"who\">{}</span> {}</p>",
                    self.me(),
                    esc(&note.to_string())
                );
            }
            TraceEvent::Secret {
                secret,
                value,
                derivation,
                ..
            } => {
                match secret {
                    Secret::PreMaster => self.step(Step::PreMaster),
                    Secret::SessionHash | Secret::Master | Secret::KeyBlock => {
                        self.step(Step::Keys)
                    }
                    _ => {}
                }
                self.secret(*secret, value, derivation);
            }
            TraceEvent::Record {
                dir,
                content_type,
                suite,
                seq,
                wire,
                layout,
                plaintext,
                ..
            } => {
                let ct = content_type.code();
                if *content_type == ContentType::ApplicationData {
                    self.step(Step::AppData);
                }
                if *content_type == ContentType::Alert && suite.is_some() {
                    self.step(Step::Close);
                }
                if *content_type == ContentType::ChangeCipherSpec {
                    self.step(Step::Finished);
                }
                if self.reached.is_empty() && *content_type == ContentType::Handshake {
                    // The first handshake record is the client's hello, whoever's page it is.
                    let from_client = (*dir == Dir::Sent) == (self.side == Side::Client);
                    self.step(if from_client {
                        Step::Hello
                    } else {
                        Step::ServerAnswer
                    });
                }
                let row = suite.and_then(lookup);
                let unknown = suite.map(|s| s.name()).unwrap_or_default();
                let protection = suite.map(|_| match row {
                    Some(r) => (r.encryption, r.tag),
                    None => (unknown.as_str(), "tag"),
                });
                let parts = Parts {
                    wire,
                    header: layout.header.clone(),
                    explicit_nonce: layout.explicit_nonce.clone(),
                    body: layout.body.clone(),
                    tag: layout.tag.clone(),
                };
                let carry = if *dir == Dir::Sent {
                    &mut self.carry_sent
                } else {
                    &mut self.carry_recv
                };
                let fields = annotate::record(&parts, ct, protection, carry);
                let inner = match (suite, plaintext) {
                    (Some(_), Some(p)) => Some((annotate::plaintext(p, 0, ct, carry), p)),
                    _ => None,
                };
                self.record(*dir, *content_type, *suite, *seq, wire, &fields, inner);
            }
        }
    }

    fn skipped(&mut self) {
        let skipped: Vec<String> = self
            .first
            .difference(&self.messages)
            .map(|&t| HandshakeType::name_of(t))
            .collect();
        let n = self.n;
        let _ = write!(
            self.out,
            "<h3 id=\"c{n}-skipped\">What the resumed handshake skipped</h3>\n<p class=\"story\">\
             Compared with the first connection, no {} crossed the wire: no certificate to check \
             and no RSA operation on either side. The randoms are new, so the keys are new; the \
             master secret is the first connection's. Both Finished messages still prove the two \
             sides agree on everything, and here the server sends its Finished first.</p>\n",
            if skipped.is_empty() {
                "message was left out".to_string()
            } else {
                esc(&skipped.join(", "))
            }
        );
        let _ = write!(
            self.toc,
            "<li><a href=\"#c{n}-skipped\">What it skipped</a></li>"
        );
    }
}

fn event_side(e: &TraceEvent) -> Side {
    match e {
        TraceEvent::Handshake { side, .. }
        | TraceEvent::ChangeCipherSpec { side, .. }
        | TraceEvent::Alert { side, .. }
        | TraceEvent::Secret { side, .. }
        | TraceEvent::Record { side, .. }
        | TraceEvent::Note { side, .. } => *side,
    }
}
