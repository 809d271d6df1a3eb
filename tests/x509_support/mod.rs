//! Shared helpers for the x509 integration tests: a temporary directory and a tiny PKI driven by
//! the `openssl` command line (which `.ci/run` installs), so tests check toytls against
//! certificates it did not make itself.
//!
//! Certificates are signed with `openssl ca`, because it is the one OpenSSL 3.0 command that takes
//! explicit validity dates (`-startdate`/`-enddate`): the tests then verify at fixed instants and do
//! not depend on the machine's clock.

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use toytls::x509::Certificate;
use toytls::x509::pem::parse_certificates;

/// A directory under the system temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let path =
            std::env::temp_dir().join(format!("toytls-{tag}-{}-{n}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path).expect("create temp dir");
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let p = self.join(name);
        std::fs::write(&p, contents).expect("write temp file");
        p
    }

    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.join(name)).expect("read temp file")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `openssl args...` in `dir` and returns its output, whatever the exit status.
pub fn openssl_output(dir: &Path, args: &[&str]) -> Output {
    Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the openssl command line must be installed (see .ci/run)")
}

/// Runs `openssl args...` in `dir`, panics with its stderr if it fails, returns its stdout.
pub fn openssl(dir: &Path, args: &[&str]) -> String {
    let out = openssl_output(dir, args);
    assert!(
        out.status.success(),
        "openssl {} failed:\n{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// 2025-06-01 00:00:00 UTC: "now" for tests whose certificates run from 2025 to 2027.
pub const NOW: i64 = 1_748_736_000;
pub const START: &str = "20250101000000Z";
pub const END: &str = "20270101000000Z";

const CA_CONFIG: &str = "\
[ca]
default_ca = CA_default
[CA_default]
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = policy_any
unique_subject = no
email_in_dn = no
preserve = yes
[policy_any]
countryName = optional
organizationName = optional
organizationalUnitName = optional
commonName = optional
";

/// A scratch PKI: RSA keys, CSRs and certificates signed by `openssl ca`, all in one temp dir.
pub struct Pki {
    pub dir: TempDir,
    serial: AtomicUsize,
}

impl Pki {
    pub fn new(tag: &str) -> Pki {
        let dir = TempDir::new(tag);
        dir.write("ca.cnf", CA_CONFIG);
        dir.write("index.txt", "");
        dir.write("serial", "1000\n");
        Pki {
            dir,
            serial: AtomicUsize::new(0),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    pub fn read(&self, name: &str) -> String {
        self.dir.read(name)
    }

    /// Every certificate (`.pem`) and key (`.key`) file made so far, so that a test can keep
    /// them in memory (in a static) and let the directory go.
    pub fn files(&self) -> Files {
        let mut files = HashMap::new();
        for entry in std::fs::read_dir(self.dir.path()).expect("read the PKI directory") {
            let name = entry.expect("a directory entry").file_name();
            let name = name.to_string_lossy();
            if name.ends_with(".pem") || name.ends_with(".key") {
                files.insert(name.to_string(), self.read(&name));
            }
        }
        Files(files)
    }

    /// A 2048-bit RSA key in `NAME.key` (PKCS #8, OpenSSL 3's default).
    pub fn rsa_key(&self, name: &str) {
        let out = format!("{name}.key");
        openssl(
            self.dir.path(),
            &[
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
                "-out",
                &out,
            ],
        );
    }

    /// A P-256 key in `NAME.key`.
    pub fn ec_key(&self, name: &str) {
        let out = format!("{name}.key");
        openssl(
            self.dir.path(),
            &[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-out",
                &out,
            ],
        );
    }

    /// Writes `NAME.pem`: a certificate for key `key` with subject `subj` (e.g. `/CN=localhost`),
    /// signed by `issuer` (the name of an earlier certificate, whose key is `ISSUER_KEY.key`), or
    /// self-signed when `issuer` is `None`. `ext` is the body of an OpenSSL extensions section.
    #[allow(clippy::too_many_arguments)]
    pub fn cert(
        &self,
        name: &str,
        subj: &str,
        key: &str,
        issuer: Option<(&str, &str)>,
        ext: &str,
        start: &str,
        end: &str,
        md: &str,
    ) {
        let n = self.serial.fetch_add(1, Ordering::SeqCst);
        let csr = format!("{name}.csr");
        let ext_file = format!("{name}-{n}.ext");
        self.dir.write(&ext_file, ext);
        let key_file = format!("{key}.key");
        openssl(
            self.dir.path(),
            &[
                "req", "-new", "-key", &key_file, "-subj", subj, "-out", &csr,
            ],
        );
        let out = format!("{name}.pem");
        let mut args = vec![
            "ca",
            "-batch",
            "-config",
            "ca.cnf",
            "-notext",
            "-md",
            md,
            "-startdate",
            start,
            "-enddate",
            end,
            "-in",
            &csr,
            "-out",
            &out,
            "-extfile",
            &ext_file,
        ];
        let issuer_cert;
        let issuer_key;
        match issuer {
            Some((cert, key)) => {
                issuer_cert = format!("{cert}.pem");
                issuer_key = format!("{key}.key");
                args.extend(["-cert", &issuer_cert, "-keyfile", &issuer_key]);
            }
            None => {
                args.extend(["-selfsign", "-keyfile", &key_file]);
            }
        }
        openssl(self.dir.path(), &args);
    }

    /// The usual case: sha256, valid 2025-2027.
    pub fn simple(
        &self,
        name: &str,
        subj: &str,
        key: &str,
        issuer: Option<(&str, &str)>,
        ext: &str,
    ) {
        self.cert(name, subj, key, issuer, ext, START, END, "sha256");
    }
}

/// Extensions of a root CA.
pub const ROOT_EXT: &str = "basicConstraints = critical, CA:TRUE\nkeyUsage = critical, keyCertSign, cRLSign\nsubjectKeyIdentifier = hash\n";
/// Extensions of an intermediate CA allowed no further CAs below it.
pub const INTERMEDIATE_EXT: &str = "basicConstraints = critical, CA:TRUE, pathlen:0\nkeyUsage = critical, keyCertSign, cRLSign\nsubjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n";

/// Extensions of a TLS server certificate for the given SAN list (e.g. `DNS:localhost, IP:127.0.0.1`).
pub fn leaf_ext(san: &str) -> String {
    format!(
        "basicConstraints = CA:FALSE\nkeyUsage = critical, digitalSignature, keyEncipherment\n\
         extendedKeyUsage = serverAuth\nsubjectAltName = {san}\nsubjectKeyIdentifier = hash\n\
         authorityKeyIdentifier = keyid\n"
    )
}

/// Runs the `toytls` binary with `args` in `dir` (without SSLKEYLOGFILE from the environment)
/// and returns its output.
pub fn toytls_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_toytls"))
        .args(args)
        .current_dir(dir)
        .env_remove("SSLKEYLOGFILE")
        .output()
        .expect("run toytls")
}

/// True if the `openssl` command line runs. When it does not, says loudly that the check is
/// skipped, unless `TOYTLS_REQUIRE_STACKS=1` (CI, which installs it), where that is a failure:
/// the same rule as `tests/stacks`.
pub fn openssl_available() -> bool {
    let ok = Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok && std::env::var_os("TOYTLS_REQUIRE_STACKS").is_some_and(|v| v == "1") {
        panic!("`openssl` is not installed, and TOYTLS_REQUIRE_STACKS=1 says it must be");
    }
    if !ok {
        eprintln!(
            "\n!!!!! SKIPPED: `openssl` is not installed; the OpenSSL check did not run !!!!!\n"
        );
    }
    ok
}

/// What `openssl verify` says of a chain: `leaf` and `untrusted` are PEM texts (the server's
/// certificate and the other ones it sends, in that order), `anchors` the trusted CAs (PEM texts,
/// the only ones trusted: `-no-CAfile -no-CApath`, and `-partial_chain` so an intermediate can be
/// an anchor, as in toytls), checked at `at` (Unix seconds) for TLS server use and `host`.
/// `extra` adds options (e.g. `-auth_level 2`). Returns whether it accepts, and its output.
pub fn openssl_verify(
    leaf: &str,
    untrusted: &[&str],
    anchors: &[&str],
    at: i64,
    host: &str,
    extra: &[&str],
) -> (bool, String) {
    let dir = TempDir::new("openssl-verify");
    dir.write("leaf.pem", leaf);
    dir.write("untrusted.pem", untrusted.concat());
    dir.write("anchors.pem", anchors.concat());
    let at = at.to_string();
    let host_flag = if host.parse::<std::net::IpAddr>().is_ok() {
        "-verify_ip"
    } else {
        "-verify_hostname"
    };
    let mut args = vec![
        "verify",
        "-no-CApath",
        "-no-CAstore",
        "-partial_chain",
        "-CAfile",
        "anchors.pem",
        "-attime",
        &at,
        "-purpose",
        "sslserver",
        host_flag,
        host,
    ];
    if !untrusted.is_empty() {
        args.extend(["-untrusted", "untrusted.pem"]);
    }
    args.extend(extra);
    args.push("leaf.pem");
    let out = openssl_output(dir.path(), &args);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// A PKI's files in memory, by file name (`root.pem`, `root.key`).
pub struct Files(pub HashMap<String, String>);

impl Files {
    /// The file `name` (with its extension).
    pub fn file(&self, name: &str) -> &str {
        self.0
            .get(name)
            .unwrap_or_else(|| panic!("no {name} in the PKI"))
    }

    /// The certificate file of `name` (`name.pem`).
    pub fn pem(&self, name: &str) -> &str {
        self.file(&format!("{name}.pem"))
    }

    /// The certificates of `names`, parsed, in order.
    pub fn certs(&self, names: &[&str]) -> Vec<Certificate> {
        names
            .iter()
            .flat_map(|n| parse_certificates(self.pem(n)).expect("a certificate the PKI made"))
            .collect()
    }

    /// [`openssl_verify`] on certificates of this PKI by name: `chain` leaf first.
    pub fn openssl_verify(
        &self,
        chain: &[&str],
        anchors: &[&str],
        at: i64,
        host: &str,
        extra: &[&str],
    ) -> (bool, String) {
        let untrusted: Vec<&str> = chain[1..].iter().map(|n| self.pem(n)).collect();
        let anchors: Vec<&str> = anchors.iter().map(|n| self.pem(n)).collect();
        openssl_verify(self.pem(chain[0]), &untrusted, &anchors, at, host, extra)
    }
}
