//! The `toytls` command line: the demo, a client and a server, and certificate tools.
//!
//! Each subcommand lives in its own file; this one only parses arguments and dispatches.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "toytls", version, about = "TLS 1.2, written to be read")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print which CPU features the crypto core will use (AES-NI, VAES, ...).
    Cpu,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Cpu => {
            println!("toytls {}", env!("CARGO_PKG_VERSION"));
            let aes = toytls::crypto::aes::Backend::best();
            println!("AES-128 backend: {aes}");
            ExitCode::SUCCESS
        }
    }
}
