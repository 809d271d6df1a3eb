//! `toytls attack NAME`: the attack lab ([`toytls::lab`]). Runs one scenario (client, server and
//! a man in the middle on loopback, all in this process), prints its narration and verdict, and
//! exits 0 only when the protection worked.

use clap::Args;
use std::process::ExitCode;
use std::time::Instant;
use toytls::lab::{self, Narrator, SCENARIOS};

#[derive(Args)]
pub struct AttackArgs {
    /// The scenario to run (see --list).
    #[arg(required_unless_present = "list")]
    name: Option<String>,
    /// List the scenarios.
    #[arg(long)]
    list: bool,
    /// Also write the attack to FILE as a web page: every record as the man in the middle saw
    /// it, the bytes it changed marked, the alerts, the verdict and where the protection lives.
    #[arg(long, value_name = "FILE", conflicts_with = "list")]
    html: Option<std::path::PathBuf>,
}

pub fn run(args: AttackArgs) -> ExitCode {
    if args.list {
        println!(
            "The attack lab: each runs a real client, server and man in the middle on loopback.\n"
        );
        for s in SCENARIOS {
            println!("  {:<20} {}", s.name, s.about);
        }
        println!("\nRun one with `toytls attack NAME`; it exits 0 when the protection held.");
        return ExitCode::SUCCESS;
    }
    let name = args.name.unwrap_or_default();
    let Some(scenario) = lab::find(&name) else {
        eprintln!("toytls attack: no scenario named {name:?}; `toytls attack --list` shows them");
        return ExitCode::from(2);
    };
    let started = Instant::now();
    let mut narration = Vec::new();
    let mut print = |s: &str| {
        println!("{s}");
        narration.push(s.to_string());
    };
    let mut narrator = if args.html.is_some() {
        Narrator::keeping_connections(&mut print)
    } else {
        Narrator::new(&mut print)
    };
    let result = (scenario.run)(&mut narrator);
    let shown = narrator.shown();
    let verdict = match result {
        Ok(v) => v,
        Err(e) => {
            eprintln!("toytls attack {name}: the lab itself failed: {e}");
            return ExitCode::from(2);
        }
    };
    println!();
    println!(
        "VERDICT: {} ({:.1} s): {}",
        if verdict.protected {
            verdict.headline
        } else {
            "NOT AS THE LAB EXPECTS"
        },
        started.elapsed().as_secs_f64(),
        verdict.summary
    );
    if verdict.alerts.is_empty() {
        println!("alerts on the wire: none");
    }
    for a in &verdict.alerts {
        println!("alert on the wire: {a}");
    }
    for p in &verdict.protections {
        println!("protection: {}", p.what);
        println!("            {}, {} ({})", p.file, p.function, p.rfc);
    }
    if let Some(path) = &args.html {
        let page = toytls::html::attack::render_attack(&toytls::html::attack::Attack {
            name: scenario.name,
            about: scenario.about,
            narration: &narration,
            shown: &shown,
            verdict: &verdict,
        });
        if let Err(e) = std::fs::write(path, page) {
            eprintln!("toytls attack: cannot write {}: {e}", path.display());
            return ExitCode::from(2);
        }
        println!("page: {}", path.display());
    }
    if verdict.protected {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
