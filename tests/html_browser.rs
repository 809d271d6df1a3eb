//! The `--html` page in a real browser: headless Chromium (Debian's `chromium`, which `.ci/run`
//! installs) loads the pages of `toytls demo --seed 1` (our suite, then GCM) and of `toytls
//! client` against `toytls server` and `openssl s_server`, and of `toytls server --html` serving
//! `toytls client` and `openssl s_client` (full and resumed); the test checks the DOM after the
//! page's script ran (every record, every secret, both handshakes, every field linked to its
//! description, nothing on the console) and saves screenshots under `target/html/`.
//!
//! Without chromium (or openssl) the test says loudly that it skipped; with
//! `TOYTLS_REQUIRE_STACKS=1`, as CI sets, it fails instead.

mod stacks;

use stacks::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Where the screenshots go: `target/html/`.
fn shots() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("html");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// What Chromium made of a page: the DOM after its scripts ran, and its console lines.
struct Rendered {
    dom: String,
    console: Vec<String>,
}

fn chromium(page: &Path, profile: &Path, extra: &[String]) -> (Vec<u8>, String) {
    let mut cmd = Command::new("chromium");
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--hide-scrollbars",
        "--enable-logging=stderr",
        "--v=0",
    ])
    .arg(format!("--user-data-dir={}", profile.display()))
    .args(extra)
    .arg(format!("file://{}", page.display()))
    .stdin(Stdio::null());
    let out = run(cmd, b"");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn load(page: &Path, dir: &Path) -> Rendered {
    let (dom, log) = chromium(page, &dir.join("profile"), &["--dump-dom".into()]);
    Rendered {
        dom: String::from_utf8(dom).unwrap(),
        console: log
            .lines()
            .filter(|l| l.contains(":CONSOLE"))
            .map(str::to_string)
            .collect(),
    }
}

fn screenshot(page: &Path, dir: &Path, name: &str) {
    let png = shots().join(name);
    let _ = std::fs::remove_file(&png);
    chromium(
        page,
        &dir.join("profile"),
        &[
            format!("--screenshot={}", png.display()),
            "--window-size=1440,900".into(),
        ],
    );
    let bytes = std::fs::read(&png).unwrap();
    assert!(
        bytes.starts_with(b"\x89PNG") && bytes.len() > 10_000,
        "no screenshot in {}",
        png.display()
    );
}

fn attr<'a>(dom: &'a str, name: &str) -> &'a str {
    let start = dom.find(&format!("{name}=\"")).expect(name) + name.len() + 2;
    &dom[start..start + dom[start..].find('"').unwrap()]
}

/// The checks every page passes, given the page's own source.
fn check(r: &Rendered, source: &str, secrets: &[&str]) {
    assert!(r.console.is_empty(), "console output: {:#?}", r.console);
    // The script ran (it marks the root) and found the description of every field.
    let html = r.dom.find("<html").expect("an html element");
    let root = &r.dom[html..html + r.dom[html..].find('>').unwrap()];
    assert!(
        root.contains("class=\"js\""),
        "the script did not run: {root}"
    );
    let fields = attr(root, "data-fields");
    let (spans, linked) = fields.split_once('/').unwrap();
    let in_source = source.matches("<span class=\"f ").count();
    assert_eq!(
        spans.parse::<usize>().unwrap(),
        in_source,
        "fields in the DOM"
    );
    assert_eq!(spans, linked, "a field whose description row is missing");
    // Every record and both handshakes.
    let records = source.matches("<section class=\"rec ").count();
    assert!(records >= 16, "only {records} records");
    assert_eq!(r.dom.matches("<section class=\"rec ").count(), records);
    assert!(r.dom.contains("data-resumed=\"false\"") && r.dom.contains("data-resumed=\"true\""));
    // Every secret.
    for s in secrets {
        assert!(
            r.dom.contains(&format!("data-secret=\"{s}\"")),
            "no {s} in the DOM"
        );
    }
}

const SECRETS: &[&str] = &[
    "pre-master secret",
    "session hash",
    "master secret",
    "key block",
    "client write key",
    "server write key",
    "client write IV",
    "server write IV",
    "client verify_data",
];

#[test]
fn the_demo_page_renders_in_chromium() {
    if !have("chromium", "--version") {
        return;
    }
    let dir = TempDir::new("html_browser");
    for (suites, name) in [("toy,gcm", "demo-toy"), ("gcm", "demo-gcm")] {
        let page = dir.join(format!("{name}.html"));
        let out = Command::new(TOYTLS)
            .args([
                "demo", "--quiet", "--seed", "1", "--suites", suites, "--html",
            ])
            .arg(&page)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let source = std::fs::read_to_string(&page).unwrap();
        let r = load(&page, &dir);
        let mut secrets = SECRETS.to_vec();
        if suites == "toy,gcm" {
            secrets.extend(["client write MAC key", "server write MAC key"]);
        }
        check(&r, &source, &secrets);
        screenshot(&page, &dir, &format!("{name}.png"));
        // The eavesdropper's view: the same page with the other switch position.
        let wire = dir.join(format!("{name}-eavesdropper.html"));
        let flipped = source
            .replacen("class=\"view\" checked>", "class=\"view\">", 1)
            .replacen(
                "id=\"v-wire\" class=\"view\">",
                "id=\"v-wire\" class=\"view\" checked>",
                1,
            );
        assert_ne!(flipped, source);
        std::fs::write(&wire, flipped).unwrap();
        screenshot(&wire, &dir, &format!("{name}-eavesdropper.png"));
    }
}

#[test]
fn a_script_error_would_be_caught() {
    // The console check can fail: the demo page with one broken call in its script.
    if !have("chromium", "--version") {
        return;
    }
    let dir = TempDir::new("html_browser_err");
    let page = dir.join("broken.html");
    let out = Command::new(TOYTLS)
        .args(["demo", "--quiet", "--seed", "1", "--html"])
        .arg(&page)
        .output()
        .unwrap();
    assert!(out.status.success());
    let source = std::fs::read_to_string(&page).unwrap();
    let broken = source.replacen(
        "root.classList.add(\"js\");",
        "root.classList.add(\"js\"); noSuchFunction();",
        1,
    );
    assert_ne!(broken, source);
    std::fs::write(&page, &broken).unwrap();
    let r = load(&page, &dir);
    assert!(
        r.console.iter().any(|l| l.contains("noSuchFunction")),
        "the error did not reach the console: {:?}",
        r.console
    );
    let caught = std::panic::catch_unwind(|| check(&r, &broken, SECRETS));
    assert!(caught.is_err());
}

/// `toytls client --html` for a full and a resumed connection to `server`.
fn client_page(p: &Pki, port: u16, suites: &str, dir: &Path, name: &str) -> PathBuf {
    let page = dir.join(format!("{name}.html"));
    let mut cmd = Command::new(TOYTLS);
    cmd.args(["client", &format!("localhost:{port}"), "--ca"])
        .arg(p.ca())
        .args(["--suites", suites, "--reconnect", "1", "--html"])
        .arg(&page);
    let out = run(cmd, b"GET / HTTP/1.0\r\n\r\n");
    assert!(
        out.status.success(),
        "toytls client: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("reconnect 1: resumed"));
    page
}

#[test]
fn client_pages_of_our_server_and_openssl_render_in_chromium() {
    if !have("chromium", "--version") || !have("openssl", "version") {
        return;
    }
    let dir = TempDir::new("html_client");
    let p = Pki::new();
    let ours = toytls_server(&p, &["--http"]);
    let page = client_page(&p, ours.port, "toy", &dir, "client-toytls");
    let source = std::fs::read_to_string(&page).unwrap();
    let mut secrets = SECRETS.to_vec();
    secrets.push("client write MAC key");
    check(&load(&page, &dir), &source, &secrets);

    let port = free_port();
    let mut s = s_server_command(&p, port);
    s.args(["-www", "-quiet"]);
    let _server = start_server(s, port);
    let page = client_page(&p, port, "gcm", &dir, "client-openssl");
    let source = std::fs::read_to_string(&page).unwrap();
    // OpenSSL's answer: its HTTP response, decrypted, is on the page.
    assert!(
        source.contains("HTTP/1.0 200 ok"),
        "no response inside the records"
    );
    check(&load(&page, &dir), &source, SECRETS);
    screenshot(&page, &dir, "client-openssl.png");
}

/// The secrets a server's page shows: the client's, but the server's verify_data for the
/// client's (the server checks the client's Finished without a secret of its own for it).
fn server_secrets() -> Vec<&'static str> {
    let mut v: Vec<&str> = SECRETS
        .iter()
        .copied()
        .filter(|s| *s != "client verify_data")
        .collect();
    v.extend(["server verify_data", "client write MAC key"]);
    v
}

/// The connections of a page, each section's source.
fn connections(source: &str) -> Vec<&str> {
    source.split("<section class=\"conn\"").skip(1).collect()
}

/// The lengths of a page part's records, sorted (both ends see the same records).
fn record_sizes(part: &str) -> Vec<usize> {
    let mut v: Vec<usize> = part
        .split("<section class=\"rec ")
        .skip(1)
        .map(|r| attr(r, "data-bytes").parse().unwrap())
        .collect();
    v.sort_unstable();
    v
}

/// `openssl s_client` to `port`: a full handshake saving the session to `sess`, or a resumed
/// one from it.
fn openssl_connect(p: &Pki, port: u16, sess: &Path, resume: bool) {
    let mut c = s_client_command(port, &p.ca());
    c.arg(if resume { "-sess_in" } else { "-sess_out" })
        .arg(sess);
    let out = run(c, b"");
    let text = String::from_utf8_lossy(&out.stdout);
    let expect = if resume {
        "Reused, TLSv1.2"
    } else {
        "New, TLSv1.2"
    };
    assert!(
        text.contains(expect),
        "openssl s_client: no {expect:?} in {text}"
    );
}

/// Waits until the page at `path` has `n` connections (it is rewritten as each one ends).
fn page_with(path: &Path, n: usize) -> String {
    let start = std::time::Instant::now();
    loop {
        let source = std::fs::read_to_string(path).unwrap_or_default();
        if connections(&source).len() >= n {
            return source;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(20),
            "the page has {} connections, not {n}",
            connections(&source).len()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn the_server_page_of_toytls_and_openssl_clients_renders_in_chromium() {
    if !have("chromium", "--version") || !have("openssl", "version") {
        return;
    }
    let dir = TempDir::new("html_server");
    let p = Pki::new();
    let path = dir.join("server.html");
    let page_arg = path.to_str().unwrap().to_string();
    let server = toytls_server(
        &p,
        &["--http", "--html", &page_arg, "--html-connections", "4"],
    );
    // A port probe that sends nothing takes no place on the page.
    drop(std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap());
    let client = client_page(&p, server.port, "toy", &dir, "client-of-server");
    let first_two = page_with(&path, 2);
    let sess = dir.join("openssl-session.pem");
    openssl_connect(&p, server.port, &sess, false);
    openssl_connect(&p, server.port, &sess, true);
    let source = page_with(&path, 4);
    let conns = connections(&source);
    assert_eq!(conns.len(), 4);
    let resumed: Vec<bool> = conns
        .iter()
        .map(|c| attr(c, "data-resumed") == "true")
        .collect();
    assert_eq!(resumed, [false, true, false, true], "full, resumed, twice");
    // The server drew every record our client drew, in both connections, but perhaps the
    // client's close_notify (39 bytes in our suite): `--http` closes after its answer and does
    // not read on, so that record reaches the server's socket and not the server.
    let client_source = std::fs::read_to_string(&client).unwrap();
    let theirs = connections(&client_source);
    assert_eq!(theirs.len(), 2);
    for i in 0..2 {
        let mut missing = record_sizes(theirs[i]);
        for size in record_sizes(conns[i]) {
            let at = missing.iter().position(|&m| m == size);
            let at =
                at.unwrap_or_else(|| panic!("connection {}: a record the client never saw", i + 1));
            missing.remove(at);
        }
        assert!(
            missing.is_empty() || missing == [39],
            "connection {}: the server's page lacks records of {missing:?} bytes",
            i + 1
        );
    }
    assert_eq!(connections(&first_two).len(), 2);
    // The request our client sent, decrypted by the server, and OpenSSL's connections with a
    // ClientKeyExchange in the first and none in the resumed one.
    assert!(
        conns[0].contains("GET / HTTP/1.0"),
        "no request inside the records"
    );
    assert!(conns[2].contains("ClientKeyExchange › encrypted pre-master secret"));
    assert!(!conns[3].contains("ClientKeyExchange › msg_type"));
    for c in &conns[2..] {
        assert!(c.contains("A client, 127.0.0.1:"), "no client address");
        assert!(
            c.contains("close_notify"),
            "OpenSSL's close_notify is not drawn"
        );
    }
    check(&load(&path, &dir), &source, &server_secrets());
    screenshot(&path, &dir, "server.png");
    // A fifth connection is past --html-connections: the page stays as it was.
    openssl_connect(&p, server.port, &sess, false);
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), source);
}

/// Runs `tests/html_interact.py` on `page`: real mouse moves, a Tab and clicks through the
/// DevTools protocol; returns its exit status and stderr.
fn interact(page: &Path, shot: &str, attack: bool) -> (bool, String) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/html_interact.py");
    let png = shots().join(shot);
    let mut cmd = Command::new("python3");
    cmd.arg(script).arg(page).arg(&png);
    if attack {
        cmd.arg("--attack");
    }
    let out = run(cmd, b"");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Pointing at a byte highlights its field (and no other) and fills the panel with its name,
/// value, meaning and RFC section; Tab moves to the next field; the switch hides and shows the
/// secrets; nothing on the console. On the demo's page and on an attack's, where the byte
/// pointed at is the one the man in the middle flipped.
#[test]
fn pointing_tabbing_and_the_switch_work_in_chromium() {
    if !have("chromium", "--version") || !have("python3", "--version") {
        return;
    }
    let dir = TempDir::new("html_interact");
    let demo = dir.join("demo.html");
    let tamper = dir.join("tamper.html");
    for (args, page) in [
        (&["demo", "--quiet", "--seed", "1", "--html"][..], &demo),
        (&["attack", "tamper", "--html"][..], &tamper),
    ] {
        let out = Command::new(TOYTLS).args(args).arg(page).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let (ok, err) = interact(&demo, "demo-pointed.png", false);
    assert!(ok, "{err}");
    let (ok, err) = interact(&tamper, "attack-tamper-pointed.png", true);
    assert!(ok, "{err}");
    // The checks can fail: a page whose script no longer highlights, and one whose switch no
    // longer hides the secrets.
    let source = std::fs::read_to_string(&demo).unwrap();
    for (from, to, says) in [
        ("span.classList.add(\"hl\");", "", "highlighted"),
        (
            "#v-wire:checked ~ .page .known { display: none; }",
            "",
            "the eavesdropper's view shows",
        ),
    ] {
        let broken = source.replacen(from, to, 1);
        assert_ne!(broken, source);
        let page = dir.join("broken.html");
        std::fs::write(&page, broken).unwrap();
        let (ok, err) = interact(&page, "broken.png", false);
        assert!(!ok && err.contains(says), "{err}");
    }
}
