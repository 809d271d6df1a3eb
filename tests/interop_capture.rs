//! What Wireshark does with a key log, done by hand: record a TLS_RSA_WITH_AES_128_GCM_SHA256
//! session between `openssl s_client` and `toytls server --keylog FILE`, then decrypt it using
//! nothing but the recorded bytes and the logged `CLIENT_RANDOM <client random> <master secret>`
//! line.
//!
//! The steps, each a function below:
//!
//! 1. Cut each direction's byte stream into records (RFC 5246 6.2.1: type, version, length).
//! 2. Read the client random from the ClientHello and the server random from the ServerHello
//!    (both travel in the clear), and find the key log line for that client random.
//! 3. Expand the master secret into the key block (RFC 5246 6.3): PRF(master secret, "key
//!    expansion", server_random + client_random), cut for GCM into client key, server key, client
//!    salt and server salt (RFC 5288 3: no MAC keys, 4-byte implicit IVs).
//! 4. After each side's ChangeCipherSpec, open every record (RFC 5246 6.2.3.3, RFC 5288 3): the
//!    nonce is the 4-byte salt followed by the 8 explicit bytes that start the record, the
//!    additional data is seq_num + type + version + plaintext length, the last 16 bytes are the
//!    tag. Sequence numbers restart at 0 after ChangeCipherSpec and count every record.
//! 5. Check that the decrypted Finished messages hold the verify_data the transcript of the
//!    plaintext handshake messages gives (RFC 5246 7.4.9), and that the application data is what
//!    the applications sent.
//!
//! The point for a learner: whoever holds the key log line can read everything; without it the
//! recording shows only the hellos and the certificate. Skips loudly if `openssl` is missing.

mod stacks;

use sha2::{Digest, Sha256};
use stacks::*;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::thread::{self, JoinHandle};
use toytls::crypto::gcm::Aes128Gcm;
use toytls::crypto::prf::prf_sha256;

const CHANGE_CIPHER_SPEC: u8 = 20;
const ALERT: u8 = 21;
const HANDSHAKE: u8 = 22;
const APPLICATION_DATA: u8 = 23;

// ---- Recording --------------------------------------------------------------------------------

/// The bytes that crossed a TCP connection, per direction, as a capture holds them.
struct Capture {
    client_to_server: Vec<u8>,
    server_to_client: Vec<u8>,
}

/// Accepts one connection on `listener`, connects it to `server_port`, and forwards both ways
/// while recording, until both directions have ended.
fn record_one_connection(listener: TcpListener, server_port: u16) -> JoinHandle<Capture> {
    thread::spawn(move || {
        let (client, _) = listener.accept().unwrap();
        let server = TcpStream::connect(("127.0.0.1", server_port)).unwrap();
        let forward = |mut from: TcpStream, mut to: TcpStream| {
            thread::spawn(move || {
                from.set_read_timeout(Some(TIMEOUT)).unwrap();
                let mut seen = Vec::new();
                let mut buf = [0u8; 4096];
                while let Ok(n) = from.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    seen.extend_from_slice(&buf[..n]);
                    // The receiver may have gone already; the recording goes on.
                    let _ = to.write_all(&buf[..n]);
                }
                let _ = to.shutdown(Shutdown::Write);
                seen
            })
        };
        let up = forward(client.try_clone().unwrap(), server.try_clone().unwrap());
        let down = forward(server, client);
        Capture {
            client_to_server: up.join().unwrap(),
            server_to_client: down.join().unwrap(),
        }
    })
}

// ---- Step 1: records ---------------------------------------------------------------------------

/// `struct { ContentType type; ProtocolVersion version; uint16 length; opaque fragment[length]; }`
struct Record {
    typ: u8,
    version: [u8; 2],
    fragment: Vec<u8>,
}

fn parse_records(mut stream: &[u8]) -> Vec<Record> {
    let mut out = Vec::new();
    while !stream.is_empty() {
        assert!(stream.len() >= 5, "a record header cut short");
        let len = u16::from_be_bytes([stream[3], stream[4]]) as usize;
        assert!(stream.len() >= 5 + len, "a record cut short");
        out.push(Record {
            typ: stream[0],
            version: [stream[1], stream[2]],
            fragment: stream[5..5 + len].to_vec(),
        });
        stream = &stream[5 + len..];
    }
    out
}

// ---- Step 2: randoms and the key log -----------------------------------------------------------

/// The 32-byte random of a ClientHello or ServerHello: after the 4-byte handshake header and the
/// 2-byte version (RFC 5246 7.4.1.2, 7.4.1.3).
fn hello_random(hello: &[u8], expected_type: u8) -> [u8; 32] {
    assert_eq!(hello[0], expected_type, "not the expected hello");
    hello[6..38].try_into().unwrap()
}

/// The master secret of the `CLIENT_RANDOM` line for `client_random`.
fn master_secret_from_key_log(key_log: &str, client_random: &[u8; 32]) -> [u8; 48] {
    let want = hex(client_random);
    let line = key_log
        .lines()
        .find(|l| l.starts_with("CLIENT_RANDOM ") && l.split(' ').nth(1) == Some(&want))
        .unwrap_or_else(|| panic!("no key log line for client random {want}:\n{key_log}"));
    let secret = unhex(line.split(' ').nth(2).unwrap());
    secret.try_into().expect("a 48-byte master secret")
}

// ---- Step 3: the key block ---------------------------------------------------------------------

/// What one direction is protected with under TLS_RSA_WITH_AES_128_GCM_SHA256.
struct DirectionKeys {
    key: [u8; 16],
    salt: [u8; 4],
}

fn key_block(
    master: &[u8; 48],
    client_random: &[u8; 32],
    server_random: &[u8; 32],
) -> [DirectionKeys; 2] {
    // RFC 5246 6.3: the seed is server_random + client_random (the reverse of the master
    // secret's). GCM has no MAC keys: 2 x 16 bytes of key, then 2 x 4 bytes of salt.
    let seed = [&server_random[..], &client_random[..]].concat();
    let mut kb = [0u8; 40];
    prf_sha256(master, b"key expansion", &seed, &mut kb);
    let client = DirectionKeys {
        key: kb[0..16].try_into().unwrap(),
        salt: kb[32..36].try_into().unwrap(),
    };
    let server = DirectionKeys {
        key: kb[16..32].try_into().unwrap(),
        salt: kb[36..40].try_into().unwrap(),
    };
    [client, server]
}

// ---- Step 4: opening records -------------------------------------------------------------------

/// One direction's decryption state after its ChangeCipherSpec.
struct Opener {
    gcm: Aes128Gcm,
    salt: [u8; 4],
    seq: u64,
}

impl Opener {
    fn new(k: &DirectionKeys) -> Opener {
        Opener {
            gcm: Aes128Gcm::new(&k.key),
            salt: k.salt,
            seq: 0,
        }
    }

    /// GenericAEADCipher (RFC 5246 6.2.3.3): explicit nonce (8) | ciphertext | tag (16).
    fn open(&mut self, r: &Record) -> Vec<u8> {
        let (explicit_nonce, rest) = r.fragment.split_at(8);
        let (ciphertext, tag) = rest.split_at(rest.len() - 16);
        let mut nonce = [0u8; 12];
        nonce[..4].copy_from_slice(&self.salt);
        nonce[4..].copy_from_slice(explicit_nonce);
        let mut aad = Vec::with_capacity(13);
        aad.extend_from_slice(&self.seq.to_be_bytes());
        aad.push(r.typ);
        aad.extend_from_slice(&r.version);
        aad.extend_from_slice(&(ciphertext.len() as u16).to_be_bytes());
        let mut plaintext = ciphertext.to_vec();
        self.gcm
            .open(&nonce, &aad, &mut plaintext, tag.try_into().unwrap())
            .unwrap_or_else(|_| {
                panic!("record {} (type {}) does not authenticate", self.seq, r.typ)
            });
        self.seq += 1;
        plaintext
    }
}

/// One direction, read as Wireshark shows it.
#[derive(Default)]
struct Decrypted {
    /// Handshake bytes sent in the clear (before ChangeCipherSpec).
    clear_handshake: Vec<u8>,
    /// The handshake bytes sent encrypted: the Finished message.
    finished: Vec<u8>,
    /// All application data, in order.
    application_data: Vec<u8>,
    /// Alerts, decrypted.
    alerts: Vec<[u8; 2]>,
}

fn decrypt_direction(records: &[Record], keys: &DirectionKeys) -> Decrypted {
    let mut d = Decrypted::default();
    let mut opener: Option<Opener> = None;
    for r in records {
        if r.typ == CHANGE_CIPHER_SPEC {
            assert_eq!(r.fragment, [1]);
            opener = Some(Opener::new(keys));
            continue;
        }
        let Some(o) = opener.as_mut() else {
            assert_eq!(
                r.typ, HANDSHAKE,
                "only handshake records travel in the clear here"
            );
            d.clear_handshake.extend_from_slice(&r.fragment);
            continue;
        };
        let plaintext = o.open(r);
        match r.typ {
            HANDSHAKE => d.finished.extend_from_slice(&plaintext),
            APPLICATION_DATA => d.application_data.extend_from_slice(&plaintext),
            ALERT => d.alerts.push(plaintext.try_into().expect("a 2-byte alert")),
            other => panic!("unexpected record type {other}"),
        }
    }
    assert!(opener.is_some(), "no ChangeCipherSpec in this direction");
    d
}

// ---- Step 5: Finished --------------------------------------------------------------------------

/// The length of the handshake message at the start of `b`, header included.
fn message_len(b: &[u8]) -> usize {
    4 + u32::from_be_bytes([0, b[1], b[2], b[3]]) as usize
}

/// RFC 5246 7.4.9: PRF(master_secret, finished_label, Hash(handshake_messages))[0..11].
fn verify_data(master: &[u8; 48], label: &[u8], transcript: &[u8]) -> [u8; 12] {
    let mut out = [0u8; 12];
    prf_sha256(master, label, &Sha256::digest(transcript), &mut out);
    out
}

// ---- The test ----------------------------------------------------------------------------------

#[test]
fn a_recorded_gcm_session_is_decrypted_with_the_key_log_alone() {
    if !have("openssl", "version") {
        return;
    }
    let p = Pki::new();
    let key_log_path = p.dir.join("server.keylog");
    let server = toytls_server(
        &p,
        &[
            "--echo",
            "--suites",
            "gcm",
            "--keylog",
            key_log_path.to_str().unwrap(),
        ],
    );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let proxy_port = listener.local_addr().unwrap().port();
    let recording = record_one_connection(listener, server.port);

    // What the client application sends: enough lines for several full records.
    let lines: Vec<String> = (0..1500)
        .map(|i| format!("line {i:04} of the recorded session {}", "~".repeat(i % 23)))
        .collect();
    let sent = lines.iter().map(|l| format!("{l}\n")).collect::<String>();
    let mut client = openssl_s_client(proxy_port, &p);
    client
        .stdin
        .as_mut()
        .unwrap()
        .write_all(sent.as_bytes())
        .unwrap();
    client
        .stdout
        .wait_for(lines.last().unwrap(), || client.outputs());
    client.close_stdin(); // s_client sends close_notify and exits
    assert!(
        wait_exit(&mut client.guard, "s_client").success(),
        "{}",
        client.outputs()
    );
    let capture = recording.join().unwrap();
    let key_log = std::fs::read_to_string(&key_log_path).unwrap();

    // 1. Records.
    let up = parse_records(&capture.client_to_server);
    let down = parse_records(&capture.server_to_client);

    // 2. Randoms from the hellos, in the clear; the master secret from the key log.
    assert_eq!(up[0].typ, HANDSHAKE);
    assert_eq!(down[0].typ, HANDSHAKE);
    let client_random = hello_random(&up[0].fragment, 1);
    let server_random = hello_random(&down[0].fragment, 2);
    let master = master_secret_from_key_log(&key_log, &client_random);

    // 3. Keys.
    let [client_keys, server_keys] = key_block(&master, &client_random, &server_random);

    // 4. Every protected record opens.
    let from_client = decrypt_direction(&up, &client_keys);
    let from_server = decrypt_direction(&down, &server_keys);

    // 5. Finished. The transcript is ClientHello, the server's flight (ServerHello, Certificate,
    // ServerHelloDone), ClientKeyExchange; the server's Finished also covers the client's, and
    // the NewSessionTicket the server sent in the clear after it (RFC 5077 3.3).
    let client_hello_len = message_len(&from_client.clear_handshake);
    let (client_hello, client_key_exchange) =
        from_client.clear_handshake.split_at(client_hello_len);
    let server_clear = &from_server.clear_handshake;
    let mut flight_len = 0;
    while server_clear[flight_len] != 14 {
        flight_len += message_len(&server_clear[flight_len..]);
    }
    flight_len += message_len(&server_clear[flight_len..]);
    let (server_flight, new_session_ticket) = server_clear.split_at(flight_len);
    assert_eq!(
        new_session_ticket[0], 4,
        "a NewSessionTicket after the flight"
    );
    let transcript = [client_hello, server_flight, client_key_exchange].concat();
    let client_finished = &from_client.finished;
    assert_eq!(&client_finished[..4], [20, 0, 0, 12], "a Finished message");
    assert_eq!(
        client_finished[4..],
        verify_data(&master, b"client finished", &transcript)
    );
    let transcript = [&transcript[..], client_finished, new_session_ticket].concat();
    assert_eq!(&from_server.finished[..4], [20, 0, 0, 12]);
    assert_eq!(
        from_server.finished[4..],
        verify_data(&master, b"server finished", &transcript)
    );

    // And the data is what the applications sent: the lines, and our server's echo of them.
    assert!(up.iter().filter(|r| r.typ == APPLICATION_DATA).count() >= 3);
    assert_eq!(String::from_utf8_lossy(&from_client.application_data), sent);
    assert_eq!(String::from_utf8_lossy(&from_server.application_data), sent);
    // Both ended with close_notify (warning, 0).
    assert_eq!(from_client.alerts, [[1, 0]]);
    assert_eq!(from_server.alerts, [[1, 0]]);
    // Without the key log the data is not there in the clear.
    assert!(find(&capture.client_to_server, lines[0].as_bytes()).is_none());
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
