//! A connection as a self-contained web page: every record's bytes in hex, every byte range
//! named, every secret with the inputs that made it.
//!
//! Events in, HTML out: [`render`] takes the trace events of one peer ([`crate::trace`], the
//! same events the demo narrates and `spec/transcript.md` is made of) for one or more
//! connections and returns one HTML document with its CSS and JavaScript inline. Nothing is
//! fetched; the page reads the same without JavaScript (the script only adds the highlighting
//! of a field and its description panel; the view switch is plain HTML and CSS).
//!
//! The page tells the story in the order it happened, as seen by the peer whose events it is
//! given (the client, for `toytls demo` and `toytls client`): TCP connect, the hellos, the
//! certificate and its check, the pre-master secret and its RSA encryption, the key schedule,
//! ChangeCipherSpec and Finished, application data, close_notify; a resumed connection ends
//! with what it skipped. A switch shows "what an eavesdropper sees" (the bytes on the wire) or
//! "what the endpoints know" (every secret, and the plaintext inside each protected record).
//!
//! Given the same events, the output is the same bytes: with a seeded RNG and a fixed clock a
//! connection is reproducible, and so is its page (`spec/connection.html`, checked by
//! `tests/html_page.rs`).

pub mod annotate;

use crate::Side;
use crate::record::ContentType;
use crate::record::suite::lookup;
use crate::trace::{Derivation, Dir, KeyPart, Note, Secret, TraceEvent};
use crate::wire::messages::{HandshakeType, hex};
use annotate::{Carry, Field, Parts};
use std::collections::BTreeSet;
use std::fmt::Write as _;

/// One connection to draw.
pub struct Connection {
    /// Where it went, e.g. `localhost (127.0.0.1:8443)`.
    pub peer: String,
    /// The events of one peer (events of the other side, if any, are left out).
    pub events: Vec<TraceEvent>,
}

/// A page: a title, a line about how it was made, and its connections in order.
pub struct Page {
    pub title: String,
    /// How the page was made (a command line, a seed); shown under the title.
    pub about: String,
    pub connections: Vec<Connection>,
}

const CSS: &str = include_str!("page.css");
const JS: &str = include_str!("page.js");

/// Escapes text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            _ => o.push(ch),
        }
    }
    o
}

/// The whole page.
pub fn render(page: &Page) -> String {
    let mut body = String::new();
    let mut toc = String::new();
    let mut first_messages: BTreeSet<u8> = BTreeSet::new();
    for (i, c) in page.connections.iter().enumerate() {
        let n = i + 1;
        let mut r = Conn::new(n, c, first_messages.clone());
        r.run();
        if i == 0 {
            first_messages = r.messages.clone();
        }
        let _ = write!(
            toc,
            "<li><a href=\"#c{n}\">{}</a><ol>{}</ol></li>",
            esc(&r.title),
            r.toc
        );
        body.push_str(&r.out);
    }
    let mut o = String::new();
    o.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    o.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(o, "<title>{}</title>", esc(&page.title));
    let _ = writeln!(o, "<style>\n{CSS}</style>\n</head>\n<body>");
    // The view switch: two radio buttons before everything they govern, so CSS alone can
    // show or hide the secrets (no script needed).
    o.push_str(
        "<input type=\"radio\" name=\"view\" id=\"v-known\" class=\"view\" checked>\n\
         <input type=\"radio\" name=\"view\" id=\"v-wire\" class=\"view\">\n<div class=\"page\">\n",
    );
    let _ = writeln!(
        o,
        "<header><h1>{}</h1><p class=\"about\">{}</p>",
        esc(&page.title),
        esc(&page.about)
    );
    o.push_str(
        "<nav class=\"switch\" aria-label=\"view\"><span>Show:</span>\
         <label for=\"v-known\">what the endpoints know</label>\
         <label for=\"v-wire\">what an eavesdropper sees</label></nav>\n",
    );
    o.push_str(
        "<p class=\"intro\">Every record below is shown byte for byte as it crossed the wire. \
         Point at a byte, or tab to it, to see the field it belongs to: its name, its value, what \
         it means and the RFC section that defines it. Each record's table lists the same. \
         <span class=\"known\">Secret values, and the plaintext inside each encrypted record, \
         are what only the two endpoints know: switch to the eavesdropper's view to see what \
         anyone on the network path gets.</span><span class=\"wire-only\">This is the \
         eavesdropper's view: only the bytes on the wire. Switch back to see every secret.</span></p>\n",
    );
    let _ = writeln!(o, "<nav class=\"toc\"><ol>{toc}</ol></nav>\n</header>");
    o.push_str("<main>\n");
    o.push_str(&body);
    o.push_str("</main>\n");
    o.push_str(
        "<aside id=\"info\" aria-live=\"polite\"><p class=\"hint\">Point at a byte \
         (or tab to it) to see its field.</p></aside>\n",
    );
    o.push_str("<footer><p>Made by toytls, a TLS 1.2 written to be read. RFC 5246 is TLS 1.2; RFC 7627 the extended master secret; RFC 5288 the GCM suites; RFC 6066 server_name; RFC 5746 renegotiation_info.</p></footer>\n");
    o.push_str("</div>\n");
    let _ = writeln!(o, "<script>\n{JS}</script>\n</body>\n</html>");
    o
}

/// The steps of the story, in order; a connection shows those it reaches.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    Hello,
    ServerAnswer,
    Certificate,
    PreMaster,
    Keys,
    Finished,
    AppData,
    Close,
}

struct Conn<'a> {
    n: usize,
    c: &'a Connection,
    side: Side,
    resumed: bool,
    title: String,
    out: String,
    toc: String,
    step_no: usize,
    reached: BTreeSet<Step>,
    /// Handshake types this connection carried.
    messages: BTreeSet<u8>,
    first: BTreeSet<u8>,
    carry_sent: Carry,
    carry_recv: Carry,
    records: usize,
    /// The writer of each key seen, for the line under a protected record.
    aead: bool,
}

impl<'a> Conn<'a> {
    fn new(n: usize, c: &'a Connection, first: BTreeSet<u8>) -> Self {
        let side = c.events.first().map_or(Side::Client, event_side);
        let resumed = c.events.iter().any(|e| {
            matches!(
                e,
                TraceEvent::Note {
                    note: Note::Resumed | Note::Resuming { .. },
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

    fn me(&self) -> &'static str {
        self.side.name()
    }

    fn peer(&self) -> &'static str {
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

    fn run(&mut self) {
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
             <p class=\"story\">The client connects to {} over TCP. Seen from the {}: the \
             records it sent and received, in the order they happened.</p>\n",
            esc(&self.c.peer),
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
                    self.step(if *dir == Dir::Sent && self.side == Side::Client {
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

    #[allow(clippy::too_many_arguments)]
    fn record(
        &mut self,
        dir: Dir,
        ct: ContentType,
        suite: Option<crate::wire::messages::CipherSuite>,
        seq: Option<u64>,
        wire: &[u8],
        fields: &[Field],
        inner: Option<(Vec<Field>, &Vec<u8>)>,
    ) {
        self.records += 1;
        let (n, r) = (self.n, self.records);
        let (from, to) = match dir {
            Dir::Sent => (self.me(), self.peer()),
            Dir::Received => (self.peer(), self.me()),
        };
        let id = format!("c{n}r{r}");
        let prot = match (suite, seq) {
            (Some(s), Some(q)) => format!("protected ({}), sequence number {q}", s.name()),
            _ => "in the clear".to_string(),
        };
        let _ = write!(
            self.out,
            "<section class=\"rec {from}\" id=\"{id}\" data-bytes=\"{}\">\n<h4><span class=\"dir\">{from} → {to}</span> \
             {} record, {} bytes, {}</h4>\n",
            wire.len(),
            esc(ct.name()),
            wire.len(),
            esc(&prot)
        );
        hexview(&mut self.out, wire, fields, &id, "wire");
        if let Some((inner, p)) = &inner {
            let _ = writeln!(
                self.out,
                "<div class=\"known inside\"><p class=\"label\">Inside, as the endpoints read it \
                 after checking the tag and decrypting with the {from} write key: {} bytes of {}</p>",
                p.len(),
                esc(ct.name())
            );
            hexview(&mut self.out, p, inner, &id, "inner");
            self.out.push_str("</div>\n");
            let _ = writeln!(
                self.out,
                "<p class=\"wire-only muted\">Encrypted: an eavesdropper sees the content type, \
                 the length and {} bytes it cannot read or change unnoticed.</p>",
                wire.len().saturating_sub(5)
            );
        }
        let count = fields.len() + inner.as_ref().map_or(0, |(f, _)| f.len());
        let _ = write!(
            self.out,
            "<details><summary>The {count} fields of this record</summary>\n<table class=\"fields\">\
             <thead><tr><th>bytes</th><th>field</th><th>value</th><th>meaning</th><th>defined in</th></tr></thead><tbody>\n"
        );
        for (i, f) in fields.iter().enumerate() {
            field_row(&mut self.out, f, &format!("{id}f{i}"), "");
        }
        if let Some((inner, _)) = &inner {
            for (i, f) in inner.iter().enumerate() {
                field_row(&mut self.out, f, &format!("{id}if{i}"), "known");
            }
        }
        self.out
            .push_str("</tbody></table></details>\n</section>\n");
    }

    fn secret(&mut self, secret: Secret, value: &[u8], d: &Derivation) {
        let n = self.n;
        let id = format!("c{n}-{}", secret_slug(secret));
        if let Secret::Key {
            part: KeyPart::MacKey,
            ..
        } = secret
        {
            self.aead |= value.is_empty();
        }
        let how = match d {
            Derivation::Chosen => "chosen at random by the client: the version it offered \
                                   (03 03), then 46 random bytes"
                .to_string(),
            Derivation::Decrypted => "decrypted by the server from the ClientKeyExchange with its \
                                      private key"
                .to_string(),
            Derivation::TranscriptHash => "SHA-256 over every handshake message so far, from \
                                           ClientHello to ClientKeyExchange, 4-byte headers \
                                           included (RFC 7627 3)"
                .to_string(),
            Derivation::Prf {
                secret: from,
                label,
                seed,
            } => {
                let seed_is = match *label {
                    crate::handshake::keys::MASTER_SECRET_LABEL => "client_random + server_random",
                    crate::handshake::keys::EXTENDED_MASTER_SECRET_LABEL => "the session hash",
                    crate::handshake::keys::KEY_EXPANSION_LABEL => {
                        "server_random + client_random (the other order)"
                    }
                    _ => "SHA-256 of every handshake message before this Finished",
                };
                format!(
                    "PRF(<a href=\"#c{n}-{}\">{}</a>, \"{}\", seed)[0..{}], with seed = {seed_is}:<br><code class=\"hexval\">{}</code>",
                    secret_slug(*from),
                    esc(&from.to_string()),
                    esc(label),
                    value.len(),
                    hex(seed)
                )
            }
            Derivation::KeyBlockPart(r) => {
                format!(
                    "bytes {}..{} of the <a href=\"#c{n}-key-block\">key block</a>",
                    r.start, r.end
                )
            }
        };
        let (rfc, note) = secret_rfc(secret, value.is_empty(), self.aead);
        let shown = if value.is_empty() {
            "(none)".to_string()
        } else {
            hex(value)
        };
        let _ = writeln!(
            self.out,
            "<div class=\"secret\" id=\"{id}\" data-secret=\"{}\">\
             <div class=\"known\"><p><span class=\"sname\">{}</span> <span class=\"muted\">{} bytes, {rfc}</span></p>\
             <code class=\"hexval\">{shown}</code><p class=\"how\">= {how}</p>{note}</div>\
             <p class=\"wire-only muted\"><span class=\"sname\">{}</span>: hidden. An eavesdropper \
             never sees it: {}</p></div>",
            esc(&secret.to_string()),
            esc(&secret.to_string()),
            value.len(),
            esc(&secret.to_string()),
            if secret == Secret::PreMaster {
                "it crosses the wire only RSA-encrypted"
            } else {
                "it is computed from the pre-master secret, which crossed the wire only RSA-encrypted"
            }
        );
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

fn secret_slug(s: Secret) -> String {
    s.to_string().replace([' ', '_'], "-").to_lowercase()
}

fn secret_rfc(s: Secret, empty: bool, aead: bool) -> (&'static str, &'static str) {
    match s {
        Secret::PreMaster => ("RFC 5246 7.4.7.1", ""),
        Secret::SessionHash => ("RFC 7627 3", ""),
        Secret::Master => ("RFC 5246 8.1, RFC 7627 4", ""),
        Secret::KeyBlock => ("RFC 5246 6.3", ""),
        Secret::Key {
            part: KeyPart::MacKey,
            ..
        } if empty => (
            "RFC 5246 6.3",
            "<p class=\"how\">None: with GCM the tag authenticates each record.</p>",
        ),
        Secret::Key {
            part: KeyPart::Iv, ..
        } if aead => (
            "RFC 5288 3",
            "<p class=\"how\">The implicit part of every GCM nonce: salt (4 bytes) + explicit nonce (8).</p>",
        ),
        Secret::Key { .. } => ("RFC 5246 6.3", ""),
        Secret::VerifyData(_) => ("RFC 5246 7.4.9", ""),
    }
}

fn field_row(out: &mut String, f: &Field, id: &str, class: &str) {
    let _ = writeln!(
        out,
        "<tr id=\"{id}\" class=\"{class}\"><td class=\"off\">{}–{}</td><td><span class=\"sw {}\"></span>{}</td>\
         <td class=\"val\">{}</td><td>{}</td><td class=\"rfc\">{}</td></tr>",
        f.range.start,
        f.range.end,
        f.kind.class(),
        esc(&f.name),
        esc(&f.value),
        esc(&f.meaning),
        f.rfc
    );
}

/// The bytes as hex, 16 a line, each field one focusable span.
fn hexview(out: &mut String, bytes: &[u8], fields: &[Field], id: &str, class: &str) {
    let _ = write!(out, "<div class=\"hex {class}\">");
    let mut at = 0;
    let byte = |out: &mut String, i: usize| {
        if i > 0 && i.is_multiple_of(16) {
            out.push_str("<br>");
        }
        let _ = write!(out, "<b>{:02x}</b>", bytes[i]);
    };
    let prefix = if class == "inner" { "if" } else { "f" };
    for (i, f) in fields.iter().enumerate() {
        let (s, e) = (f.range.start.min(bytes.len()), f.range.end.min(bytes.len()));
        while at < s {
            byte(out, at);
            at += 1;
        }
        let _ = write!(
            out,
            "<span class=\"f {}\" tabindex=\"0\" data-row=\"{id}{prefix}{i}\" title=\"{}: {}\">",
            f.kind.class(),
            esc(&f.name),
            esc(&f.value)
        );
        while at < e {
            byte(out, at);
            at += 1;
        }
        out.push_str("</span>");
    }
    while at < bytes.len() {
        byte(out, at);
        at += 1;
    }
    out.push_str("</div>\n");
}
