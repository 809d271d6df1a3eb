//! The record-layer scenarios: `tamper`, `replay`, `reorder`, `truncate`. The handshake has
//! gone through untouched; the man in the middle attacks the protected records that follow.
//!
//! Each protected record of our suite is `AES-128-CTR(plaintext) || HMAC-SHA256(MAC key,
//! seq_num || type || version || length || ciphertext)` (encrypt-then-MAC, `spec/suite.md`).
//! The attacker has neither key, so it cannot compute a tag for anything it changes; and the
//! sequence number, which is never sent but counted by both sides, is inside every tag, so a
//! record accepted at one position is refused at any other.

use super::mitm::{Action, Attacker, Flow, Passive, Position, WireRecord};
use super::stage::{Notes, Run, SentAlerts, Stage, connect, run_connection};
use super::{Narrator, Protection, Verdict, WireAlert};
use crate::config::{ClientConfig, ServerConfig};
use crate::error::{Error, Result};
use crate::record::suite::InsecureLabOnly;
use crate::stream::TlsStream;
use crate::wire::alert::AlertDescription;
use crate::wire::messages::{TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256, hex};
use std::net::TcpStream;
use std::sync::Arc;

const MAC_CHECK: Protection = Protection {
    what: "the record MAC is checked, in constant time, before anything is decrypted",
    file: "src/record/toy_ctr_hmac.rs",
    function: "ToyCtrHmac::open",
    rfc: "RFC 5246 6.2.3.1 (record MAC), RFC 7366 (encrypt-then-MAC)",
};

const SEQUENCE_NUMBERS: Protection = Protection {
    what: "each direction counts its records; the count is in every record's MAC",
    file: "src/record/mod.rs",
    function: "RecordLayer::read_record",
    rfc: "RFC 5246 6.1 (sequence numbers) and 6.2.3.1 (seq_num in the MAC input)",
};

const CLOSE_NOTIFY: Protection = Protection {
    what: "only a close_notify alert ends the stream; an early close is an error",
    file: "src/conn.rs",
    function: "Conn::read_app_data",
    rfc: "RFC 5246 7.2.1 (closure alerts)",
};

/// Every protection this module names (a test checks each is where it says).
#[cfg(test)]
pub(super) const PROTECTIONS: &[Protection] = &[MAC_CHECK, SEQUENCE_NUMBERS, CLOSE_NOTIFY];

/// What one side of a record scenario saw.
struct Seen {
    /// The plaintext of each application-data record it accepted.
    received: Vec<Vec<u8>>,
    /// How reading ended: `Ok` at the peer's close_notify.
    end: Result<()>,
}

impl Seen {
    /// The connection failed before anything was read.
    fn failed(e: Error) -> Self {
        Seen {
            received: Vec::new(),
            end: Err(e),
        }
    }
}

/// Reads records until the stream ends or fails.
fn read_all<T: std::io::Read + std::io::Write>(
    tls: &mut TlsStream<T>,
    mut each: impl FnMut(&mut TlsStream<T>, &[u8]),
) -> (Vec<Vec<u8>>, Result<()>) {
    let mut got = Vec::new();
    let mut buf = vec![0u8; 1 << 14];
    loop {
        match tls.read_data(&mut buf) {
            Ok(0) => return (got, Ok(())),
            Ok(n) => {
                got.push(buf[..n].to_vec());
                each(tls, &buf[..n]);
            }
            Err(e) => return (got, Err(e)),
        }
    }
}

/// The genuine server, answering each record with `server read: ...`. With `skip_mac`, its
/// record layer stops checking MACs once the handshake is over: the lab-only switch.
fn server(config: Arc<ServerConfig>, skip_mac: bool) -> impl FnOnce(TcpStream) -> Seen {
    move |tcp| {
        let mut tls = match TlsStream::accept(tcp, config) {
            Ok(t) => t,
            Err(e) => return Seen::failed(e),
        };
        if skip_mac {
            let switched = tls
                .record_layer()
                .insecure_skip_read_mac_check(InsecureLabOnly(()));
            assert!(switched, "the lab's suite has a MAC to switch off");
        }
        let (received, end) = read_all(&mut tls, |tls, data| {
            let mut reply = b"server read: ".to_vec();
            reply.extend_from_slice(data);
            let _ = tls.write_data(&reply);
        });
        if end.is_ok() {
            let _ = tls.close();
        }
        Seen { received, end }
    }
}

/// The client: sends each of `messages` as one record, then reads until the end.
fn client(config: Arc<ClientConfig>, messages: &[&[u8]]) -> impl FnOnce(TcpStream) -> Seen {
    let messages: Vec<Vec<u8>> = messages.iter().map(|m| m.to_vec()).collect();
    move |tcp| {
        let mut tls = match connect(tcp, &config) {
            Ok(t) => t,
            Err(e) => return Seen::failed(e),
        };
        for m in &messages {
            if let Err(e) = tls.write_data(m) {
                return Seen::failed(e);
            }
        }
        // One reply per message; then close, and read the server's close_notify.
        let mut received = Vec::new();
        let mut buf = vec![0u8; 1 << 14];
        while received.len() < messages.len() {
            match tls.read_data(&mut buf) {
                Ok(0) => break,
                Ok(n) => received.push(buf[..n].to_vec()),
                Err(e) => {
                    return Seen {
                        received,
                        end: Err(e),
                    };
                }
            }
        }
        let _ = tls.close();
        let (rest, end) = read_all(&mut tls, |_, _| {});
        received.extend(rest);
        Seen { received, end }
    }
}

/// One scenario's cast: the alerts sent, the server's and the client's configurations (the toy
/// suite, AES-128-CTR + HMAC-SHA256, only), and the attacker's notes for the narration.
struct Scene {
    alerts: Arc<SentAlerts>,
    server: Arc<ServerConfig>,
    client: Arc<ClientConfig>,
    notes: Notes,
}

impl Scene {
    fn new() -> Result<Scene> {
        let stage = Stage::new()?;
        let alerts = SentAlerts::new();
        let server = Arc::new(stage.server_config(&alerts)?);
        let client =
            Arc::new(stage.client_config(&alerts, &[TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256]));
        Ok(Scene {
            alerts,
            server,
            client,
            notes: Notes::default(),
        })
    }

    /// Runs one connection, `title`, through `attacker`, then narrates what the man in the
    /// middle did and the alerts that crossed the wire (and shows the connection, for --html).
    fn run<S: Send + 'static, C>(
        &self,
        n: &mut Narrator,
        title: &str,
        attacker: impl Attacker + 'static,
        server: impl FnOnce(TcpStream) -> S + Send + 'static,
        client: impl FnOnce(TcpStream) -> C,
    ) -> Result<Run<S, C>> {
        let run = run_connection(&self.alerts, attacker, server, client)?;
        n.show(title, &run);
        say_run(n, &self.notes, &run);
        Ok(run)
    }
}

/// A scenario's verdict: `protected` and what happened, or what happened instead.
fn verdict(
    protected: bool,
    happened: &str,
    instead: impl FnOnce() -> String,
    alerts: Vec<WireAlert>,
    protections: Vec<Protection>,
) -> Result<Verdict> {
    Ok(Verdict {
        headline: "protected",
        protected,
        summary: if protected {
            happened.into()
        } else {
            instead()
        },
        alerts,
        protections,
    })
}

/// What went wrong when the server took records it should have refused.
fn server_accepted(run: &Run<Seen, Seen>) -> String {
    format!(
        "unexpected: the server accepted {} record(s) and ended with {}",
        run.server.received.len(),
        outcome(&run.server.end)
    )
}

fn text(b: &[u8]) -> String {
    format!("{:?}", String::from_utf8_lossy(b))
}

fn outcome(end: &Result<()>) -> String {
    match end {
        Ok(()) => "an orderly end (close_notify)".into(),
        Err(e) => format!("error: {e}"),
    }
}

fn is_app_data(at: Position, r: &WireRecord, flow: Flow) -> bool {
    at.flow == flow && at.protected && r.content_type() == 23
}

fn say_run<S, C>(n: &mut Narrator, notes: &Notes, run: &Run<S, C>) {
    for note in notes.take() {
        n.say(format!("   man in the middle: {note}"));
    }
    if run.alerts.is_empty() {
        n.say("   alerts on the wire: none");
    }
    for a in &run.alerts {
        n.say(format!("   alert on the wire: {a}"));
    }
}

fn server_refused(run: &Run<Seen, Seen>) -> bool {
    matches!(run.server.end, Err(Error::BadRecordMac))
        && run.alerts.iter().any(|a| {
            a.flow == Flow::ServerToClient && a.description == AlertDescription::BadRecordMac
        })
}

/// Flips bits of the first application-data record the client sends.
struct FlipBits {
    offset: usize,
    xor: u8,
    done: bool,
    notes: Notes,
}

impl Attacker for FlipBits {
    fn on_record(&mut self, at: Position, mut r: WireRecord) -> Vec<Action> {
        if !self.done && is_app_data(at, &r, Flow::ClientToServer) {
            self.done = true;
            let before = r.body()[self.offset];
            r.body_mut()[self.offset] ^= self.xor;
            self.notes.add(format!(
                "ciphertext byte {} of the client's {}-byte record: {before:02x} -> {:02x} (xor {:02x})",
                self.offset,
                r.body().len(),
                r.body()[self.offset],
                self.xor
            ));
        }
        vec![Action::Forward(r)]
    }
}

/// `toytls attack tamper`.
pub fn tamper(n: &mut Narrator) -> Result<Verdict> {
    const ORDER: &[u8] = b"pay 100 to Bob";
    // The attacker knows the format of the message (a known-plaintext assumption any real
    // protocol must survive): the amount's first digit is byte 4. In CTR mode ciphertext
    // byte i is plaintext byte i xor keystream byte i, so xoring the ciphertext with
    // '1' ^ '9' turns a decrypted '1' into a '9', whatever the keystream.
    let (offset, xor) = (4, b'1' ^ b'9');
    n.say("toytls attack tamper: can someone on the wire change the data?\n");
    let scene = Scene::new()?;
    n.say(format!(
        "1. The client sends {} in one record of the suite AES-128-CTR + HMAC-SHA256.\n   The man in the middle does not know the keys, but it knows where the amount is:\n   it flips ciphertext byte {offset} by {xor:02x} = '1' xor '9'.",
        text(ORDER)
    ));
    let run = scene.run(
        n,
        "1. The flip, with the MAC checked",
        FlipBits {
            offset,
            xor,
            done: false,
            notes: scene.notes.clone(),
        },
        server(scene.server.clone(), false),
        client(scene.client.clone(), &[ORDER]),
    )?;
    n.say(format!(
        "   server: accepted {} records; {}\n   client: {}\n",
        run.server.received.len(),
        outcome(&run.server.end),
        outcome(&run.client.end)
    ));
    let refused = server_refused(&run) && run.server.received.is_empty();

    n.say("2. The same flip again, with the server's MAC check switched off (a lab-only switch, see\n   src/lab/mod.rs: no configuration of toytls server or client can reach it).");
    let unprotected = scene.run(
        n,
        "2. The same flip, the MAC check switched off (lab-only)",
        FlipBits {
            offset,
            xor,
            done: false,
            notes: scene.notes.clone(),
        },
        server(scene.server.clone(), true),
        client(scene.client.clone(), &[ORDER]),
    )?;
    let got = unprotected
        .server
        .received
        .first()
        .cloned()
        .unwrap_or_default();
    n.say(format!(
        "   server read: {}\n   The client sent {}; the server read {}. CTR mode alone is malleable: flipping a\n   ciphertext bit flips the same plaintext bit, and the attacker chose which. Encryption hides\n   the data; only the MAC, computed over the ciphertext, tells the receiver it was changed.\n",
        text(&got),
        text(ORDER),
        text(&got)
    ));
    let flipped = got == b"pay 900 to Bob";
    let protected = refused && flipped;
    verdict(
        protected,
        "the server refused the changed record with bad_record_mac and decrypted nothing; with the MAC check off, the attacker's chosen change went through",
        || {
            format!(
                "unexpected: MAC on, the server {}; MAC off, it read {}",
                outcome(&run.server.end),
                text(&got)
            )
        },
        run.alerts.clone(),
        vec![MAC_CHECK],
    )
}

/// Sends the client's first application-data record twice.
struct Replay {
    done: bool,
    notes: Notes,
}

impl Attacker for Replay {
    fn on_record(&mut self, at: Position, r: WireRecord) -> Vec<Action> {
        if !self.done && is_app_data(at, &r, Flow::ClientToServer) {
            self.done = true;
            self.notes.add(format!(
                "forwards the client's {}-byte record, then sends a byte-for-byte copy of it: {}…",
                r.len(),
                &hex(&r.0)[..32]
            ));
            return vec![Action::Forward(r.clone()), Action::Inject(at.flow, r)];
        }
        vec![Action::Forward(r)]
    }
}

/// `toytls attack replay`.
pub fn replay(n: &mut Narrator) -> Result<Verdict> {
    const ORDER: &[u8] = b"pay 100 to Bob";
    n.say("toytls attack replay: can someone on the wire send a record again?\n");
    let scene = Scene::new()?;
    n.say(format!(
        "1. The client sends {} once. The copy the attacker sends is a perfectly valid record:\n   right keys, right MAC, for the position it was first sent at.",
        text(ORDER)
    ));
    let run = scene.run(
        n,
        "The copy of a protected record",
        Replay {
            done: false,
            notes: scene.notes.clone(),
        },
        server(scene.server.clone(), false),
        client(scene.client.clone(), &[ORDER]),
    )?;
    n.say(format!(
        "   server: accepted {} record(s): {}; then {}\n   client: {}\n",
        run.server.received.len(),
        run.server
            .received
            .iter()
            .map(|r| text(r))
            .collect::<Vec<_>>()
            .join(", "),
        outcome(&run.server.end),
        outcome(&run.client.end)
    ));
    n.say("   The original was record 1 of the client's direction (the Finished was record 0); the\n   copy arrived as record 2. The server computed the MAC with sequence number 2, the tag\n   inside was made with 1: no match. The payment happened once.");
    let protected = server_refused(&run) && run.server.received == [ORDER.to_vec()];
    verdict(
        protected,
        "the server accepted the order once and refused the copy with bad_record_mac",
        || server_accepted(&run),
        run.alerts.clone(),
        vec![SEQUENCE_NUMBERS, MAC_CHECK],
    )
}

/// Holds the client's first application-data record back and sends it after the second.
struct Reorder {
    held: Option<WireRecord>,
    done: bool,
    notes: Notes,
}

impl Attacker for Reorder {
    fn on_record(&mut self, at: Position, r: WireRecord) -> Vec<Action> {
        if self.done || !is_app_data(at, &r, Flow::ClientToServer) {
            return vec![Action::Forward(r)];
        }
        match self.held.take() {
            None => {
                self.notes
                    .add("holds back the client's first record".into());
                self.held = Some(r);
                vec![]
            }
            Some(first) => {
                self.done = true;
                self.notes
                    .add("sends the second record on, then the first one after it".into());
                vec![Action::Forward(r), Action::Inject(at.flow, first)]
            }
        }
    }
}

/// `toytls attack reorder`.
pub fn reorder(n: &mut Narrator) -> Result<Verdict> {
    const FIRST: &[u8] = b"1. pay 100 to Bob";
    const SECOND: &[u8] = b"2. cancel order 1";
    n.say("toytls attack reorder: can someone on the wire swap two records?\n");
    let scene = Scene::new()?;
    n.say(format!(
        "1. The client sends {} then {}, one record each.",
        text(FIRST),
        text(SECOND)
    ));
    let run = scene.run(
        n,
        "Two protected records, swapped",
        Reorder {
            held: None,
            done: false,
            notes: scene.notes.clone(),
        },
        server(scene.server.clone(), false),
        client(scene.client.clone(), &[FIRST, SECOND]),
    )?;
    n.say(format!(
        "   server: accepted {} record(s); {}\n   client: {}\n",
        run.server.received.len(),
        outcome(&run.server.end),
        outcome(&run.client.end)
    ));
    n.say("   The server expected record 1 and computed its MAC with sequence number 1; the record\n   that came was made with 2. Nothing out of order is ever handed to the application.");
    let protected = server_refused(&run) && run.server.received.is_empty();
    verdict(
        protected,
        "the server refused the record that came out of order with bad_record_mac, and accepted nothing",
        || server_accepted(&run),
        run.alerts.clone(),
        vec![SEQUENCE_NUMBERS, MAC_CHECK],
    )
}

/// Cuts both connections when the server's second application-data record arrives.
struct CutSecond {
    seen: usize,
    notes: Notes,
}

impl Attacker for CutSecond {
    fn on_record(&mut self, at: Position, r: WireRecord) -> Vec<Action> {
        if is_app_data(at, &r, Flow::ServerToClient) {
            self.seen += 1;
            if self.seen == 2 {
                self.notes.add(
                    "drops the server's second record and closes both TCP connections, without a word".into(),
                );
                return vec![Action::Cut];
            }
        }
        vec![Action::Forward(r)]
    }
}

/// `toytls attack truncate`.
pub fn truncate(n: &mut Narrator) -> Result<Verdict> {
    const PART1: &[u8] = b"Your transfer of 1000 to Mallory";
    const PART2: &[u8] = b" was BLOCKED as fraud. Call us.";
    n.say("toytls attack truncate: can someone on the wire end the conversation early?\n");
    let scene = Scene::new()?;
    // The server sends its message in two records, then close_notify.
    let sender = |config: Arc<ServerConfig>| {
        move |tcp: TcpStream| -> Result<()> {
            let mut tls = TlsStream::accept(tcp, config)?;
            tls.write_data(PART1)?;
            tls.write_data(PART2)?;
            tls.close()
        }
    };
    let reader = |config: Arc<ClientConfig>| {
        move |tcp: TcpStream| -> Seen {
            match connect(tcp, &config) {
                Ok(mut tls) => {
                    let (received, end) = read_all(&mut tls, |_, _| {});
                    Seen { received, end }
                }
                Err(e) => Seen::failed(e),
            }
        }
    };
    n.say(format!(
        "1. Without an attacker: the server sends {} and {} in two records, then close_notify.",
        text(PART1),
        text(PART2)
    ));
    let clean = scene.run(
        n,
        "1. Without an attacker",
        Passive,
        sender(scene.server.clone()),
        reader(scene.client.clone()),
    )?;
    n.say(format!(
        "   client: read {}; {}\n",
        text(&clean.client.received.concat()),
        outcome(&clean.client.end)
    ));
    n.say("2. The man in the middle lets the first record through and cuts the connection.");
    let cut = scene.run(
        n,
        "2. The man in the middle cuts the connection",
        CutSecond {
            seen: 0,
            notes: scene.notes.clone(),
        },
        sender(scene.server.clone()),
        reader(scene.client.clone()),
    )?;
    n.say(format!(
        "   client: read {}; then {}\n",
        text(&cut.client.received.concat()),
        outcome(&cut.client.end)
    ));
    n.say("   A TCP close costs the attacker nothing: FIN is not protected. If the client took it for\n   the end, it would have read a complete-looking message that says the opposite of what the\n   server said. close_notify is a protected record the attacker cannot forge, so its absence\n   is noticed: the client reports the data as possibly cut short.");
    let clean_ok = clean.client.end.is_ok()
        && clean.client.received.concat() == [PART1, PART2].concat()
        && clean.alerts.iter().any(|a| {
            a.flow == Flow::ServerToClient && a.description == AlertDescription::CloseNotify
        });
    let no_close_notify = !cut
        .alerts
        .iter()
        .any(|a| a.flow == Flow::ServerToClient && a.description == AlertDescription::CloseNotify);
    let protected = clean_ok
        && no_close_notify
        && matches!(cut.client.end, Err(Error::Truncated))
        && cut.client.received.concat() == PART1;
    verdict(
        protected,
        "the client read the first record, then reported a truncation (no close_notify), not a clean end",
        || {
            format!(
                "unexpected: after the cut the client read {} and ended with {}",
                text(&cut.client.received.concat()),
                outcome(&cut.client.end)
            )
        },
        cut.alerts.clone(),
        vec![CLOSE_NOTIFY],
    )
}
