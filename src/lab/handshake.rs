//! The handshake scenarios: `impostor`, `pre-master`, `downgrade`. The man in the middle attacks
//! the handshake itself, which travels in the clear: it answers in the server's place, replaces
//! the encrypted pre-master secret, or edits the ClientHello.
//!
//! Two checks stop all three. The client verifies the server's certificate chain and name before
//! it encrypts anything to the key inside (step 4 of the story, RFC 5280 6 and RFC 6125 6). And
//! both sides prove with Finished that they hold the same master secret *and* saw the same
//! handshake messages (RFC 5246 7.4.9): the man in the middle can change messages, but cannot
//! make the two transcripts, or the two master secrets, agree again.

use super::mitm::{Action, Attacker, Flow, Passive, Position, WireRecord};
use super::stage::{Run, SentAlerts, Stage, connect, run_connection};
use super::{Narrator, Protection, Verdict};
use crate::Side;
use crate::config::{ClientConfig, ServerConfig};
use crate::crypto::rsa::RsaPublicKey;
use crate::error::{Error, Result};
use crate::stream::TlsStream;
use crate::wire::alert::AlertDescription;
use crate::wire::messages::extensions::EXTENDED_MASTER_SECRET;
use crate::wire::messages::{
    ClientKeyExchange, HandshakeMessage, TLS_RSA_WITH_AES_128_GCM_SHA256,
    TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256, hex,
};
use crate::x509::Certificate;
use crate::x509::builder::{generate_ca, issue_server_cert};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};

const CERTIFICATE_CHECK: Protection = Protection {
    what: "the client verifies the chain to a trusted CA, its dates and the host name before using the key",
    file: "src/handshake/client.rs",
    function: "verify_certificate",
    rfc: "RFC 5246 7.4.2, RFC 5280 6 (path validation), RFC 6125 6 (names)",
};

const FINISHED: Protection = Protection {
    what: "each side's Finished is a MAC of the whole handshake under the master secret",
    file: "src/handshake/common.rs",
    function: "read_change_cipher_spec_and_finished",
    rfc: "RFC 5246 7.4.9 (Finished)",
};

const EXTENDED_MASTER: Protection = Protection {
    what: "the extended master secret hashes the handshake into the keys themselves",
    file: "src/handshake/keys.rs",
    function: "extended_master_secret",
    rfc: "RFC 7627 4",
};

/// Every protection this module names (a test checks each is where it says).
#[cfg(test)]
pub(super) const PROTECTIONS: &[Protection] = &[CERTIFICATE_CHECK, FINISHED, EXTENDED_MASTER];

/// How one side's handshake ended.
fn ended(r: &Result<()>) -> String {
    match r {
        Ok(()) => "handshake completed".into(),
        Err(e) => format!("handshake failed: {e}"),
    }
}

/// A server that only shakes hands (and then says one thing and closes).
fn handshake_server(config: Arc<ServerConfig>) -> impl FnOnce(TcpStream) -> Result<()> {
    move |tcp| {
        let mut tls = TlsStream::accept(tcp, config)?;
        tls.write_data(b"welcome")?;
        tls.close()
    }
}

/// A client that only shakes hands (and reads what the server says).
fn handshake_client(config: Arc<ClientConfig>) -> impl FnOnce(TcpStream) -> Result<()> {
    move |tcp| {
        let mut tls = connect(tcp, &config)?;
        let mut buf = [0u8; 64];
        while tls.read_data(&mut buf)? > 0 {}
        Ok(())
    }
}

fn say_alerts<S, C>(n: &mut Narrator, run: &Run<S, C>) {
    if run.alerts.is_empty() {
        n.say("   alerts on the wire: none");
    }
    for a in &run.alerts {
        n.say(format!("   alert on the wire: {a}"));
    }
}

fn sent_alert<S, C>(run: &Run<S, C>, flow: Flow, d: AlertDescription) -> bool {
    run.alerts
        .iter()
        .any(|a| a.flow == flow && a.description == d && !a.encrypted)
}

/// `toytls attack impostor`.
pub fn impostor(n: &mut Narrator) -> Result<Verdict> {
    n.say("toytls attack impostor: can the man in the middle pretend to be the server?\n");
    let stage = Stage::new()?;
    let alerts = SentAlerts::new();
    let mut rng = rand::rng();
    let (nb, na) = stage.validity;
    let cert_err = |e: crate::x509::error::CertError| Error::Internal(e.to_string());
    // The three certificates an attacker can get hold of.
    let (self_signed, self_key) = generate_ca(&mut rng, "localhost", nb, na).map_err(cert_err)?;
    let (mallory_ca, mallory_ca_key) =
        generate_ca(&mut rng, "Mallory's CA", nb, na).map_err(cert_err)?;
    let (other_ca_cert, other_ca_key) = issue_server_cert(
        &mut rng,
        &mallory_ca,
        &mallory_ca_key,
        &["localhost"],
        nb,
        na,
    )
    .map_err(cert_err)?;
    let (other_name, other_name_key) = issue_server_cert(
        &mut rng,
        &stage.ca,
        &stage.ca_key,
        &["mallory.example"],
        nb,
        na,
    )
    .map_err(cert_err)?;
    let tries: [(&str, Certificate, _, AlertDescription); 3] = [
        (
            "a self-signed certificate that says CN=localhost",
            self_signed,
            self_key,
            AlertDescription::UnknownCa,
        ),
        (
            "a certificate for localhost from another CA (\"Mallory's CA\", which the client does not trust)",
            other_ca_cert,
            other_ca_key,
            AlertDescription::UnknownCa,
        ),
        (
            "a genuine certificate from the client's own CA, but for mallory.example (the attacker's own domain)",
            other_name,
            other_name_key,
            AlertDescription::CertificateUnknown,
        ),
    ];
    let client_config =
        Arc::new(stage.client_config(&alerts, &[TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256]));
    n.say("The client connects to 'localhost' and trusts one CA, 'toytls lab CA'. The man in the middle\ndoes not forward the connection: it answers itself, as the server, with a key of its own and,\nin turn, three certificates for it:\n");
    let mut all_refused = true;
    let mut wire = Vec::new();
    for (i, (what, cert, key, expected)) in tries.into_iter().enumerate() {
        n.say(format!("{}. {what}.", i + 1));
        let mut impostor = ServerConfig::from_certificates(std::slice::from_ref(&cert), key)?;
        impostor.trace = Some(alerts.clone());
        let run = run_connection(
            &alerts,
            Passive,
            handshake_server(Arc::new(impostor)),
            handshake_client(client_config.clone()),
        )?;
        n.show(format!("{}. {what}", i + 1), &run);
        say_alerts(n, &run);
        n.say(format!(
            "   client: {}\n   impostor: {}\n",
            ended(&run.client),
            ended(&run.server)
        ));
        let refused = matches!(run.client, Err(Error::Certificate { .. }))
            && sent_alert(&run, Flow::ClientToServer, expected);
        // The client sent nothing encrypted to the impostor's key.
        let no_key_exchange = !run.log.iter().any(|o| {
            o.flow == Flow::ClientToServer
                && o.record
                    .handshake_messages()
                    .is_some_and(|m| m.iter().any(|(t, _)| t.code() == 16))
        });
        all_refused &= refused && no_key_exchange;
        wire.extend(run.alerts);
    }
    n.say("Each time the client stopped at the certificate check, before the ClientKeyExchange: it never\nencrypted a pre-master secret to the impostor's key, so the impostor has nothing to decrypt.");
    Ok(Verdict {
        headline: "protected",
        protected: all_refused,
        summary: if all_refused {
            "the client refused all three certificates, with the reason, before sending any key"
                .into()
        } else {
            "unexpected: the client accepted an impostor's certificate".into()
        },
        alerts: wire,
        protections: vec![CERTIFICATE_CHECK],
    })
}

/// Replaces the client's encrypted pre-master secret with one of the attacker's own.
struct SwapPreMaster {
    server_key: Option<RsaPublicKey>,
    ours: Arc<Mutex<Option<Vec<u8>>>>,
}

impl Attacker for SwapPreMaster {
    fn on_record(&mut self, at: Position, r: WireRecord) -> Vec<Action> {
        if at.protected {
            return vec![Action::Forward(r)];
        }
        let Some(mut msgs) = r.decode_handshake() else {
            return vec![Action::Forward(r)];
        };
        let mut changed = false;
        for m in msgs.iter_mut() {
            match m {
                // The server's public key travels in the clear, in its certificate.
                HandshakeMessage::Certificate(c) if at.flow == Flow::ServerToClient => {
                    self.server_key = c
                        .chain
                        .first()
                        .and_then(|der| Certificate::from_der(der).ok())
                        .map(|leaf| leaf.public_key().clone());
                }
                HandshakeMessage::ClientKeyExchange(cke) => {
                    let Some(key) = &self.server_key else {
                        continue;
                    };
                    let mut pms = vec![3u8, 3];
                    pms.extend((0..46).map(|_| rand::random::<u8>()));
                    let Ok(ct) = key.encrypt_pkcs1v15(&mut rand::rng(), &pms) else {
                        continue;
                    };
                    *cke = ClientKeyExchange {
                        encrypted_pre_master: ct,
                    };
                    *self.ours.lock().unwrap_or_else(|e| e.into_inner()) = Some(pms);
                    changed = true;
                }
                _ => {}
            }
        }
        if changed && let Some(new) = WireRecord::from_handshake(&msgs) {
            return vec![Action::Forward(new)];
        }
        vec![Action::Forward(r)]
    }
}

/// `toytls attack pre-master`.
pub fn pre_master(n: &mut Narrator) -> Result<Verdict> {
    n.say("toytls attack pre-master: can someone on the wire change the pre-master secret?\n");
    let stage = Stage::new()?;
    let alerts = SentAlerts::new();
    let server_config = Arc::new(stage.server_config(&alerts)?);
    let client_config =
        Arc::new(stage.client_config(&alerts, &[TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256]));
    n.say("1. The man in the middle reads the server's public key from its Certificate (it is public),\n   picks a pre-master secret of its own, encrypts it to that key and puts it in place of the\n   client's ClientKeyExchange.");
    let ours = Arc::new(Mutex::new(None));
    let run = run_connection(
        &alerts,
        SwapPreMaster {
            server_key: None,
            ours: ours.clone(),
        },
        handshake_server(server_config),
        handshake_client(client_config),
    )?;
    n.show("The man in the middle replaces the ClientKeyExchange", &run);
    let secrets = alerts.take_pre_master();
    let of = |side| {
        secrets
            .iter()
            .find(|(s, _)| *s == side)
            .map(|(_, v)| hex(v))
            .unwrap_or_else(|| "(none)".into())
    };
    let ours = ours
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
        .map(|v| hex(&v))
        .unwrap_or_else(|| "(the attacker found no ClientKeyExchange)".into());
    n.say(format!(
        "   the client's pre-master secret:         {}\n   the attacker's:                         {ours}\n   what the server decrypted and used:     {}",
        of(Side::Client),
        of(Side::Server)
    ));
    say_alerts(n, &run);
    n.say(format!(
        "   server: {}\n   client: {}\n",
        ended(&run.server),
        ended(&run.client)
    ));
    n.say("   The server now derives its keys from the attacker's secret, the client from its own. The\n   client's Finished, encrypted and MACed under the client's keys, does not open under the\n   server's: the handshake stops before a byte of application data. And the client's own secret\n   never left the client except under the server's public key: the attacker learned nothing.");
    let server_used_ours = of(Side::Server) == ours;
    let protected = run.server.is_err()
        && run.client.is_err()
        && server_used_ours
        && of(Side::Client) != ours
        && sent_alert(&run, Flow::ServerToClient, AlertDescription::BadRecordMac);
    Ok(Verdict {
        headline: "protected",
        protected,
        summary: if protected {
            "the server used the attacker's pre-master secret, so the client's Finished failed (bad_record_mac) and neither side went on".into()
        } else {
            format!(
                "unexpected: server {}, client {}",
                ended(&run.server),
                ended(&run.client)
            )
        },
        alerts: run.alerts,
        protections: vec![FINISHED],
    })
}

/// What the downgrade attacker removes from the ClientHello.
#[derive(Clone, Copy)]
enum Strip {
    /// The suite both sides prefer (GCM).
    PreferredSuite,
    /// The extended_master_secret extension.
    ExtendedMasterSecret,
}

struct Downgrade(Strip);

impl Attacker for Downgrade {
    fn on_record(&mut self, at: Position, r: WireRecord) -> Vec<Action> {
        if at.flow != Flow::ClientToServer || at.protected {
            return vec![Action::Forward(r)];
        }
        let Some(mut msgs) = r.decode_handshake() else {
            return vec![Action::Forward(r)];
        };
        for m in msgs.iter_mut() {
            if let HandshakeMessage::ClientHello(ch) = m {
                match self.0 {
                    Strip::PreferredSuite => ch
                        .cipher_suites
                        .retain(|&s| s != TLS_RSA_WITH_AES_128_GCM_SHA256),
                    Strip::ExtendedMasterSecret => {
                        if let Some(exts) = &mut ch.extensions {
                            exts.retain(|e| e.typ != EXTENDED_MASTER_SECRET);
                        }
                    }
                }
            }
        }
        match WireRecord::from_handshake(&msgs) {
            Some(new) => vec![Action::Forward(new)],
            None => vec![Action::Forward(r)],
        }
    }
}

/// `toytls attack downgrade`.
pub fn downgrade(n: &mut Narrator) -> Result<Verdict> {
    n.say("toytls attack downgrade: can someone on the wire make the peers settle for less? (what Finished is for)\n");
    let stage = Stage::new()?;
    let alerts = SentAlerts::new();
    let preference = [
        TLS_RSA_WITH_AES_128_GCM_SHA256,
        TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256,
    ];
    let mut server_config = stage.server_config(&alerts)?;
    server_config.suites = preference.to_vec();
    let server_config = Arc::new(server_config);
    let client_config = Arc::new(stage.client_config(&alerts, &preference));
    n.say(format!(
        "Both sides prefer {}\nand accept {} too. The hellos travel in the clear, so the man in\nthe middle can edit them; real downgrade attacks (FREAK, Logjam) removed the strong options to\nforce weak export-grade ones.\n",
        preference[0].name(),
        preference[1].name()
    ));
    let plays = [
        (
            Strip::PreferredSuite,
            format!(
                "1. The man in the middle removes {} from the ClientHello's suites.",
                preference[0].name()
            ),
            AlertDescription::BadRecordMac,
            "   The server chose the remaining suite, as asked. But with the extended master secret the\n   master secret is derived from the hash of the handshake so far, ClientHello included: the\n   two sides hashed different ClientHellos, got different keys, and the client's Finished\n   record does not even open (bad_record_mac).\n",
        ),
        (
            Strip::ExtendedMasterSecret,
            "2. The man in the middle removes the extended_master_secret extension instead, so that the\n   session falls back to the RFC 5246 master secret (the one the triple handshake attack abused)."
                .to_string(),
            AlertDescription::DecryptError,
            "   Both sides now derive the same keys: the client offered the extension, got no answer\n   and went on without it, as RFC 7627 allows with a legacy server. So the Finished record\n   opens; but the verify_data inside is a MAC of the client's handshake messages, and the\n   server's transcript holds a different ClientHello: decrypt_error.\n",
        ),
    ];
    let mut all = true;
    let mut wire = Vec::new();
    for (strip, heading, expected, why) in plays {
        n.say(&heading);
        let run = run_connection(
            &alerts,
            Downgrade(strip),
            handshake_server(server_config.clone()),
            handshake_client(client_config.clone()),
        )?;
        n.show(heading.trim(), &run);
        say_alerts(n, &run);
        n.say(format!(
            "   server: {}\n   client: {}",
            ended(&run.server),
            ended(&run.client)
        ));
        n.say(why);
        all &= run.server.is_err()
            && run.client.is_err()
            && sent_alert(&run, Flow::ServerToClient, expected);
        wire.extend(run.alerts);
    }
    n.say("Finished exists for this: the hellos cannot be protected (no keys yet), so at the end each side\nproves, under the new keys, which hellos it saw. Any edit shows up there.");
    Ok(Verdict {
        headline: "protected",
        protected: all,
        summary: if all {
            "both edited handshakes failed at the client's Finished (bad_record_mac, then decrypt_error); no data was exchanged".into()
        } else {
            "unexpected: an edited handshake went through".into()
        },
        alerts: wire,
        protections: vec![FINISHED, EXTENDED_MASTER],
    })
}
