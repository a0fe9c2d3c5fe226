"""Test harness: real daemons on loopback, started and stopped for each test.

Every test gets fresh loopback addresses (127.N.x.y, N from the pid) so tests
never share a port, and a temporary directory for state and logs. Daemons are
started as subprocesses, waited for with deadlines (never fixed sleeps), and
stopped with SIGTERM then SIGKILL whatever happens. When a test fails their
logs are kept under build/test-logs/<test>/ and their tails printed.

    def test_something(cluster):
        ip = cluster.ip()
        d = cluster.start("probe", [bin_path("libdcos-probe"), f"--ip={ip}",
                          "--port=7000"], health=f"http://{ip}:7000/health")
        ...
        d.kill()            # SIGKILL, for failure tests
        d.restart()         # same argv, waits for health again
"""

import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import time

import requests

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.path.join(REPO, "build", "bin")
LOG_KEEP = os.path.join(REPO, "build", "test-logs")

_ip_counter = itertools.count(1)
# 127.64.0.0 - 127.191.255.255: one /16 per pytest process, by pid.
_IP_BASE = (127 << 24) | ((64 + os.getpid() % 128) << 16)


def bin_path(name):
    """Absolute path of a built binary; fails clearly when it is missing."""
    path = os.path.join(BIN, name)
    if not os.access(path, os.X_OK):
        raise AssertionError(f"{path} is not built: run `make` first")
    return path


def fresh_ip():
    """A loopback address no other test of this run has used."""
    n = next(_ip_counter)
    if n >= 65000:
        raise RuntimeError("out of loopback addresses")
    a = _IP_BASE | ((n // 250) << 8) | (n % 250 + 1)
    return socket.inet_ntoa(a.to_bytes(4, "big"))


def wait_for(fn, timeout=15.0, interval=0.05, what=None):
    """Calls fn until it returns something truthy; returns it.

    Exceptions from fn count as "not yet". On timeout raises AssertionError
    naming `what` and the last result or exception."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            result = fn()
            if result:
                return result
            last = result
        except Exception as e:  # noqa: BLE001 - any failure means "not yet"
            last = e
        if time.monotonic() > deadline:
            raise AssertionError(
                f"timed out after {timeout}s waiting for "
                f"{what or getattr(fn, '__name__', 'condition')}; last: {last!r}")
        time.sleep(interval)


def http_ok(url, timeout=1.0):
    """True when url answers 2xx."""
    try:
        return 200 <= requests.get(url, timeout=timeout).status_code < 300
    except requests.RequestException:
        return False


def port_open(host, port, timeout=0.5):
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


class Daemon:
    """One daemon process with its own log file."""

    def __init__(self, name, argv, log_dir, env=None, health=None,
                 cwd=None, start_timeout=20.0):
        self.name = name
        self.argv = [str(a) for a in argv]
        self.env = env
        self.health = health
        self.cwd = cwd
        self.start_timeout = start_timeout
        self.log_path = os.path.join(log_dir, f"{name}.log")
        self.proc = None
        self.restarts = 0

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def start(self, wait=True):
        env = dict(os.environ)
        env.pop("JOURNAL_STREAM", None)
        if self.env:
            env.update(self.env)
        log = open(self.log_path, "ab")
        log.write(f"--- start {' '.join(self.argv)}\n".encode())
        log.flush()
        self.proc = subprocess.Popen(
            self.argv, stdout=log, stderr=subprocess.STDOUT, env=env,
            cwd=self.cwd, start_new_session=True)
        log.close()
        if wait:
            self.wait_healthy()
        return self

    def healthy(self):
        if not self.alive():
            raise AssertionError(
                f"{self.name} exited with {self.proc.returncode}:\n"
                f"{self.log_tail(30)}")
        if self.health is None:
            return True
        if callable(self.health):
            return self.health()
        return http_ok(self.health)

    def wait_healthy(self, timeout=None):
        deadline = time.monotonic() + (timeout or self.start_timeout)
        while True:
            if self.healthy():
                return self
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{self.name} not healthy after "
                    f"{timeout or self.start_timeout}s:\n{self.log_tail(30)}")
            time.sleep(0.05)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        if self.alive():
            os.kill(self.proc.pid, sig)

    def kill(self):
        """SIGKILL the daemon (a crash) and reap it."""
        if self.alive():
            self.proc.kill()
            self.proc.wait()

    def stop(self, timeout=10.0):
        """SIGTERM, then SIGKILL after timeout; returns the exit code."""
        if self.proc is None:
            return None
        if self.alive():
            self.proc.terminate()
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        # children it left in its session (tasks, executors) go too
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        return self.proc.returncode

    def restart(self, wait=True):
        self.stop()
        self.restarts += 1
        return self.start(wait=wait)

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def log_tail(self, n=50):
        return "\n".join(self.log().splitlines()[-n:])


class Cluster:
    """The daemons of one test, its addresses and its temporary directory."""

    def __init__(self, tmpdir, test_name):
        self.dir = str(tmpdir)
        self.test_name = test_name
        self.log_dir = os.path.join(self.dir, "logs")
        os.makedirs(self.log_dir, exist_ok=True)
        self.daemons = []

    def ip(self):
        return fresh_ip()

    def path(self, *parts):
        p = os.path.join(self.dir, *parts)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        return p

    def start(self, name, argv, wait=True, **kw):
        d = Daemon(name, argv, self.log_dir, **kw)
        self.daemons.append(d)
        return d.start(wait=wait)

    def stop_all(self):
        for d in reversed(self.daemons):
            try:
                d.stop()
            except Exception:  # noqa: BLE001 - keep stopping the others
                pass

    def keep_logs(self):
        dest = os.path.join(LOG_KEEP, self.test_name.replace("/", "_"))
        shutil.rmtree(dest, ignore_errors=True)
        shutil.copytree(self.log_dir, dest)
        return dest

    def dump_logs(self, lines=40):
        out = []
        for d in self.daemons:
            out.append(f"===== {d.name} ({d.log_path}) =====\n{d.log_tail(lines)}")
        return "\n".join(out)


def get_json(url, **kw):
    kw.setdefault("timeout", 5)
    r = requests.get(url, **kw)
    r.raise_for_status()
    return r.json()


def garbage_tcp(host, port, payloads=None):
    """Sends junk to a TCP port; returns nothing. The port's owner must
    survive it (tests check the daemon afterwards)."""
    payloads = payloads or [
        b"\x00" * 64, os.urandom(4096), b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" * 3,
        b"POST / HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\nabc",
        b"GET /" + b"A" * 100000 + b" HTTP/1.1\r\n\r\n",
        b"SP\x00\x00\x30\x00\x00\x00" + os.urandom(256),  # nng-ish header
        # paths that are not text, and a long one whose error message is
        # cut mid-character (both once aborted every libdcos daemon)
        b"GET /%FF/\xc3?q=%00 HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /x" + "\u00e9".encode() * 600 + b" HTTP/1.1\r\n\r\n",
        json.dumps({"type": "REGISTER"}).encode(),
    ]
    for p in payloads:
        try:
            with socket.create_connection((host, port), timeout=1) as s:
                s.sendall(p)
                s.settimeout(0.3)
                try:
                    s.recv(4096)
                except OSError:
                    pass
        except OSError:
            pass
