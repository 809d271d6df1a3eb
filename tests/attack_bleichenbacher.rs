//! `toytls attack bleichenbacher` as a process, and the other half of the claim: the normal
//! `toytls server` has no padding oracle, and no flag gives it one.

mod attack_support;
#[path = "common/tempdir.rs"]
mod tempdir;

use attack_support::attack;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tempdir::TempDir;
use toytls::lab::oracle::{Calibration, OracleClient, Probe};
use toytls::wire::messages::{
    TLS_RSA_WITH_AES_128_GCM_SHA256, TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256,
};

const BIN: &str = env!("CARGO_BIN_EXE_toytls");

/// The scenario recovers the victim's pre-master secret through the lab's oracle, decrypts the
/// recorded data with it, and finds no oracle in the genuine server (RFC 5246 7.4.7.1).
#[test]
fn the_oracle_gives_up_the_pre_master_secret_and_the_real_server_does_not() {
    let o = attack(&["bleichenbacher"]);
    // The page: the victim's recorded connection, not the thousands of probes.
    assert_eq!(o.page().matches("<section class=\"run\"").count(), 1);
    o.assert_protected();
    assert!(
        o.stdout
            .contains("!! WARNING: this scenario runs an INSECURE server on purpose")
    );
    // The vulnerable server's two answers: bad padding gets decrypt_error, good padding goes on
    // to the Finished check and bad_record_mac.
    for line in [
        "a well-formed pre-master secret        -> ServerHello, Certificate, ServerHelloDone, then alert bad_record_mac (x3)",
        "block type 01 instead of 02            -> ServerHello, Certificate, ServerHelloDone, then alert decrypt_error (x3)",
    ] {
        assert!(o.stdout.contains(line), "{line} missing:\n{}", o.stdout);
    }
    // The recovered secret is the client's, and it opens the recording.
    let recovered = o.value_after("pre-master secret ");
    assert_eq!(recovered.len(), 96);
    assert_eq!(recovered, o.value_after("(the client's was "));
    assert!(
        o.stdout
            .contains("the client sent \"card 4111 1111 1111 1111, exp 12/29, cvv 123\"")
    );
    assert!(
        o.stdout
            .contains("Every probe, well padded or not, got the same answer")
    );
    // The genuine server's one answer, in the clear.
    assert_eq!(o.wire_alerts(), ["server -> client: bad_record_mac"]);
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn run_ok(args: &[&str], dir: &std::path::Path) {
    let out = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `toytls server`, as a user runs it, probed over TCP with every kind of well and badly padded
/// ClientKeyExchange, for both suites: one answer for all of them.
#[test]
fn the_normal_server_answers_every_padding_probe_identically() {
    let dir = TempDir::new("attack-oracle");
    run_ok(&["ca", "init", "--out", "ca"], &dir);
    run_ok(
        &[
            "cert",
            "issue",
            "--name",
            "localhost",
            "--ca",
            "ca",
            "--out",
            "srv",
        ],
        &dir,
    );
    let mut child = Command::new(BIN)
        .args(["server", "--listen", "127.0.0.1:0", "--echo"])
        .args(["--cert", "srv/cert.pem", "--key", "srv/key.pem"])
        .current_dir(&*dir)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let _server = Server(child);
    let addr: std::net::SocketAddr = line.trim().rsplit(' ').next().unwrap().parse().unwrap();
    let pem = std::fs::read_to_string(dir.join("srv/cert.pem")).unwrap();
    let cert = toytls::x509::pem::parse_certificates(&pem)
        .unwrap()
        .remove(0);
    let key = cert.public_key().clone();
    for suite in [
        TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256,
        TLS_RSA_WITH_AES_128_GCM_SHA256,
    ] {
        let mut prober = OracleClient::new(vec![suite], 7);
        let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(8);
        let c = Calibration::run(&key, 2, &mut rng, &mut |ct| {
            prober.query_tcp(addr, ct, Duration::from_secs(10))
        })
        .unwrap();
        assert_eq!(c.answers.len(), Probe::ALL.len());
        assert!(c.all_identical(), "{:#?}", c.answers);
        assert_eq!(c.oracle_answer(), None);
        // The one answer: the handshake goes on, and ends at the prober's Finished.
        let answer = c.answers.values().next().unwrap().keys().next().unwrap();
        assert_eq!(
            answer.describe(),
            "ServerHello, Certificate, ServerHelloDone, then alert bad_record_mac"
        );
    }
}

/// The oracle is no option of `toytls server`: the flag the literature would call it by does
/// not exist, and clap refuses it.
#[test]
fn the_server_has_no_padding_oracle_flag() {
    let out = Command::new(BIN)
        .args(["server", "--insecure-padding-oracle"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unexpected argument"));
}
