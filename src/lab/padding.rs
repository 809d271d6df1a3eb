//! `toytls attack bleichenbacher`: Bleichenbacher's 1998 attack, against a server that leaks
//! its RSA padding check, and then against the real one.
//!
//! 1. A victim client talks to the lab's vulnerable server ([`super::oracle`]: the real toytls
//!    server behind a front end that answers a badly padded ClientKeyExchange with its own
//!    alert). The attacker records the connection: the encrypted pre-master secret and the
//!    records after it.
//! 2. The attacker probes the server with ciphertexts it built itself and sees two kinds of
//!    answer: it has found an oracle.
//! 3. It runs the attack ([`super::bleichenbacher`]), one handshake per query, and recovers the
//!    victim's pre-master secret, then the master secret and the recorded data.
//! 4. The same probes against the genuine server (same key, no front end) get one answer, the
//!    same for every probe: RFC 5246 7.4.7.1's countermeasure leaves nothing to measure.
//!
//! The lab's key is 1024 bits ([`super::weak_key`]), so that each query is cheap, and it and the
//! victim's randomness are seeded ([`SEED`]), so that the attack takes the same number of
//! queries on every run: how many it takes varies enormously from one key and ciphertext to the
//! next (step 2.a is a search for a needle whose size is luck), and a CI job cannot wait for an
//! unlucky draw.

use super::bleichenbacher::{Attack, Progress};
use super::mitm::{Flow, Passive};
use super::oracle::{Calibration, InsecurePaddingOracle, OracleClient};
use super::stage::{SentAlerts, Stage, Tape, connect, run_connection};
use super::weak_key::{
    InsecureWeakKeyVerifier, LAB_WEAK_KEY_BITS, insecure_weak_key, insecure_weak_key_server_config,
};
use super::{Narrator, Protection, Verdict, WireAlert, records_text};
use crate::Side;
use crate::capture::decrypt::{Event, Secrets, decrypt_capture};
use crate::capture::{Capture, Opener};
use crate::config::ClientConfig;
use crate::error::{Error, Result};
use crate::handshake::keys::{PreMasterSecret, extended_master_secret};
use crate::stream::TlsStream;
use crate::wire::codec::Reader;
use crate::wire::messages::{
    ClientKeyExchange, HANDSHAKE_HEADER_LEN, HandshakeMessage, HandshakeType,
    TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256, hex,
};
use crate::x509::builder::server_cert_with_key;
use rand::SeedableRng;
use rand::rngs::StdRng;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Instant;

const COUNTERMEASURE: Protection = Protection {
    what: "the pre-master secret is decrypted to exactly 48 bytes or replaced by random ones, in constant time, with no error to report",
    file: "src/handshake/keys.rs",
    function: "PreMasterSecret::decrypt",
    rfc: "RFC 5246 7.4.7.1",
};

/// Every protection this module names (a test checks each is where it says).
#[cfg(test)]
pub(super) const PROTECTIONS: &[Protection] = &[COUNTERMEASURE];

/// The most queries the attack may make (about ten times what it needs).
const BUDGET: u64 = 3_000_000;
/// The seed of the lab's key and of the victim client's randomness (so its pre-master secret):
/// fixed, so that every run asks the same number of queries (see the module documentation).
const SEED: u64 = 1;
/// How many times each kind of probe is sent when calibrating.
const ROUNDS: u32 = 3;

const SECRET: &[u8] = b"card 4111 1111 1111 1111, exp 12/29, cvv 123";

fn describe_calibration(n: &mut Narrator, c: &Calibration) {
    for (probe, answers) in &c.answers {
        let list: Vec<String> = answers
            .iter()
            .map(|(a, k)| format!("{} (x{k})", a.describe()))
            .collect();
        n.say(format!(
            "   {:<38} -> {}",
            probe.describe(),
            list.join("; ")
        ));
    }
}

/// `toytls attack bleichenbacher`.
pub fn bleichenbacher(n: &mut Narrator) -> Result<Verdict> {
    n.say("toytls attack bleichenbacher: RSA PKCS#1 v1.5 padding oracles (Bleichenbacher 1998, ROBOT 2017).\n");
    n.say(format!("!! WARNING: this scenario runs an INSECURE server on purpose: a {LAB_WEAK_KEY_BITS}-bit RSA key, and a front end\n!! that answers a badly padded pre-master secret with its own alert. Both exist only inside\n!! the lab (src/lab/); toytls server has neither.\n"));
    let stage = Stage::new()?;
    let alerts = SentAlerts::new();
    let mut rng = rand::rng();
    let key = insecure_weak_key(&mut StdRng::seed_from_u64(SEED))?;
    let public = key.public_key();
    let cert = server_cert_with_key(
        &mut rng,
        &stage.ca,
        &stage.ca_key,
        &public,
        &["localhost"],
        stage.validity.0,
        stage.validity.1,
    )
    .map_err(|e| Error::Internal(e.to_string()))?;
    let mut server_config =
        insecure_weak_key_server_config(std::slice::from_ref(&cert), key.clone())?;
    server_config.suites = vec![TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256];
    // The attacker's queries go to this configuration, untraced: tracing every message of
    // tens of thousands of handshakes would cost more than the handshakes do.
    let mut victim_config =
        insecure_weak_key_server_config(std::slice::from_ref(&cert), key.clone())?;
    victim_config.suites = server_config.suites.clone();
    victim_config.trace = Some(alerts.clone());
    let victim_config = Arc::new(victim_config);
    let server_config = Arc::new(server_config);
    let mut client_config = ClientConfig::with_verifier(Arc::new(InsecureWeakKeyVerifier {
        trust_anchors: vec![stage.ca.clone()],
    }));
    client_config.suites = vec![TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256];
    client_config.trace = Some(alerts.clone());
    client_config.rng = crate::config::seeded_rng(SEED + 1);
    let client_config = Arc::new(client_config);

    // 1. The victim's connection, recorded.
    n.say(format!(
        "1. A client sends {} to the vulnerable server. The attacker records the connection.",
        records_text(SECRET)
    ));
    let tape = Tape::default();
    let capture = Capture::to_writer(tape.clone())?;
    let (cfg, cap, k2) = (victim_config, capture.clone(), key.clone());
    let victim = run_connection(
        &alerts,
        Passive,
        move |tcp: TcpStream| -> Result<()> {
            let tcp = cap.record_socket(tcp, Opener::Peer)?;
            let front = InsecurePaddingOracle::insecure_new(tcp, k2);
            let mut tls = TlsStream::accept(front, cfg)?;
            let mut buf = vec![0u8; 4096];
            while tls.read_data(&mut buf)? > 0 {}
            tls.close()
        },
        |tcp: TcpStream| -> Result<()> {
            let mut tls = connect(tcp, &client_config)?;
            tls.write_data(SECRET)?;
            tls.close()?;
            let mut rest = Vec::new();
            tls.read_to_end(&mut rest).map_err(Error::Io)?;
            Ok(())
        },
    )?;
    n.show(
        "The victim's connection, recorded through the padding-oracle front end",
        &victim,
    );
    victim.server?;
    victim.client?;
    let true_pre_master = alerts
        .take_pre_master()
        .into_iter()
        .find(|(s, _)| *s == Side::Client)
        .map(|(_, v)| v)
        .unwrap_or_default();
    // What the attacker takes from the recording: the handshake in the clear.
    let mut transcript = Vec::new();
    let mut recorded_cke = None;
    let mut client_random = [0u8; 32];
    for o in victim.log.iter().filter(|o| !o.protected) {
        for (typ, msg) in o.record.handshake_messages().unwrap_or_default() {
            transcript.push(msg.clone());
            let body = &msg[HANDSHAKE_HEADER_LEN..];
            match typ {
                HandshakeType::ClientKeyExchange => {
                    recorded_cke = ClientKeyExchange::decode(&mut Reader::new(body))
                        .ok()
                        .map(|c| c.encrypted_pre_master);
                }
                HandshakeType::ClientHello if o.flow == Flow::ClientToServer => {
                    if let Ok(HandshakeMessage::ClientHello(ch)) =
                        HandshakeMessage::decode(typ.code(), body)
                    {
                        client_random = ch.random.0;
                    }
                }
                _ => {}
            }
        }
    }
    let Some(c0) = recorded_cke else {
        return Err(Error::Internal(
            "no ClientKeyExchange in the recording".into(),
        ));
    };
    let tape = tape.take();
    n.say(format!(
        "   recorded: {} bytes; the encrypted pre-master secret is {}…\n",
        tape.len(),
        &hex(&c0)[..48]
    ));

    // 2. Calibration against the vulnerable server.
    n.say("2. The attacker asks the server about blocks it built itself with the public key, some well\n   padded and some not, one handshake each (ClientHello, ClientKeyExchange, ChangeCipherSpec, a\n   Finished of random bytes), and notes what comes back:");
    let mut prober = OracleClient::new(vec![TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256], 1);
    let mut probe_rng = StdRng::seed_from_u64(2);
    let vulnerable = Calibration::run(&public, ROUNDS, &mut probe_rng, &mut |ct| {
        Ok::<_, Error>(prober.query_in_memory(&server_config, true, ct))
    })?;
    describe_calibration(n, &vulnerable);
    let Some(yes) = vulnerable.oracle_answer() else {
        return Ok(Verdict {
            headline: "protected",
            protected: false,
            summary: "unexpected: the lab's vulnerable server showed no oracle".into(),
            alerts: Vec::new(),
            protections: vec![COUNTERMEASURE],
        });
    };
    n.say(format!(
        "   Two kinds of answer: \"{}\" means the padding was good. One bit per handshake.\n",
        yes.describe()
    ));

    // 3. The attack.
    n.say(format!(
        "3. Bleichenbacher's attack on the recorded ciphertext ({LAB_WEAK_KEY_BITS}-bit key), one handshake per query:"
    ));
    let attack_started = Instant::now();
    let mut oracle = |ct: &[u8]| -> std::result::Result<bool, Error> {
        Ok(prober.query_in_memory(&server_config, true, ct) == yes)
    };
    let mut milestones = Vec::new();
    let result = Attack::new(&public, &c0, BUDGET, &mut oracle).run(&mut |p| {
        let t = attack_started.elapsed().as_secs_f64();
        match p {
            Progress::Blinded { queries, .. } => milestones.push(format!(
                "   step 1: the recorded ciphertext itself conforms (query {queries})"
            )),
            Progress::FirstConforming { queries, .. } => milestones.push(format!(
                "   step 2.a: first multiplier s1 found after {queries} queries ({t:.1} s): the long search is over"
            )),
            Progress::Narrowed {
                iteration,
                intervals,
                width_bits,
                queries,
            } if iteration % 100 == 0 || (intervals == 1 && width_bits == 0) => milestones.push(
                format!(
                    "   iteration {iteration}: {intervals} interval(s), {width_bits} bits of doubt left, {queries} queries ({t:.1} s)"
                ),
            ),
            _ => {}
        }
    });
    for m in &milestones {
        n.say(m);
    }
    let attack_secs = attack_started.elapsed().as_secs_f64();
    let recovered = match result {
        Ok(r) => r,
        Err(e) => {
            n.say(format!("   the attack failed: {e}"));
            return Ok(Verdict {
                headline: "protected",
                protected: false,
                summary: format!("unexpected: the attack on the vulnerable server failed: {e}"),
                alerts: Vec::new(),
                protections: vec![COUNTERMEASURE],
            });
        }
    };
    let pms = recovered.message().unwrap_or_default().to_vec();
    n.say(format!(
        "   recovered after {} queries in {attack_secs:.1} s ({} in step 2.a), {} iterations:\n   pre-master secret {}\n   (the client's was {})",
        recovered.queries,
        recovered.queries_step_2a,
        recovered.iterations,
        hex(&pms),
        hex(&true_pre_master)
    ));

    // From the pre-master to the data: RFC 7627 master secret, then the capture decryptor.
    let mut read_back = Vec::new();
    if let Ok(pms48) = <[u8; 48]>::try_from(&pms[..]) {
        let mut h = Sha256::new();
        for m in &transcript {
            h.update(m);
            if m[0] == HandshakeType::ClientKeyExchange.code() {
                break;
            }
        }
        let session_hash: [u8; 32] = h.finalize().into();
        let master = extended_master_secret(&PreMasterSecret(pms48), &session_hash);
        let mut secrets = Secrets::default();
        secrets.key_log.insert(client_random, master.0);
        let _ = decrypt_capture(&tape[..], &secrets, &mut |e| {
            if let Event::Data {
                from: Side::Client,
                bytes,
                ..
            } = e
            {
                read_back.extend_from_slice(&bytes);
            }
        });
    }
    n.say(format!(
        "   master secret = PRF(pre-master, \"extended master secret\", SHA-256(the recorded handshake));\n   the recorded session decrypts: the client sent {}\n",
        records_text(&read_back)
    ));
    let broke_vulnerable = pms == true_pre_master && read_back == SECRET;

    // 4. The genuine server.
    n.say("4. The same probes against the genuine toytls server, same key, no front end:");
    let genuine = Calibration::run(&public, ROUNDS, &mut probe_rng, &mut |ct| {
        Ok::<_, Error>(prober.query_in_memory(&server_config, false, ct))
    })?;
    describe_calibration(n, &genuine);
    let identical = genuine.all_identical() && genuine.oracle_answer().is_none();
    n.say(format!(
        "   {}\n   It decrypts with PreMasterSecret::decrypt, which returns 48 bytes whatever happens (random\n   ones when the padding, length or version is wrong, chosen without a branch), so the handshake\n   goes on identically and fails at Finished every time. The attack's step 1 never gets a \"yes\".\n",
        if identical {
            "Every probe, well padded or not, got the same answer: there is no bit to learn."
        } else {
            "The answers differ: THE GENUINE SERVER HAS AN ORACLE."
        }
    ));
    n.say(format!(
        "About the figures. The key and the victim's randomness are seeded (seed {SEED}), so every run asks\nthe same {} queries. Step 2.a is a lottery: its cost depends on the key and the ciphertext, not\nmuch on the key size, and another seed tried here had not finished after five minutes (over a\nmillion queries). On paper, for 2048 bits: step 2.a costs about the same, about as often; steps\n2.c and 3 need twice the iterations (about 2,000 instead of {}), a few queries each; and every\nquery costs the server one 2048-bit RSA decryption, several times the 1024-bit one. Tens of\nthousands to millions of handshakes: minutes to days against one server, which is why ROBOT\n(2017) could still decrypt recorded traffic of live sites with such oracles.",
        recovered.queries, recovered.iterations
    ));
    let protected = broke_vulnerable && identical;
    // The alert every probe got from the genuine server, as it crossed the wire (in the clear:
    // the server had not sent ChangeCipherSpec).
    let alerts_seen: Vec<WireAlert> = genuine
        .answers
        .values()
        .flat_map(|a| a.keys())
        .filter_map(|a| a.alert())
        .fold(Vec::new(), |mut v, d| {
            if !v.iter().any(|w: &WireAlert| w.description == d) {
                v.push(WireAlert {
                    flow: Flow::ServerToClient,
                    description: d,
                    encrypted: false,
                });
            }
            v
        });
    Ok(Verdict {
        headline: "protected",
        protected,
        summary: if protected {
            format!(
                "the oracle server gave up the pre-master secret in {} queries ({attack_secs:.1} s); the genuine server answered every probe identically",
                recovered.queries
            )
        } else if !broke_vulnerable {
            "unexpected: the recovered pre-master secret did not decrypt the recording".into()
        } else {
            "THE GENUINE SERVER ANSWERS PROBES DIFFERENTLY".into()
        },
        alerts: alerts_seen,
        protections: vec![COUNTERMEASURE],
    })
}
