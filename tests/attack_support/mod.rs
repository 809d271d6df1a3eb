//! Runs `toytls attack NAME --html FILE` as a process, the way a learner does, and reads its
//! verdict, and the page it wrote: every scenario's test also checks that the page names the
//! verdict, the alerts and each protection's file and function.
// Each test crate that includes this module uses some of it.
#![allow(dead_code)]

use std::process::Command;

pub struct Outcome {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// The `--html` page, for a scenario that ran.
    pub page: Option<String>,
}

/// Text as the page escapes it.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

impl Outcome {
    /// The lines after the narration: the verdict, the alerts on the wire, the protections.
    pub fn verdict_section(&self) -> &str {
        let at = self
            .stdout
            .find("\nVERDICT: ")
            .unwrap_or_else(|| panic!("no verdict in:\n{}\n{}", self.stdout, self.stderr));
        &self.stdout[at + 1..]
    }

    /// Asserts the scenario exited 0 with a "protected" verdict.
    pub fn assert_protected(&self) {
        self.assert_verdict("protected")
    }

    /// Asserts the scenario exited 0 and its verdict line starts with `headline`.
    pub fn assert_verdict(&self, headline: &str) {
        assert_eq!(
            self.code,
            Some(0),
            "stdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        assert!(
            self.verdict_section()
                .starts_with(&format!("VERDICT: {headline} (")),
            "{}",
            self.stdout
        );
        self.assert_page_has_the_verdict(headline);
    }

    /// The page: the verdict's headline and summary, every alert on the wire, and every
    /// protection's file and function as the verdict printed them.
    pub fn assert_page_has_the_verdict(&self, headline: &str) {
        let page = self.page();
        let first = self.verdict_section().lines().next().unwrap();
        let summary = first.split_once("): ").expect("a summary").1;
        assert!(page.contains(&format!(
            "<h2>Verdict: {}</h2><p>{}</p>",
            esc(headline),
            esc(summary)
        )));
        for a in self.wire_alerts() {
            assert!(
                page.contains(&format!("<li>{}</li>", esc(a))),
                "alert {a} not on the page"
            );
        }
        let places: Vec<&str> = self
            .verdict_section()
            .lines()
            .filter_map(|l| l.strip_prefix("            "))
            .collect();
        assert!(!places.is_empty(), "no protection in the verdict");
        for place in places {
            let (file, rest) = place.split_once(", ").unwrap();
            let (function, rfc) = rest.split_once(" (").unwrap();
            let rfc = rfc.strip_suffix(')').unwrap();
            assert!(
                page.contains(&format!(
                    "<code class=\"file\">{}</code>, <code class=\"function\">{}</code> <span class=\"rfc\">({})</span>",
                    esc(file),
                    esc(function),
                    esc(rfc)
                )),
                "{place} is not on the page"
            );
        }
    }

    pub fn page(&self) -> &str {
        self.page.as_deref().expect("an --html page")
    }

    /// How many records on the page the man in the middle treated as `fate` (forwarded,
    /// changed, injected, held, cut).
    pub fn records(&self, fate: &str) -> usize {
        self.page()
            .matches(&format!("data-fate=\"{fate}\""))
            .count()
    }

    /// The bytes marked as the attacker's, in the records it passed on (`chg`) or in them as
    /// they arrived (`del`); the introduction's one example of each is not counted.
    pub fn marked(&self, class: &str) -> usize {
        self.page()
            .matches(&format!("<b class=\"{class}\">"))
            .count()
            - 1
    }

    /// The page's "Changed fields:" lines.
    pub fn changed_fields(&self) -> Vec<&str> {
        self.page()
            .split("<p class=\"changed-fields\">Changed fields: ")
            .skip(1)
            .map(|s| &s[..s.find("</p>").unwrap()])
            .collect()
    }

    /// What follows `prefix` on the first narration line that starts with it (indentation
    /// aside), trimmed of spaces and of a closing parenthesis.
    pub fn value_after(&self, prefix: &str) -> String {
        self.stdout
            .lines()
            .find_map(|l| l.trim_start().strip_prefix(prefix))
            .unwrap_or_else(|| panic!("no {prefix} in:\n{}", self.stdout))
            .trim()
            .trim_end_matches(')')
            .to_string()
    }

    /// The verdict's `alert on the wire:` lines, without the prefix.
    pub fn wire_alerts(&self) -> Vec<&str> {
        self.verdict_section()
            .lines()
            .filter_map(|l| l.strip_prefix("alert on the wire: "))
            .collect()
    }
}

/// `toytls attack ARGS`; a scenario (one argument, not an option) also with `--html`.
pub fn attack(args: &[&str]) -> Outcome {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_toytls"));
    cmd.arg("attack").args(args);
    let page = (args.len() == 1 && !args[0].starts_with("--")).then(|| {
        std::env::temp_dir().join(format!(
            "toytls-attack-{}-{}.html",
            std::process::id(),
            args[0]
        ))
    });
    if let Some(p) = &page {
        cmd.arg("--html").arg(p);
    }
    let out = cmd.output().expect("run toytls attack");
    let html = page.as_ref().and_then(|p| {
        let text = std::fs::read_to_string(p).ok();
        let _ = std::fs::remove_file(p);
        text
    });
    Outcome {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        page: html,
    }
}
