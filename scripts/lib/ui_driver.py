#!/usr/bin/env python3
"""Drives MOM's web console (/ui) in headless Chromium over the Chrome DevTools Protocol.

Stdlib only: the DevTools websocket is spoken by the minimal client below (test tooling, no
TLS, 127.0.0.1 only). It opens the page, checks that a wrong password is refused, logs in
through the page's own form, visits every view, takes screenshots, and asserts from the DOM
that the expected topic and its records are shown (record values compared as text, so markup in
a value must show up literally). It also runs the topic assertion for a topic that does not
exist and requires it to fail, so the assertion is known to be able to fail.

usage: ui_driver.py --chromium BIN --base-url URL --user U --password-file F --topic T
                    --partitions N --values-file F --screenshots DIR
Exit status 0 when every check passed, 1 otherwise.
"""
import argparse
import base64
import json
import os
import signal
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request


class WebSocket:
    """A minimal RFC 6455 client: one connection, text frames out (masked), frames in."""

    def __init__(self, url, timeout_seconds):
        assert url.startswith("ws://"), url
        host_port, _, path = url[len("ws://"):].partition("/")
        host, _, port = host_port.rpartition(":")
        self.sock = socket.create_connection((host, int(port)), timeout=timeout_seconds)
        self.buffer = bytearray()
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET /{path} HTTP/1.1\r\nHost: {host_port}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                           f"Sec-WebSocket-Version: 13\r\n\r\n").encode())
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        end = self.buffer.index(b"\r\n\r\n")
        status_line = bytes(self.buffer[:end]).split(b"\r\n")[0]
        del self.buffer[:end + 4]
        if b" 101 " not in status_line + b" ":
            raise ConnectionError(f"websocket handshake refused: {status_line!r}")

    def _fill(self):
        chunk = self.sock.recv(1 << 16)
        if not chunk:
            raise ConnectionError("websocket closed by the browser")
        self.buffer += chunk

    def _take(self, count):
        while len(self.buffer) < count:
            self._fill()
        data = bytes(self.buffer[:count])
        del self.buffer[:count]
        return data

    def _send_frame(self, opcode, payload):
        header = bytearray([0x80 | opcode])
        length = len(payload)
        if length < 126:
            header.append(0x80 | length)
        elif length < 65536:
            header.append(0x80 | 126)
            header += struct.pack("!H", length)
        else:
            header.append(0x80 | 127)
            header += struct.pack("!Q", length)
        mask = os.urandom(4)
        masked = bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))
        self.sock.sendall(bytes(header) + mask + masked)

    def send(self, text):
        self._send_frame(0x1, text.encode())

    def receive(self):
        message = bytearray()
        while True:
            first, second = self._take(2)
            opcode, length = first & 0x0F, second & 0x7F
            if length == 126:
                length = struct.unpack("!H", self._take(2))[0]
            elif length == 127:
                length = struct.unpack("!Q", self._take(8))[0]
            mask = self._take(4) if second & 0x80 else None
            payload = self._take(length)
            if mask:
                payload = bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))
            if opcode == 0x8:
                raise ConnectionError("websocket closed by the browser")
            if opcode == 0x9:
                self._send_frame(0xA, payload)
                continue
            if opcode == 0xA:
                continue
            message += payload
            if first & 0x80:
                return message.decode()


class DevTools:
    """Request/response calls on one page target; events are read and dropped."""

    def __init__(self, websocket):
        self.websocket = websocket
        self.next_id = 0

    def call(self, method, params=None):
        self.next_id += 1
        self.websocket.send(json.dumps({"id": self.next_id, "method": method, "params": params or {}}))
        while True:
            message = json.loads(self.websocket.receive())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", {"expression": expression, "awaitPromise": True, "returnByValue": True})
        if "exceptionDetails" in result:
            raise RuntimeError(f"page exception in {expression!r}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression, timeout_seconds):
        """The expression's first truthy value within the timeout, else None."""
        deadline = time.monotonic() + timeout_seconds
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.2)

    def screenshot(self, path):
        data = self.call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})["data"]
        with open(path, "wb") as file:
            file.write(base64.b64decode(data))
        print(f"ui_driver: screenshot {path}")


class Checks:
    def __init__(self):
        self.failures = []

    def expect(self, condition, description):
        print(f"ui_driver: {'ok  ' if condition else 'FAIL'} {description}")
        if not condition:
            self.failures.append(description)


def start_browser(chromium, profile, log_path):
    log = open(log_path, "wb")
    process = subprocess.Popen(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
         "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", f"--user-data-dir={profile}",
         "--window-size=1280,900", "about:blank"],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        # Its own process group: chromium forks GPU and network helpers that outlive the main
        # process when only that one is stopped (stop_browser ends the whole group).
        start_new_session=True)
    port_file = os.path.join(profile, "DevToolsActivePort")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"chromium exited with {process.returncode}; see {log_path}")
        if os.path.exists(port_file):
            lines = open(port_file).read().split("\n")
            if lines and lines[0].strip().isdigit():
                return process, int(lines[0])
        time.sleep(0.1)
    stop_browser(process)
    raise RuntimeError(f"chromium did not open its DevTools port within 60 s; see {log_path}")


def stop_browser(process):
    """Stops chromium and every helper it forked (its process group), politely then not."""
    for sig, grace in ((signal.SIGTERM, 10), (signal.SIGKILL, None)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break  # nothing of the group is left
        if grace is not None:
            try:
                process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                pass
            time.sleep(0.2)  # helpers exit shortly after the main process
    process.wait()


def page_websocket_url(port):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as response:
            targets = json.load(response)
        for target in targets:
            if target.get("type") == "page" and "webSocketDebuggerUrl" in target:
                return target["webSocketDebuggerUrl"]
        time.sleep(0.2)
    raise RuntimeError("no page target in the browser")


def js(value):
    """A JavaScript literal for a Python string (JSON is valid JavaScript)."""
    return json.dumps(value)


def topic_shown(name):
    return f"[...document.querySelectorAll('#topics-table tbody td.topic-name')].some(td => td.textContent === {js(name)})"


def login(page, user, password):
    page.evaluate(f"""(() => {{
        document.getElementById('login-user').value = {js(user)};
        document.getElementById('login-password').value = {js(password)};
        document.getElementById('login-form').requestSubmit();
        return true; }})()""")


def drive(page, arguments, values, checks):
    base = arguments.base_url.rstrip("/")
    shots = arguments.screenshots
    page.call("Page.enable")
    page.call("Page.addScriptToEvaluateOnNewDocument", {"source":
        "window.__cspViolations = []; document.addEventListener('securitypolicyviolation', "
        "e => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));"})
    page.call("Emulation.setDeviceMetricsOverride", {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False})
    page.call("Page.navigate", {"url": base + "/ui"})
    loaded = page.wait_for("document.readyState === 'complete' && !!document.getElementById('login-form') && "
                           "!document.getElementById('login-view').hidden", 30)
    checks.expect(bool(loaded), "the page loads and shows the login form")
    if not loaded:
        return
    page.screenshot(os.path.join(shots, "01-login.png"))

    login(page, arguments.user, "wrong-password")
    refused = page.wait_for("document.getElementById('login-error').textContent", 30)
    checks.expect(bool(refused) and page.evaluate("document.getElementById('console-view').hidden"),
                  f"a wrong password is refused: {refused!r}")

    password = open(arguments.password_file).read().strip()
    login(page, arguments.user, password)
    cluster = page.wait_for("!document.getElementById('console-view').hidden && "
                            "document.querySelectorAll('#nodes-table tbody tr').length", 30)
    checks.expect(bool(cluster), f"after login the cluster view lists {cluster} node(s)")
    checks.expect(bool(page.evaluate("sessionStorage.getItem('mom.token')")), "the token is kept in sessionStorage")
    page.screenshot(os.path.join(shots, "02-cluster.png"))

    page.evaluate("document.querySelector('nav .tab[data-view=topics]').click()")
    shown = page.wait_for(topic_shown(arguments.topic), 20)
    checks.expect(bool(shown), f"the topics view shows topic {arguments.topic!r}")
    absent = f"absent-{os.getpid()}-{int(time.time())}"
    checks.expect(not page.wait_for(topic_shown(absent), 2), f"the same assertion fails for a topic that does not exist ({absent!r})")

    page.evaluate(f"[...document.querySelectorAll('#topics-table td.topic-name button')].find(b => b.textContent === {js(arguments.topic)}).click()"
                  if shown else "0")
    rows = page.wait_for(f"document.querySelectorAll('#partitions-table tbody tr').length === {arguments.partitions} && "
                         "[...document.querySelectorAll('#partitions-table tbody tr')].map(tr => [...tr.cells].map(td => td.textContent))", 20)
    checks.expect(bool(rows), f"the topic view shows {arguments.partitions} partition(s) with leader, replicas and high watermark: {rows}")
    if rows:
        # Raft's own entries (elections' no-ops) take offsets too, so the watermark is at least
        # the record count, not equal to it.
        watermark = int(rows[0][4]) if rows[0][4].isdigit() else -1
        checks.expect(watermark >= len(values), f"partition 0's high watermark {watermark} covers the {len(values)} records produced")
        checks.expect(all(row[1] not in ("", "—") for row in rows), "every partition shows a leader")
    subscriptions = page.wait_for("(s => s !== 'Loading…' && s)(document.getElementById('subscriptions-status').textContent)", 20)
    checks.expect(bool(subscriptions), f"the subscriptions panel settles (available or 'not available'): {subscriptions!r}")
    page.screenshot(os.path.join(shots, "03-topic.png"))

    page.evaluate("document.querySelector('nav .tab[data-view=queues]').click()")
    queues = page.wait_for("(s => s !== 'Loading…' && s)(document.getElementById('queues-status').textContent)", 20)
    checks.expect(bool(queues), f"the queues view settles (available or 'not available'): {queues!r}")
    page.screenshot(os.path.join(shots, "04-queues.png"))

    page.evaluate("document.querySelector('nav .tab[data-view=topics]').click()")
    page.wait_for(topic_shown(arguments.topic), 20)
    page.evaluate(f"[...document.querySelectorAll('#topics-table td.topic-name button')].find(b => b.textContent === {js(arguments.topic)}).click()"
                  if shown else "0")
    page.wait_for("document.querySelectorAll('#partitions-table tbody button').length", 20)
    page.evaluate("document.querySelector('#partitions-table tbody tr button').click()")  # browse partition 0
    shown_values = page.wait_for(f"document.querySelectorAll('#records-table tbody tr.record').length === {len(values)} && "
                                 "[...document.querySelectorAll('#records-table tbody tr.record')].map(tr => tr.cells[3].textContent)", 20)
    checks.expect(shown_values == values, f"the record browser shows the {len(values)} records of partition 0 by offset, as text")
    if shown_values != values:
        print(f"ui_driver: expected {values!r}\nui_driver: shown    {shown_values!r}")
    checks.expect(page.evaluate("document.querySelectorAll('#records-table img, #records-table b, #records-table script').length") == 0,
                  "markup inside record values is not rendered as elements")
    page.screenshot(os.path.join(shots, "05-records.png"))

    violations = page.evaluate("window.__cspViolations")
    checks.expect(violations == [], f"no Content-Security-Policy violation: {violations}")
    page.evaluate("document.getElementById('logout').click()")
    logged_out = page.wait_for("!document.getElementById('login-view').hidden && sessionStorage.getItem('mom.token') === null", 10)
    checks.expect(bool(logged_out), "log out drops the token and shows the login form")


def main():
    parser = argparse.ArgumentParser()
    for name in ("--chromium", "--base-url", "--user", "--password-file", "--topic", "--values-file", "--screenshots"):
        parser.add_argument(name, required=True)
    parser.add_argument("--partitions", type=int, required=True)
    arguments = parser.parse_args()
    values = json.load(open(arguments.values_file))
    os.makedirs(arguments.screenshots, exist_ok=True)
    profile = tempfile.mkdtemp(prefix="mom-ui-chromium-")
    process = None
    checks = Checks()
    try:
        process, port = start_browser(arguments.chromium, profile, os.path.join(arguments.screenshots, "chromium.log"))
        page = DevTools(WebSocket(page_websocket_url(port), timeout_seconds=60))
        drive(page, arguments, values, checks)
    except Exception as error:  # a broken browser or page is a failed check, reported plainly
        checks.expect(False, f"driver error: {error}")
    finally:
        if process is not None:
            stop_browser(process)
        shutil.rmtree(profile, ignore_errors=True)
    print(f"ui_driver: screenshots in {arguments.screenshots}")
    if checks.failures:
        print(f"ui_driver: {len(checks.failures)} check(s) failed", file=sys.stderr)
        return 1
    print("ui_driver: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
