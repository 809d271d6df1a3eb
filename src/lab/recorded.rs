//! `toytls attack no-forward-secrecy`: record now, decrypt later.
//!
//! An eavesdropper records a full and a resumed connection: only the bytes on the wire, the way
//! tcpdump would (a pcapng capture written by [`crate::capture`], with no key log in it). With
//! the recording alone it reads nothing. Then the server's private key "leaks" (a stolen backup,
//! a seized server, a factored weak key): the offline decryptor behind `toytls decrypt`
//! ([`crate::capture::decrypt`]) decrypts the pre-master secret from the recorded
//! ClientKeyExchange exactly as the server did, derives every key, and reads both connections,
//! the resumed one through the master secret recovered from the first.
//!
//! Nothing here is an attack on a bug: this is what RSA key transport is. The pre-master secret
//! is encrypted to the server's long-term key, so that key opens every session it ever made.
//! Ephemeral Diffie-Hellman (ECDHE, RFC 8422; every TLS 1.3 handshake) makes a fresh secret per
//! connection that no long-term key can recover: forward secrecy. toytls does not implement it.

use super::mitm::Passive;
use super::stage::{SentAlerts, Stage, Tape, connect, run_connection};
use super::{Narrator, Protection, Verdict};
use crate::Side;
use crate::capture::decrypt::{Event, KeySource, Secrets, decrypt_capture};
use crate::capture::{Capture, Opener};
use crate::error::{Error, Result};
use crate::stream::TlsStream;
use crate::wire::messages::TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256;
use std::io::Read;
use std::net::TcpStream;
use std::sync::Arc;

const KEY_TRANSPORT: Protection = Protection {
    what: "none: RSA key transport encrypts every pre-master secret to the server's long-term key (ephemeral ECDHE, RFC 8422, would give forward secrecy)",
    file: "src/handshake/client.rs",
    function: "send_client_key_exchange",
    rfc: "RFC 5246 7.4.7.1 (RSA-encrypted pre-master secret), F.1.1.2",
};

const DECRYPTOR: Protection = Protection {
    what: "the offline decryptor behind `toytls decrypt`, which needs only the recording and the key",
    file: "src/capture/decrypt/mod.rs",
    function: "decrypt_capture",
    rfc: "RFC 5246 8.1 (master secret), 6.3 (key block)",
};

/// Every protection this module names (a test checks each is where it says).
#[cfg(test)]
pub(super) const PROTECTIONS: &[Protection] = &[KEY_TRANSPORT, DECRYPTOR];

const REQUESTS: [&[u8]; 2] = [
    b"GET /account HTTP/1.1\r\nCookie: session=7f3a9c1e\r\n\r\n",
    b"POST /transfer HTTP/1.1\r\n\r\namount=100&to=Bob&pin=4821",
];
const REPLY: &[u8] = b"HTTP/1.1 200 OK\r\n\r\nbalance: 12,345.67";

/// What the decryptor read, per connection and side.
#[derive(Default)]
struct Readout {
    data: [[Vec<u8>; 2]; 2],
    resumed_from: Vec<usize>,
    pre_masters: usize,
    problems: Vec<String>,
    verified: usize,
}

fn decrypt(tape: &[u8], secrets: &Secrets) -> Readout {
    let mut r = Readout::default();
    let _ = decrypt_capture(tape, secrets, &mut |e| match e {
        Event::Data { id, from, bytes } if (1..=2).contains(&id) => {
            let side = if from == Side::Client { 0 } else { 1 };
            r.data[id - 1][side].extend_from_slice(&bytes);
        }
        Event::PreMaster { .. } => r.pre_masters += 1,
        Event::Master {
            source: KeySource::Resumed { from },
            ..
        } => r.resumed_from.push(from),
        Event::FinishedVerified { .. } => r.verified += 1,
        Event::Problem { message, .. } => r.problems.push(message),
        _ => {}
    });
    r
}

/// `toytls attack no-forward-secrecy`.
pub fn no_forward_secrecy(n: &mut Narrator) -> Result<Verdict> {
    n.say("toytls attack no-forward-secrecy: record today, decrypt when the server's key leaks.\n");
    let stage = Stage::new()?;
    let alerts = SentAlerts::new();
    let server_config = Arc::new(stage.server_config(&alerts)?);
    let client_config =
        Arc::new(stage.client_config(&alerts, &[TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256]));
    let tape = Tape::default();
    let capture = Capture::to_writer(tape.clone())?;
    n.say("1. An eavesdropper records the wire (a pcapng capture, no keys in it) while a client makes\n   two connections: a full handshake, then a resumed one.");
    let mut resumed = Vec::new();
    for request in REQUESTS {
        let (cfg, cap) = (server_config.clone(), capture.clone());
        let run = run_connection(
            &alerts,
            Passive,
            move |tcp: TcpStream| -> Result<()> {
                let tcp = cap.record_socket(tcp, Opener::Peer)?;
                let mut tls = TlsStream::accept(tcp, cfg)?;
                let mut buf = vec![0u8; 4096];
                let k = tls.read_data(&mut buf)?;
                if k == 0 {
                    return Err(Error::Closed);
                }
                tls.write_data(REPLY)?;
                tls.close()?;
                while tls.read_data(&mut buf)? > 0 {}
                Ok(())
            },
            |tcp: TcpStream| -> Result<bool> {
                let mut tls = connect(tcp, &client_config)?;
                tls.write_data(request)?;
                let mut reply = Vec::new();
                tls.read_to_end(&mut reply).map_err(Error::Io)?;
                let _ = tls.close();
                Ok(tls.resumed())
            },
        )?;
        n.show(format!("Recorded connection {}", resumed.len() + 1), &run);
        run.server?;
        resumed.push(run.client?);
        n.say(format!(
            "   client sent {}; the server answered {}",
            crate::lab::records_text(request),
            crate::lab::records_text(REPLY)
        ));
    }
    if let Some(e) = capture.error() {
        return Err(Error::Internal(format!("the recording failed: {e}")));
    }
    let tape = tape.take();
    n.say(format!(
        "   recorded: {} bytes (connection 2 {}).\n",
        tape.len(),
        if resumed == [false, true] {
            "resumed the session of connection 1"
        } else {
            "did not resume"
        }
    ));

    n.say("2. Without the key, the decryptor (the code behind `toytls decrypt`) reads the hellos and\n   nothing else:");
    let blind = decrypt(&tape, &Secrets::default());
    for p in &blind.problems {
        n.say(format!("   {p}"));
    }
    let blind_read_nothing = blind.data.iter().flatten().all(|d| d.is_empty());

    n.say("\n3. The server's private key leaks. `toytls decrypt capture.pcapng --key server-key.pem`:");
    let secrets = Secrets {
        server_key: Some(stage.server_key.clone()),
        ..Secrets::default()
    };
    let read = decrypt(&tape, &secrets);
    for (i, conn) in read.data.iter().enumerate() {
        n.say(format!(
            "   connection {}: client -> server {}\n                 server -> client {}",
            i + 1,
            crate::lab::records_text(&conn[0]),
            crate::lab::records_text(&conn[1])
        ));
    }
    n.say(format!(
        "   {} pre-master secret(s) decrypted from ClientKeyExchange, {} Finished message(s) verified;\n   connection 2 had no ClientKeyExchange: its master secret is connection {}'s.",
        read.pre_masters,
        read.verified,
        read.resumed_from
            .first()
            .map(|c| c.to_string())
            .unwrap_or_else(|| "?".into())
    ));
    for p in &read.problems {
        n.say(format!("   problem: {p}"));
    }
    n.say("\n   The key decrypts the one thing every RSA handshake sends under it, the pre-master secret;\n   everything else follows from the PRF and the randoms in the clear. Every session the key ever\n   protected is open to whoever kept a recording. Forward secrecy (ECDHE) is the fix.");
    let all = (0..2).all(|i| read.data[i] == [REQUESTS[i].to_vec(), REPLY.to_vec()]);
    let ok = blind_read_nothing && all && resumed == [false, true] && read.resumed_from == [1];
    Ok(Verdict {
        protected: ok,
        headline: "decrypted: RSA key transport has no forward secrecy",
        summary: if ok {
            "with the recording alone nothing was read; with the leaked key every recorded byte of both connections was".into()
        } else {
            "unexpected: the recording did not decrypt as described".into()
        },
        alerts: Vec::new(),
        protections: vec![KEY_TRANSPORT, DECRYPTOR],
    })
}
