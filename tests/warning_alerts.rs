//! Alerts at level warning, and the ChangeCipherSpec record, in memory between our own client and
//! server, with a man in the middle that adds or changes records.
//!
//! - A warning alert does not end the connection, on either side (RFC 5246 7.2.2: "the receiving
//!   party MAY decide at its discretion whether to treat this as a fatal error or not"; OpenSSL,
//!   GnuTLS and NSS go on, and a server's warning `unrecognized_name` is common).
//! - But a peer could keep us reading warnings for ever, for free (the "SSL Death Alert",
//!   CVE-2016-8610): [`MAX_WARNINGS_IN_A_ROW`] in a row are ignored, the next one is fatal
//!   `unexpected_message`. Any other record with content is progress and starts the count again.
//! - A ChangeCipherSpec record of two bytes is two ChangeCipherSpec messages (RFC 5246 6.2.1 lets
//!   messages of one type share a record); the second comes where only Finished may:
//!   `unexpected_message`.

mod common;

use common::*;
use std::io::{Read, Write};
use std::sync::Arc;
use toytls::error::Error;
use toytls::stream::TlsStream;
use toytls::wire::alert::AlertDescription;

/// How many warning alerts in a row are ignored (the same as OpenSSL).
const MAX_WARNINGS_IN_A_ROW: usize = 4;

/// A plaintext alert record (the handshake is not yet protected when these are slipped in).
fn alert(level: u8, description: u8) -> Vec<u8> {
    vec![21, 3, 3, 0, 2, level, description]
}
const WARNING: u8 = 1;
const UNSUPPORTED_CERTIFICATE: u8 = 43;
const UNRECOGNIZED_NAME: u8 = 112;

type Stream = Result<TlsStream<End>, Error>;

/// Our client and server through `proxy(edit)`; both handshake results.
fn through(
    edit: impl Fn(Way, usize, Vec<u8>) -> Action + Send + Sync + 'static,
) -> (Stream, Stream) {
    let (c, s) = proxy(edit);
    let st = std::thread::spawn(move || TlsStream::accept(s, Arc::new(server_config(11))));
    let client = TlsStream::connect(c, Arc::new(client_config(12)), "localhost", 443);
    (client, st.join().unwrap())
}

/// Application data both ways, then close_notify both ways.
fn talk(client: TlsStream<End>, server: TlsStream<End>) {
    let (mut client, mut server) = (client, server);
    let st = std::thread::spawn(move || {
        let mut got = [0u8; 4];
        server.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"ping");
        server.write_all(b"pong").unwrap();
        server.close().unwrap();
        let mut rest = Vec::new();
        server.read_to_end(&mut rest).unwrap();
        assert!(rest.is_empty());
    });
    client.write_all(b"ping").unwrap();
    let mut got = Vec::new();
    client.read_to_end(&mut got).unwrap();
    assert_eq!(got, b"pong");
    client.close().unwrap();
    st.join().unwrap();
}

/// After the first record going `way`, `n` warning alerts.
fn warnings_after_first(
    way: Way,
    n: usize,
    description: u8,
) -> impl Fn(Way, usize, Vec<u8>) -> Action + Send + Sync + 'static {
    move |w, i, rec| {
        if w == way && i == 0 {
            let mut out = vec![rec];
            out.extend((0..n).map(|_| alert(WARNING, description)));
            Action::Many(out)
        } else {
            Action::Forward(rec)
        }
    }
}

#[test]
fn a_server_ignores_warnings_up_to_the_limit() {
    let (client, server) = through(warnings_after_first(
        Way::ToServer,
        MAX_WARNINGS_IN_A_ROW,
        UNSUPPORTED_CERTIFICATE,
    ));
    talk(client.unwrap(), server.unwrap());
}

#[test]
fn a_server_ends_the_connection_at_the_warning_after_the_limit() {
    let (client, server) = through(warnings_after_first(
        Way::ToServer,
        MAX_WARNINGS_IN_A_ROW + 1,
        UNSUPPORTED_CERTIFICATE,
    ));
    let e = server.err().expect("the server went on");
    assert!(matches!(e, Error::UnexpectedMessage { .. }), "{e}");
    let e = client.err().expect("the client went on");
    assert!(
        matches!(e, Error::PeerAlert(AlertDescription::UnexpectedMessage)),
        "{e}"
    );
}

#[test]
fn progress_between_warnings_starts_the_count_again() {
    // Four warnings after the ClientHello and four after the ClientKeyExchange: eight in all,
    // never five in a row.
    let (client, server) = through(|w, i, rec| {
        if w == Way::ToServer && (i == 0 || rec[0] == 22 && i == 1) {
            let mut out = vec![rec];
            out.extend((0..MAX_WARNINGS_IN_A_ROW).map(|_| alert(WARNING, UNSUPPORTED_CERTIFICATE)));
            Action::Many(out)
        } else {
            Action::Forward(rec)
        }
    });
    talk(client.unwrap(), server.unwrap());
}

#[test]
fn a_client_ignores_a_warning_before_the_server_hello() {
    // Some servers send a warning unrecognized_name before their hello (RFC 6066 3 allows it).
    let (client, server) = through(|w, i, rec| {
        if w == Way::ToClient && i == 0 {
            Action::Many(vec![alert(WARNING, UNRECOGNIZED_NAME), rec])
        } else {
            Action::Forward(rec)
        }
    });
    talk(client.unwrap(), server.unwrap());
}

#[test]
fn a_client_ends_the_connection_at_the_warning_after_the_limit() {
    let (client, _server) = through(|w, i, rec| {
        if w == Way::ToClient && i == 0 {
            let mut out: Vec<Vec<u8>> = (0..=MAX_WARNINGS_IN_A_ROW)
                .map(|_| alert(WARNING, UNRECOGNIZED_NAME))
                .collect();
            out.push(rec);
            Action::Many(out)
        } else {
            Action::Forward(rec)
        }
    });
    let e = client.err().expect("the client went on");
    assert!(matches!(e, Error::UnexpectedMessage { .. }), "{e}");
}

#[test]
fn a_fatal_alert_still_ends_the_handshake() {
    // Level fatal, whatever the description (RFC 5246 7.2.2: "MUST be treated as fatal").
    let (client, server) = through(|w, i, rec| {
        if w == Way::ToServer && i == 0 {
            Action::Many(vec![rec, alert(2, UNSUPPORTED_CERTIFICATE)])
        } else {
            Action::Forward(rec)
        }
    });
    let e = server.err().expect("the server went on");
    assert!(
        matches!(
            e,
            Error::PeerAlert(AlertDescription::UnsupportedCertificate)
        ),
        "{e}"
    );
    assert!(client.is_err());
}

#[test]
fn a_two_byte_change_cipher_spec_is_unexpected_message() {
    let (client, server) = through(|w, _, rec| {
        if w == Way::ToServer && rec[0] == 20 {
            // 14 03 03 00 02 01 01: a ChangeCipherSpec and a second one in the same record.
            Action::Forward(vec![20, 3, 3, 0, 2, 1, 1])
        } else {
            Action::Forward(rec)
        }
    });
    let e = server.err().expect("the server went on");
    assert!(matches!(e, Error::UnexpectedMessage { .. }), "{e}");
    assert_eq!(e.alert(), Some(AlertDescription::UnexpectedMessage));
    let e = client.err().expect("the client went on");
    assert!(
        matches!(e, Error::PeerAlert(AlertDescription::UnexpectedMessage)),
        "{e}"
    );
}
