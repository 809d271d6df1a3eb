//! The fields inside each handshake message the annotator breaks down: the hellos and their
//! extensions, the certificate chain, the ClientKeyExchange.

use super::{Cut, Kind, be, short_hex, text_or_hex, version_name};
use crate::wire::messages::extensions::extension_name;
use crate::wire::messages::{CipherSuite, hex};

fn random(m: &mut Cut, who: &'static str, rfc: &'static str) {
    m.take(32, format!("{who} › random"), Kind::Random, rfc, |b| {
        (
            hex(b),
            format!(
                "32 bytes from the {}'s random number generator (the first 4 are the time); an \
                 input to the master secret and the keys, so every connection gets fresh keys",
                if who == "ClientHello" {
                    "client"
                } else {
                    "server"
                }
            ),
        )
    });
}

fn session_id(m: &mut Cut, who: &'static str, rfc: &'static str) {
    let n = m.length(
        1,
        format!("{who} › session_id length"),
        "the session ID",
        rfc,
    );
    let meaning = if who == "ClientHello" {
        "the session the client asks to resume (its master secret is cached on both sides)"
    } else {
        "the session's name: the client may offer it later to resume without RSA"
    };
    m.take(n, format!("{who} › session_id"), Kind::Random, rfc, |b| {
        (hex(b), meaning.into())
    });
}

fn suite_meaning(s: CipherSuite) -> String {
    match crate::record::suite::lookup(s) {
        Some(row) => format!(
            "RSA key transport; records protected with {} and a {}",
            row.encryption, row.tag
        ),
        None if s.0 == 0x00ff => {
            "not a suite: the client supports secure renegotiation (RFC 5746 3.3)".into()
        }
        None => "a suite toytls does not implement".into(),
    }
}

pub(super) fn client_hello(m: &mut Cut) {
    const RFC: &str = "RFC 5246 7.4.1.2";
    m.take(2, "ClientHello › client_version", Kind::Field, RFC, |b| {
        (
            version_name(b),
            "the highest version the client speaks; it is also the first two bytes of the \
             pre-master secret, so a downgrade is detected (RFC 5246 7.4.7.1)"
                .into(),
        )
    });
    random(m, "ClientHello", RFC);
    session_id(m, "ClientHello", RFC);
    m.list(
        2,
        "ClientHello › cipher_suites length".into(),
        "the suite list",
        RFC,
        |list, i| {
            list.take(
                2,
                format!("ClientHello › cipher_suites[{i}]"),
                Kind::Field,
                RFC,
                |b| {
                    let s = CipherSuite(be(b) as u16);
                    (
                        s.name(),
                        format!("offered, in order of preference: {}", suite_meaning(s)),
                    )
                },
            );
        },
    );
    let n = m.length(
        1,
        "ClientHello › compression_methods length".into(),
        "the list",
        RFC,
    );
    m.take(
        n,
        "ClientHello › compression_methods",
        Kind::Field,
        RFC,
        |b| {
            (
                hex(b),
                "00 is null: no compression (TLS compression leaked secrets: CRIME)".into(),
            )
        },
    );
    extensions(m, "ClientHello");
}

pub(super) fn server_hello(m: &mut Cut) {
    const RFC: &str = "RFC 5246 7.4.1.3";
    m.take(2, "ServerHello › server_version", Kind::Field, RFC, |b| {
        (version_name(b), "the version both sides will speak".into())
    });
    random(m, "ServerHello", RFC);
    session_id(m, "ServerHello", RFC);
    m.take(2, "ServerHello › cipher_suite", Kind::Field, RFC, |b| {
        let s = CipherSuite(be(b) as u16);
        (
            s.name(),
            format!(
                "the server's choice from the client's list: {}",
                suite_meaning(s)
            ),
        )
    });
    m.take(
        1,
        "ServerHello › compression_method",
        Kind::Field,
        RFC,
        |b| (hex(b), "null: no compression".into()),
    );
    extensions(m, "ServerHello");
}

fn extension_meaning(typ: u16, from_client: bool) -> (&'static str, &'static str) {
    match typ {
        0 if from_client => (
            "the host name the client wants to reach, so one address can serve many names",
            "RFC 6066 3",
        ),
        0 => ("the server saw the host name", "RFC 6066 3"),
        13 => (
            "the signature algorithms the client accepts in certificates",
            "RFC 5246 7.4.1.4.1",
        ),
        23 => (
            "extended master secret: the master secret is bound to the hash of the whole handshake, so no two connections can share one (triple handshake attack)",
            "RFC 7627 4",
        ),
        0xff01 => (
            "secure renegotiation: empty in a first handshake; toytls refuses renegotiation anyway",
            "RFC 5746 3.2",
        ),
        35 => (
            "session tickets: resumption without a server-side cache",
            "RFC 5077 3.2",
        ),
        16 => (
            "application protocol negotiation (e.g. http/1.1)",
            "RFC 7301 3.1",
        ),
        _ => (
            "an extension toytls does not use; ignored",
            "RFC 5246 7.4.1.4",
        ),
    }
}

fn extensions(m: &mut Cut, who: &'static str) {
    const RFC: &str = "RFC 5246 7.4.1.4";
    if m.left() == 0 {
        return;
    }
    m.list(
        2,
        format!("{who} › extensions length"),
        "the extensions",
        RFC,
        |e, _| {
            let typ = if e.left() >= 2 {
                be(&e.b[e.at..e.at + 2]) as u16
            } else {
                0
            };
            let ext = extension_name(typ);
            let (meaning, rfc) = extension_meaning(typ, who == "ClientHello");
            e.take(
                2,
                format!("{who} › {ext} › type"),
                Kind::Field,
                rfc,
                |_| (ext.clone(), meaning.into()),
            );
            let len = e.length(
                2,
                format!("{who} › {ext} › length"),
                "the extension's data",
                rfc,
            );
            e.take(
                len,
                format!("{who} › {ext} › data"),
                Kind::Field,
                rfc,
                |b| {
                    let value = if typ == 0 && b.len() > 5 {
                        text_or_hex(&b[5..])
                    } else {
                        hex(b)
                    };
                    (value, meaning.into())
                },
            );
        },
    );
}

pub(super) fn certificate(m: &mut Cut) {
    const RFC: &str = "RFC 5246 7.4.2";
    m.list(
        3,
        "Certificate › certificate_list length".into(),
        "the chain",
        RFC,
        |l, i| {
            let len = l.length(
                3,
                format!("Certificate › [{i}] length"),
                "one DER certificate",
                RFC,
            );
            l.take(
                len,
                format!("Certificate › [{i}]"),
                Kind::Cert,
                RFC,
                |b| {
                    let value = match crate::x509::cert::Certificate::from_der(b) {
                        Ok(cert) => format!(
                            "subject {}, issued by {}, {}-bit RSA key",
                            cert.label(),
                            cert.issuer(),
                            cert.public_key().bits()
                        ),
                        Err(_) => short_hex(b),
                    };
                    let meaning = if i == 0 {
                        "the server's certificate (X.509, DER): its name and its RSA public key, \
                     signed by a CA the client trusts; the client encrypts the pre-master secret \
                     to this key"
                    } else {
                        "a CA certificate linking the server's certificate to a trusted root"
                    };
                    (value, meaning.into())
                },
            );
        },
    );
}

pub(super) fn client_key_exchange(m: &mut Cut) {
    const RFC: &str = "RFC 5246 7.4.7.1";
    let n = m.length(
        2,
        "ClientKeyExchange › length".into(),
        "the encrypted pre-master secret",
        RFC,
    );
    m.take(
        n,
        "ClientKeyExchange › encrypted pre-master secret",
        Kind::Encrypted,
        RFC,
        |b| {
            (
                short_hex(b),
                "the 48-byte pre-master secret, RSA-encrypted (PKCS #1 v1.5) under the public key \
             of the server's certificate: an eavesdropper sees these bytes but only the holder of \
             the server's private key can recover the secret (and anyone who steals that key \
             later can too: RSA key transport has no forward secrecy)"
                    .into(),
            )
        },
    );
}
