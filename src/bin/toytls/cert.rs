//! `toytls ca init` and `toytls cert issue|show|verify`: make a CA, server and client certificates
//! without OpenSSL, read a certificate the way a learner wants to, and ask the question a TLS
//! client asks of a server's chain (or, with `--client`, a server of a client's).

use clap::{Args, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use toytls::clock::{Clock, SystemClock, UnixTime};
use toytls::crypto::rsa::RsaPrivateKey;
use toytls::x509::cert::hex_colons;
use toytls::x509::extensions::GeneralName;
use toytls::x509::{Certificate, builder, name_constraints, oid, pem, time, verify};

const DAY: i64 = 86_400;
/// Certificates start one hour in the past, so a peer whose clock is a little behind accepts them.
const BACKDATE: i64 = 3_600;

#[derive(Subcommand)]
pub enum CaCommand {
    /// Create a certificate authority: a self-signed CA certificate (ca.pem) and its private key
    /// (ca.key, PKCS#8 PEM) in --out.
    Init(CaInit),
}

#[derive(Args)]
pub struct CaInit {
    /// Directory to write ca.pem and ca.key into (created if missing).
    #[arg(long)]
    out: PathBuf,
    /// The CA's common name.
    #[arg(long, default_value = "toytls CA")]
    name: String,
    /// How many days the CA certificate is valid.
    #[arg(long, default_value_t = 3650)]
    days: u32,
    /// Replace existing files: each is written anew (a private key 0600) and renamed over the old
    /// one, which is never written into and, if a symlink, not followed.
    #[arg(long)]
    force: bool,
}

#[derive(Subcommand)]
pub enum CertCommand {
    /// Issue a server certificate (or with --client a client certificate) signed by a CA made
    /// with `toytls ca init`: writes cert.pem (the new certificate, then the CA's, as a peer
    /// sends them) and key.pem (PKCS#8 PEM).
    Issue(Issue),
    /// Print the certificates in a PEM file: names, validity, key, extensions, fingerprint.
    Show(Show),
    /// Check a chain the way a TLS client does (or with --client, the way a server checks a
    /// client's): exit 0 with a one-line verdict if it is good, non-zero with the reason if not.
    Verify(Verify),
}

#[derive(Args)]
pub struct Issue {
    /// Directory holding ca.pem and ca.key (from `toytls ca init`).
    #[arg(long)]
    ca: PathBuf,
    /// A DNS name (`localhost`, `*.example.test`) or IP address (`127.0.0.1`) the certificate
    /// covers; repeat for more. The first is also the subject common name. With --client: the
    /// client's name (any text, e.g. `alice`), once; it becomes the subject common name.
    #[arg(long = "name", required = true)]
    names: Vec<String>,
    /// Issue a client certificate (extendedKeyUsage clientAuth, keyUsage digitalSignature) for
    /// `toytls client --cert/--key` and any TLS client, instead of a server certificate.
    #[arg(long)]
    client: bool,
    /// How many days the certificate is valid.
    #[arg(long, default_value_t = 90)]
    days: u32,
    /// Directory to write cert.pem and key.pem into (created if missing).
    #[arg(long)]
    out: PathBuf,
    /// Replace existing files: each is written anew (a private key 0600) and renamed over the old
    /// one, which is never written into and, if a symlink, not followed.
    #[arg(long)]
    force: bool,
}

#[derive(Args)]
pub struct Show {
    /// A PEM file with one or more certificates.
    file: PathBuf,
}

#[derive(Args)]
pub struct Verify {
    /// The trusted CA certificate(s), PEM.
    #[arg(long)]
    ca: PathBuf,
    /// The host name or IP address the client wants to reach.
    #[arg(long, required_unless_present = "client", conflicts_with = "client")]
    name: Option<String>,
    /// Check a client's chain as a server does (clientAuth, no host name) instead of a server's.
    #[arg(long)]
    client: bool,
    /// The chain the peer sends, PEM: its certificate first, then intermediates.
    chain: PathBuf,
    /// Check at this time instead of now (RFC 3339, e.g. 2030-01-01T00:00:00Z).
    #[arg(long)]
    at: Option<String>,
}

/// Runs `toytls ca ...`.
pub fn run_ca(cmd: CaCommand) -> ExitCode {
    report(match cmd {
        CaCommand::Init(args) => ca_init(args),
    })
}

/// Runs `toytls cert ...`.
pub fn run_cert(cmd: CertCommand) -> ExitCode {
    match cmd {
        CertCommand::Issue(args) => report(issue(args)),
        CertCommand::Show(args) => report(show(args)),
        CertCommand::Verify(args) => verify_cmd(args),
    }
}

fn report(result: Result<(), String>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("error: {msg}");
            ExitCode::FAILURE
        }
    }
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// Refuses, unless `force`, when any of `paths` exists (a symlink counts, even a dangling one), so
/// that a command writes all its files or none.
fn refuse_existing(paths: &[&Path], force: bool) -> Result<(), String> {
    if force {
        return Ok(());
    }
    match paths.iter().find(|p| std::fs::symlink_metadata(p).is_ok()) {
        Some(p) => Err(format!("{} exists; use --force to replace it", p.display())),
        None => Ok(()),
    }
}

/// Writes a file; a private key is readable by its owner only (0600) from the moment it exists.
///
/// Without `force` the file must not exist: it is created exclusively (`O_EXCL`, which does not
/// follow a symlink either). With `force` the contents go into a new file in the same directory,
/// created exclusively, and that file is renamed over `path`. A rename replaces the directory
/// entry itself: nothing of the old file is kept (not its mode, nor its owner; a hard link to it
/// keeps the old contents), and a symlink at `path` is replaced, not followed. Writing in place
/// instead would keep a world-readable mode, or write the key wherever the symlink points.
fn write(path: &Path, contents: &str, private: bool, force: bool) -> Result<(), String> {
    let cannot = |e: std::io::Error| format!("cannot write {}: {e}", path.display());
    if !force {
        return write_new(path, contents, private).map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                format!("{} exists; use --force to replace it", path.display())
            } else {
                cannot(e)
            }
        });
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| format!("{} is not a file name", path.display()))?;
    // A fresh name; create-exclusive makes a file planted under it an error, not a target.
    let mut attempt = 0u32;
    let temp = loop {
        let candidate = dir.join(format!(
            ".{}.{}.{attempt}.tmp",
            name.to_string_lossy(),
            std::process::id()
        ));
        match write_new(&candidate, contents, private) {
            Ok(()) => break candidate,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 100 => {
                attempt += 1;
            }
            Err(e) => return Err(cannot(e)),
        }
    };
    std::fs::rename(&temp, path).map_err(|e| {
        let _ = std::fs::remove_file(&temp);
        cannot(e)
    })
}

/// Creates `path` (which must not exist), writes `contents` and flushes them to disk; on failure
/// nothing is left behind.
/// Writes a new private key (readable by its owner only) and then its certificate (`cert_pem`,
/// the chain if there is one), each refused if it exists, unless `force`.
fn write_key_and_cert(
    key_path: &Path,
    key: &RsaPrivateKey,
    cert_path: &Path,
    cert_pem: &str,
    force: bool,
) -> Result<(), String> {
    write(key_path, &pem::encode_private_key_pkcs8(key), true, force)?;
    write(cert_path, cert_pem, false, force)
}

fn write_new(path: &Path, contents: &str, private: bool) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut file = options.open(path)?;
    let written = file
        .write_all(contents.as_bytes())
        .and_then(|()| file.sync_all());
    if written.is_err() {
        drop(file);
        let _ = std::fs::remove_file(path);
    }
    written
}

fn create_dir(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))
}

fn validity(days: u32) -> (UnixTime, UnixTime) {
    let now = SystemClock.now();
    (
        UnixTime(now.0 - BACKDATE),
        UnixTime(now.0 + days as i64 * DAY),
    )
}

fn ca_init(args: CaInit) -> Result<(), String> {
    create_dir(&args.out)?;
    let cert_path = args.out.join("ca.pem");
    let key_path = args.out.join("ca.key");
    refuse_existing(&[&key_path, &cert_path], args.force)?;
    let (not_before, not_after) = validity(args.days);
    let (cert, key) = builder::generate_ca(&mut rand::rng(), &args.name, not_before, not_after)
        .map_err(|e| e.to_string())?;
    write_key_and_cert(
        &key_path,
        &key,
        &cert_path,
        &pem::encode_certificate(&cert),
        args.force,
    )?;
    println!(
        "created CA '{}' valid until {}: {} and {}",
        cert.subject(),
        time::format(cert.not_after()),
        cert_path.display(),
        key_path.display()
    );
    Ok(())
}

fn load_ca(dir: &Path) -> Result<(Certificate, RsaPrivateKey), String> {
    let cert_path = dir.join("ca.pem");
    let key_path = dir.join("ca.key");
    let cert = pem::parse_certificates(&read(&cert_path)?)
        .map_err(|e| format!("{}: {e}", cert_path.display()))?
        .remove(0);
    let key = pem::parse_private_key(&zeroize::Zeroizing::new(read(&key_path)?))
        .map_err(|e| format!("{}: {e}", key_path.display()))?;
    // A CA whose key can be factored can be impersonated: do not issue with it.
    toytls::x509::key::check_key_size(&key).map_err(|e| format!("{}: {e}", key_path.display()))?;
    Ok((cert, key))
}

fn issue(args: Issue) -> Result<(), String> {
    let (ca, ca_key) = load_ca(&args.ca)?;
    let names: Vec<&str> = args.names.iter().map(String::as_str).collect();
    let cert_path = args.out.join("cert.pem");
    let key_path = args.out.join("key.pem");
    refuse_existing(&[&key_path, &cert_path], args.force)?;
    let (not_before, not_after) = validity(args.days);
    let (cert, key) = if args.client {
        let [name] = &names[..] else {
            return Err("a client certificate has one --name (its subject common name)".into());
        };
        builder::issue_client_cert(&mut rand::rng(), &ca, &ca_key, name, not_before, not_after)
    } else {
        builder::issue_server_cert(
            &mut rand::rng(),
            &ca,
            &ca_key,
            &names,
            not_before,
            not_after,
        )
    }
    .map_err(|e| e.to_string())?;
    create_dir(&args.out)?;
    let chain = pem::encode_certificate(&cert) + &pem::encode_certificate(&ca);
    write_key_and_cert(&key_path, &key, &cert_path, &chain, args.force)?;
    println!(
        "issued '{}' for {} by '{}', valid until {}: {} and {}",
        cert.subject(),
        if args.client {
            "TLS client authentication".to_string()
        } else {
            names.join(", ")
        },
        ca.subject(),
        time::format(cert.not_after()),
        cert_path.display(),
        key_path.display()
    );
    Ok(())
}

/// The public exponent as a number (RSA exponents are at most 32 bits here).
fn exponent(cert: &Certificate) -> u64 {
    cert.public_key().e_be_bytes().iter().fold(0u64, |acc, &b| {
        acc.saturating_mul(256).saturating_add(b as u64)
    })
}

/// A short name for a dotted OID if toytls knows it.
fn oid_name(dotted: &str) -> String {
    oid::KNOWN
        .iter()
        .find(|(_, d, _)| *d == dotted)
        .map(|(_, _, label)| label.to_string())
        .unwrap_or_else(|| dotted.to_string())
}

fn describe(cert: &Certificate) -> String {
    let mut lines = Vec::new();
    let mut line = |label: &str, value: String| lines.push(format!("  {label:<21}{value}"));
    line("Subject:", cert.subject().to_string());
    line("Issuer:", cert.issuer().to_string());
    line("Version:", cert.version().to_string());
    line("Serial:", hex_colons(cert.serial()));
    line("Valid from:", time::format(cert.not_before()));
    line("Valid until:", time::format(cert.not_after()));
    line(
        "Public key:",
        format!(
            "RSA {} bits, exponent {}",
            cert.public_key().bits(),
            exponent(cert)
        ),
    );
    line(
        "Signature algorithm:",
        cert.signature_algorithm().to_string(),
    );
    let ext = cert.extensions();
    let is_ca = ext.basic_constraints.is_some_and(|bc| bc.ca);
    let names = match &ext.subject_alt_names {
        Some(names) => names
            .iter()
            .map(GeneralName::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        None if is_ca => "(none)".to_string(),
        None => "(no subjectAltName; clients fall back to the CN)".to_string(),
    };
    line("Names:", names);
    let ca = match ext.basic_constraints {
        Some(bc) if bc.ca => match bc.path_len {
            Some(n) => format!("yes, at most {n} intermediate CA(s) below"),
            None => "yes".to_string(),
        },
        _ => "no".to_string(),
    };
    line("CA:", ca);
    if let Some(ku) = ext.key_usage {
        line("Key usage:", ku.names().join(", "));
    }
    if let Some(eku) = &ext.ext_key_usage {
        let names: Vec<String> = eku.iter().map(|p| oid_name(p)).collect();
        line("Extended key usage:", names.join(", "));
    }
    if let Some(nc) = &ext.name_constraints {
        let list = |subtrees: &[name_constraints::Subtree]| {
            subtrees
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut parts = Vec::new();
        if !nc.permitted.is_empty() {
            parts.push(format!("permitted {}", list(&nc.permitted)));
        }
        if !nc.excluded.is_empty() {
            parts.push(format!("excluded {}", list(&nc.excluded)));
        }
        for &form in &nc.unsupported_forms {
            let consequence = if nc.critical {
                "refused where a name of that form follows"
            } else {
                "ignored"
            };
            parts.push(format!(
                "{} subtrees ({consequence}: toytls does not implement them)",
                name_constraints::form_name(form)
            ));
        }
        line("Name constraints:", parts.join("; "));
    }
    let all: Vec<String> = ext
        .present
        .iter()
        .map(|(name, critical)| {
            if *critical {
                format!("{name} (critical)")
            } else {
                name.clone()
            }
        })
        .collect();
    if !all.is_empty() {
        line("Extensions:", all.join(", "));
    }
    for oid in &ext.unknown_critical {
        line(
            "Warning:",
            format!("critical extension {oid} is not understood; toytls will refuse this"),
        );
    }
    line(
        "SHA-256 fingerprint:",
        hex_colons(&cert.fingerprint_sha256()).to_uppercase(),
    );
    lines.join("\n")
}

fn show(args: Show) -> Result<(), String> {
    let certs = pem::parse_certificates(&read(&args.file)?)
        .map_err(|e| format!("{}: {e}", args.file.display()))?;
    let total = certs.len();
    for (i, cert) in certs.iter().enumerate() {
        if i > 0 {
            println!();
        }
        println!("Certificate {} of {total}", i + 1);
        println!("{}", describe(cert));
    }
    Ok(())
}

fn verify_cmd(args: Verify) -> ExitCode {
    let loaded = (|| {
        let anchors = pem::parse_certificates(&read(&args.ca)?)
            .map_err(|e| format!("{}: {e}", args.ca.display()))?;
        let chain = pem::parse_certificates(&read(&args.chain)?);
        let now = match &args.at {
            Some(at) => time::parse_rfc3339(at).ok_or_else(|| {
                format!("--at '{at}' is not an RFC 3339 time such as 2030-01-01T00:00:00Z")
            })?,
            None => SystemClock.now(),
        };
        Ok::<_, String>((anchors, chain, now))
    })();
    let (anchors, chain, now) = match loaded {
        Ok(v) => v,
        Err(msg) => {
            eprintln!("error: {msg}");
            return ExitCode::from(2);
        }
    };
    // A chain that cannot even be parsed is a verdict on the chain, with its alert.
    let result = chain
        .map_err(|e| (e.to_string(), e.alert()))
        .and_then(|chain| {
            match &args.name {
                Some(name) => verify::verify_server_chain_path(&chain, &anchors, name, now),
                None => verify::verify_client_chain(&chain, &anchors, now),
            }
            .map(|path| {
                path.iter()
                    .map(|c| format!("'{}'", c.subject()))
                    .collect::<Vec<_>>()
                    .join(" <- ")
            })
            .map_err(|e| (e.to_string(), e.alert()))
        });
    let (good_for, who) = match &args.name {
        Some(name) => (format!("'{name}'"), "client"),
        None => ("a TLS client".to_string(), "server"),
    };
    match result {
        Ok(path) => {
            println!("OK: the chain is good for {good_for} ({path})");
            ExitCode::SUCCESS
        }
        Err((reason, alert)) => {
            println!("REJECTED: {reason} (a TLS {who} would send the alert {alert})");
            ExitCode::FAILURE
        }
    }
}
