//! `toytls attack no-forward-secrecy`, run as a process: a recording alone reads nothing; with
//! the server's private key every byte of a full and a resumed connection is read back.

mod attack_support;
use attack_support::attack;

#[test]
fn a_leaked_server_key_decrypts_every_recorded_byte() {
    let o = attack(&["no-forward-secrecy"]);
    o.assert_verdict("decrypted: RSA key transport has no forward secrecy");
    // The page: the two recorded connections, which the eavesdropper only watched.
    assert_eq!(o.page().matches("<section class=\"run\"").count(), 2);
    assert_eq!(
        o.records("changed") + o.records("injected") + o.records("held"),
        0
    );
    // No alert crossed: the connections were ordinary, and the attack happened afterwards.
    assert!(o.wire_alerts().is_empty());
    // Without the key, the decryptor said why it could not read each connection.
    for why in [
        "the client switched to encryption, but the key log has no line",
        "the session it resumes",
    ] {
        assert!(o.stdout.contains(why), "{why} missing:\n{}", o.stdout);
    }
    // With it, both connections were read back, the secrets in them included.
    for s in [
        "connection 1: client -> server \"GET /account HTTP/1.1\\r\\nCookie: session=7f3a9c1e",
        "connection 2: client -> server \"POST /transfer HTTP/1.1\\r\\n\\r\\namount=100&to=Bob&pin=4821\"",
        "server -> client \"HTTP/1.1 200 OK\\r\\n\\r\\nbalance: 12,345.67\"",
        "connection 2 resumed the session of connection 1",
        "1 pre-master secret(s) decrypted from ClientKeyExchange, 4 Finished message(s) verified",
        "its master secret is connection 1's",
    ] {
        assert!(o.stdout.contains(s), "{s} missing:\n{}", o.stdout);
    }
}
