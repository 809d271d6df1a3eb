//! Client certificates (RFC 5246 7.4.4, 7.4.6, 7.4.8) between our own client and server, in
//! memory: each server policy with and without a client certificate, every refusal with the alert
//! that crossed the wire, resumption keeping the client's identity, and the client's answers to
//! requests it cannot or may not satisfy (checked by a scripted server that reads what the
//! client sent).

mod common;

use common::*;
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::sync::{Arc, OnceLock};
use std::thread;
use toytls::Side;
use toytls::clock::UnixTime;
use toytls::config::{ClientAuth, ClientCertificate, ClientConfig, ServerConfig};
use toytls::conn::Conn;
use toytls::crypto::rsa::{RsaPrivateKey, SignatureHash};
use toytls::error::Error;
use toytls::handshake::common::Handshake;
use toytls::stream::TlsStream;
use toytls::wire::alert::AlertDescription as A;
use toytls::wire::messages::client_auth::*;
use toytls::wire::messages::*;
use toytls::x509::Certificate;
use toytls::x509::builder::{ca_with_key, client_cert_with_key};

struct ClientPki {
    /// `CN=alice`, clientAuth, issued by the test CA (the one the server's certificate has too).
    alice: ClientCertificate,
    /// Issued by a CA the server does not trust for clients.
    mallory: ClientCertificate,
    /// Issued by an impostor CA with the test CA's name and another key, sent with that CA: the
    /// client sends it (the request names its issuer), the server finds no path to its anchor.
    impostor: ClientCertificate,
    /// alice's certificate, expired.
    expired: ClientCertificate,
    stranger_ca: Certificate,
}

fn client_pki() -> &'static ClientPki {
    static P: OnceLock<ClientPki> = OnceLock::new();
    P.get_or_init(|| {
        let p = pki();
        let mut rng = StdRng::seed_from_u64(7);
        let nb = UnixTime(NOW - 86400);
        let na = UnixTime(NOW + 86400);
        let key = RsaPrivateKey::generate(&mut rng, 2048).unwrap();
        let cert = |ca: &Certificate, ca_key: &RsaPrivateKey, nb, na, rng: &mut StdRng| {
            client_cert_with_key(rng, ca, ca_key, &key.public_key(), "alice", nb, na).unwrap()
        };
        let alice = cert(&p.ca, &p.ca_key, nb, na, &mut rng);
        let expired = cert(
            &p.ca,
            &p.ca_key,
            UnixTime(NOW - 10 * 86400),
            UnixTime(NOW - 86400),
            &mut rng,
        );
        let stranger_key = RsaPrivateKey::generate(&mut rng, 2048).unwrap();
        let stranger_ca = ca_with_key(&mut rng, &stranger_key, "stranger CA", nb, na).unwrap();
        let mallory = cert(&stranger_ca, &stranger_key, nb, na, &mut rng);
        let impostor_ca = ca_with_key(&mut rng, &stranger_key, "toytls test CA", nb, na).unwrap();
        let impostor = cert(&impostor_ca, &stranger_key, nb, na, &mut rng);
        let identity = |c: Certificate| ClientCertificate::new(vec![c], key.clone()).unwrap();
        ClientPki {
            alice: identity(alice),
            mallory: identity(mallory),
            impostor: ClientCertificate::new(vec![impostor, impostor_ca], key.clone()).unwrap(),
            expired: identity(expired),
            stranger_ca,
        }
    })
}

fn client_with(seed: u64, identity: Option<&ClientCertificate>) -> ClientConfig {
    let mut c = client_config(seed);
    c.client_certificate = identity
        .map(|i| Arc::new(ClientCertificate::new(i.chain.clone(), i.private_key.clone()).unwrap()));
    c
}

fn server_with(seed: u64, policy: ClientAuth) -> ServerConfig {
    let mut s = server_config(seed);
    s.client_auth = policy;
    s
}

fn optional() -> ClientAuth {
    ClientAuth::Optional {
        trust_anchors: vec![pki().ca.clone()],
    }
}

fn required() -> ClientAuth {
    ClientAuth::Required {
        trust_anchors: vec![pki().ca.clone()],
    }
}

/// What one side saw of a connection that worked: the peer's chain and whether it resumed.
#[derive(Debug)]
struct Seen {
    peer_chain: Vec<Vec<u8>>,
    resumed: bool,
}

/// One connection: the client sends "ping", the server echoes it and closes.
fn run(
    client: &Arc<ClientConfig>,
    server: &Arc<ServerConfig>,
) -> (Result<Seen, Error>, Result<Seen, Error>) {
    let (c_io, s_io) = proxy(|_, _, r| Action::Forward(r));
    let server = server.clone();
    let st = thread::spawn(move || -> Result<Seen, Error> {
        let mut s = TlsStream::accept(s_io, server)?;
        let mut buf = [0u8; 16];
        let n = s.read_data(&mut buf)?;
        s.write_data(&buf[..n])?;
        s.close()?;
        Ok(Seen {
            peer_chain: s.peer_certificates().to_vec(),
            resumed: s.resumed(),
        })
    });
    let ct = (|| -> Result<Seen, Error> {
        let mut c = TlsStream::connect(c_io, client.clone(), "localhost", 443)?;
        c.write_data(b"ping")?;
        let mut buf = [0u8; 16];
        let n = c.read_data(&mut buf)?;
        assert_eq!(&buf[..n], b"ping");
        Ok(Seen {
            peer_chain: c.peer_certificates().to_vec(),
            resumed: c.resumed(),
        })
    })();
    (ct, st.join().unwrap())
}

fn der(c: &ClientCertificate) -> Vec<Vec<u8>> {
    c.chain_der()
}

/// The server refused with `alert`, and the client received exactly that alert.
fn refused_by_server(r: (Result<Seen, Error>, Result<Seen, Error>), alert: A) -> Error {
    let (c, s) = r;
    let s = s.expect_err("the server should refuse");
    assert_eq!(s.alert(), Some(alert), "server: {s}");
    match c {
        Err(Error::PeerAlert(got)) => assert_eq!(got, alert),
        other => panic!("the client should have received {alert:?}, got {other:?}"),
    }
    s
}

#[test]
fn no_policy_no_request_and_no_client_chain() {
    let cp = client_pki();
    let (c, s) = run(
        &Arc::new(client_with(1, Some(&cp.alice))),
        &Arc::new(server_config(2)),
    );
    assert!(s.unwrap().peer_chain.is_empty());
    assert_eq!(c.unwrap().peer_chain, vec![pki().server.der().to_vec()]);
}

#[test]
fn optional_without_a_certificate_is_anonymous() {
    // RFC 5246 7.4.6: the client answers the request with an empty Certificate.
    let (c, s) = run(
        &Arc::new(client_with(3, None)),
        &Arc::new(server_with(4, optional())),
    );
    assert!(s.unwrap().peer_chain.is_empty());
    c.unwrap();
}

#[test]
fn optional_and_required_with_a_certificate_know_the_client() {
    let cp = client_pki();
    for policy in [optional(), required()] {
        let (c, s) = run(
            &Arc::new(client_with(5, Some(&cp.alice))),
            &Arc::new(server_with(6, policy)),
        );
        assert_eq!(s.unwrap().peer_chain, der(&cp.alice));
        assert_eq!(c.unwrap().peer_chain, vec![pki().server.der().to_vec()]);
    }
}

#[test]
fn required_without_a_certificate_is_handshake_failure() {
    let e = refused_by_server(
        run(
            &Arc::new(client_with(7, None)),
            &Arc::new(server_with(8, required())),
        ),
        A::HandshakeFailure,
    );
    assert!(e.to_string().contains("requires"), "{e}");
}

#[test]
fn a_client_certificate_from_an_impostor_ca_is_bad_certificate() {
    // Optional or not: a client that sends a chain must have it verify. The impostor's CA has
    // the trusted CA's name, so the client sends it; its signature does not verify with the
    // trusted CA's key.
    for policy in [optional(), required()] {
        refused_by_server(
            run(
                &Arc::new(client_with(9, Some(&client_pki().impostor))),
                &Arc::new(server_with(10, policy)),
            ),
            A::BadCertificate,
        );
    }
}

#[test]
fn a_chain_to_an_untrusted_ca_is_unknown_ca() {
    // Our client never sends a chain the request's CA names exclude, so this is the server's
    // check on its own: the verifier a server applies to a client's Certificate.
    let e = optional()
        .verify(&client_pki().mallory.chain_der(), UnixTime(NOW))
        .unwrap_err();
    assert_eq!(e.alert(), Some(A::UnknownCa), "{e}");
    optional()
        .verify(&client_pki().alice.chain_der(), UnixTime(NOW))
        .unwrap();
}

#[test]
fn an_expired_client_certificate_is_certificate_expired() {
    refused_by_server(
        run(
            &Arc::new(client_with(11, Some(&client_pki().expired))),
            &Arc::new(server_with(12, optional())),
        ),
        A::CertificateExpired,
    );
}

#[test]
fn a_server_certificate_is_no_client_certificate() {
    // The server's own certificate has extendedKeyUsage serverAuth only.
    let p = pki();
    let server_as_client =
        ClientCertificate::new(vec![p.server.clone()], p.server_key.clone()).unwrap();
    let e = refused_by_server(
        run(
            &Arc::new(client_with(13, Some(&server_as_client))),
            &Arc::new(server_with(14, required())),
        ),
        A::CertificateUnknown,
    );
    assert!(e.to_string().contains("clientAuth"), "{e}");
}

#[test]
fn a_client_certificate_trusted_by_its_own_ca_only() {
    // The server trusts the stranger CA for clients: mallory is accepted, alice is not.
    let cp = client_pki();
    let policy = || ClientAuth::Required {
        trust_anchors: vec![cp.stranger_ca.clone()],
    };
    let (c, s) = run(
        &Arc::new(client_with(15, Some(&cp.mallory))),
        &Arc::new(server_with(16, policy())),
    );
    c.unwrap();
    assert_eq!(s.unwrap().peer_chain, der(&cp.mallory));
    // alice's CA is not named in the request, so alice sends an empty Certificate (RFC 5246
    // 7.4.4) and the server that requires one refuses.
    refused_by_server(
        run(
            &Arc::new(client_with(17, Some(&cp.alice))),
            &Arc::new(server_with(18, policy())),
        ),
        A::HandshakeFailure,
    );
}

#[test]
fn a_resumed_session_keeps_the_client_identity() {
    let cp = client_pki();
    let client = Arc::new(client_with(19, Some(&cp.alice)));
    let server = Arc::new(server_with(20, required()));
    let (c1, s1) = run(&client, &server);
    assert!(!c1.unwrap().resumed);
    assert_eq!(s1.unwrap().peer_chain, der(&cp.alice));
    let (c2, s2) = run(&client, &server);
    let (c2, s2) = (c2.unwrap(), s2.unwrap());
    assert!(c2.resumed && s2.resumed);
    assert_eq!(s2.peer_chain, der(&cp.alice));
    assert_eq!(c2.peer_chain, vec![pki().server.der().to_vec()]);
}

/// Runs our client against our server through a proxy that edits the first handshake record the
/// client sends after the server's flight (the one with Certificate, ClientKeyExchange and
/// CertificateVerify) with `edit` applied to the CertificateVerify's body.
fn with_certificate_verify_edited(
    seed: u64,
    edit: impl Fn(&mut Vec<u8>) + Send + Sync + 'static,
) -> (Result<Seen, Error>, Result<Seen, Error>) {
    let (c_io, s_io) = proxy(move |way, i, mut rec| {
        if way == Way::ToServer && i == 1 && rec[0] == 22 {
            // Walk the handshake messages of this record to the CertificateVerify (type 15).
            let mut at = 5;
            while at + 4 <= rec.len() {
                let len = u32::from_be_bytes([0, rec[at + 1], rec[at + 2], rec[at + 3]]) as usize;
                if rec[at] == 15 {
                    let mut body = rec[at + 4..at + 4 + len].to_vec();
                    edit(&mut body);
                    assert_eq!(body.len(), len, "edits keep the length");
                    rec[at + 4..at + 4 + len].copy_from_slice(&body);
                }
                at += 4 + len;
            }
        }
        Action::Forward(rec)
    });
    let client = Arc::new(client_with(seed, Some(&client_pki().alice)));
    let server = Arc::new(server_with(seed + 1, required()));
    let st = thread::spawn(move || {
        TlsStream::accept(s_io, server).map(|s| Seen {
            peer_chain: s.peer_certificates().to_vec(),
            resumed: false,
        })
    });
    let ct = TlsStream::connect(c_io, client, "localhost", 443).map(|c| Seen {
        peer_chain: c.peer_certificates().to_vec(),
        resumed: false,
    });
    (ct, st.join().unwrap())
}

#[test]
fn a_changed_certificate_verify_signature_is_decrypt_error() {
    // The last byte of the signature: the RSA check fails before any Finished.
    let e = refused_by_server(
        with_certificate_verify_edited(21, |b| *b.last_mut().unwrap() ^= 1),
        A::DecryptError,
    );
    assert!(matches!(e, Error::BadCertificateVerify), "{e}");
}

#[test]
fn a_certificate_verify_with_an_algorithm_not_requested_is_illegal_parameter() {
    // rsa_pkcs1_sha256 (04 01) relabelled rsa_pkcs1_sha1 (02 01), which we do not list.
    refused_by_server(
        with_certificate_verify_edited(23, |b| b[0] = 2),
        A::IllegalParameter,
    );
}

#[test]
fn a_certificate_verify_signed_with_another_listed_hash_is_decrypt_error() {
    // Labelled rsa_pkcs1_sha512 (listed) but made with SHA-256: a signature verifies only as
    // the hash it was made with.
    refused_by_server(
        with_certificate_verify_edited(25, |b| b[0] = 6),
        A::DecryptError,
    );
}

#[test]
fn a_certificate_without_certificate_verify_is_unexpected_message() {
    // Drop the CertificateVerify from the client's flight: the server expects it after
    // ClientKeyExchange, and ChangeCipherSpec comes instead.
    let (c_io, s_io) = proxy(|way, i, rec| {
        if way == Way::ToServer && i == 1 && rec[0] == 22 {
            let mut out = rec[..5].to_vec();
            let mut at = 5;
            while at + 4 <= rec.len() {
                let len = u32::from_be_bytes([0, rec[at + 1], rec[at + 2], rec[at + 3]]) as usize;
                if rec[at] != 15 {
                    out.extend_from_slice(&rec[at..at + 4 + len]);
                }
                at += 4 + len;
            }
            let n = (out.len() - 5) as u16;
            out[3..5].copy_from_slice(&n.to_be_bytes());
            return Action::Forward(out);
        }
        Action::Forward(rec)
    });
    let client = Arc::new(client_with(27, Some(&client_pki().alice)));
    let server = Arc::new(server_with(28, required()));
    let st = thread::spawn(move || TlsStream::accept(s_io, server).map(|_| ()));
    let _ = TlsStream::connect(c_io, client, "localhost", 443);
    let e = st.join().unwrap().unwrap_err();
    assert_eq!(e.alert(), Some(A::UnexpectedMessage), "{e}");
}

/// What the client answered a scripted CertificateRequest with: its chain, its CertificateVerify
/// with the messages it signs (if it sent a chain), and how its handshake ended.
type Answer = (
    Vec<Vec<u8>>,
    Option<(CertificateVerify, Vec<u8>)>,
    Result<(), Error>,
);

/// A scripted server: sends ServerHello, our Certificate, `request` and ServerHelloDone to our
/// client, then reads the client's Certificate and, if it sent a chain, its ClientKeyExchange
/// and CertificateVerify. Returns the chain, the CertificateVerify, and the handshake messages
/// the CertificateVerify signs.
fn scripted_request(client: ClientConfig, request: CertificateRequest) -> Answer {
    let (c, s) = pipe();
    let ct = thread::spawn(move || {
        TlsStream::connect(c, Arc::new(client), "localhost", 443).map(|_| ())
    });
    let mut srv = Conn::new(s, Side::Server, None);
    let mut hs = Handshake::new(&mut srv);
    hs.keep_messages();
    let ch: ClientHello = hs.read().unwrap();
    hs.send(HandshakeMessage::ServerHello(ServerHello {
        server_version: ProtocolVersion::TLS12,
        random: Random([7; 32]),
        session_id: SessionId::EMPTY,
        cipher_suite: ch.cipher_suites[0],
        compression_method: 0,
        extensions: None,
    }))
    .unwrap();
    hs.send(HandshakeMessage::Certificate(CertificateMsg {
        chain: vec![pki().server.der().to_vec()],
    }))
    .unwrap();
    hs.send(HandshakeMessage::CertificateRequest(request))
        .unwrap();
    hs.send(HandshakeMessage::ServerHelloDone(ServerHelloDone))
        .unwrap();
    hs.flush().unwrap();
    let cert: CertificateMsg = match hs.read() {
        Ok(c) => c,
        Err(_) => {
            drop(srv);
            return (vec![], None, ct.join().unwrap());
        }
    };
    let mut cv = None;
    if !cert.chain.is_empty() {
        let _: ClientKeyExchange = hs.read().unwrap();
        let signed = hs.messages().unwrap().to_vec();
        cv = Some((hs.read::<CertificateVerify>().unwrap(), signed));
    }
    drop(srv);
    (cert.chain, cv, ct.join().unwrap())
}

fn request(types: Vec<u8>, algs: Vec<SignatureScheme>, cas: Vec<Vec<u8>>) -> CertificateRequest {
    CertificateRequest {
        certificate_types: types,
        signature_algorithms: algs,
        certificate_authorities: cas,
    }
}

#[test]
fn the_client_signs_with_the_servers_first_hash_it_has() {
    let cp = client_pki();
    let key = cp.alice.private_key.public_key();
    for (algs, expect, hash) in [
        (
            vec![RSA_PKCS1_SHA384, RSA_PKCS1_SHA256],
            RSA_PKCS1_SHA384,
            SignatureHash::Sha384,
        ),
        (
            vec![RSA_PSS_RSAE_SHA256, RSA_PKCS1_SHA1, RSA_PKCS1_SHA512],
            RSA_PKCS1_SHA512,
            SignatureHash::Sha512,
        ),
        (
            vec![RSA_PKCS1_SHA256],
            RSA_PKCS1_SHA256,
            SignatureHash::Sha256,
        ),
    ] {
        let (chain, cv, _) = scripted_request(
            client_with(29, Some(&cp.alice)),
            request(
                vec![RSA_SIGN],
                algs,
                vec![pki().ca.subject().der().to_vec()],
            ),
        );
        assert_eq!(chain, der(&cp.alice));
        let (cv, signed) = cv.expect("a CertificateVerify");
        assert_eq!(cv.algorithm, expect);
        key.verify_pkcs1v15(hash, &signed, &cv.signature)
            .expect("the signature covers every handshake message before it");
    }
}

#[test]
fn the_client_sends_an_empty_certificate_when_the_request_does_not_fit() {
    let cp = client_pki();
    for (why, req) in [
        (
            "no rsa_sign",
            request(vec![ECDSA_SIGN], vec![RSA_PKCS1_SHA256], vec![]),
        ),
        (
            "another CA named",
            request(
                vec![RSA_SIGN, ECDSA_SIGN],
                vec![RSA_PKCS1_SHA256],
                vec![cp.stranger_ca.subject().der().to_vec()],
            ),
        ),
    ] {
        let (chain, cv, _) = scripted_request(client_with(31, Some(&cp.alice)), req);
        assert!(chain.is_empty(), "{why}");
        assert!(cv.is_none(), "{why}");
    }
    // And a client without a certificate answers any request with an empty one.
    let (chain, cv, _) = scripted_request(
        client_with(33, None),
        request(vec![RSA_SIGN], vec![RSA_PKCS1_SHA256], vec![]),
    );
    assert!(chain.is_empty() && cv.is_none());
}

#[test]
fn no_common_signature_algorithm_is_handshake_failure() {
    let (chain, _, result) = scripted_request(
        client_with(35, Some(&client_pki().alice)),
        request(
            vec![RSA_SIGN],
            vec![RSA_PKCS1_SHA1, ECDSA_SECP256R1_SHA256],
            vec![],
        ),
    );
    assert!(chain.is_empty());
    let e = result.unwrap_err();
    assert_eq!(e.alert(), Some(A::HandshakeFailure), "{e}");
}

#[test]
fn a_client_key_that_does_not_match_its_certificate_is_refused_up_front() {
    let cp = client_pki();
    let err = ClientCertificate::new(cp.alice.chain.clone(), pki().server_key.clone())
        .err()
        .expect("a mismatched key is refused");
    assert!(err.to_string().contains("does not belong"), "{err}");
    assert!(ClientCertificate::new(vec![], cp.alice.private_key.clone()).is_err());
}

/// A scripted server that sends `flight` after reading our client's hello; returns the alert
/// our client sent.
fn client_alert_for(flight: Vec<HandshakeMessage>) -> (Error, Vec<u8>) {
    scripted_server_against(client_with(37, Some(&client_pki().alice)), flight)
}

fn server_hello() -> HandshakeMessage {
    HandshakeMessage::ServerHello(ServerHello {
        server_version: ProtocolVersion::TLS12,
        random: Random([7; 32]),
        session_id: SessionId::EMPTY,
        cipher_suite: TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256,
        compression_method: 0,
        extensions: None,
    })
}

#[test]
fn a_certificate_request_out_of_place_is_unexpected_message() {
    let cert = || {
        HandshakeMessage::Certificate(CertificateMsg {
            chain: vec![pki().server.der().to_vec()],
        })
    };
    let req = || {
        HandshakeMessage::CertificateRequest(request(
            vec![RSA_SIGN],
            vec![RSA_PKCS1_SHA256],
            vec![],
        ))
    };
    for (why, flight) in [
        (
            "before the server's Certificate",
            vec![server_hello(), req(), cert()],
        ),
        ("twice", vec![server_hello(), cert(), req(), req()]),
    ] {
        let (e, alert) = client_alert_for(flight);
        assert_eq!(e.alert(), Some(A::UnexpectedMessage), "{why}: {e}");
        assert_eq!(alert[5..], [2, 10], "{why}");
    }
}

#[test]
fn a_client_certificate_nobody_asked_for_is_unexpected_message() {
    // A scripted client: hello, then a Certificate right after the server's flight, which did
    // not ask for one (RFC 5246 7.4.6: the client sends one only in answer to a request).
    let (c, s) = pipe();
    let server = Arc::new(server_config(39));
    let st = thread::spawn(move || TlsStream::accept(s, server).map(|_| ()));
    let mut cli = Conn::new(c, Side::Client, None);
    let mut hs = Handshake::new(&mut cli);
    hs.send(HandshakeMessage::ClientHello(ClientHello {
        client_version: ProtocolVersion::TLS12,
        random: Random([9; 32]),
        session_id: SessionId::EMPTY,
        cipher_suites: vec![TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256],
        compression_methods: vec![0],
        extensions: None,
    }))
    .unwrap();
    hs.flush().unwrap();
    let _: ServerHello = hs.read().unwrap();
    let _: CertificateMsg = hs.read().unwrap();
    let _: ServerHelloDone = hs.read().unwrap();
    hs.send(HandshakeMessage::Certificate(CertificateMsg {
        chain: der(&client_pki().alice),
    }))
    .unwrap();
    hs.flush().unwrap();
    let e = st.join().unwrap().unwrap_err();
    assert_eq!(e.alert(), Some(A::UnexpectedMessage), "{e}");
    assert_eq!(read_alert_record(&mut cli.io)[5..], [2, 10]);
}

#[test]
fn a_client_key_under_2048_bits_is_bad_certificate() {
    // The same minimum as for servers (x509::verify::MIN_RSA_BITS): whoever factors the key can
    // sign as the client.
    let p = pki();
    let mut rng = StdRng::seed_from_u64(41);
    let small = RsaPrivateKey::generate(&mut rng, 1024).unwrap();
    let cert = client_cert_with_key(
        &mut rng,
        &p.ca,
        &p.ca_key,
        &small.public_key(),
        "weak",
        UnixTime(NOW - 86400),
        UnixTime(NOW + 86400),
    )
    .unwrap();
    let e = optional()
        .verify(&[cert.der().to_vec()], UnixTime(NOW))
        .unwrap_err();
    assert_eq!(e.alert(), Some(A::BadCertificate), "{e}");
    assert!(
        e.to_string()
            .contains("refuses client keys under 2048 bits"),
        "{e}"
    );
}

/// A transport that replays `input` and lets the first `writes_ok` writes through, then fails
/// every write with `kind`: a TCP socket whose peer sent its bytes, then hung up.
struct HungUp {
    input: std::io::Cursor<Vec<u8>>,
    writes_ok: usize,
    kind: std::io::ErrorKind,
}

impl std::io::Read for HungUp {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.input.read(buf)
    }
}

impl std::io::Write for HungUp {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.writes_ok == 0 {
            return Err(self.kind.into());
        }
        self.writes_ok -= 1;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The bytes each way of a connection between `client` and `server` (see [`run`]).
fn recorded(client: &Arc<ClientConfig>, server: &Arc<ServerConfig>) -> (Vec<u8>, Vec<u8>) {
    let seen: Arc<std::sync::Mutex<[Vec<u8>; 2]>> = Arc::default();
    let log = seen.clone();
    let (c_io, s_io) = proxy(move |way, _, r| {
        log.lock().unwrap()[(way == Way::ToClient) as usize].extend_from_slice(&r);
        Action::Forward(r)
    });
    let server = server.clone();
    let st = thread::spawn(move || TlsStream::accept(s_io, server).err());
    let c = TlsStream::connect(c_io, client.clone(), "localhost", 443).err();
    let s = st.join().unwrap();
    assert!(c.is_some() && s.is_some(), "the connection should fail");
    let [to_server, to_client] = std::mem::take(&mut *seen.lock().unwrap());
    (to_server, to_client)
}

#[test]
fn a_client_whose_flight_meets_a_closed_socket_reports_the_servers_alert() {
    // Issue 12: GnuTLS requiring a certificate reads our empty Certificate, sends its fatal
    // alert and closes while the rest of our flight is going out; the write fails with a broken
    // pipe, but the alert is waiting to be read, and that is what the user must see.
    let client = Arc::new(client_with(21, None));
    let server = Arc::new(server_with(22, required()));
    let (_, from_server) = recorded(&client, &server);
    // The server's flight, then its alert: the last record, handshake_failure (RFC 5246 7.4.6).
    assert_eq!(
        from_server[from_server.len() - 7..],
        [21, 3, 3, 0, 2, 2, 40]
    );
    for kind in [
        std::io::ErrorKind::BrokenPipe,
        std::io::ErrorKind::ConnectionReset,
    ] {
        // The same client again (same seed, same hello), whose writes after its ClientHello fail.
        let io = HungUp {
            input: std::io::Cursor::new(from_server.clone()),
            writes_ok: 1,
            kind,
        };
        let e = TlsStream::connect(io, Arc::new(client_with(21, None)), "localhost", 443)
            .err()
            .expect("the handshake cannot complete");
        assert!(
            matches!(e, Error::PeerAlert(A::HandshakeFailure)),
            "{kind:?}: {e:?}"
        );
        assert!(e.to_string().contains("handshake_failure"), "{e}");
    }
    // A write that fails for another reason is reported as it is: no alert is looked for.
    let io = HungUp {
        input: std::io::Cursor::new(from_server.clone()),
        writes_ok: 1,
        kind: std::io::ErrorKind::PermissionDenied,
    };
    let e = TlsStream::connect(io, Arc::new(client_with(21, None)), "localhost", 443).err();
    assert!(matches!(e, Some(Error::Io(_))), "{e:?}");
    // And a broken pipe with nothing behind it stays a transport error.
    let hello_only =
        from_server[..5 + u16::from_be_bytes([from_server[3], from_server[4]]) as usize].to_vec();
    let io = HungUp {
        input: std::io::Cursor::new(hello_only),
        writes_ok: 1,
        kind: std::io::ErrorKind::BrokenPipe,
    };
    let e = TlsStream::connect(io, Arc::new(client_with(21, None)), "localhost", 443).err();
    assert!(
        matches!(e, Some(Error::Io(_)) | Some(Error::Truncated)),
        "{e:?}"
    );
}

#[test]
fn a_server_whose_flight_meets_a_closed_socket_reports_the_clients_alert() {
    // The other direction: the client's ClientHello and then its fatal alert are queued, and the
    // server's first write (its flight) fails: the server reports the client's alert.
    let client = Arc::new(client_with(23, None));
    let server = Arc::new(server_with(24, required()));
    let (from_client, _) = recorded(&client, &server);
    let hello_len = 5 + u16::from_be_bytes([from_client[3], from_client[4]]) as usize;
    let mut input = from_client[..hello_len].to_vec();
    input.extend_from_slice(&[21, 3, 3, 0, 2, 2, 48]); // fatal unknown_ca
    let io = HungUp {
        input: std::io::Cursor::new(input),
        writes_ok: 0,
        kind: std::io::ErrorKind::BrokenPipe,
    };
    let e = TlsStream::accept(io, Arc::new(server_with(24, required())))
        .err()
        .expect("the handshake cannot complete");
    assert!(matches!(e, Error::PeerAlert(A::UnknownCa)), "{e:?}");
}
