//! An attack of the lab as a page (`toytls attack NAME --html FILE`): every record as the man in
//! the middle saw it, what it did with each (passed on, changed, injected, held back, cut at),
//! the bytes it changed marked against the record as it arrived, the alerts that crossed the
//! wire, and the verdict with the place in the code where the protection lives.
//!
//! Same shell, same annotator and same hex view as a connection's page: only the input differs
//! (the relay's log, [`crate::lab::Shown`], instead of one peer's trace events). The man in the
//! middle has no keys, so a protected record is shown as it is to him: header, (nonce,)
//! ciphertext and tag, with the suite read from the ServerHello that went by in the clear.

use super::annotate::{self, Carry, Field, Parts};
use super::parts::{field_row, marked_hexview};
use super::{esc, shell};
use crate::lab::mitm::{Fate, Flow, Observed};
use crate::lab::{Shown, Verdict};
use crate::record::suite::{SuiteInfo, lookup};
use crate::wire::messages::HandshakeMessage;
use std::fmt::Write as _;

/// What the page of one scenario is made of.
pub struct Attack<'a> {
    /// The scenario's name (`tamper`).
    pub name: &'a str,
    /// Its one line from `toytls attack --list`.
    pub about: &'a str,
    /// Every line the scenario narrated.
    pub narration: &'a [String],
    /// The connections it ran, as the relay logged them.
    pub shown: &'a [Shown],
    pub verdict: &'a Verdict,
}

const ATTACK_INTRO: &str = "Every record below is shown byte for byte as the man in the middle \
    saw it. Point at a byte, or tab to it, to see the field it belongs to. Bytes the attacker \
    changed are marked <b class=\"chg\">like this</b> in the record it passed on, and <b \
    class=\"del\">like this</b> in the record as it arrived. <span class=\"known\">The \
    narration is what the two endpoints saw; switch to the eavesdropper's view to see the wire \
    alone.</span><span class=\"wire-only\">This is the wire alone; switch back for what the \
    endpoints saw.</span>";

/// The page of one attack.
pub fn render_attack(a: &Attack) -> String {
    let v = a.verdict;
    let mut body = String::new();
    let mut toc = String::from("<li><a href=\"#verdict\">The verdict</a></li>");
    let _ = write!(
        body,
        "<section class=\"verdict {}\" id=\"verdict\"><h2>Verdict: {}</h2><p>{}</p>",
        if v.protected { "held" } else { "failed" },
        esc(if v.protected {
            v.headline
        } else {
            "NOT AS THE LAB EXPECTS"
        }),
        esc(&v.summary)
    );
    body.push_str("<h3>The alert that crossed the wire</h3><ul class=\"alerts\">");
    if v.alerts.is_empty() {
        body.push_str("<li>none</li>");
    }
    for al in &v.alerts {
        let _ = write!(body, "<li>{}</li>", esc(&al.to_string()));
    }
    body.push_str("</ul><h3>Where the protection lives</h3><ul class=\"protections\">");
    for p in &v.protections {
        let _ = write!(
            body,
            "<li><span class=\"what\">{}</span><br><code class=\"file\">{}</code>, \
             <code class=\"function\">{}</code> <span class=\"rfc\">({})</span></li>",
            esc(p.what),
            esc(p.file),
            esc(p.function),
            esc(p.rfc)
        );
    }
    body.push_str("</ul></section>\n");
    let _ = writeln!(
        body,
        "<section class=\"narration known\" id=\"narration\"><h2>What the lab narrated</h2>\
         <pre>{}</pre></section>",
        esc(&a.narration.join("\n"))
    );
    toc.push_str("<li><a href=\"#narration\">What the lab narrated</a></li>");
    for (k, run) in a.shown.iter().enumerate() {
        let id = format!("run{}", k + 1);
        let _ = write!(toc, "<li><a href=\"#{id}\">{}</a></li>", esc(&run.title));
        connection(&mut body, &id, run);
    }
    shell(
        &format!("toytls attack {}", a.name),
        a.about,
        ATTACK_INTRO,
        &toc,
        &body,
    )
}

/// The suite the ServerHello in `log` chose, if one went by.
fn suite_of(log: &[Observed]) -> Option<&'static SuiteInfo> {
    log.iter()
        .filter(|o| o.flow == Flow::ServerToClient && !o.protected)
        .filter_map(|o| o.record.decode_handshake())
        .flatten()
        .find_map(|m| match m {
            HandshakeMessage::ServerHello(sh) => lookup(sh.cipher_suite),
            _ => None,
        })
}

fn connection(out: &mut String, id: &str, run: &Shown) {
    let _ = write!(
        out,
        "<section class=\"run\" id=\"{id}\"><h2>{}</h2>\n<p class=\"story\">{} records went \
         through the man in the middle's hands, in the order it handled them.</p>\n",
        esc(&run.title),
        run.log.len()
    );
    let suite = suite_of(&run.log);
    let mut carry = [Carry::default(), Carry::default()];
    for (j, o) in run.log.iter().enumerate() {
        let c = &mut carry[usize::from(o.flow == Flow::ServerToClient)];
        record(out, &format!("{id}r{}", j + 1), o, &run.log[..j], suite, c);
    }
    out.push_str("<p class=\"note\">Alerts that crossed the wire: ");
    if run.alerts.is_empty() {
        out.push_str("none");
    }
    let alerts: Vec<String> = run.alerts.iter().map(|a| esc(&a.to_string())).collect();
    out.push_str(&alerts.join("; "));
    out.push_str("</p></section>\n");
}

/// The fields of `wire` as the man in the middle can name them.
fn fields(
    wire: &[u8],
    protected: bool,
    suite: Option<&SuiteInfo>,
    carry: &mut Carry,
) -> Vec<Field> {
    let len = wire.len();
    let header = 0..5.min(len);
    let (nonce, tag, words) = match (protected, suite) {
        (false, _) => (0, 0, None),
        (true, Some(s)) => (s.record_iv_len, s.tag_len, Some((s.encryption, s.tag))),
        (true, None) => (0, 0, Some(("an unknown suite's", "tag"))),
    };
    let nonce_end = (5 + nonce).min(len);
    let tag_start = len.saturating_sub(tag).max(nonce_end);
    let parts = Parts {
        wire,
        header,
        explicit_nonce: 5.min(len)..nonce_end,
        body: nonce_end..tag_start,
        tag: tag_start..len,
    };
    annotate::record(&parts, wire.first().copied().unwrap_or(0), words, carry)
}

fn record(
    out: &mut String,
    id: &str,
    o: &Observed,
    before: &[Observed],
    suite: Option<&SuiteInfo>,
    carry: &mut Carry,
) {
    let wire = &o.record.0;
    let (from, to) = match o.flow {
        Flow::ClientToServer => ("client", "server"),
        Flow::ServerToClient => ("server", "client"),
    };
    let original = o.original.as_ref().map(|r| &r.0[..]);
    let (marks, removed) = match original {
        Some(orig) => diff(orig, wire),
        None => (Vec::new(), Vec::new()),
    };
    let (fate, class) = match (o.fate, o.cut) {
        (_, true) => (
            format!(
                "CUT: when this record arrived the man in the middle closed both TCP \
                 connections, without a word; it never reached the {to}"
            ),
            "cut",
        ),
        (None, false) => (
            format!(
                "HELD BACK: the man in the middle did not pass this record on to the {to} here"
            ),
            "held",
        ),
        (Some(Fate::Forwarded), _) => ("passed on unchanged".to_string(), "forwarded"),
        (Some(Fate::Changed), _) => {
            let count = |v: &[bool]| v.iter().filter(|&&m| m).count();
            let what = if original.map(<[u8]>::len) == Some(wire.len()) {
                format!("{} byte(s) changed", count(&marks))
            } else {
                format!(
                    "{} byte(s) removed, {} put in or rewritten",
                    count(&removed),
                    count(&marks)
                )
            };
            (
                format!(
                    "CHANGED by the man in the middle: {what}, against the record the {from} sent"
                ),
                "changed",
            )
        }
        (Some(Fate::Injected), _) => match before.iter().position(|b| b.record == o.record) {
            Some(k) => (
                format!(
                    "INJECTED: a byte-for-byte copy of record {} above, sent by the man in the middle",
                    k + 1
                ),
                "injected",
            ),
            None => (
                "INJECTED: a record of the man in the middle's own".to_string(),
                "injected",
            ),
        },
    };
    let _ = write!(
        out,
        "<section class=\"rec {from} {class}\" id=\"{id}\" data-bytes=\"{}\" data-fate=\"{class}\">\n\
         <h4><span class=\"dir\">{from} → {to}</span> {} record, {} bytes, {}</h4>\n\
         <p class=\"fate\">{}</p>\n",
        wire.len(),
        esc(o.record.type_name()),
        wire.len(),
        if o.protected {
            "protected (the man in the middle has no key)"
        } else {
            "in the clear"
        },
        esc(&fate)
    );
    let mut orig_fields = Vec::new();
    if let Some(orig) = original {
        let mut c = carry.clone();
        orig_fields = fields(orig, o.protected, suite, &mut c);
        out.push_str("<p class=\"label\">As the ");
        out.push_str(from);
        out.push_str(" sent it (the bytes the attacker replaced or removed are marked):</p>\n");
        marked_hexview(
            out,
            orig,
            &orig_fields,
            id,
            "wire orig",
            "of",
            &removed,
            "del",
        );
        let _ = writeln!(
            out,
            "<p class=\"label\">As the man in the middle passed it on to the {to} (its bytes marked):</p>"
        );
    }
    let fs = fields(wire, o.protected, suite, carry);
    marked_hexview(out, wire, &fs, id, "wire", "f", &marks, "chg");
    if original.is_some() {
        let hit: Vec<&str> = fs
            .iter()
            .filter(|f| f.range.clone().any(|i| marks.get(i) == Some(&true)))
            .map(|f| f.name.as_str())
            .collect();
        let _ = writeln!(
            out,
            "<p class=\"changed-fields\">Changed fields: {}</p>",
            esc(&hit.join(", "))
        );
        if original.map(<[u8]>::len) != Some(wire.len()) {
            let gone: Vec<&str> = orig_fields
                .iter()
                .filter(|f| f.range.clone().all(|i| removed.get(i) == Some(&true)))
                .map(|f| f.name.as_str())
                .collect();
            let _ = writeln!(
                out,
                "<p class=\"removed-fields\">Taken out whole: {}</p>",
                esc(&gone.join(", "))
            );
        }
    }
    let _ = write!(
        out,
        "<details><summary>The {} fields of this record</summary>\n<table class=\"fields\">\
         <thead><tr><th>bytes</th><th>field</th><th>value</th><th>meaning</th><th>defined in</th></tr></thead><tbody>\n",
        fs.len()
    );
    for (i, f) in fs.iter().enumerate() {
        field_row(out, f, &format!("{id}f{i}"), "");
    }
    for (i, f) in orig_fields.iter().enumerate() {
        field_row(out, f, &format!("{id}of{i}"), "orig");
    }
    out.push_str("</tbody></table></details>\n</section>\n");
}

/// Which bytes of `new` are not from `old`, and which bytes of `old` are not in `new`: byte by
/// byte for records of one length (a flipped bit, a replaced pre-master secret), else by the
/// longest common subsequence (a suite or an extension taken out, the lengths before it
/// rewritten).
fn diff(old: &[u8], new: &[u8]) -> (Vec<bool>, Vec<bool>) {
    if old.len() == new.len() {
        let m: Vec<bool> = old.iter().zip(new).map(|(a, b)| a != b).collect();
        return (m.clone(), m);
    }
    let (n, m) = (old.len(), new.len());
    if n.saturating_mul(m) > 4_000_000 {
        // Too big to align: everything between the common prefix and suffix.
        let pre = old.iter().zip(new).take_while(|(a, b)| a == b).count();
        let suf = old[pre..]
            .iter()
            .rev()
            .zip(new[pre..].iter().rev())
            .take_while(|(a, b)| a == b)
            .count();
        let mark = |len: usize| (0..len).map(|i| i >= pre && i < len - suf).collect();
        return (mark(m), mark(n));
    }
    // lcs[i][j]: the longest common subsequence of old[i..] and new[j..].
    let mut lcs = vec![vec![0u16; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if old[i] == new[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut marks_new, mut marks_old) = (vec![true; m], vec![true; n]);
    let (mut i, mut j) = (0, 0);
    while i < n && j < m {
        if old[i] == new[j] {
            marks_old[i] = false;
            marks_new[j] = false;
            i += 1;
            j += 1;
        } else if lcs[i + 1][j] >= lcs[i][j + 1] {
            i += 1;
        } else {
            j += 1;
        }
    }
    (marks_new, marks_old)
}

#[cfg(test)]
mod tests {
    use super::diff;

    #[test]
    fn a_flipped_byte_is_the_one_marked() {
        let (new, old) = diff(b"pay 100", b"pay 900");
        assert_eq!(new, [false, false, false, false, true, false, false]);
        assert_eq!(old, new);
    }

    #[test]
    fn a_removed_suite_and_a_rewritten_length_are_marked() {
        // A length byte 06 -> 04, and the suite 00 2f removed from the list.
        let old = [9, 0, 6, 0xc0, 0x2b, 0, 0x2f, 0, 0xff, 1];
        let new = [9, 0, 4, 0xc0, 0x2b, 0, 0xff, 1];
        let (n, o) = diff(&old, &new);
        assert_eq!(n, [false, false, true, false, false, false, false, false]);
        assert_eq!(
            o.iter().filter(|&&x| x).count(),
            3,
            "the old length and the two suite bytes: {o:?}"
        );
        assert!(o[2]);
        // Nothing marked when nothing changed.
        let (n, o) = diff(&old, &old);
        assert!(!n.contains(&true) && !o.contains(&true));
    }
}
