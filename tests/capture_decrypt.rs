//! `toytls decrypt`: the lesson of RSA key transport, checked on real captures.
//!
//! `tcpdump -i lo` and `tshark -i lo` record real connections to `toytls server` (CI runs as
//! root, so they may capture; tshark warns about root and captures all the same), and `toytls decrypt` with nothing but the server's private key must give back, byte
//! for byte, what each side sent: `toytls client` with both suites, `curl` and `openssl
//! s_client` with GCM, each full and resumed. The capture is robust: the sniffer is started with
//! a filter on the server's port (and tcpdump with `-U --immediate-mode`, every packet written at once), the test
//! waits for its "capture is active" line before connecting, waits until every connection's end
//! (a FIN each way, or a reset) is in the file before stopping it with SIGTERM, and waits for it
//! to exit.
//!
//! Bad input is checked on captures of the same kind cut, reordered, thinned or made wrong on
//! purpose: each gets its message, and nothing panics.

mod stacks;

use stacks::*;
use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};
use toytls::capture::packet::{self, FIN, LinkType, RST};
use toytls::capture::pcapng;
use toytls::capture::read::for_each_frame;

/// A running capture on the loopback interface, of TCP on one port: `tcpdump -i lo -U -w FILE
/// tcp port PORT` (legacy pcap) or `tshark -i lo -w FILE -f 'tcp port PORT'` (pcapng).
struct Tcpdump {
    guard: Guard,
    file: PathBuf,
    stderr: Collected,
}

fn tcpdump(file: &Path, port: u16) -> Tcpdump {
    sniff("tcpdump", file, port)
}

fn sniff(tool: &str, file: &Path, port: u16) -> Tcpdump {
    let filter = format!("tcp port {port}");
    let mut cmd = Command::new(tool);
    if tool == "tcpdump" {
        // -U and --immediate-mode: every packet is written as it comes, not when a buffer fills.
        // -B: a 64 MiB kernel buffer, so a busy machine does not make it drop packets.
        cmd.args([
            "-i",
            "lo",
            "-U",
            "--immediate-mode",
            "-B",
            "65536",
            "-n",
            "-s",
            "0",
            "-w",
        ])
        .arg(file)
        .arg(&filter);
    } else {
        // An empty profile, so no personal preference changes what is captured.
        let profile = file.with_extension("profile");
        std::fs::create_dir_all(&profile).unwrap();
        cmd.env("WIRESHARK_CONFIG_DIR", &profile)
            .args(["-i", "lo", "-B", "64", "-n", "-w"])
            .arg(file)
            .args(["-f", &filter]);
    }
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {tool}: {e}"));
    let stderr = collect(child.stderr.take().unwrap());
    let guard = Guard(child);
    // Each says so once the capture is active: tcpdump "listening on lo", tshark "Capture
    // started" (after "Capturing on 'Loopback: lo'").
    let ready = if tool == "tcpdump" {
        "listening on"
    } else {
        "Capture started"
    };
    stderr.wait_for(ready, || stderr.text());
    Tcpdump {
        guard,
        file: file.to_path_buf(),
        stderr,
    }
}

/// The frames of a capture file, with their link type.
fn frames(file: &Path) -> Vec<(LinkType, Vec<u8>)> {
    let bytes = std::fs::read(file).unwrap_or_default();
    let mut out = Vec::new();
    let _ = for_each_frame(&bytes[..], |l, f| out.push((l, f.to_vec())));
    out
}

impl Tcpdump {
    /// Waits until `conns` connections have ended in the file (a FIN each way, or a reset: a
    /// socket closed with unread data ends with one), then stops tcpdump cleanly.
    fn stop(mut self, conns: usize) -> PathBuf {
        let start = Instant::now();
        let (mut seen, mut quiet_since) = (0, Instant::now());
        loop {
            let mut ends: HashMap<(u16, u16), (usize, bool)> = HashMap::new();
            let all = frames(&self.file);
            if all.len() != seen {
                (seen, quiet_since) = (all.len(), Instant::now());
            }
            for (l, f) in all {
                if let Some((s, _)) = packet::parse(l, &f) {
                    let key = (
                        s.src.port().min(s.dst.port()),
                        s.src.port().max(s.dst.port()),
                    );
                    let e = ends.entry(key).or_default();
                    e.0 += usize::from(s.flags & FIN != 0);
                    e.1 |= s.flags & RST != 0;
                }
            }
            let n = ends
                .values()
                .filter(|(fins, rst)| *fins >= 2 || *rst)
                .count();
            if n >= conns {
                break;
            }
            // Every connection is there but one's end is not, and nothing has come for a while:
            // stop anyway (the decryption then says the capture ended first) rather than hang.
            if ends.len() >= conns && quiet_since.elapsed() > Duration::from_secs(5) {
                eprintln!("capture: stopping with {n} of {conns} ends seen: {ends:?}");
                break;
            }
            assert!(
                start.elapsed() < TIMEOUT,
                "only {n} of {conns} connections ended: (ports): (FINs, reset) {ends:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let pid = self.guard.0.id().to_string();
        let st = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(st.success());
        wait_exit(&mut self.guard, "tcpdump");
        // Both report what the kernel dropped ("N packets dropped by kernel"): a capture with
        // holes would make the decryption's failure look like ours.
        let report = self.stderr.wait_all();
        let report = String::from_utf8_lossy(&report);
        let dropped = report
            .lines()
            .filter(|l| l.contains("dropped"))
            .filter_map(|l| l.trim().split(' ').next()?.parse::<u64>().ok())
            .sum::<u64>();
        assert_eq!(dropped, 0, "the sniffer lost packets:\n{report}");
        self.file.clone()
    }
}

/// `toytls decrypt FILE --key KEY --out DIR` (plus `extra`).
fn decrypt(file: &Path, key: &Path, out: &Path, extra: &[&str]) -> (Output, String) {
    let mut c = Command::new(TOYTLS);
    c.arg("decrypt")
        .arg(file)
        .arg("--key")
        .arg(key)
        .arg("--out")
        .arg(out)
        .args(extra);
    let o = run(c, b"");
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    (o, text)
}

fn read(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn tcpdump_available() -> bool {
    have("tcpdump", "--version") && have("tshark", "--version")
}

/// `toytls client` <- `toytls server --http`, both suites, a full handshake fetching 100 kB and
/// a resumed one (which carries only the two close_notify alerts): decrypted with the server's
/// key alone.
#[test]
fn toytls_client_and_server_both_suites_full_and_resumed() {
    if !tcpdump_available() {
        return;
    }
    let p = Pki::new();
    for suite in ["toy", "gcm"] {
        let server = toytls_server(&p, &["--http", "--suites", suite]);
        // The toy suite recorded by tcpdump (pcap), GCM by tshark (pcapng).
        let tool = if suite == "toy" { "tcpdump" } else { "tshark" };
        let td = sniff(tool, &p.dir.join(format!("{suite}.cap")), server.port);
        let request = b"GET /bytes/100000 HTTP/1.1\r\nHost: localhost\r\n\r\n";
        let mut c = Command::new(TOYTLS);
        c.args([
            "client",
            &format!("localhost:{}", server.port),
            "--suites",
            suite,
        ])
        .arg("--ca")
        .arg(p.ca())
        .args(["--reconnect", "1"]);
        let client = run(c, request);
        assert!(
            client.status.success(),
            "{}",
            String::from_utf8_lossy(&client.stderr)
        );
        let file = td.stop(2);

        let out = p.dir.join(format!("{suite}-out"));
        let (o, text) = decrypt(&file, &p.key(), &out, &[]);
        assert!(o.status.success(), "{text}");
        assert!(text.contains("2 TCP connection(s), 2 decrypted"), "{text}");
        assert!(text.contains("no forward secrecy"), "{text}");
        assert!(text.contains("recovered from connection 1"), "{text}");
        // Full handshake: what each side sent, exactly.
        assert_eq!(read(&out, "1-client.bin"), request);
        assert_eq!(read(&out, "1-server.bin"), client.stdout);
        // Resumed: `--reconnect` sends no data, only close_notify, and the server answers no
        // request with its close_notify; both alerts are encrypted, so reading them proves the
        // resumed keys too.
        assert_eq!(read(&out, "2-client.bin"), b"");
        assert_eq!(read(&out, "2-server.bin"), b"");
        let second = &text[text.find("connection 2:").unwrap()..];
        assert!(
            second.contains("resumed (abbreviated handshake)"),
            "{second}"
        );
        assert!(
            second.contains("alert from the client: warning close_notify"),
            "{second}"
        );
        assert!(
            second.contains("alert from the server: warning close_notify"),
            "{second}"
        );
        let name = if suite == "toy" {
            "TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256"
        } else {
            "TLS_RSA_WITH_AES_128_GCM_SHA256"
        };
        assert!(second.contains(&format!("negotiated {name}")), "{second}");

        // The wrong key recovers nothing, and says why, for both connections.
        let wrong = p.dir.join(format!("wrong-ca-{suite}"));
        let st = Command::new(TOYTLS)
            .args(["ca", "init", "--out"])
            .arg(&wrong)
            .output()
            .unwrap();
        assert!(st.status.success());
        let (o, text) = decrypt(&file, &wrong.join("ca.key"), &out, &[]);
        assert!(!o.status.success(), "{text}");
        assert!(text.contains("2 TCP connection(s), 0 decrypted"), "{text}");
        assert!(
            text.contains("does not decrypt with this key: wrong key"),
            "{text}"
        );
        assert!(text.contains("was not recovered"), "{text}");
    }
}

/// A capture of one toytls GCM connection (full handshake, an HTTP request and answer), made by
/// tcpdump, as frames to damage.
fn one_connection(p: &Pki) -> (Vec<(LinkType, Vec<u8>)>, Vec<u8>) {
    let server = toytls_server(p, &["--http", "--suites", "gcm"]);
    let td = tcpdump(&p.dir.join("one.pcap"), server.port);
    let mut c = Command::new(TOYTLS);
    c.args([
        "client",
        &format!("127.0.0.1:{}", server.port),
        "--suites",
        "gcm",
    ])
    .arg("--ca")
    .arg(p.ca())
    .args(["--server-name", "localhost"]);
    // Several segments of application data: the server writes up to four records (64 KiB) per
    // system call, and a loopback segment holds a whole write, so the answer spans several.
    let client = run(c, b"GET /bytes/300000 HTTP/1.1\r\n\r\n");
    assert!(client.status.success());
    let file = td.stop(1);
    (frames(&file), client.stdout)
}

/// Writes frames as a pcapng file of our own (all Ethernet, as loopback on Linux).
fn write(p: &Pki, name: &str, frames: &[(LinkType, Vec<u8>)]) -> PathBuf {
    let path = p.dir.join(name);
    let mut f = std::fs::File::create(&path).unwrap();
    f.write_all(&pcapng::header()).unwrap();
    for (i, (l, fr)) in frames.iter().enumerate() {
        assert_eq!(*l, LinkType::Ethernet);
        f.write_all(&pcapng::packet(i as u64, fr)).unwrap();
    }
    path
}

#[test]
fn bad_input_gets_a_message_per_connection() {
    if !tcpdump_available() {
        return;
    }
    let p = Pki::new();
    let (frames, answer) = one_connection(&p);
    let out = p.dir.join("out");
    let data: Vec<usize> = (0..frames.len())
        .filter(|&i| packet::parse(frames[i].0, &frames[i].1).is_some_and(|(_, pl)| !pl.is_empty()))
        .collect();
    assert!(data.len() >= 5, "{} data segments", data.len());

    // Reordered and retransmitted segments: the same bytes.
    let mut shuffled = frames.clone();
    let (a, b) = (data[data.len() - 2], data[data.len() - 1]);
    shuffled.swap(a, b);
    shuffled.insert(data[1], frames[data[1]].clone());
    shuffled.push(frames[data[2]].clone());
    let file = write(&p, "shuffled.pcapng", &shuffled);
    let (o, text) = decrypt(&file, &p.key(), &out, &[]);
    assert!(o.status.success(), "{text}");
    assert_eq!(read(&out, "1-server.bin"), answer);
    assert!(
        text.contains("retransmitted or duplicate segments ignored"),
        "{text}"
    );

    // A missing segment (the server's flight): the hole is named.
    let mut thinned = frames.clone();
    thinned.remove(data[1]);
    let (o, text) = decrypt(&write(&p, "thin.pcapng", &thinned), &p.key(), &out, &[]);
    assert!(!o.status.success());
    assert!(text.contains("CANNOT DECRYPT"), "{text}");
    assert!(
        [
            "hole at offset",
            "missing at offset",
            "ServerHello is not in the capture"
        ]
        .iter()
        .any(|m| text.contains(m)),
        "{text}"
    );

    // The capture began after the handshake: no ClientHello.
    let late: Vec<_> = frames[data[3]..].to_vec();
    let (o, text) = decrypt(&write(&p, "late.pcapng", &late), &p.key(), &out, &[]);
    assert!(!o.status.success());
    assert!(text.contains("CANNOT DECRYPT"), "{text}");
    assert!(
        text.contains("the capture began after this connection did"),
        "{text}"
    );

    // A truncated file: what was read is reported, then the cut.
    let whole = std::fs::read(write(&p, "whole.pcapng", &frames)).unwrap();
    let cut = p.dir.join("cut.pcapng");
    std::fs::write(&cut, &whole[..whole.len() * 2 / 3]).unwrap();
    let (o, text) = decrypt(&cut, &p.key(), &out, &[]);
    assert!(!o.status.success());
    assert!(text.contains("could not be read to the end"), "{text}");
    assert!(
        text.contains("the capture ends before this connection did"),
        "{text}"
    );
    let partial = read(&out, "1-server.bin");
    assert!(
        !partial.is_empty() && answer.starts_with(&partial),
        "what came before the cut"
    );

    // Not TLS: the HTTP request sent in the clear to the TLS port.
    let server = toytls_server(&p, &["--http"]);
    let td = tcpdump(&p.dir.join("plain.pcap"), server.port);
    let mut s = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    s.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
    let _ = std::io::Read::read_to_end(&mut s, &mut Vec::new());
    drop(s);
    let file = td.stop(1);
    let (o, text) = decrypt(&file, &p.key(), &out, &[]);
    assert!(!o.status.success());
    assert!(
        text.contains("not TLS: the client's first bytes are not a TLS record"),
        "{text}"
    );

    // Not a capture at all.
    let (o, text) = decrypt(&p.key(), &p.key(), &out, &[]);
    assert!(!o.status.success());
    assert!(text.contains("not a pcap or pcapng capture file"), "{text}");
}

/// `curl` <- `toytls server --http` (GCM, the suite curl has): two URLs in one run, so the second
/// connection resumes the first's session.
#[test]
fn curl_full_and_resumed() {
    if !tcpdump_available() || !have("curl", "--version") {
        return;
    }
    let p = Pki::new();
    let server = toytls_server(&p, &["--http"]);
    let td = tcpdump(&p.dir.join("curl.pcap"), server.port);
    let base = format!("https://localhost:{}", server.port);
    let mut c = Command::new("curl");
    c.args([
        "-sS",
        "--tlsv1.2",
        "--tls-max",
        "1.2",
        "--ciphers",
        "AES128-GCM-SHA256",
        "--cacert",
    ])
    .arg(p.ca())
    .arg(format!("{base}/bytes/20000"))
    .arg(format!("{base}/hello"));
    let curl = run(c, b"");
    assert!(
        curl.status.success(),
        "{}",
        String::from_utf8_lossy(&curl.stderr)
    );
    let file = td.stop(2);
    let out = p.dir.join("out");
    let (o, text) = decrypt(&file, &p.key(), &out, &[]);
    assert!(o.status.success(), "{text}");
    assert!(text.contains("2 TCP connection(s), 2 decrypted"), "{text}");
    assert!(
        text.contains("resumed (abbreviated handshake)"),
        "curl resumed:\n{text}"
    );
    let (first, second) = curl.stdout.split_at(20000);
    for (id, path, body) in [(1, "/bytes/20000", first), (2, "/hello", second)] {
        let req = String::from_utf8(read(&out, &format!("{id}-client.bin"))).unwrap();
        assert!(
            req.starts_with(&format!("GET {path} HTTP/1.1\r\n")),
            "{req}"
        );
        assert!(req.ends_with("\r\n\r\n"), "{req}");
        let answer = read(&out, &format!("{id}-server.bin"));
        assert!(answer.starts_with(b"HTTP/1.1 200 OK\r\n"));
        assert!(
            answer.ends_with(body),
            "connection {id}: the body curl printed"
        );
    }
    assert!(String::from_utf8_lossy(second).contains("resumed: yes"));
}

/// `openssl s_client` <- `toytls server --echo`, full (saving the session) then resumed from the
/// saved session.
#[test]
fn openssl_s_client_full_and_resumed() {
    if !tcpdump_available() || !have("openssl", "version") {
        return;
    }
    let p = Pki::new();
    let server = toytls_server(&p, &["--echo"]);
    let td = tcpdump(&p.dir.join("s_client.pcap"), server.port);
    let sess = p.dir.join("session.pem");
    let lines = [
        "the first connection says hello",
        "the resumed one says hello again",
    ];
    for (i, line) in lines.iter().enumerate() {
        let mut c = Command::new("openssl");
        c.args(["s_client", "-tls1_2", "-cipher", "AES128-GCM-SHA256"])
            .arg("-connect")
            .arg(format!("127.0.0.1:{}", server.port))
            .args(["-servername", "localhost", "-CAfile"])
            .arg(p.ca())
            .arg(if i == 0 { "-sess_out" } else { "-sess_in" })
            .arg(&sess);
        let mut s = Interactive::spawn(c);
        s.type_line(line);
        s.stdout.wait_for(line, || s.outputs());
        s.close_stdin();
        wait_exit(&mut s.guard, "s_client");
        if i == 1 {
            assert!(
                s.stdout.text().contains("Reused, TLSv1.2"),
                "{}",
                s.outputs()
            );
        }
    }
    let file = td.stop(2);
    let out = p.dir.join("out");
    let (o, text) = decrypt(&file, &p.key(), &out, &[]);
    assert!(o.status.success(), "{text}");
    assert!(text.contains("2 TCP connection(s), 2 decrypted"), "{text}");
    assert!(text.contains("recovered from connection 1"), "{text}");
    for (id, line) in [(1, lines[0]), (2, lines[1])] {
        let sent = format!("{line}\n").into_bytes();
        assert_eq!(
            read(&out, &format!("{id}-client.bin")),
            sent,
            "connection {id}"
        );
        assert_eq!(
            read(&out, &format!("{id}-server.bin")),
            sent,
            "connection {id}: the echo"
        );
    }
}

/// Our own `--pcap` capture decrypts too (the demo's, with the key it writes beside it), and a
/// key log works instead of the key.
#[test]
fn demo_capture_and_key_log() {
    let p = Pki::new();
    let pcap = p.dir.join("demo.pcapng");
    let mut demo = Command::new(TOYTLS);
    demo.args(["demo", "--quiet", "--pcap"]).arg(&pcap);
    let o = run(demo, b"");
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{stdout}");
    let key = p.dir.join("demo.pcapng.server-key.pem");
    assert!(stdout.contains(&format!(
        "toytls decrypt {} --key {}",
        pcap.display(),
        key.display()
    )));
    let out = p.dir.join("out");
    let (o, text) = decrypt(&pcap, &key, &out, &[]);
    assert!(o.status.success(), "{text}");
    assert!(
        text.contains("TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256"),
        "{text}"
    );
    for id in [1, 2] {
        let said = read(&out, &format!("{id}-client.bin"));
        assert_eq!(said, b"Hello, server! Only you can read this.");
    }

    // The key log instead of the key: written by the client, the only secret given.
    let server = toytls_server(
        &p,
        &[
            "--echo",
            "--pcap",
            p.dir.join("srv.pcapng").to_str().unwrap(),
        ],
    );
    let keylog = p.dir.join("keys.log");
    let mut c = Command::new(TOYTLS);
    c.args(["client", &format!("localhost:{}", server.port), "--ca"])
        .arg(p.ca())
        .arg("--keylog")
        .arg(&keylog)
        .args(["--reconnect", "1", "--pcap"])
        .arg(p.dir.join("client.pcapng"));
    assert!(run(c, b"logged\n").status.success());
    let mut d = Command::new(TOYTLS);
    d.arg("decrypt")
        .arg(p.dir.join("client.pcapng"))
        .arg("--keylog")
        .arg(&keylog)
        .arg("--out")
        .arg(&out);
    let o = run(d, b"");
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{text}");
    assert!(text.contains("2 CLIENT_RANDOM lines"), "{text}");
    assert!(text.contains("master secret, from the key log"), "{text}");
    assert!(
        !text.contains("no forward secrecy"),
        "the lesson is about the server's key"
    );
    assert_eq!(read(&out, "1-client.bin"), b"logged\n");
    assert_eq!(read(&out, "1-server.bin"), b"logged\n");
}
