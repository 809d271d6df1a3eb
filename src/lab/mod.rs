//! The attack lab (`toytls attack NAME`): each protection of TLS shown firing against a real
//! attack.
//!
//! Every scenario runs a real toytls client and a real toytls server on loopback with a man in
//! the middle between them ([`mitm`]): a relay that sees every record and changes, replays,
//! reorders, replaces or cuts them as an attacker on the network would. Nothing in a peer
//! pretends: the attacker acts on the bytes, and the peers react as they would to anyone. Each
//! scenario narrates what the attacker does and what each side sees, and ends with a
//! [`Verdict`]: did the protection hold, which alert crossed the wire, and where in the code
//! (file, function, RFC section) the protection lives.
//!
//! # The insecure switches, and why they cannot be reached by accident
//! To show what a protection is for, some scenarios also run *without* it: the record MAC not
//! checked (`tamper`), a server that leaks the RSA padding check (`bleichenbacher`), a 1024-bit
//! key. None of these is a field of [`crate::config::ServerConfig`] or
//! [`crate::config::ClientConfig`], none is a flag of `toytls server` or `toytls client`:
//! - the MAC switch takes an [`crate::record::suite::InsecureLabOnly`] token that only this
//!   crate can make, reached through `pub(crate)` methods that only this module calls;
//! - the padding oracle ([`oracle::InsecurePaddingOracle`]) is a separate transport wrapped
//!   around a server connection, not an option of the server (`toytls server` has no flag for
//!   it);
//! - the weak-key server ([`weak_key`]) is built by its own, loudly named constructor.
//!
//! Tests check both halves: the lab's scenarios show the difference, and the normal
//! configuration cannot reach the switches (`tests/attack_records.rs`: only `src/lab/` makes
//! the MAC switch's token; `tests/attack_bleichenbacher.rs`: `toytls server` answers every
//! padding probe identically and has no oracle flag).

pub mod bleichenbacher;
mod handshake;
pub mod mitm;
pub mod oracle;
mod padding;
mod recorded;
mod records;
pub mod stage;
pub mod weak_key;

pub use stage::WireAlert;

use crate::error::Result;

/// Where a protection lives in the code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Protection {
    /// What it does, in a few words.
    pub what: &'static str,
    /// The source file, from the crate root (`src/...`).
    pub file: &'static str,
    /// The function (`Type::method` or `function`) in that file.
    pub function: &'static str,
    /// The rule it implements.
    pub rfc: &'static str,
}

/// How a scenario ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// What the verdict line says when `protected` is true: `"protected"` for every scenario
    /// but `no-forward-secrecy`, which shows a limit, not a protection.
    pub headline: &'static str,
    /// True when the protection stopped the attack (and, where the scenario also runs without
    /// it, the attack worked there: the lab shows the difference, not just one side of it).
    pub protected: bool,
    /// One sentence: what happened.
    pub summary: String,
    /// The alerts that crossed the wire in the protected run.
    pub alerts: Vec<WireAlert>,
    /// Where the protection lives.
    pub protections: Vec<Protection>,
}

/// What a scenario prints as it goes; the library itself never prints.
pub struct Narrator<'a> {
    out: &'a mut dyn FnMut(&str),
    /// The connections shown so far, when kept (for `toytls attack --html`).
    shown: Option<Vec<Shown>>,
}

/// One connection of a scenario as the man in the middle saw it: every record it carried,
/// changed, injected, held back or cut at, and the alerts that crossed the wire.
#[derive(Clone, Debug)]
pub struct Shown {
    /// What this connection is, in the scenario's words.
    pub title: String,
    pub log: Vec<mitm::Observed>,
    pub alerts: Vec<WireAlert>,
}

impl<'a> Narrator<'a> {
    pub fn new(out: &'a mut dyn FnMut(&str)) -> Self {
        Narrator { out, shown: None }
    }

    /// A narrator that also keeps every connection the scenario shows ([`Narrator::shown`]).
    pub fn keeping_connections(out: &'a mut dyn FnMut(&str)) -> Self {
        Narrator {
            out,
            shown: Some(Vec::new()),
        }
    }

    /// One line (or several, separated by newlines).
    pub fn say(&mut self, line: impl AsRef<str>) {
        (self.out)(line.as_ref())
    }

    /// A connection the scenario ran, kept if this narrator keeps them.
    pub(crate) fn show<S, C>(&mut self, title: impl Into<String>, run: &stage::Run<S, C>) {
        if let Some(v) = &mut self.shown {
            v.push(Shown {
                title: title.into(),
                log: run.log.clone(),
                alerts: run.alerts.clone(),
            });
        }
    }

    /// The connections kept so far, emptied.
    pub fn shown(&mut self) -> Vec<Shown> {
        self.shown.as_mut().map(std::mem::take).unwrap_or_default()
    }
}

/// One scenario of the lab.
pub struct Scenario {
    /// The name `toytls attack NAME` takes.
    pub name: &'static str,
    /// One line for `toytls attack --list`.
    pub about: &'static str,
    /// Runs it.
    pub run: fn(&mut Narrator) -> Result<Verdict>,
}

/// Every scenario, in the order the README tells them.
pub const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "tamper",
        about: "flip one bit of an encrypted record: the MAC catches it (and, with the MAC off, CTR lets the attacker choose the change)",
        run: records::tamper,
    },
    Scenario {
        name: "replay",
        about: "send a protected record twice: its sequence number is in the MAC",
        run: records::replay,
    },
    Scenario {
        name: "reorder",
        about: "swap two protected records: the sequence numbers no longer match",
        run: records::reorder,
    },
    Scenario {
        name: "truncate",
        about: "cut the connection before close_notify: the client reports a truncation, not an end",
        run: records::truncate,
    },
    Scenario {
        name: "impostor",
        about: "answer in the server's place with a certificate of one's own: the client's certificate check refuses it",
        run: handshake::impostor,
    },
    Scenario {
        name: "pre-master",
        about: "replace the encrypted pre-master secret with one's own: the client's Finished fails",
        run: handshake::pre_master,
    },
    Scenario {
        name: "downgrade",
        about: "remove the preferred suite, or the extended master secret, from the ClientHello: Finished fails",
        run: handshake::downgrade,
    },
    Scenario {
        name: "no-forward-secrecy",
        about: "record two connections, then use the leaked server key to decrypt every byte (toytls decrypt)",
        run: recorded::no_forward_secrecy,
    },
    Scenario {
        name: "bleichenbacher",
        about: "use a server's RSA padding check as an oracle to decrypt a recorded pre-master secret; the genuine server has none",
        run: padding::bleichenbacher,
    },
];

/// Printable text: `"..."` with escapes, cut to 80 characters.
pub(crate) fn records_text(b: &[u8]) -> String {
    let s = format!("{:?}", String::from_utf8_lossy(b));
    if s.chars().count() > 80 {
        format!(
            "{}…\" ({} bytes)",
            s.chars().take(78).collect::<String>(),
            b.len()
        )
    } else {
        s
    }
}

/// The scenario called `name`.
pub fn find(name: &str) -> Option<&'static Scenario> {
    SCENARIOS.iter().find(|s| s.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every protection a verdict can name exists where it says: the file, and a function of
    /// that name in it. A rename elsewhere breaks this test instead of the lab's directions.
    #[test]
    fn every_named_protection_is_where_it_says() {
        let root = env!("CARGO_MANIFEST_DIR");
        for p in records::PROTECTIONS
            .iter()
            .chain(handshake::PROTECTIONS)
            .chain(recorded::PROTECTIONS)
            .chain(padding::PROTECTIONS)
        {
            let text = std::fs::read_to_string(format!("{root}/{}", p.file))
                .unwrap_or_else(|e| panic!("{}: {e}", p.file));
            let f = p.function.rsplit("::").next().unwrap();
            assert!(
                text.contains(&format!("fn {f}(")) || text.contains(&format!("fn {f}<")),
                "{} has no fn {f}",
                p.file
            );
        }
    }

    #[test]
    fn scenario_names_are_unique_and_found() {
        for s in SCENARIOS {
            assert_eq!(find(s.name).map(|f| f.name), Some(s.name));
        }
        assert!(find("no-such-attack").is_none());
    }
}
