//! How a record and a secret are drawn: the bytes in hex, one focusable span a field, each
//! record's table of fields, each secret with the inputs that made it.

use super::annotate::Field;
use super::esc;
use super::story::Conn;
use crate::record::ContentType;
use crate::trace::{Derivation, Dir, KeyPart, Secret};
use crate::wire::messages::{CipherSuite, hex};
use std::fmt::Write as _;

impl Conn<'_> {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn record(
        &mut self,
        dir: Dir,
        ct: ContentType,
        suite: Option<CipherSuite>,
        seq: Option<u64>,
        wire: &[u8],
        fields: &[Field],
        inner: Option<(Vec<Field>, &Vec<u8>)>,
    ) {
        self.records += 1;
        let (n, r) = (self.n, self.records);
        let (from, to) = match dir {
            Dir::Sent => (self.me(), self.peer()),
            Dir::Received => (self.peer(), self.me()),
        };
        let id = format!("c{n}r{r}");
        let prot = match (suite, seq) {
            (Some(s), Some(q)) => format!("protected ({}), sequence number {q}", s.name()),
            _ => "in the clear".to_string(),
        };
        let _ = write!(
            self.out,
            "<section class=\"rec {from}\" id=\"{id}\" data-bytes=\"{}\">\n<h4><span class=\"dir\">{from} → {to}</span> \
             {} record, {} bytes, {}</h4>\n",
            wire.len(),
            esc(ct.name()),
            wire.len(),
            esc(&prot)
        );
        hexview(&mut self.out, wire, fields, &id, "wire");
        if let Some((inner, p)) = &inner {
            let _ = writeln!(
                self.out,
                "<div class=\"known inside\"><p class=\"label\">Inside, as the endpoints read it \
                 after checking the tag and decrypting with the {from} write key: {} bytes of {}</p>",
                p.len(),
                esc(ct.name())
            );
            hexview(&mut self.out, p, inner, &id, "inner");
            self.out.push_str("</div>\n");
            let _ = writeln!(
                self.out,
                "<p class=\"wire-only muted\">Encrypted: an eavesdropper sees the content type, \
                 the length and {} bytes it cannot read or change unnoticed.</p>",
                wire.len().saturating_sub(5)
            );
        }
        let count = fields.len() + inner.as_ref().map_or(0, |(f, _)| f.len());
        let _ = write!(
            self.out,
            "<details><summary>The {count} fields of this record</summary>\n<table class=\"fields\">\
             <thead><tr><th>bytes</th><th>field</th><th>value</th><th>meaning</th><th>defined in</th></tr></thead><tbody>\n"
        );
        for (i, f) in fields.iter().enumerate() {
            field_row(&mut self.out, f, &format!("{id}f{i}"), "");
        }
        if let Some((inner, _)) = &inner {
            for (i, f) in inner.iter().enumerate() {
                field_row(&mut self.out, f, &format!("{id}if{i}"), "known");
            }
        }
        self.out
            .push_str("</tbody></table></details>\n</section>\n");
    }

    pub(super) fn secret(&mut self, secret: Secret, value: &[u8], d: &Derivation) {
        let n = self.n;
        let id = format!("c{n}-{}", secret_slug(secret));
        if let Secret::Key {
            part: KeyPart::MacKey,
            ..
        } = secret
        {
            self.aead |= value.is_empty();
        }
        let how = match d {
            Derivation::Chosen => "chosen at random by the client: the version it offered \
                                   (03 03), then 46 random bytes"
                .to_string(),
            Derivation::Decrypted => "decrypted by the server from the ClientKeyExchange with its \
                                      private key"
                .to_string(),
            Derivation::TranscriptHash => "SHA-256 over every handshake message so far, from \
                                           ClientHello to ClientKeyExchange, 4-byte headers \
                                           included (RFC 7627 3)"
                .to_string(),
            Derivation::Prf {
                secret: from,
                label,
                seed,
            } => {
                let seed_is = match *label {
                    crate::handshake::keys::MASTER_SECRET_LABEL => "client_random + server_random",
                    crate::handshake::keys::EXTENDED_MASTER_SECRET_LABEL => "the session hash",
                    crate::handshake::keys::KEY_EXPANSION_LABEL => {
                        "server_random + client_random (the other order)"
                    }
                    _ => "SHA-256 of every handshake message before this Finished",
                };
                format!(
                    "PRF(<a href=\"#c{n}-{}\">{}</a>, \"{}\", seed)[0..{}], with seed = {seed_is}:<br><code class=\"hexval\">{}</code>",
                    secret_slug(*from),
                    esc(&from.to_string()),
                    esc(label),
                    value.len(),
                    hex(seed)
                )
            }
            Derivation::KeyBlockPart(r) => {
                format!(
                    "bytes {}..{} of the <a href=\"#c{n}-key-block\">key block</a>",
                    r.start, r.end
                )
            }
        };
        let (rfc, note) = secret_rfc(secret, value.is_empty(), self.aead);
        let shown = if value.is_empty() {
            "(none)".to_string()
        } else {
            hex(value)
        };
        let _ = writeln!(
            self.out,
            "<div class=\"secret\" id=\"{id}\" data-secret=\"{}\">\
             <div class=\"known\"><p><span class=\"sname\">{}</span> <span class=\"muted\">{} bytes, {rfc}</span></p>\
             <code class=\"hexval\">{shown}</code><p class=\"how\">= {how}</p>{note}</div>\
             <p class=\"wire-only muted\"><span class=\"sname\">{}</span>: hidden. An eavesdropper \
             never sees it: {}</p></div>",
            esc(&secret.to_string()),
            esc(&secret.to_string()),
            value.len(),
            esc(&secret.to_string()),
            if secret == Secret::PreMaster {
                "it crosses the wire only RSA-encrypted"
            } else {
                "it is computed from the pre-master secret, which crossed the wire only RSA-encrypted"
            }
        );
    }
}

fn secret_slug(s: Secret) -> String {
    s.to_string().replace([' ', '_'], "-").to_lowercase()
}

fn secret_rfc(s: Secret, empty: bool, aead: bool) -> (&'static str, &'static str) {
    match s {
        Secret::PreMaster => ("RFC 5246 7.4.7.1", ""),
        Secret::SessionHash => ("RFC 7627 3", ""),
        Secret::Master => ("RFC 5246 8.1, RFC 7627 4", ""),
        Secret::KeyBlock => ("RFC 5246 6.3", ""),
        Secret::Key {
            part: KeyPart::MacKey,
            ..
        } if empty => (
            "RFC 5246 6.3",
            "<p class=\"how\">None: with GCM the tag authenticates each record.</p>",
        ),
        Secret::Key {
            part: KeyPart::Iv, ..
        } if aead => (
            "RFC 5288 3",
            "<p class=\"how\">The implicit part of every GCM nonce: salt (4 bytes) + explicit nonce (8).</p>",
        ),
        Secret::Key { .. } => ("RFC 5246 6.3", ""),
        Secret::VerifyData(_) => ("RFC 5246 7.4.9", ""),
    }
}

pub(super) fn field_row(out: &mut String, f: &Field, id: &str, class: &str) {
    let _ = writeln!(
        out,
        "<tr id=\"{id}\" class=\"{class}\"><td class=\"off\">{}–{}</td><td><span class=\"sw {}\"></span>{}</td>\
         <td class=\"val\">{}</td><td>{}</td><td class=\"rfc\">{}</td></tr>",
        f.range.start,
        f.range.end,
        f.kind.class(),
        esc(&f.name),
        esc(&f.value),
        esc(&f.meaning),
        f.rfc
    );
}

/// The bytes as hex, 16 a line, each field one focusable span.
pub(super) fn hexview(out: &mut String, bytes: &[u8], fields: &[Field], id: &str, class: &str) {
    marked_hexview(out, bytes, fields, id, class, "f", &[], "");
}

/// [`hexview`] with the bytes `marked[i]` drawn in class `mark` (an attacker's change), each
/// field's row found at `{id}{prefix}{i}`.
#[allow(clippy::too_many_arguments)]
pub(super) fn marked_hexview(
    out: &mut String,
    bytes: &[u8],
    fields: &[Field],
    id: &str,
    class: &str,
    prefix: &str,
    marked: &[bool],
    mark: &str,
) {
    let _ = write!(out, "<div class=\"hex {class}\">");
    let mut at = 0;
    let byte = |out: &mut String, i: usize| {
        if i > 0 && i.is_multiple_of(16) {
            out.push_str("<br>");
        }
        if marked.get(i) == Some(&true) {
            let _ = write!(out, "<b class=\"{mark}\">{:02x}</b>", bytes[i]);
        } else {
            let _ = write!(out, "<b>{:02x}</b>", bytes[i]);
        }
    };
    let prefix = if class == "inner" { "if" } else { prefix };
    for (i, f) in fields.iter().enumerate() {
        let (s, e) = (f.range.start.min(bytes.len()), f.range.end.min(bytes.len()));
        while at < s {
            byte(out, at);
            at += 1;
        }
        let _ = write!(
            out,
            "<span class=\"f {}\" tabindex=\"0\" data-row=\"{id}{prefix}{i}\" title=\"{}: {}\">",
            f.kind.class(),
            esc(&f.name),
            esc(&f.value)
        );
        while at < e {
            byte(out, at);
            at += 1;
        }
        out.push_str("</span>");
    }
    while at < bytes.len() {
        byte(out, at);
        at += 1;
    }
    out.push_str("</div>\n");
}
