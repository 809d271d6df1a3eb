#!/usr/bin/env python3
"""Drives an --html page in headless Chromium the way a reader does, through the DevTools
protocol (CDP) over --remote-debugging-pipe: real mouse moves, a real Tab key press and real
clicks, then checks what the page did.

    html_interact.py PAGE.html SHOT.png [--attack]

1. The pointer moves over a byte of a field (ClientHello's random, or for an attack page a byte
   the man in the middle changed): that field, and only that one, is highlighted, its table row
   too, and the side panel names it, gives its value and its RFC section.
2. Tab from that field: the focus moves to the next field, which is highlighted in its place.
3. A click on "what an eavesdropper sees" hides every secret and every plaintext; a click on
   "what the endpoints know" shows them again.
4. Nothing reaches the console (console calls, exceptions, log errors).
Saves a screenshot (the pointer over the field, the panel filled in) to SHOT.png. Exits 0 when
everything held, else 1 with the first failure. Used by tests/html_browser.rs.

The pipe protocol: Chromium reads commands from its fd 3 and writes answers and events to its fd
4, each message one JSON object followed by a NUL byte.
"""

import base64
import json
import os
import subprocess
import sys
import tempfile
import time

TIMEOUT = 30.0


class Browser:
    def __init__(self, profile):
        to_child_r, self.to_child = os.pipe()
        self.from_child, from_child_w = os.pipe()

        def fds():
            # Chromium's fd 3 reads our commands, its fd 4 writes its answers.
            a, b = os.dup(to_child_r), os.dup(from_child_w)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.proc = subprocess.Popen(
            ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--hide-scrollbars", "--remote-debugging-pipe", "--user-data-dir=" + profile,
             "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=fds, pass_fds=(3, 4))
        os.close(to_child_r)
        os.close(from_child_w)
        self.buf = b""
        self.next_id = 0
        self.events = []
        self.session = None

    def close(self):
        try:
            self.call("Browser.close", session=False)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self.to_child)
        os.close(self.from_child)

    def _read_message(self, deadline):
        while b"\0" not in self.buf:
            if time.time() > deadline:
                raise AssertionError("Chromium did not answer in time")
            chunk = os.read(self.from_child, 1 << 16)
            if not chunk:
                raise AssertionError("Chromium closed the pipe")
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, params=None, session=True):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session and self.session:
            msg["sessionId"] = self.session
        os.write(self.to_child, json.dumps(msg).encode() + b"\0")
        deadline = time.time() + TIMEOUT
        while True:
            m = self._read_message(deadline)
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise AssertionError(f"{method}: {m['error']}")
                return m.get("result", {})
            self.events.append(m)

    def wait_event(self, method):
        deadline = time.time() + TIMEOUT
        for i, e in enumerate(self.events):
            if e.get("method") == method:
                return self.events.pop(i)
        while True:
            m = self._read_message(deadline)
            if m.get("method") == method:
                return m
            self.events.append(m)

    def js(self, expr):
        r = self.call("Runtime.evaluate", {"expression": expr, "returnByValue": True})
        if "exceptionDetails" in r:
            raise AssertionError(f"script {expr!r} failed: {r['exceptionDetails']}")
        return r["result"].get("value")

    def mouse(self, kind, x, y, button="none", clicks=0):
        self.call("Input.dispatchMouseEvent",
                  {"type": kind, "x": x, "y": y, "button": button, "clickCount": clicks})

    def click(self, x, y):
        self.mouse("mouseMoved", x, y)
        self.mouse("mousePressed", x, y, "left", 1)
        self.mouse("mouseReleased", x, y, "left", 1)

    def key_tab(self):
        for kind in ("rawKeyDown", "keyUp"):
            self.call("Input.dispatchKeyEvent",
                      {"type": kind, "key": "Tab", "code": "Tab",
                       "windowsVirtualKeyCode": 9, "nativeVirtualKeyCode": 9})

    def problems(self):
        """Console lines, exceptions and log errors seen so far."""
        out = []
        for e in self.events:
            m, p = e.get("method"), e.get("params", {})
            if m == "Runtime.consoleAPICalled":
                out.append("console." + p.get("type", "?") + ": " +
                           " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", [])))
            elif m == "Runtime.exceptionThrown":
                d = p.get("exceptionDetails", {})
                out.append("exception: " + str(d.get("exception", {}).get("description", d.get("text"))))
            elif m == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
                out.append("log error: " + p["entry"].get("text", ""))
        return out


def check(cond, what):
    if not cond:
        raise AssertionError(what)


# The center of the first byte of a span, scrolled into view: `sel` is a JS expression giving
# the element.
def byte_center(b, sel):
    r = b.js(f"""(() => {{ const s = {sel}; if (!s) return null;
        s.scrollIntoView({{block: 'center'}});
        const r = (s.querySelector('b') || s).getBoundingClientRect();
        return [r.left + r.width / 2, r.top + r.height / 2]; }})()""")
    check(r is not None, f"no element for {sel}")
    return r


# What the page shows about the field highlighted now.
STATE = """(() => {
  const hl = Array.from(document.querySelectorAll('.hex .f.hl'));
  const info = document.getElementById('info');
  const rows = Array.from(document.querySelectorAll('tr.hl'));
  return {
    spans: hl.map(s => s.getAttribute('data-row')),
    rows: rows.map(r => r.id),
    active: document.activeElement && document.activeElement.getAttribute('data-row'),
    title: (info.querySelector('h5') || {}).textContent || '',
    value: (info.querySelector('.val') || {}).textContent || '',
    panel: info.textContent,
  };
})()"""


def row_of(b, data_row):
    return b.js(f"""(() => {{ const r = document.getElementById({json.dumps(data_row)});
        return r ? Array.from(r.children).map(c => c.textContent) : null; }})()""")


def run(page, shot, attack):
    profile = tempfile.mkdtemp(prefix="toytls-cdp-")
    b = Browser(profile)
    try:
        target = b.call("Target.createTarget", {"url": "about:blank"}, session=False)
        b.session = b.call("Target.attachToTarget",
                           {"targetId": target["targetId"], "flatten": True},
                           session=False)["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            b.call(domain + ".enable")
        b.call("Emulation.setDeviceMetricsOverride",
               {"width": 1440, "height": 900, "deviceScaleFactor": 1, "mobile": False})
        b.call("Page.navigate", {"url": "file://" + os.path.abspath(page)})
        b.wait_event("Page.loadEventFired")
        check(b.js("document.documentElement.classList.contains('js')"), "the page's script did not run")

        # 1. Point at a byte.
        if attack:
            target_sel = "document.querySelector('.rec.changed .hex:not(.orig) b.chg').closest('.f')"
        else:
            target_sel = ("Array.from(document.querySelectorAll('.hex.wire .f'))"
                          ".find(s => s.title.startsWith('ClientHello › random'))")
        x, y = byte_center(b, target_sel)
        b.mouse("mouseMoved", x, y)
        st = b.js(STATE)
        want = b.js(f"({target_sel}).getAttribute('data-row')")
        check(st["spans"] == [want], f"pointing at {want} highlighted {st['spans']}")
        check(st["rows"] == [want], f"the table rows highlighted are {st['rows']}, not [{want}]")
        row = row_of(b, want)
        check(row is not None, f"no table row {want}")
        name, value, meaning, rfc = row[1], row[2], row[3], row[4]
        check(st["title"] == name, f"the panel says {st['title']!r}, the field is {name!r}")
        check(st["value"] == value, f"the panel's value {st['value']!r} is not {value!r}")
        check(meaning in st["panel"] and rfc in st["panel"], f"no meaning or RFC section in the panel: {st['panel']!r}")
        check(rfc.startswith("RFC "), f"field {name!r} cites no RFC: {rfc!r}")
        if attack:
            check("encrypted fragment" in name, f"the changed byte is in {name!r}")
        else:
            check(name == "ClientHello › random" and rfc == "RFC 5246 7.4.1.2", f"{name!r}, {rfc!r}")
        # Negative: the record's header, another field, is not highlighted.
        other = b.js(f"""(() => {{ const s = {target_sel};
            const h = s.closest('.hex').querySelector('.f');
            return h === s ? null : [h.getAttribute('data-row'), h.classList.contains('hl')]; }})()""")
        check(other is not None and other[1] is False, f"another field is highlighted too: {other}")
        b.call("Page.captureScreenshot", {"format": "png"})  # warm up the compositor
        png = b.call("Page.captureScreenshot", {"format": "png"})["data"]
        with open(shot, "wb") as f:
            f.write(base64.b64decode(png))

        # 2. Tab: from the field to the next one.
        b.js(f"({target_sel}).focus()")
        nxt = b.js(f"""(() => {{ const all = Array.from(document.querySelectorAll('[tabindex], a[href], input, button'));
            const s = {target_sel}; const i = all.indexOf(s); return all[i + 1].getAttribute('data-row'); }})()""")
        b.key_tab()
        st = b.js(STATE)
        check(st["active"] == nxt, f"Tab moved the focus to {st['active']}, not {nxt}")
        check(st["spans"] == [nxt], f"after Tab the highlighted field is {st['spans']}, not {nxt}")
        check(st["title"] == row_of(b, nxt)[1], f"after Tab the panel says {st['title']!r}")

        # 3. The switch: the eavesdropper's view hides what only the endpoints know.
        VISIBLE = """(sel) => Array.from(document.querySelectorAll(sel)).filter(e => e.offsetParent !== null).length"""
        known_before = b.js(f"({VISIBLE})('.known')")
        wire_before = b.js(f"({VISIBLE})('.wire-only')")
        check(known_before > 0 and wire_before == 0, f"before the switch: {known_before} known, {wire_before} wire-only shown")
        for label, wire in (("v-wire", True), ("v-known", False)):
            x, y = byte_center(b, f"document.querySelector('label[for={label}]')")
            b.click(x, y)
            checked = b.js(f"document.getElementById('{label}').checked")
            check(checked, f"clicking the {label} label did not select it")
            known = b.js(f"({VISIBLE})('.known')")
            wire_only = b.js(f"({VISIBLE})('.wire-only')")
            secrets = b.js("Array.from(document.querySelectorAll('.secret .hexval, .inside .hex')).filter(e => e.offsetParent !== null).length")
            if wire:
                check(known == 0 and secrets == 0 and wire_only > 0,
                      f"the eavesdropper's view shows {known} secret parts, {secrets} secret values, {wire_only} wire notes")
            else:
                check(known == known_before and wire_only == 0,
                      f"back to the endpoints' view: {known} of {known_before} secret parts shown")
                if not attack:
                    check(secrets > 0, "the endpoints' view shows no secret value")

        # 4. The console stayed quiet.
        time.sleep(0.2)
        b.call("Runtime.evaluate", {"expression": "1"})
        problems = b.problems()
        check(not problems, f"console: {problems}")
        print(json.dumps({"page": page, "field": name, "rfc": rfc, "tabbed_to": nxt}))
    finally:
        b.close()


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        run(args[0], args[1], "--attack" in sys.argv[1:])
    except AssertionError as e:
        print(f"html_interact: {args[0]}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
