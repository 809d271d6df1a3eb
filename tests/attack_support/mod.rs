//! Runs `toytls attack NAME` as a process, the way a learner does, and reads its verdict.
// Each test crate that includes this module uses some of it.
#![allow(dead_code)]

use std::process::Command;

pub struct Outcome {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
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

pub fn attack(args: &[&str]) -> Outcome {
    let out = Command::new(env!("CARGO_BIN_EXE_toytls"))
        .arg("attack")
        .args(args)
        .output()
        .expect("run toytls attack");
    Outcome {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}
