//! Is this certificate for the host the client asked for? (RFC 6125 6, RFC 5280 4.2.1.6)
//!
//! The client knows the name it typed (`localhost`, `www.example.com`, `127.0.0.1`); the certificate
//! lists the names it covers in subjectAltName. The rules toytls applies:
//! - a DNS name matches a `dNSName` entry ignoring ASCII case and a trailing dot;
//! - a `dNSName` may start with a wildcard label, `*.example.com`, which stands for exactly one
//!   whole left-most label: it covers `www.example.com` but not `example.com` nor
//!   `a.b.example.com`; partial wildcards (`w*.example.com`) and wildcards elsewhere match nothing,
//!   and a wildcard needs at least two labels after it (`*.com` matches nothing);
//! - an IP literal (`127.0.0.1`, `::1`, `[::1]`) matches only an `iPAddress` entry, byte for byte;
//! - only when the certificate has no subjectAltName at all is the subject's common name used, as a
//!   DNS name. That is legacy behaviour (RFC 6125 6.4.4; browsers dropped it) kept so that old
//!   self-made certificates still work.

use super::cert::Certificate;
use super::error::CertError;
use super::extensions::GeneralName;
use std::net::IpAddr;

/// The host a client asked for, classified.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Host {
    Ip(IpAddr),
    /// Lower-case, without a trailing dot.
    Dns(String),
}

fn classify(host: &str) -> Option<Host> {
    let bracketless = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if let Ok(ip) = bracketless.parse::<IpAddr>() {
        return Some(Host::Ip(ip));
    }
    let name = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
    // A host to look for must be plain labels: no wildcard, no empty label.
    let valid = !name.is_empty()
        && name.is_ascii()
        && name.split('.').all(|l| {
            !l.is_empty()
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
    valid.then_some(Host::Dns(name))
}

/// Does the certificate name `pattern` (a dNSName, or a legacy CN) cover DNS host `host`
/// (already lower-case, no trailing dot)?
pub fn dns_name_matches(pattern: &str, host: &str) -> bool {
    let pattern = pattern
        .strip_suffix('.')
        .unwrap_or(pattern)
        .to_ascii_lowercase();
    if pattern.is_empty() {
        return false;
    }
    match pattern.strip_prefix("*.") {
        Some(rest) => {
            // The wildcard covers exactly the first label of the host.
            if rest.contains('*') || !rest.contains('.') {
                return false;
            }
            match host.split_once('.') {
                Some((first, host_rest)) => !first.is_empty() && host_rest == rest,
                None => false,
            }
        }
        None => !pattern.contains('*') && pattern == host,
    }
}

/// Checks that `cert` covers `host` (RFC 6125 6.4), or says which names it does cover.
pub fn check_host(cert: &Certificate, host: &str) -> Result<(), CertError> {
    let sans = cert.extensions().subject_alt_names.as_deref();
    let covers: Vec<String> = match sans {
        Some(names) => names
            .iter()
            .filter_map(|n| match n {
                GeneralName::Dns(d) => Some(d.clone()),
                GeneralName::Ip(ip) => Some(ip.to_string()),
                GeneralName::Directory(_) | GeneralName::Other(_) => None,
            })
            .collect(),
        // Legacy: no subjectAltName, so the common name stands in as a DNS name.
        None => cert
            .subject()
            .common_name_value()
            .map(|cn| vec![cn.to_string()])
            .unwrap_or_default(),
    };
    let matched = match classify(host) {
        None => false,
        Some(Host::Ip(ip)) => sans.is_some_and(|names| {
            names
                .iter()
                .any(|n| matches!(n, GeneralName::Ip(candidate) if *candidate == ip))
        }),
        Some(Host::Dns(name)) => match sans {
            Some(names) => names
                .iter()
                .any(|n| matches!(n, GeneralName::Dns(d) if dns_name_matches(d, &name))),
            None => covers.iter().any(|cn| dns_name_matches(cn, &name)),
        },
    };
    if matched {
        Ok(())
    } else {
        Err(CertError::NameMismatch {
            cert: cert.label(),
            host: host.to_string(),
            covers,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_names_ignore_case_and_trailing_dot() {
        assert!(dns_name_matches("localhost", "localhost"));
        assert!(dns_name_matches("Example.COM", "example.com"));
        assert!(dns_name_matches("example.com.", "example.com"));
        assert!(!dns_name_matches("example.com", "www.example.com"));
        assert!(!dns_name_matches("www.example.com", "example.com"));
        assert!(!dns_name_matches("", "example.com"));
    }

    #[test]
    fn wildcards_cover_one_whole_left_label() {
        assert!(dns_name_matches("*.example.com", "www.example.com"));
        assert!(dns_name_matches("*.EXAMPLE.com", "api.example.com"));
        assert!(!dns_name_matches("*.example.com", "example.com"));
        assert!(!dns_name_matches("*.example.com", "a.b.example.com"));
        assert!(!dns_name_matches("*.example.com", ".example.com"));
        assert!(!dns_name_matches("*.com", "example.com"));
        assert!(!dns_name_matches("w*.example.com", "www.example.com"));
        assert!(!dns_name_matches("www.*.com", "www.example.com"));
        assert!(!dns_name_matches("*.*.example.com", "a.b.example.com"));
        assert!(!dns_name_matches("*", "localhost"));
    }

    #[test]
    fn hosts_are_classified() {
        assert_eq!(
            classify("127.0.0.1"),
            Some(Host::Ip("127.0.0.1".parse().unwrap()))
        );
        assert_eq!(classify("[::1]"), Some(Host::Ip("::1".parse().unwrap())));
        assert_eq!(classify("LocalHost."), Some(Host::Dns("localhost".into())));
        assert_eq!(classify("*.example.com"), None);
        assert_eq!(classify("a..b"), None);
        assert_eq!(classify(""), None);
    }
}
