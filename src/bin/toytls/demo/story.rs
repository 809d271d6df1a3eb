//! The demo's narration: the story of a connection told from the library's trace events, one
//! paragraph per step, as `toytls demo` prints it.

use super::MESSAGE;
use std::io::Write;
use std::sync::Mutex;
use toytls::Side;
use toytls::handshake::{keys, ticket};
use toytls::record::ContentType;
use toytls::record::suite::lookup;
use toytls::trace::{Derivation, Dir, KeyPart, Note, Secret, TraceEvent, TraceSink};
use toytls::wire::messages::HandshakeType;
use toytls::wire::messages::hex;

/// Turns trace events into the narration.
pub(super) struct Story {
    quiet: bool,
    state: Mutex<StoryState>,
}

#[derive(Default)]
struct StoryState {
    round: usize,
    /// The client presents a session ticket in this round's ClientHello.
    presenting_ticket: bool,
    /// The server opened the client's ticket: it resumes from it.
    resuming_from_ticket: bool,
    /// The client has a certificate (`--client-auth`), which a ticket carries too.
    client_auth: bool,
    in_app_data: bool,
    /// The key block has no MAC keys: an AEAD suite (GCM).
    aead: bool,
}

impl Story {
    pub(super) fn new(quiet: bool, client_auth: bool) -> Self {
        Story {
            quiet,
            state: Mutex::new(StoryState {
                client_auth,
                ..StoryState::default()
            }),
        }
    }

    pub(super) fn set_round(&self, r: usize) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.round = r;
        s.in_app_data = false;
        s.resuming_from_ticket = false;
        s.aead = false;
    }

    pub(super) fn set_presenting_ticket(&self, yes: bool) {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .presenting_ticket = yes;
    }

    pub(super) fn app_data_heading(&self) {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .in_app_data = true;
        if !self.quiet {
            println!(
                "8. Application data, protected: the client sends {:?}.",
                String::from_utf8_lossy(MESSAGE)
            );
        }
    }
}

fn who(side: Side) -> (&'static str, &'static str) {
    match side {
        Side::Client => ("client", "server"),
        Side::Server => ("server", "client"),
    }
}

fn short(h: &str) -> String {
    if h.len() > 64 {
        format!("{}… ({} bytes)", &h[..64], h.len() / 2)
    } else {
        h.to_string()
    }
}

impl TraceSink for Story {
    fn event(&self, e: &TraceEvent) {
        if self.quiet {
            return;
        }
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let out = narrate(&mut st, e);
        drop(st);
        if !out.is_empty() {
            let mut o = std::io::stdout().lock();
            let _ = o.write_all(out.as_bytes());
        }
    }
}

/// The narration of one event, given where the story is.
fn narrate(st: &mut StoryState, e: &TraceEvent) -> String {
    let mut out = String::new();
    match e {
        TraceEvent::Handshake {
            side,
            dir: Dir::Sent,
            message,
            fields,
            raw,
        } => {
            let (from, to) = who(*side);
            out += match (message, st.round) {
                (HandshakeType::ClientHello, _) => "2. Hello: the client says what it can do.\n",
                (HandshakeType::ServerHello, 0) => "3. The server chooses, and proves who it is.\n",
                (HandshakeType::ServerHello, _) if st.resuming_from_ticket => {
                    "3. The ticket opened under the server's ticket key: the server resumes the session inside it,\n   and echoes the session ID the client sent with it to say so (RFC 5077 3.4).\n"
                }
                (HandshakeType::ServerHello, _) => {
                    "3. The server still has the session: it echoes the session ID.\n"
                }
                (HandshakeType::NewSessionTicket, 0) => {
                    "   Before its ChangeCipherSpec the server hands the client a session ticket (RFC 5077 3.3).\n"
                }
                (HandshakeType::NewSessionTicket, _) => {
                    "   The server renews the ticket (RFC 5077 3.1).\n"
                }
                _ => "",
            };
            out += &format!(
                "   {from} -> {to}: {} ({} bytes)\n",
                message.name(),
                raw.len()
            );
            for (k, v) in fields {
                out += &format!("        {k}: {}\n", short(v));
            }
            if *message == HandshakeType::ClientHello && st.round == 1 {
                out += if st.presenting_ticket {
                    "        (the session_ticket extension carries the ticket back: the client asks to resume from it;\n        the session_id is one the client made up, which the server echoes if it accepts the ticket, RFC 5077 3.4)\n"
                } else {
                    "        (a non-empty session_id: the client asks to resume)\n"
                };
            }
            if *message == HandshakeType::NewSessionTicket {
                // NewSessionTicket (RFC 5077 3.3): the 4-byte header, the lifetime hint (4), the
                // ticket's 2-byte length, then the ticket, whose first 16 bytes name the key.
                let name = raw
                    .get(10..10 + ticket::KEY_NAME_LEN)
                    .map(hex)
                    .unwrap_or_default();
                out += &format!(
                    "        the ticket is this session sealed by the server for itself: key_name (which ticket key) | nonce |\n        AES-128-GCM ciphertext of (suite, master secret, extended master secret or not, when it was made,\n        the server name{}) | tag, under the server's current ticket key, named\n        {name}: random, made by the server, replaced every hour (old keys still open\n        their tickets until those expire), never sent. The client cannot read or change the ticket;\n        it keeps it and brings it back.\n",
                    if st.client_auth {
                        ", the client's certificate"
                    } else {
                        ""
                    }
                );
            }
            if *message == HandshakeType::CertificateRequest {
                out += "        the server asks the client to prove who it is too: a certificate from one of these CAs,\n        and a signature made with one of these hashes (RFC 5246 7.4.4)\n";
            }
            if *message == HandshakeType::Certificate && *side == Side::Client {
                out += "        the client's own chain, in the clear: anyone may copy a certificate, so it proves nothing yet\n";
            }
            if *message == HandshakeType::CertificateVerify {
                out += "        = RSA signature, with the client's private key, over every handshake message so far (RFC 5246 7.4.8)\n        this proves the client holds the certificate's key, and it covers both randoms, so it cannot be\n        replayed into another connection. The pre-master secret is still the only secret the keys come from.\n";
            }
            if *message == HandshakeType::Finished {
                out += &format!(
                    "        = PRF(master secret, \"{from} finished\", SHA-256(all handshake messages so far))[0..12]\n        sent encrypted: a man in the middle who changed any message above cannot forge it.\n"
                );
            }
        }
        // Told in step 6 instead, with the formula.
        TraceEvent::Note {
            note: Note::ExtendedMasterSecret,
            ..
        } => {}
        TraceEvent::Note { side, note } => {
            let (me, _) = who(*side);
            if matches!(note, Note::TicketOpened { .. }) {
                st.resuming_from_ticket = true;
            }
            if matches!(note, Note::CertificateVerified { .. }) {
                out += "4. The client checks the certificate.\n";
            }
            if matches!(note, Note::ClientCertificateVerified { .. }) {
                out += "   The server checks the client's certificate as the client checked the server's (a CA it trusts,\n   valid now, for clientAuth); the CertificateVerify below must then prove the key is the client's.\n";
            }
            out += &format!("   [{me}] {note}\n");
        }
        TraceEvent::Secret {
            side,
            secret,
            value,
            derivation,
        } => narrate_secret(&mut out, st, *side, *secret, value, derivation),
        TraceEvent::ChangeCipherSpec {
            side,
            dir: Dir::Sent,
        } => {
            let (from, to) = who(*side);
            if *side == Side::Client && st.round == 0 {
                out += "7. ChangeCipherSpec and Finished: switch on the keys, then prove both sides have them.\n";
            } else if *side == Side::Server && st.round == 1 {
                out += if st.resuming_from_ticket {
                    "6-7. In the abbreviated handshake the server goes first: it derives new keys from the master\n     secret in the ticket and the new randoms (no RSA), switches them on, and proves it with Finished.\n"
                } else {
                    "6-7. In the abbreviated handshake the server goes first: it derives new keys from the cached\n     master secret and the new randoms (no RSA), switches them on, and proves it with Finished.\n"
                };
            }
            out += &format!(
                "   {from} -> {to}: ChangeCipherSpec (everything the {from} sends from now on is encrypted and authenticated)\n"
            );
        }
        TraceEvent::Record {
            side: Side::Client,
            dir,
            content_type: ContentType::ApplicationData,
            suite,
            seq,
            wire,
            layout,
            plaintext,
        } if st.in_app_data => {
            let what = if *dir == Dir::Sent {
                "sent"
            } else {
                "received"
            };
            let n = plaintext.as_ref().map_or(0, Vec::len);
            out += &format!(
                "   record {what} (seq {}): {n} bytes of plaintext became {} bytes on the wire:\n     {}\n",
                seq.unwrap_or(0),
                wire.len(),
                short(&hex(wire))
            );
            if *dir == Dir::Sent
                && let Some(row) = suite.and_then(lookup)
            {
                out += &format!("     = header {}", hex(&wire[layout.header.clone()]));
                if !layout.explicit_nonce.is_empty() {
                    out += &format!(
                        " | explicit nonce {} (the sequence number)",
                        hex(&wire[layout.explicit_nonce.clone()])
                    );
                }
                out += &format!(
                    " | {} ciphertext ({} bytes) | {}-byte {}\n",
                    row.encryption,
                    layout.body.len(),
                    layout.tag.len(),
                    row.tag
                );
            }
        }
        TraceEvent::Alert {
            side,
            dir: Dir::Sent,
            description,
            ..
        } => {
            let (from, to) = who(*side);
            out += &format!("   {from} -> {to}: alert {description}\n");
        }
        _ => {}
    }
    out
}

/// Steps 5 and 6: the pre-master secret, the master secret and the key block, as the client
/// derives them (the server derives the same; its secrets are told only where they differ).
fn narrate_secret(
    out: &mut String,
    st: &mut StoryState,
    side: Side,
    secret: Secret,
    value: &[u8],
    derivation: &Derivation,
) {
    let v = hex(value);
    match (side, secret) {
        (Side::Client, Secret::PreMaster) => {
            *out += "5. The pre-master secret: the client picks it and sends it under the server's RSA key.\n";
            *out += &format!("   pre-master secret (48 bytes: version 0303 + 46 random): {v}\n");
            *out += "   Only the holder of the server's private key can decrypt the ClientKeyExchange below;\n   an eavesdropper sees the ciphertext, and changing it only makes the Finished check fail.\n";
        }
        (Side::Server, Secret::PreMaster) => {
            *out += &format!("   [server] decrypted ClientKeyExchange with its private key: {v}\n");
        }
        (Side::Client, Secret::Master) => {
            *out += "6. Both sides derive the same keys from it, with the TLS 1.2 PRF (HMAC-SHA256 inside):\n";
            let extended = matches!(
                derivation,
                Derivation::Prf { label, .. } if *label == keys::EXTENDED_MASTER_SECRET_LABEL
            );
            if extended {
                *out += &format!(
                    "   master secret = PRF(pre-master, \"extended master secret\", SHA-256(every handshake message so far))[0..48]\n                 = {v}\n"
                );
                *out += "   (the extended master secret, RFC 7627: hashing the whole handshake, certificate included, into the\n   master secret binds it to this handshake, so a man in the middle cannot give two connections the same one)\n";
            } else {
                *out += &format!(
                    "   master secret = PRF(pre-master, \"master secret\", client_random + server_random)[0..48]\n                 = {v}\n"
                );
            }
        }
        (Side::Client, Secret::KeyBlock) => {
            if st.round == 1 {
                *out += "   [client] no RSA this time: the client takes the cached master secret and the NEW randoms\n   and derives the same new keys the server already uses:\n";
            }
            *out += &format!(
                "   key block = PRF(master secret, \"key expansion\", server_random + client_random), {} bytes, cut into:\n",
                value.len()
            );
        }
        (Side::Client, Secret::Key { part, .. }) => {
            let name = secret.to_string();
            *out += &match (part, value.is_empty()) {
                (KeyPart::MacKey, true) => {
                    format!("     {name:<22} (none: the AEAD tag authenticates each record)\n")
                }
                (KeyPart::Iv, _) if st.aead => {
                    format!("     {name:<22} {v} (the implicit part of every GCM nonce)\n")
                }
                _ => format!("     {name:<22} {v}\n"),
            };
            st.aead |= part == KeyPart::MacKey && value.is_empty();
        }
        _ => {}
    }
}
