//! Secrets at rest, as a user meets them with the `toytls` binary: private key files written by
//! `ca init` and `cert issue` are 0600 from the moment they exist, and `--force` replaces a file
//! (a new file renamed over it: no old mode kept, no symlink followed) instead of writing into it;
//! the key log is 0600 and announced on stderr, whether asked for with `--keylog` or through
//! `SSLKEYLOGFILE`; and the hash and HMAC states that hold keys are wiped when dropped (the
//! `zeroize` features of `sha2` and `hmac`, checked at compile time).
#![cfg(unix)]

mod stacks;
mod x509_support;

use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::Path;
use std::process::{Command, Output};
use toytls::x509::pem::{parse_certificates, parse_private_key};

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

fn toytls(dir: &Path, args: &[&str]) -> Output {
    x509_support::toytls_in(dir, args)
}

/// `cert issue` for localhost with the CA in `ca`, into `srv`, and `extra` options.
fn issue<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "cert",
        "issue",
        "--ca",
        "ca",
        "--name",
        "localhost",
        "--out",
        "srv",
    ];
    args.extend_from_slice(extra);
    args
}

fn ok(dir: &Path, args: &[&str]) {
    let o = toytls(dir, args);
    assert!(
        o.status.success(),
        "toytls {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn refused(dir: &Path, args: &[&str]) -> String {
    let o = toytls(dir, args);
    assert!(!o.status.success(), "toytls {args:?} succeeded");
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The names in `dir`, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

/// The key in `key` belongs to the first certificate in `cert`.
fn key_matches(key: &Path, cert: &Path) -> bool {
    let key = parse_private_key(&std::fs::read_to_string(key).unwrap()).unwrap();
    let cert = parse_certificates(&std::fs::read_to_string(cert).unwrap()).unwrap();
    cert[0].public_key() == &key.public_key()
}

#[test]
fn force_replaces_a_key_file_instead_of_writing_into_it() {
    let dir = stacks::TempDir::new("secrets-force");
    ok(&dir, &["ca", "init", "--out", "ca"]);
    let key = dir.join("ca/ca.key");
    assert_eq!(mode(&key), 0o600);
    // Someone made the key world-readable, and a hard link to it exists.
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::hard_link(&key, dir.join("old-key")).unwrap();
    let old_text = std::fs::read_to_string(&key).unwrap();
    let old_inode = std::fs::metadata(&key).unwrap().ino();

    ok(&dir, &["ca", "init", "--out", "ca", "--force"]);
    // A new file: its own inode, 0600, and the old one untouched behind the hard link.
    assert_eq!(mode(&key), 0o600);
    assert_ne!(std::fs::metadata(&key).unwrap().ino(), old_inode);
    assert_eq!(
        std::fs::read_to_string(dir.join("old-key")).unwrap(),
        old_text
    );
    assert_ne!(std::fs::read_to_string(&key).unwrap(), old_text);
    assert_eq!(mode(&dir.join("old-key")), 0o644);
    assert!(key_matches(&key, &dir.join("ca/ca.pem")));
    // No temporary file is left behind.
    assert_eq!(listing(&dir.join("ca")), ["ca.key", "ca.pem"]);

    // cert issue --force, the same.
    ok(&dir, &issue(&[]));
    let srv_key = dir.join("srv/key.pem");
    assert_eq!(mode(&srv_key), 0o600);
    std::fs::set_permissions(&srv_key, std::fs::Permissions::from_mode(0o666)).unwrap();
    let before = std::fs::metadata(&srv_key).unwrap().ino();
    ok(&dir, &issue(&["--force"]));
    assert_eq!(mode(&srv_key), 0o600);
    assert_ne!(std::fs::metadata(&srv_key).unwrap().ino(), before);
    assert!(key_matches(&srv_key, &dir.join("srv/cert.pem")));
    assert_eq!(listing(&dir.join("srv")), ["cert.pem", "key.pem"]);
}

#[test]
fn symlinks_are_replaced_not_followed() {
    let dir = stacks::TempDir::new("secrets-symlink");
    std::fs::write(dir.join("victim"), "not a key\n").unwrap();
    std::fs::set_permissions(dir.join("victim"), std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::create_dir(dir.join("ca")).unwrap();
    symlink("../victim", dir.join("ca/ca.key")).unwrap();

    // Without --force a symlink counts as an existing file, and nothing at all is written.
    let err = refused(&dir, &["ca", "init", "--out", "ca"]);
    assert!(err.contains("ca.key exists; use --force"), "{err}");
    assert!(!dir.join("ca/ca.pem").exists());
    // Even a dangling one: its target is not created.
    std::fs::create_dir(dir.join("ca2")).unwrap();
    symlink("../nowhere", dir.join("ca2/ca.key")).unwrap();
    let err = refused(&dir, &["ca", "init", "--out", "ca2"]);
    assert!(err.contains("ca.key exists; use --force"), "{err}");
    assert!(!dir.join("nowhere").exists());

    // With --force the link itself is replaced by a private file; its target is untouched.
    ok(&dir, &["ca", "init", "--out", "ca", "--force"]);
    let meta = std::fs::symlink_metadata(dir.join("ca/ca.key")).unwrap();
    assert!(meta.file_type().is_file(), "still a symlink");
    assert_eq!(mode(&dir.join("ca/ca.key")), 0o600);
    assert_eq!(
        std::fs::read_to_string(dir.join("victim")).unwrap(),
        "not a key\n"
    );
    assert_eq!(mode(&dir.join("victim")), 0o644);

    // cert issue: both of its files may be links.
    std::fs::create_dir(dir.join("srv")).unwrap();
    symlink("../victim", dir.join("srv/key.pem")).unwrap();
    symlink("../victim", dir.join("srv/cert.pem")).unwrap();
    let err = refused(&dir, &issue(&[]));
    assert!(err.contains("exists; use --force"), "{err}");
    ok(&dir, &issue(&["--force"]));
    for f in ["srv/key.pem", "srv/cert.pem"] {
        let meta = std::fs::symlink_metadata(dir.join(f)).unwrap();
        assert!(meta.file_type().is_file(), "{f} is still a symlink");
    }
    assert_eq!(mode(&dir.join("srv/key.pem")), 0o600);
    assert_eq!(
        std::fs::read_to_string(dir.join("victim")).unwrap(),
        "not a key\n"
    );
    assert!(key_matches(
        &dir.join("srv/key.pem"),
        &dir.join("srv/cert.pem")
    ));
}

#[test]
fn key_logging_is_private_and_announced() {
    let p = stacks::Pki::new();
    let server_log = p.dir.join("server.keylog");
    let server = stacks::toytls_server(&p, &["--keylog", server_log.to_str().unwrap()]);
    // The file exists from the start, private, and the server said so once.
    assert_eq!(mode(&server_log), 0o600);
    let warning = toytls::keylog::warning(&server_log, false);
    let said = server.stderr.text();
    assert_eq!(
        stacks::lines_with(&said, "key logging"),
        [warning.as_str()],
        "{said}"
    );

    // A client with SSLKEYLOGFILE in its environment: not silent about it.
    let client_log = p.dir.join("client.keylog");
    let client = |env: Option<&Path>| {
        let mut c = Command::new(stacks::TOYTLS);
        c.args(["client", &format!("127.0.0.1:{}", server.port), "--ca"])
            .arg(p.ca())
            .args(["--server-name", "localhost"])
            .env_remove("SSLKEYLOGFILE");
        if let Some(path) = env {
            c.env("SSLKEYLOGFILE", path);
        }
        stacks::run(c, b"hello\n")
    };
    let out = client(Some(&client_log));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    let warning = toytls::keylog::warning(&client_log, true);
    assert_eq!(
        stacks::lines_with(&err, "key logging"),
        [warning.as_str()],
        "{err}"
    );
    assert_eq!(mode(&client_log), 0o600);
    let logged = std::fs::read_to_string(&client_log).unwrap();
    assert_eq!(logged.lines().count(), 1);
    assert!(logged.starts_with("CLIENT_RANDOM "), "{logged}");
    // Both sides logged the same line.
    let start = std::time::Instant::now();
    while std::fs::read_to_string(&server_log).unwrap() != logged {
        assert!(
            start.elapsed() < stacks::TIMEOUT,
            "the server did not log the connection"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }

    // Without key logging, no warning.
    let out = client(None);
    assert!(out.status.success());
    assert!(stacks::lines_with(&String::from_utf8_lossy(&out.stderr), "key logging").is_empty());
}

/// A compile-time check: the type wipes itself when dropped.
fn wiped_on_drop<T: zeroize::ZeroizeOnDrop>() {}

#[test]
fn hash_and_hmac_states_are_wiped_on_drop() {
    use sha2::digest::block_api::{Buffer, EagerHash};
    type Sha256Core = <sha2::Sha256 as EagerHash>::Core;
    // crypto::hmac::HmacSha256 is an hmac::Hmac<Sha256>: two of these cores (the states after
    // hashing the key XOR ipad and XOR opad, each as good as the key) and a block buffer. The
    // hmac crate (0.13) does not mark Hmac itself ZeroizeOnDrop, but dropping it drops, and so
    // wipes, its parts. Without `features = ["zeroize"]` on sha2 and hmac this does not compile.
    wiped_on_drop::<Sha256Core>();
    wiped_on_drop::<Buffer<Sha256Core>>();
    wiped_on_drop::<sha2::Sha256>();
}
