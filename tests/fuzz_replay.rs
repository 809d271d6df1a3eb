//! Replays every committed fuzz input through the fuzz entry points, on stable Rust, in the normal
//! `cargo test`: the seed corpora (`fuzz/corpus/<target>/`) and every input that once crashed a
//! target (`fuzz/regressions/<target>/`). So a fixed bug stays fixed without waiting for someone
//! to run a fuzzer.
//!
//! The entry points are not copied here: `fuzz/src/lib.rs` is included as a module, the very code
//! the `cargo fuzz` targets call.

#[path = "../fuzz/src/lib.rs"]
mod entries;

use std::path::{Path, PathBuf};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// The files directly in `dir`, sorted, without dotfiles such as `.gitkeep` (an absent directory
/// has none).
fn files_in(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("readable directory entry").path())
        .filter(|p| p.is_file())
        .filter(|p| {
            !p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    files.sort();
    files
}

/// Runs every file of `target`'s corpus and regressions; panics naming each input that fails.
/// Returns what the target accepted from each corpus file, by file name.
fn replay(target: &str) -> Vec<(String, usize)> {
    let corpus = files_in(&fuzz_dir().join("corpus").join(target));
    let regressions = files_in(&fuzz_dir().join("regressions").join(target));
    let mut failures = Vec::new();
    let mut accepted = Vec::new();
    for path in corpus.iter().chain(&regressions) {
        let data = std::fs::read(path).expect("readable fuzz input");
        match std::panic::catch_unwind(|| entries::run(target, &data)) {
            Ok(Some(n)) => {
                if corpus.contains(path) {
                    let name = path.file_name().unwrap_or_default().to_string_lossy();
                    accepted.push((name.into_owned(), n));
                }
            }
            Ok(None) => panic!("no fuzz entry point called {target}"),
            Err(_) => failures.push(path.display().to_string()),
        }
    }
    assert!(
        failures.is_empty(),
        "{target}: {} input(s) fail (the panic messages are above): {failures:#?}",
        failures.len()
    );
    accepted
}

/// A seed that the target rejects at once only teaches the fuzzer the first error path: every
/// seed must get at least `min` units through (the seeds are real messages, so a seed that stops
/// decoding means the corpus has gone stale and must be regenerated).
fn assert_seeds_accepted(target: &str, accepted: &[(String, usize)], min: usize) {
    for (name, n) in accepted {
        assert!(
            *n >= min,
            "fuzz/corpus/{target}/{name}: only {n} accepted, expected at least {min}"
        );
    }
}

#[test]
fn every_target_has_a_seed_corpus_and_a_regressions_folder() {
    for target in entries::TARGETS {
        let corpus = files_in(&fuzz_dir().join("corpus").join(target)).len();
        assert!(corpus > 0, "fuzz/corpus/{target}/ is empty or missing");
        assert!(
            fuzz_dir().join("regressions").join(target).is_dir(),
            "fuzz/regressions/{target}/ is missing"
        );
        assert!(
            fuzz_dir()
                .join("fuzz_targets")
                .join(format!("{target}.rs"))
                .is_file(),
            "fuzz/fuzz_targets/{target}.rs is missing"
        );
    }
}

#[test]
fn replay_record() {
    let accepted = replay("record");
    assert_seeds_accepted("record", &accepted, 1);
    // The protected flight must be opened under the fuzzing keys: ClientKeyExchange,
    // ChangeCipherSpec, Finished, application data and close_notify.
    let flight = accepted
        .iter()
        .find(|(name, _)| name == "client_flight_protected")
        .map(|(_, n)| *n);
    if let Some(n) = flight {
        assert_eq!(n, 5, "client_flight_protected: records read");
    }
    // The same flight under GCM must open too.
    let gcm = accepted
        .iter()
        .find(|(name, _)| name == "client_flight_gcm");
    assert_eq!(
        gcm.map(|(_, n)| *n),
        Some(5),
        "client_flight_gcm: records read"
    );
    // Through the reassembler: four handshake steps and one application data read, whether
    // the transport hands out everything at once or a few bytes at a time.
    for name in ["conn_client_flight", "conn_client_flight_chunked"] {
        let steps = accepted.iter().find(|(n, _)| n == name).map(|(_, s)| *s);
        assert_eq!(steps, Some(5), "fuzz/corpus/record/{name}: steps");
    }
    // OpenSSL's records: its ClientHello, ClientKeyExchange and ChangeCipherSpec (its Finished is
    // under its own keys, not the target's); its server flight of four records (the fourth its
    // NewSessionTicket, RFC 5077 3.3, sent in plaintext before its ChangeCipherSpec).
    for (name, want) in [("openssl_client_flight", 3), ("openssl_server_flight", 4)] {
        let n = accepted.iter().find(|(n, _)| n == name).map(|(_, n)| *n);
        assert_eq!(n, Some(want), "fuzz/corpus/record/{name}: records read");
    }
}

#[test]
fn replay_handshake_message() {
    let accepted = replay("handshake_message");
    assert_seeds_accepted("handshake_message", &accepted, 1);
    // OpenSSL's messages decode and round-trip, all of them: ClientHello (every TLS 1.2 suite it
    // has, padding included; and a TLS 1.3 one, key_share and supported_versions included) and
    // ClientKeyExchange; ServerHello, Certificate, ServerHelloDone and NewSessionTicket.
    let openssl = [
        ("openssl_client_hello", 2),
        ("openssl_client_hello_tls13", 2),
        ("openssl_server_flight", 4),
    ];
    // Client certificates: CertificateRequest and CertificateVerify alone, and in the flights
    // that carry them (ServerHello, Certificate, CertificateRequest, ServerHelloDone; the
    // client's Certificate, ClientKeyExchange, CertificateVerify, Finished).
    let client_auth = [
        ("certificate_request", 1),
        ("certificate_verify", 1),
        ("server_flight_client_auth", 4),
        ("client_flight_client_auth", 4),
    ];
    for (name, want) in openssl.into_iter().chain(client_auth) {
        let n = accepted.iter().find(|(n, _)| n == name).map(|(_, n)| *n);
        assert_eq!(n, Some(want), "fuzz/corpus/handshake_message/{name}");
    }
    // Session tickets and ALPN (RFC 5077, RFC 7301): a ClientHello presenting a ticket and two
    // protocols, a NewSessionTicket, and ServerHello + NewSessionTicket as a resumption renews.
    for (name, want) in [
        ("client_hello_ticket_alpn", 1),
        ("new_session_ticket", 1),
        ("server_resume_flight_ticket", 2),
    ] {
        let n = accepted.iter().find(|(n, _)| n == name).map(|(_, n)| *n);
        assert_eq!(n, Some(want), "fuzz/corpus/handshake_message/{name}");
    }
}

#[test]
fn replay_ticket() {
    let accepted = replay("ticket");
    assert_seeds_accepted("ticket", &accepted, 1);
    // The sealed ticket opens under the fixed key (and re-seals); the states decode and
    // re-encode. Neither kind is mistaken for the other.
    for name in ["sealed", "state", "state_without_chain"] {
        let n = accepted.iter().find(|(n, _)| n == name).map(|(_, n)| *n);
        assert_eq!(n, Some(1), "fuzz/corpus/ticket/{name}");
    }
}

#[test]
fn replay_x509() {
    let accepted = replay("x509");
    // Every seed is at least a DER tree or a PEM file.
    assert_seeds_accepted("x509", &accepted, 1);
    // The openssl-made RSA certificates and keys parse, as DER and in PEM: DER tree + certificate
    // or key, or PEM blocks + PEM certificates.
    let deep = [
        "ca.der",
        "leaf.der",
        "far_future.der",
        "key_pkcs1.der",
        "key_pkcs8.der",
        "ca.pem",
        "leaf.pem",
        "chain.pem",
    ];
    for (name, n) in &accepted {
        if deep.contains(&name.as_str()) {
            assert_eq!(*n, 2, "fuzz/corpus/x509/{name}: parsers that accepted it");
        }
    }
}

#[test]
fn unknown_target_names_are_refused() {
    assert_eq!(entries::run("no_such_target", b""), None);
}

/// What the handshake targets return for the recorded connections: 1 for a completed handshake
/// plus the application data the peer sent before it closed: our peers' "ping" or "pong",
/// OpenSSL's "ping\n" or "pong\n" (see `examples/fuzz_corpus_openssl.rs`).
fn assert_handshake_seeds(target: &str, accepted: &[(String, usize)], openssl: &[&str]) {
    let expect = |name: &str| match name {
        "full" | "resumed" | "full_traced" | "resumption_refused" | "full_gcm"
        | "resumed_ticket" => Some(5),
        // A server that asks for a client certificate and a client without one: the handshake
        // completes with the empty Certificate (RFC 5246 7.4.6).
        "client_auth_anonymous" => Some(5),
        // Both sides with certificates: the server verifies the client's chain and its
        // CertificateVerify, and the handshake completes.
        "client_auth_mutual" => Some(5),
        // The same server flight to a client with a certificate: it sends its chain and
        // CertificateVerify, so its transcript is not the recorded server's and Finished fails.
        "client_auth_with_certificate" => Some(0),
        // A first flight alone stops at the end of the input: no handshake.
        "client_hello" | "server_hello_flight" => Some(0),
        _ if openssl.contains(&name) => Some(6),
        _ => None,
    };
    let mut recorded = 0;
    for (name, n) in accepted {
        if let Some(want) = expect(name) {
            recorded += 1;
            assert_eq!(
                *n, want,
                "fuzz/corpus/{target}/{name}: a stale recording? If the handshake changed, \
                 regenerate: cargo run --release --example fuzz_corpus -- fuzz/corpus \
                 (and --example fuzz_corpus_openssl for the openssl_* seeds)"
            );
        }
    }
    let client_auth = match target {
        "server" => 2,
        _ => 3,
    };
    assert_eq!(
        recorded,
        7 + client_auth + openssl.len(),
        "fuzz/corpus/{target}/: recorded connections"
    );
}

#[test]
fn replay_server() {
    // The recorded client flights drive the fuzzed server through full and abbreviated
    // handshakes, Finished checks included: the corpus is a real conversation, not noise. So do
    // OpenSSL's: `openssl_resumed` has no ClientKeyExchange, so it can only complete by resuming
    // the fixed session; `openssl_renegotiate` gets its "ping\n" through and then the refused
    // renegotiation ends the connection before the second one.
    let openssl = [
        "openssl_full",
        "openssl_full_ticket",
        "openssl_resumed_ticket",
        "openssl_resumed",
        "openssl_resumption_refused",
        "openssl_default_suites",
        "openssl_renegotiate",
        "openssl_tls13_capable",
    ];
    assert_handshake_seeds("server", &replay("server"), &openssl);
}

#[test]
fn replay_client() {
    // OpenSSL's s_server with the fixed key: its full handshakes complete against the fuzzed
    // client and deliver "pong\n", also when it sends a HelloRequest afterwards.
    let openssl = [
        "openssl_full",
        "openssl_chain_resumption_refused",
        "openssl_hello_request",
        "openssl_tls13_capable",
    ];
    assert_handshake_seeds("client", &replay("client"), &openssl);
}

#[test]
fn replay_decrypt() {
    let accepted = replay("decrypt");
    // Every seed is a full and a resumed connection to a server with the fixed fuzzing key
    // (fuzz/make_decrypt_corpus.sh): both decrypt, Finished messages verified, whatever the
    // container (our pcapng, tcpdump's pcap) or the bare frames.
    assert_seeds_accepted("decrypt", &accepted, 2);
    assert_eq!(accepted.len(), 3, "{accepted:?}");
}

/// The plaintext handshake messages of a recorded client flight (records before its
/// ChangeCipherSpec), each with its offset in `stream`. Our client never splits these small
/// messages across records, which this checks.
fn plaintext_messages(stream: &[u8]) -> Vec<(u8, std::ops::Range<usize>)> {
    let mut messages = Vec::new();
    let mut at = 0;
    while at + 5 <= stream.len() && stream[at] == 22 {
        let len = u16::from_be_bytes([stream[at + 3], stream[at + 4]]) as usize;
        let end = at + 5 + len;
        let mut m = at + 5;
        while m < end {
            let body =
                u32::from_be_bytes([0, stream[m + 1], stream[m + 2], stream[m + 3]]) as usize;
            assert!(m + 4 + body <= end, "a message spans records");
            messages.push((stream[m], m..m + 4 + body));
            m += 4 + body;
        }
        at = end;
    }
    messages
}

/// The server target's handshake on `input`, with a trace: its error, if any, and whether the
/// server noted a verified CertificateVerify.
fn server_with_trace(input: &[u8]) -> (Option<toytls::error::Error>, bool) {
    struct Bytes<'a>(&'a [u8]);
    impl std::io::Read for Bytes<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            self.0.read(buf)
        }
    }
    impl std::io::Write for Bytes<'_> {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut config = entries::server_config_for_flags(input[0]);
    let log = toytls::trace::TraceLog::new();
    config.trace = Some(log.clone());
    let result = toytls::stream::TlsStream::accept(Bytes(&input[1..]), std::sync::Arc::new(config));
    let verified = log.take().iter().any(|e| {
        matches!(
            e,
            toytls::trace::TraceEvent::Note {
                note: toytls::trace::Note::CertificateVerifyVerified { .. },
                ..
            }
        )
    });
    (result.err(), verified)
}

#[test]
fn the_mutual_auth_seed_reaches_certificate_verify_verification() {
    // The server target's `client_auth_mutual` seed carries a real client chain (issued by the
    // client CA the fuzzed server trusts) and a real CertificateVerify: replayed through the
    // target's own configuration, the server verifies both (RFC 5246 7.4.8) and completes. So
    // the fuzzer starts from inputs past the chain check, at the signature check and beyond.
    let seed = std::fs::read(fuzz_dir().join("corpus/server/client_auth_mutual")).expect("seed");
    assert_ne!(seed[0] & entries::HANDSHAKE_CLIENT_AUTH, 0);
    let (error, verified) = server_with_trace(&seed);
    assert!(error.is_none(), "the mutual-auth seed fails: {error:?}");
    assert!(verified, "no CertificateVerify was verified");

    let messages = plaintext_messages(&seed[1..]);
    let find = |typ: u8| {
        let (_, range) = messages
            .iter()
            .find(|(t, _)| *t == typ)
            .expect("message in the seed");
        (range.start + 1, range.end + 1)
    };
    // The Certificate (11) holds a chain, not the empty list of the anonymous seed.
    let (start, end) = find(11);
    assert!(end - start > 7 + 100, "the client's Certificate is empty");

    // One bit of the signature changed: the chain still verifies, the signature does not, and
    // the server refuses with decrypt_error (RFC 5246 7.4.8), not a later Finished mismatch.
    let (_, cv_end) = find(15);
    let mut bad = seed.clone();
    bad[cv_end - 1] ^= 1;
    let (error, verified) = server_with_trace(&bad);
    let error = error.expect("a bad signature must fail");
    assert!(
        matches!(error, toytls::error::Error::BadCertificateVerify),
        "{error:?}"
    );
    assert_eq!(
        error.alert(),
        Some(toytls::wire::alert::AlertDescription::DecryptError)
    );
    assert!(!verified);

    // The anonymous seed never gets there.
    let anonymous =
        std::fs::read(fuzz_dir().join("corpus/server/client_auth_anonymous")).expect("seed");
    let (error, verified) = server_with_trace(&anonymous);
    assert!(error.is_none() && !verified, "{error:?}");
}
