//! A connection as a self-contained web page: every record's bytes in hex, every byte range
//! named, every secret with the inputs that made it.
//!
//! Events in, HTML out: [`render`] takes the trace events of one peer ([`crate::trace`], the
//! same events the demo narrates and `spec/transcript.md` is made of) for one or more
//! connections and returns one HTML document with its CSS and JavaScript inline. Nothing is
//! fetched; the page reads the same without JavaScript (the script only adds the highlighting
//! of a field and its description panel; the view switch is plain HTML and CSS).
//!
//! The page tells the story in the order it happened, as seen by the peer whose events it is
//! given (the client, for `toytls demo` and `toytls client`): TCP connect, the hellos, the
//! certificate and its check, the pre-master secret and its RSA encryption, the key schedule,
//! ChangeCipherSpec and Finished, application data, close_notify; a resumed connection ends
//! with what it skipped. A switch shows "what an eavesdropper sees" (the bytes on the wire) or
//! "what the endpoints know" (every secret, and the plaintext inside each protected record).
//!
//! Given the same events, the output is the same bytes: with a seeded RNG and a fixed clock a
//! connection is reproducible, and so is its page (`spec/connection.html`, checked by
//! `tests/html_page.rs`).

pub mod annotate;
pub mod attack;
mod parts;
mod story;

use crate::trace::TraceEvent;
use std::collections::BTreeSet;
use std::fmt::Write as _;
use story::Conn;

/// One connection to draw.
pub struct Connection {
    /// Where it went, e.g. `localhost (127.0.0.1:8443)`.
    pub peer: String,
    /// The events of one peer (events of the other side, if any, are left out).
    pub events: Vec<TraceEvent>,
}

/// A page: a title, a line about how it was made, and its connections in order.
pub struct Page {
    pub title: String,
    /// How the page was made (a command line, a seed); shown under the title.
    pub about: String,
    pub connections: Vec<Connection>,
}

const CSS: &str = include_str!("page.css");
const JS: &str = include_str!("page.js");

/// Escapes text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            _ => o.push(ch),
        }
    }
    o
}

/// What the page of a connection says first.
const CONNECTION_INTRO: &str = "Every record below is shown byte for byte as it crossed the wire. \
         Point at a byte, or tab to it, to see the field it belongs to: its name, its value, what \
         it means and the RFC section that defines it. Each record's table lists the same. \
         <span class=\"known\">Secret values, and the plaintext inside each encrypted record, \
         are what only the two endpoints know: switch to the eavesdropper's view to see what \
         anyone on the network path gets.</span><span class=\"wire-only\">This is the \
         eavesdropper's view: only the bytes on the wire. Switch back to see every secret.</span>";

/// The whole page.
pub fn render(page: &Page) -> String {
    let mut body = String::new();
    let mut toc = String::new();
    let mut first_messages: BTreeSet<u8> = BTreeSet::new();
    for (i, c) in page.connections.iter().enumerate() {
        let n = i + 1;
        let mut r = Conn::new(n, c, first_messages.clone());
        r.run();
        if i == 0 {
            first_messages = r.messages.clone();
        }
        let _ = write!(
            toc,
            "<li><a href=\"#c{n}\">{}</a><ol>{}</ol></li>",
            esc(&r.title),
            r.toc
        );
        body.push_str(&r.out);
    }
    shell(&page.title, &page.about, CONNECTION_INTRO, &toc, &body)
}

/// The page around a body: head, styles, the view switch, the introduction (`intro`, HTML), the table of
/// contents (`toc`: the `<li>` items), the side panel and the script. Every page toytls draws
/// (a connection, an attack) is this shell around its own body.
pub(crate) fn shell(title: &str, about: &str, intro: &str, toc: &str, body: &str) -> String {
    let mut o = String::new();
    o.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    o.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(o, "<title>{}</title>", esc(title));
    let _ = writeln!(o, "<style>\n{CSS}</style>\n</head>\n<body>");
    // The view switch: two radio buttons before everything they govern, so CSS alone can
    // show or hide the secrets (no script needed).
    o.push_str(
        "<input type=\"radio\" name=\"view\" id=\"v-known\" class=\"view\" checked>\n\
         <input type=\"radio\" name=\"view\" id=\"v-wire\" class=\"view\">\n<div class=\"page\">\n",
    );
    let _ = writeln!(
        o,
        "<header><h1>{}</h1><p class=\"about\">{}</p>",
        esc(title),
        esc(about)
    );
    o.push_str(
        "<nav class=\"switch\" aria-label=\"view\"><span>Show:</span>\
         <label for=\"v-known\">what the endpoints know</label>\
         <label for=\"v-wire\">what an eavesdropper sees</label></nav>\n",
    );
    let _ = writeln!(o, "<p class=\"intro\">{intro}</p>");
    let _ = writeln!(o, "<nav class=\"toc\"><ol>{toc}</ol></nav>\n</header>");
    o.push_str("<main>\n");
    o.push_str(body);
    o.push_str("</main>\n");
    o.push_str(
        "<aside id=\"info\" aria-live=\"polite\"><p class=\"hint\">Point at a byte \
         (or tab to it) to see its field.</p></aside>\n",
    );
    o.push_str("<footer><p>Made by toytls, a TLS 1.2 written to be read. RFC 5246 is TLS 1.2; RFC 7627 the extended master secret; RFC 5288 the GCM suites; RFC 6066 server_name; RFC 5746 renegotiation_info.</p></footer>\n");
    o.push_str("</div>\n");
    let _ = writeln!(o, "<script>\n{JS}</script>\n</body>\n</html>");
    o
}
