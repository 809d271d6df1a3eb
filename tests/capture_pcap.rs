//! `--pcap FILE` checked by Wireshark's own dissectors (`tshark`): the capture `toytls server`,
//! `toytls client` and `toytls demo` write is a TCP/IP capture Wireshark reads without a complaint
//! (checksums verified, no TCP analysis warnings), it dissects every handshake message of the full
//! and the resumed handshake, and with nothing but the Decryption Secrets Block inside the file it
//! decrypts the GCM suite and shows the HTTP request and response in clear.
//!
//! Honest by construction: tshark runs with an empty configuration directory (no personal
//! preferences, no key log file set anywhere) and `-o tls.keylog_file:` set to nothing, and the
//! negative check removes the secrets block from the same file (`editcap --discard-all-secrets`)
//! and shows that the HTTP is then unreadable. tshark prints a warning when run as root (as CI
//! does) but reads files as root all the same; capturing is not needed here.

mod stacks;

use stacks::*;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// tshark on `file` with an empty profile, no key log file, and checksum validation on.
fn tshark(profile: &Path, file: &Path, args: &[&str]) -> String {
    let out = Command::new("tshark")
        .env("WIRESHARK_CONFIG_DIR", profile)
        .args(["-n", "-o", "tls.keylog_file:"])
        .args([
            "-o",
            "tcp.check_checksum:TRUE",
            "-o",
            "ip.check_checksum:TRUE",
        ])
        .arg("-r")
        .arg(file)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run tshark");
    assert!(
        out.status.success(),
        "tshark {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The handshake message types of each TCP stream, in order (`tls.handshake.type` values:
/// 1 ClientHello, 2 ServerHello, 11 Certificate, 14 ServerHelloDone, 16 ClientKeyExchange,
/// 20 Finished, which tshark sees only if it could decrypt it).
fn handshake_types(profile: &Path, file: &Path) -> Vec<Vec<u32>> {
    let text = tshark(
        profile,
        file,
        &[
            "-Y",
            "tls.handshake",
            "-T",
            "fields",
            "-e",
            "tcp.stream",
            "-e",
            "tls.handshake.type",
        ],
    );
    let mut streams: Vec<Vec<u32>> = Vec::new();
    for line in text.lines() {
        let (stream, types) = line.split_once('\t').unwrap_or((line, ""));
        let stream: usize = stream.trim().parse().unwrap();
        if streams.len() <= stream {
            streams.resize(stream + 1, Vec::new());
        }
        streams[stream].extend(
            types
                .split(',')
                .filter_map(|t| t.trim().parse::<u32>().ok()),
        );
    }
    streams
}

/// Lines of `-T fields` output matching `filter`.
fn count(profile: &Path, file: &Path, filter: &str) -> usize {
    tshark(
        profile,
        file,
        &["-Y", filter, "-T", "fields", "-e", "frame.number"],
    )
    .lines()
    .count()
}

/// Waits until `file` holds `fins` FIN segments: the server writes a connection's close when
/// its connection thread ends, a moment after the client has gone.
fn wait_for_fins(profile: &Path, file: &Path, fins: usize) {
    let start = Instant::now();
    loop {
        let n = count(profile, file, "tcp.flags.fin == 1");
        if n >= fins {
            assert_eq!(n, fins, "more FINs than connections");
            return;
        }
        assert!(
            start.elapsed() < TIMEOUT,
            "only {n} FINs in {}",
            file.display()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// What every capture we write must satisfy as a TCP capture: each of `conns` connections has its
/// three-way handshake and a FIN each way, every checksum is right, and Wireshark's TCP analysis
/// (retransmissions, lost segments, ACKs of unseen data, window problems) finds nothing.
fn assert_clean_tcp(profile: &Path, file: &Path, conns: usize, server_port: u16) {
    assert_eq!(
        count(profile, file, "tcp.flags.syn == 1 && tcp.flags.ack == 0"),
        conns
    );
    assert_eq!(
        count(profile, file, "tcp.flags.syn == 1 && tcp.flags.ack == 1"),
        conns
    );
    assert_eq!(count(profile, file, "tcp.flags.fin == 1"), 2 * conns);
    assert_eq!(count(profile, file, "tcp.flags.reset == 1"), 0);
    let bad = tshark(
        profile,
        file,
        &[
            "-Y",
            "tcp.checksum.status != 1 || ip.checksum.status != 1 || tcp.analysis.flags \
             || _ws.expert.severity >= warning || ip.src != 127.0.0.1 || ip.dst != 127.0.0.1",
        ],
    );
    assert!(bad.is_empty(), "tshark complains about:\n{bad}");
    let off_port = count(
        profile,
        file,
        &format!("tcp.srcport != {server_port} && tcp.dstport != {server_port}"),
    );
    assert_eq!(off_port, 0, "every segment is to or from the server's port");
}

const REQUEST: &str = "GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n";
/// ClientHello, ServerHello, Certificate, ServerHelloDone, ClientKeyExchange, Finished, then the
/// server's NewSessionTicket (RFC 5077 3.3: tickets are on by default) and Finished.
const FULL: [u32; 8] = [1, 2, 11, 14, 16, 20, 4, 20];
/// Resumed from that ticket, under the current key: no new ticket.
const RESUMED: [u32; 4] = [1, 2, 20, 20];

/// Both sides record the same two GCM connections (a full handshake with an HTTP request, then a
/// resumed one); both captures are checked the same way.
#[test]
fn tshark_decrypts_server_and_client_captures_with_the_embedded_secrets() {
    if !have("tshark", "--version") || !have("editcap", "--version") {
        return;
    }
    let p = Pki::new();
    let profile = p.dir.join("wireshark-profile");
    std::fs::create_dir(&profile).unwrap();
    let server_pcap = p.dir.join("server.pcapng");
    let client_pcap = p.dir.join("client.pcapng");
    let server = toytls_server(
        &p,
        &[
            "--http",
            "--suites",
            "gcm",
            "--pcap",
            server_pcap.to_str().unwrap(),
        ],
    );
    let mut client = Command::new(TOYTLS);
    client
        .args([
            "client",
            &format!("localhost:{}", server.port),
            "--suites",
            "gcm",
        ])
        .arg("--ca")
        .arg(p.ca())
        .args(["--reconnect", "1", "--pcap"])
        .arg(&client_pcap);
    let out = run(client, REQUEST.as_bytes());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "client failed: {stderr}");
    assert!(stderr.contains("reconnect 1: resumed"), "{stderr}");
    let reply = String::from_utf8_lossy(&out.stdout);
    assert!(reply.starts_with("HTTP/1.1 200 OK"), "{reply}");

    wait_for_fins(&profile, &server_pcap, 4);
    for file in [&server_pcap, &client_pcap] {
        let what = file.display();
        assert_eq!(
            handshake_types(&profile, file),
            [FULL.to_vec(), RESUMED.to_vec()],
            "{what}"
        );
        assert_clean_tcp(&profile, file, 2, server.port);

        let requests = tshark(
            &profile,
            file,
            &[
                "-Y",
                "http.request",
                "-T",
                "fields",
                "-e",
                "http.request.method",
                "-e",
                "http.request.uri",
            ],
        );
        assert_eq!(requests.trim(), "GET\t/hello", "{what}");
        let responses = tshark(&profile, file, &["-Y", "http.response", "-V"]);
        assert_eq!(
            count(&profile, file, "http.response.code == 200"),
            1,
            "{what}"
        );
        // The resumed connection carries no request (`--reconnect` sends nothing), only the two
        // close_notify alerts, which tshark reads only if it decrypted them.
        assert_eq!(
            count(
                &profile,
                file,
                "tcp.stream == 1 && tls.alert_message.desc == 0"
            ),
            2,
            "{what}"
        );
        assert!(
            responses.contains("cipher suite: TLS_RSA_WITH_AES_128_GCM_SHA256"),
            "{what}"
        );
        assert!(responses.contains("resumed: no"), "{what}");
        // What the server sent is what the client printed: the first response's body.
        let first_body = reply.split("\r\n\r\n").nth(1).unwrap();
        let first_line = first_body.lines().nth(2).unwrap();
        assert!(responses.contains(first_line), "{what}: {first_line:?}");

        // Negative: the same file without its Decryption Secrets Block.
        let stripped = p.dir.join("stripped.pcapng");
        let st = Command::new("editcap")
            .arg("--discard-all-secrets")
            .arg(file)
            .arg(&stripped)
            .status()
            .unwrap();
        assert!(st.success());
        assert_eq!(
            count(&profile, &stripped, "http"),
            0,
            "{what} without secrets"
        );
        assert_eq!(
            handshake_types(&profile, &stripped),
            [[&FULL[..5], &FULL[6..7]].concat(), RESUMED[..2].to_vec()],
            "without the secrets the Finished messages stay encrypted (the NewSessionTicket \
             before the server's ChangeCipherSpec is in the clear)"
        );
    }
}

/// The demo's capture: the toy suite, which Wireshark cannot decrypt, but every plaintext
/// handshake message of both handshakes and all four ChangeCipherSpecs dissected, and both
/// connections' key log lines inside.
#[test]
fn tshark_dissects_both_handshakes_of_the_demo_capture() {
    if !have("tshark", "--version") {
        return;
    }
    let p = Pki::new();
    let profile = p.dir.join("wireshark-profile");
    std::fs::create_dir(&profile).unwrap();
    let pcap = p.dir.join("demo.pcapng");
    let mut demo = Command::new(TOYTLS);
    demo.args(["demo", "--quiet", "--pcap"]).arg(&pcap);
    let out = run(demo, b"");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!("keys included: {}", pcap.display())),
        "{stdout}"
    );

    // The plaintext messages: the full handshake's, its NewSessionTicket (sent before the
    // server's ChangeCipherSpec, so in the clear) included; the resumed one's two hellos.
    assert_eq!(
        handshake_types(&profile, &pcap),
        [[&FULL[..5], &FULL[6..7]].concat(), RESUMED[..2].to_vec()]
    );
    assert_eq!(count(&profile, &pcap, "tls.change_cipher_spec"), 4);
    let ports = tshark(
        &profile,
        &pcap,
        &[
            "-Y",
            "tls.handshake.type == 2",
            "-T",
            "fields",
            "-e",
            "tcp.srcport",
        ],
    );
    let port: u16 = ports.lines().next().unwrap().trim().parse().unwrap();
    assert_clean_tcp(&profile, &pcap, 2, port);
    let bytes = std::fs::read(&pcap).unwrap();
    let lines = bytes.windows(14).filter(|w| w == b"CLIENT_RANDOM ").count();
    assert_eq!(lines, 2, "one key log line per connection");
}
