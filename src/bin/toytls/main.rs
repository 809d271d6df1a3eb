//! The `toytls` command line: the demo, a client and a server, and certificate tools.
//!
//! Each subcommand lives in its own file; this one only parses arguments and dispatches.

mod attack;
mod bench;
mod cert;
mod client;
mod cpu;
mod decrypt;
mod demo;
mod html;
mod pcap;
mod render;
mod server;

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
    /// Watch a TLS connection happen: CA, server and client in one process, narrated step by step.
    Demo(demo::DemoArgs),
    /// Serve TLS on a TCP address (echo or a small HTTP page).
    Server(server::ServerArgs),
    /// Connect to a TLS server, send stdin, print what comes back.
    Client(client::ClientArgs),
    /// Load a `toytls server --echo` with concurrent connections; report handshakes per second,
    /// latency percentiles and throughput.
    BenchClient(bench::BenchArgs),
    /// Decrypt a recorded capture with the server's private key: what RSA key transport's lack
    /// of forward secrecy means.
    Decrypt(decrypt::DecryptArgs),
    /// The attack lab: run a classic attack against toytls and watch the protection stop it
    /// (`toytls attack --list`).
    Attack(attack::AttackArgs),
    /// Print which backend each primitive uses on this build and CPU (AES-NI, VAES, portable ...).
    Cpu,
    /// Certificate authority: `toytls ca init --out DIR`.
    #[command(subcommand)]
    Ca(cert::CaCommand),
    /// Server certificates: issue, show, verify.
    #[command(subcommand)]
    Cert(cert::CertCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Cpu => cpu::run(),
        Command::Demo(args) => demo::run(args),
        Command::Attack(args) => attack::run(args),
        Command::Server(args) => server::run(args),
        Command::Client(args) => client::run(args),
        Command::Decrypt(args) => decrypt::run(args),
        Command::BenchClient(args) => bench::run(args),
        Command::Ca(cmd) => cert::run_ca(cmd),
        Command::Cert(cmd) => cert::run_cert(cmd),
    }
}
