//! `toytls attack tamper|replay|reorder|truncate`, run as processes: each protection of the
//! record layer stops its attack, and the verdict names the alert that crossed the wire.

mod attack_support;
use attack_support::attack;

/// RFC 5246 6.2.3.1: a flipped ciphertext bit fails the MAC; with the lab's MAC switch off, the
/// same flip changes exactly the chosen plaintext digit.
#[test]
fn tamper_is_caught_by_the_mac_and_goes_through_without_it() {
    let o = attack(&["tamper"]);
    // The page: the flipped byte, once in each run, in the ciphertext of the client's record.
    assert_eq!(o.records("changed"), 2);
    assert_eq!((o.marked("chg"), o.marked("del")), (2, 2));
    assert_eq!(
        o.changed_fields(),
        ["encrypted fragment", "encrypted fragment"]
    );
    o.assert_protected();
    assert_eq!(
        o.wire_alerts(),
        [
            "server -> client: bad_record_mac (encrypted: the man in the middle saw only that an alert went by)"
        ]
    );
    assert!(
        o.stdout
            .contains("server: accepted 0 records; error: a record failed its integrity check")
    );
    assert!(
        o.stdout.contains("server read: \"pay 900 to Bob\""),
        "{}",
        o.stdout
    );
    assert!(
        o.verdict_section()
            .contains("src/record/toy_ctr_hmac.rs, ToyCtrHmac::open")
    );
}

/// RFC 5246 6.1: the copy of a valid record arrives under the next sequence number.
#[test]
fn replay_is_caught_by_the_sequence_number() {
    let o = attack(&["replay"]);
    // The page: the copy, named as a copy of the record before it.
    assert_eq!((o.records("injected"), o.records("changed")), (1, 0));
    assert!(
        o.page()
            .contains("INJECTED: a byte-for-byte copy of record")
    );
    o.assert_protected();
    assert!(
        o.wire_alerts()
            .iter()
            .any(|a| a.starts_with("server -> client: bad_record_mac")),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout
            .contains("server: accepted 1 record(s): \"pay 100 to Bob\"; then error")
    );
}

#[test]
fn reorder_is_caught_by_the_sequence_number() {
    let o = attack(&["reorder"]);
    // The page: the first record held back, then sent after the second.
    assert_eq!((o.records("held"), o.records("injected")), (1, 1));
    o.assert_protected();
    assert_eq!(
        o.wire_alerts(),
        [
            "server -> client: bad_record_mac (encrypted: the man in the middle saw only that an alert went by)"
        ]
    );
    assert!(o.stdout.contains("server: accepted 0 record(s)"));
}

/// RFC 5246 7.2.1: without close_notify the end is a truncation, not an end.
#[test]
fn truncate_is_reported_as_truncation() {
    let o = attack(&["truncate"]);
    // The page: both runs, the second ending at the record the attacker cut at.
    assert_eq!(o.records("cut"), 1);
    assert!(o.page().contains("CUT: when this record arrived"));
    o.assert_protected();
    // The cut connection: no alert at all crossed, the server's close_notify included.
    assert!(o.wire_alerts().is_empty());
    assert!(o.verdict_section().contains("alerts on the wire: none"));
    assert!(o.stdout.contains(
        "client: read \"Your transfer of 1000 to Mallory\"; then error: the connection was closed without close_notify"
    ));
    // The run without the attacker ended cleanly, with the server's close_notify.
    assert!(o.stdout.contains("an orderly end (close_notify)"));
}

#[test]
fn list_names_every_scenario_and_unknown_names_are_refused() {
    let o = attack(&["--list"]);
    assert_eq!(o.code, Some(0));
    for name in [
        "tamper",
        "replay",
        "reorder",
        "truncate",
        "impostor",
        "pre-master",
        "downgrade",
        "no-forward-secrecy",
        "bleichenbacher",
    ] {
        assert!(
            o.stdout.lines().any(|l| l.trim_start().starts_with(name)),
            "{name} missing from:\n{}",
            o.stdout
        );
    }
    let o = attack(&["no-such-attack"]);
    assert_eq!(o.code, Some(2));
    assert!(o.stderr.contains("toytls attack --list"));
}

/// The lab's MAC switch needs an `InsecureLabOnly` token; only src/lab/ makes one (its field
/// is crate-private, so nothing outside toytls can).
#[test]
fn only_the_lab_makes_the_insecure_token() {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    walk(&src, &mut files);
    let mut makers = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        if text.contains("InsecureLabOnly(())") {
            makers.push(f.strip_prefix(&src).unwrap().display().to_string());
        }
    }
    assert!(!makers.is_empty());
    for m in &makers {
        assert!(m.starts_with("lab/"), "{m} makes the lab's token");
    }
}
