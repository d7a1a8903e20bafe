#!/usr/bin/env python3
"""Opens a page in Debian's headless Chromium and waits until its DOM shows what a test expects.

Made for the live-tracking page (`GET /track`, functions/api/static/track.html), whose DOM contract
is: `<body data-state="connecting|live|expired|ended|error">`, `#truck` with `data-lat`, `data-lng`
and `data-recorded-at` of the point shown, `#status` with `data-status` (the raw status) and the
status in words, `#message` and `#updated`.

    browser_check.py --url 'http://127.0.0.1:3000/track#<token>' --expect-state live \
        [--expect-lat 12.95 --expect-lng 77.55] [--expect-status picked_up] \
        [--timeout 30] [--screenshot out/track.png] [--window-size 1000x800] [--mobile] \
        [--allow-host ws.example.test]

Exit status: 0 when the condition held, 1 when it did not within --timeout seconds (the message
says what the DOM held instead), 2 when the browser could not be run (missing, crashed, bad usage).
Quiet on success unless WEELO_LOG or RUST_LOG is set: then it prints one line of what it saw.

How: standard library only. Chromium is started with `--remote-debugging-pipe`, which speaks the
DevTools protocol over the child's file descriptors 3 (commands in) and 4 (replies and events
out), each message one JSON text ended by a NUL byte, so no WebSocket client is needed. The page
is attached with `Target.attachToTarget` (flat sessions), sized with
`Emulation.setDeviceMetricsOverride`, loaded with `Page.navigate`, polled with `Runtime.evaluate`
and photographed with `Page.captureScreenshot`. The profile is a throwaway directory, background
networking is switched off, and every host name other than the URL's (plus `localhost` and any
--allow-host) resolves to nothing, so the page can reach only the servers under test.

The URL's fragment (a share token) is never printed: messages show the URL without it, and any
text the browser reports is scrubbed of it.
"""

import argparse
import base64
import fcntl
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse

STATES = ("connecting", "live", "expired", "ended", "error")
FINAL_STATES = ("expired", "ended", "error")  # the page never leaves these by itself
STARTUP_SECONDS = 30
POLL_SECONDS = 0.1

# What the page's DOM holds, read in one Runtime.evaluate.
DOM_PROBE = r"""(() => {
  const attr = (id, name) => { const e = document.getElementById(id); return e ? e.getAttribute(name) : null; };
  const text = (id) => { const e = document.getElementById(id); return e ? e.textContent.replace(/\s+/g, ' ').trim() : null; };
  return {
    readyState: document.readyState,
    origin: location.origin,
    path: location.pathname,
    title: document.title,
    state: document.body ? document.body.getAttribute('data-state') : null,
    truck: document.getElementById('truck') ? {
      lat: attr('truck', 'data-lat'), lng: attr('truck', 'data-lng'), recordedAt: attr('truck', 'data-recorded-at'),
    } : null,
    status: attr('status', 'data-status'),
    statusText: text('status'),
    message: text('message'),
    updated: text('updated'),
  };
})()"""


class BrowserError(Exception):
    """The browser could not be run or stopped answering (exit status 2)."""


class NavigationError(Exception):
    """The page could not be opened at all (exit status 1: the page under test failed)."""


class Redactor:
    def __init__(self, secret):
        self.secret = secret if len(secret) >= 8 else ""  # a real token is long; "bad" is a test word

    def __call__(self, text):
        text = str(text)
        if self.secret:
            text = text.replace(self.secret, "<token>")
            quoted = urllib.parse.quote(self.secret, safe="")
            if quoted != self.secret:
                text = text.replace(quoted, "<token>")
        return text


class DevTools:
    """The DevTools protocol over Chromium's --remote-debugging-pipe."""

    def __init__(self, proc, to_browser, from_browser, redact):
        self.proc = proc
        self.to_browser = to_browser
        self.from_browser = from_browser
        self.redact = redact
        self.buffer = b""
        self.next_id = 0
        self.replies = {}
        self.events = []  # (method, params, sessionId): kept for the failure report

    def _read(self, timeout):
        ready, _, _ = select.select([self.from_browser], [], [], max(0.0, timeout))
        if not ready:
            return False
        chunk = os.read(self.from_browser, 1 << 20)
        if not chunk:
            raise BrowserError("Chromium closed the DevTools pipe (it exited with %s)" % self.proc.poll())
        self.buffer += chunk
        while b"\0" in self.buffer:
            raw, self.buffer = self.buffer.split(b"\0", 1)
            message = json.loads(raw.decode("utf-8"))
            if "id" in message:
                self.replies[message["id"]] = message
            elif "method" in message:
                self.events.append((message["method"], message.get("params", {}), message.get("sessionId")))
                del self.events[:-400]
        return True

    def call(self, method, params=None, session=None, timeout=15.0):
        self.next_id += 1
        command_id = self.next_id
        message = {"id": command_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        data = json.dumps(message).encode("utf-8") + b"\0"
        try:
            while data:
                data = data[os.write(self.to_browser, data):]
        except BrokenPipeError:
            raise BrowserError("Chromium closed the DevTools pipe (it exited with %s)" % self.proc.poll()) from None
        deadline = time.monotonic() + timeout
        while command_id not in self.replies:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BrowserError("Chromium did not answer %s within %.0f s" % (method, timeout))
            self._read(remaining)
        reply = self.replies.pop(command_id)
        if "error" in reply:
            raise BrowserError("%s failed: %s" % (method, self.redact(reply["error"].get("message", reply["error"]))))
        return reply.get("result", {})

    def drain(self):
        while self._read(0):
            pass


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="Open a page in headless Chromium and wait until its DOM (the live-tracking page's "
        "contract) shows the expected state.")
    parser.add_argument("--url", required=True, help="the page to open (its #fragment is never printed)")
    parser.add_argument("--expect-state", required=True, choices=("live", "expired", "ended", "error", "connecting"),
                        help="the body's data-state to wait for")
    parser.add_argument("--expect-lat", type=float, help="#truck data-lat to wait for (compared to 6 decimals)")
    parser.add_argument("--expect-lng", type=float, help="#truck data-lng to wait for (compared to 6 decimals)")
    parser.add_argument("--expect-status", help="#status data-status (the raw status, e.g. picked_up) to wait for")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for the condition (default 30)")
    parser.add_argument("--screenshot", help="write a PNG of the page here (parent folders are created)")
    parser.add_argument("--window-size", default="1000x800", help="viewport WIDTHxHEIGHT in CSS pixels (default 1000x800)")
    parser.add_argument("--mobile", action="store_true", help="emulate a phone (mobile viewport, touch, 2x pixels)")
    parser.add_argument("--allow-host", action="append", default=[],
                        help="another host name the page may reach (e.g. the WebSocket API's); repeatable")
    args = parser.parse_args(argv)
    try:
        width, height = (int(part) for part in args.window_size.lower().split("x"))
        if not (100 <= width <= 4000 and 100 <= height <= 4000):
            raise ValueError
    except ValueError:
        parser.error("--window-size must be WIDTHxHEIGHT, each 100 to 4000, e.g. 1000x800")
    args.width, args.height = width, height
    if (args.expect_lat is None) != (args.expect_lng is None):
        parser.error("--expect-lat and --expect-lng go together")
    if urllib.parse.urlsplit(args.url).scheme not in ("http", "https", "file"):
        parser.error("--url must be an http(s) or file URL")
    return args


def chromium_command(user_data_dir, args):
    binary = shutil.which("chromium")
    if not binary:
        raise BrowserError("chromium is not on PATH: install Debian's package (apt-get install chromium, as root), "
                           "or run localstack/setup.sh --with-browser")
    host = urllib.parse.urlsplit(args.url).hostname or ""
    allowed = ["localhost"] + ([host] if host else []) + args.allow_host
    # IP literals never go through the resolver; every other name but the allowed ones fails.
    resolver_rules = ", ".join(["MAP * ~NOTFOUND"] + ["EXCLUDE %s" % name for name in dict.fromkeys(allowed)])
    command = [
        binary,
        "--headless=new",
        "--remote-debugging-pipe",
        "--user-data-dir=%s" % user_data_dir,
        "--disable-gpu",
        "--window-size=%d,%d" % (args.width, args.height),
        "--hide-scrollbars",
        "--mute-audio",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-extensions",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-default-apps",
        "--disable-sync",
        "--disable-domain-reliability",
        "--disable-client-side-phishing-detection",
        "--disable-breakpad",
        "--no-pings",
        "--metrics-recording-only",
        "--password-store=basic",
        "--use-mock-keychain",
        "--force-color-profile=srgb",
        "--disable-features=Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider,"
        "AutofillServerCommunication,CertificateTransparencyComponentUpdater,InterestFeedContentSuggestions",
        "--host-resolver-rules=%s" % resolver_rules,
    ]
    if os.geteuid() == 0:
        command.append("--no-sandbox")  # Chromium refuses to run as root with its sandbox
    command.append("about:blank")
    return command


def start_chromium(command, log_file):
    to_browser_read, to_browser_write = os.pipe()
    from_browser_read, from_browser_write = os.pipe()

    def child_fds():  # in the child, before exec: the pipe ends become fds 3 (read) and 4 (write)
        read_end = fcntl.fcntl(to_browser_read, fcntl.F_DUPFD, 10)
        write_end = fcntl.fcntl(from_browser_write, fcntl.F_DUPFD, 10)
        os.dup2(read_end, 3)  # dup2 clears close-on-exec, so exactly these two are inherited
        os.dup2(write_end, 4)

    try:
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT,
                                close_fds=False, preexec_fn=child_fds, start_new_session=True)
    finally:
        os.close(to_browser_read)
        os.close(from_browser_write)
    return proc, to_browser_write, from_browser_read


def stop_chromium(proc, devtools):
    if proc.poll() is None and devtools is not None:
        try:
            devtools.call("Browser.close", timeout=5)
        except BrowserError:
            pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # its own session: only the browser we started
        except ProcessLookupError:
            pass
        proc.wait(timeout=5)


def rounded(text):
    try:
        return round(float(text), 6)
    except (TypeError, ValueError):
        return None


def condition_failures(dom, args):
    """What is not yet as expected (empty when the condition holds)."""
    missing = []
    if not dom:
        return ["the page has not been read yet"]
    if dom.get("state") != args.expect_state:
        missing.append("state %r, not %r" % (dom.get("state"), args.expect_state))
    if args.expect_lat is not None:
        truck = dom.get("truck") or {}
        seen = (rounded(truck.get("lat")), rounded(truck.get("lng")))
        wanted = (round(args.expect_lat, 6), round(args.expect_lng, 6))
        if seen != wanted:
            missing.append("truck at %s, not %s" % (describe_point(truck), "%.6f, %.6f" % wanted))
    if args.expect_status is not None and dom.get("status") != args.expect_status:
        missing.append("status %r, not %r" % (dom.get("status"), args.expect_status))
    return missing


def describe_point(truck):
    if not truck or truck.get("lat") is None:
        return "(no point)"
    return "%s, %s recorded %s" % (truck.get("lat"), truck.get("lng"), truck.get("recordedAt"))


def describe_dom(dom):
    if not dom:
        return "nothing (the page never answered)"
    return "state=%s status=%s (%r) truck=%s message=%r updated=%r" % (
        dom.get("state"), dom.get("status"), dom.get("statusText"), describe_point(dom.get("truck")),
        dom.get("message"), dom.get("updated"))


def browser_notes(devtools, session, redact):
    """The page's own complaints and its network outcome, for the failure report."""
    notes = []
    for method, params, event_session in devtools.events:
        if event_session != session:
            continue
        if method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            text = details.get("exception", {}).get("description") or details.get("text")
            notes.append("exception: %s" % text)
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "warning", "assert"):
            args = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
            notes.append("console.%s: %s" % (params.get("type"), args))
        elif method == "Log.entryAdded":
            entry = params.get("entry", {})
            if entry.get("level") in ("error", "warning"):
                notes.append("%s %s: %s" % (entry.get("source"), entry.get("level"), entry.get("text")))
        elif method == "Network.responseReceived" and params.get("type") == "Document":
            response = params.get("response", {})
            notes.append("page answered HTTP %s" % response.get("status"))
        elif method == "Network.loadingFailed":
            notes.append("loading %s failed: %s" % (params.get("type"), params.get("errorText")))
        elif method == "Network.webSocketCreated":
            notes.append("WebSocket to %s" % strip_fragment(params.get("url", "")))
        elif method == "Network.webSocketHandshakeResponseReceived":
            notes.append("WebSocket handshake answered %s" % params.get("response", {}).get("status"))
        elif method == "Network.webSocketFrameError":
            notes.append("WebSocket error: %s" % params.get("errorMessage"))
        elif method == "Network.webSocketClosed":
            notes.append("WebSocket closed")
    unique = [note for i, note in enumerate(notes) if i == 0 or note != notes[i - 1]]
    return [redact(note) for note in unique[-15:]]


def document_status(devtools, session):
    """The HTTP status of the newest page load, if one answered."""
    for method, params, event_session in reversed(devtools.events):
        if event_session == session and method == "Network.responseReceived" and params.get("type") == "Document":
            return params.get("response", {}).get("status")
    return None


def notes_status(notes):
    """'page answered HTTP 404' when the page load failed with an HTTP error."""
    answers = [note for note in notes if note.startswith("page answered HTTP ")]
    return answers[-1] if answers and not answers[-1].endswith((" 200", " 204", " 304")) else None


def strip_fragment(url):
    return urllib.parse.urlsplit(url)._replace(fragment="").geturl()


def write_screenshot(devtools, session, path):
    data = devtools.call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": False},
                         session=session, timeout=20)["data"]
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    with open(path, "wb") as out:
        out.write(base64.b64decode(data))


def check(args, redact, log_path):
    """Runs the browser; returns (held, dom, notes). Raises BrowserError when the browser fails."""
    user_data_dir = tempfile.mkdtemp(prefix="weelo-browser-check-")
    devtools = None
    proc = None
    try:
        with open(log_path, "wb") as log_file:
            proc, to_browser, from_browser = start_chromium(chromium_command(user_data_dir, args), log_file)
        try:
            devtools = DevTools(proc, to_browser, from_browser, redact)
            devtools.call("Browser.getVersion", timeout=STARTUP_SECONDS)
            targets = devtools.call("Target.getTargets")["targetInfos"]
            pages = [t["targetId"] for t in targets if t.get("type") == "page"]
            target = pages[0] if pages else devtools.call("Target.createTarget", {"url": "about:blank"})["targetId"]
            session = devtools.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            for domain in ("Page", "Runtime", "Log", "Network"):
                devtools.call(domain + ".enable", session=session)
            metrics = {"width": args.width, "height": args.height, "deviceScaleFactor": 2 if args.mobile else 1,
                       "mobile": bool(args.mobile)}
            devtools.call("Emulation.setDeviceMetricsOverride", metrics, session=session)
            if args.mobile:
                devtools.call("Emulation.setTouchEmulationEnabled", {"enabled": True, "maxTouchPoints": 5}, session=session)
            # Steady screenshots: no pulsing halo caught mid-animation.
            devtools.call("Emulation.setEmulatedMedia",
                          {"features": [{"name": "prefers-reduced-motion", "value": "reduce"}]}, session=session)

            navigation = devtools.call("Page.navigate", {"url": args.url}, session=session, timeout=30)
            if navigation.get("errorText"):
                raise NavigationError("opening %s failed: %s" % (strip_fragment(args.url), navigation["errorText"]))

            deadline = time.monotonic() + args.timeout
            dom = None
            while True:
                try:
                    result = devtools.call("Runtime.evaluate", {"expression": DOM_PROBE, "returnByValue": True},
                                           session=session)
                    value = result.get("result", {}).get("value")
                    if isinstance(value, dict) and value.get("path") != "blank":
                        dom = value
                except BrowserError as error:
                    if proc.poll() is not None:
                        raise
                    if "context" not in str(error).lower():  # only a navigation in between is expected
                        raise
                held = dom is not None and dom.get("readyState") != "loading" and not condition_failures(dom, args)
                if held:
                    break
                final = dom is not None and dom.get("state") in FINAL_STATES and dom.get("state") != args.expect_state
                # An error page (HTTP 4xx/5xx without the page's DOM) will not turn into the page.
                error_page = (dom is None or dom.get("state") is None) and (document_status(devtools, session) or 0) >= 400
                if final or error_page or time.monotonic() >= deadline:
                    break
                time.sleep(POLL_SECONDS)
                devtools.drain()

            if args.screenshot:
                write_screenshot(devtools, session, args.screenshot)
            devtools.drain()
            return held, dom, browser_notes(devtools, session, redact)
        finally:
            stop_chromium(proc, devtools)
            os.close(to_browser)
            os.close(from_browser)
    finally:
        shutil.rmtree(user_data_dir, ignore_errors=True)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    redact = Redactor(urllib.parse.urlsplit(args.url).fragment)
    shown_url = strip_fragment(args.url)
    log_handle, log_path = tempfile.mkstemp(prefix="weelo-chromium-", suffix=".log")
    os.close(log_handle)
    try:
        try:
            held, dom, notes = check(args, redact, log_path)
        except NavigationError as error:
            print("browser check failed: %s" % redact(error), file=sys.stderr)
            return 1
        except BrowserError as error:
            with open(log_path, "rb") as log:
                lines = log.read().decode("utf-8", "replace").splitlines()
            # Headless Chromium in a container complains about D-Bus on every start: not the problem.
            tail = [line for line in lines if "dbus" not in line.lower()][-15:]
            print("browser check: %s" % redact(error), file=sys.stderr)
            if tail:
                print("--- last lines of chromium's output ---", file=sys.stderr)
                for line in tail:
                    print(redact(line), file=sys.stderr)
            return 2
    finally:
        os.unlink(log_path)

    if held:
        if os.environ.get("WEELO_LOG") or os.environ.get("RUST_LOG"):
            print("browser check: %s shows %s" % (shown_url, describe_dom(dom)))
        return 0
    wanted = "state=%s" % args.expect_state
    if args.expect_lat is not None:
        wanted += " truck=%.6f, %.6f" % (args.expect_lat, args.expect_lng)
    if args.expect_status is not None:
        wanted += " status=%s" % args.expect_status
    why = "; ".join(condition_failures(dom, args))
    if dom is not None and dom.get("state") in FINAL_STATES:
        when = "(the page reached a final state)"
    elif (dom is None or dom.get("state") is None) and notes_status(notes):
        when = "(%s)" % notes_status(notes)
    else:
        when = "within %g s" % args.timeout
    print("browser check failed: %s did not show %s %s: %s" % (shown_url, wanted, when, why), file=sys.stderr)
    print("  the page held: %s" % redact(describe_dom(dom)), file=sys.stderr)
    for note in notes:
        print("  browser: %s" % note, file=sys.stderr)
    if args.screenshot:
        print("  screenshot: %s" % args.screenshot, file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
