//! `toytls attack impostor|pre-master|downgrade`, run as processes: the certificate check and
//! Finished stop a man in the middle who attacks the handshake, and the verdict names the alert
//! that crossed the wire.

mod attack_support;
use attack_support::attack;

/// RFC 5280 6 / RFC 6125 6: each impostor certificate is refused, with its reason and alert,
/// before the client sends a ClientKeyExchange.
#[test]
fn impostor_certificates_are_refused_with_the_reason() {
    let o = attack(&["impostor"]);
    // The page: the three impostors' connections, nothing changed on the way.
    assert_eq!(o.page().matches("<section class=\"run\"").count(), 3);
    assert_eq!(o.records("changed"), 0);
    o.assert_protected();
    assert_eq!(
        o.wire_alerts(),
        [
            "client -> server: unknown_ca",
            "client -> server: unknown_ca",
            "client -> server: certificate_unknown"
        ]
    );
    for reason in [
        "no certificate in the chain is signed by a trusted CA; the top one was issued by 'CN=localhost'",
        "the top one was issued by 'CN=Mallory's CA'",
        "certificate 'CN=mallory.example' covers 'mallory.example', not 'localhost'",
    ] {
        assert!(o.stdout.contains(reason), "{reason} missing:\n{}", o.stdout);
    }
}

/// RFC 5246 7.4.9: the server uses the attacker's pre-master secret, so the client's Finished
/// does not open under the server's keys.
#[test]
fn a_replaced_pre_master_secret_fails_the_finished_check() {
    let o = attack(&["pre-master"]);
    // The page: one record changed, in the encrypted pre-master secret (all but a few of its
    // 256 bytes differ; a byte may match by chance).
    assert_eq!(o.records("changed"), 1);
    assert_eq!(
        o.changed_fields(),
        ["ClientKeyExchange › encrypted pre-master secret"]
    );
    assert!(o.marked("chg") > 240, "{} bytes marked", o.marked("chg"));
    o.assert_protected();
    assert_eq!(o.wire_alerts(), ["server -> client: bad_record_mac"]);
    // The narration shows the server used the attacker's secret, not the client's.
    let client = o.value_after("the client's pre-master secret:");
    let attacker = o.value_after("the attacker's:");
    let server = o.value_after("what the server decrypted and used:");
    assert_eq!(server, attacker);
    assert_ne!(client, attacker);
    assert_eq!(client.len(), 96);
    assert!(client.starts_with("0303"));
}

/// RFC 5246 7.4.9 and RFC 7627: a stripped suite changes the session hash (different keys), a
/// stripped extended_master_secret changes the transcript (Finished mismatch).
#[test]
fn downgrades_fail_at_finished() {
    let o = attack(&["downgrade"]);
    // The page: each run's ClientHello changed, bytes removed from it and its lengths rewritten.
    assert_eq!(o.records("changed"), 2);
    assert!(o.marked("del") >= 6, "{} bytes removed", o.marked("del"));
    let fields = o.changed_fields();
    assert!(fields[0].contains("cipher_suites length"), "{fields:?}");
    assert!(fields[1].contains("extensions length"), "{fields:?}");
    // What was taken out: the preferred suite, then the extended_master_secret extension.
    let gone: Vec<&str> = o
        .page()
        .split("<p class=\"removed-fields\">Taken out whole: ")
        .skip(1)
        .map(|s| &s[..s.find("</p>").unwrap()])
        .collect();
    assert_eq!(gone.len(), 2);
    assert!(
        gone[0].contains("ClientHello › cipher_suites[0]"),
        "{gone:?}"
    );
    assert!(gone[1].contains("extended_master_secret"), "{gone:?}");
    o.assert_protected();
    assert_eq!(
        o.wire_alerts(),
        [
            "server -> client: bad_record_mac",
            "server -> client: decrypt_error"
        ]
    );
    assert!(
        o.stdout
            .contains("server: handshake failed: the peer's Finished message does not match")
    );
}
