"""Helpers for the Marathon end-to-end tests: start real dcos-marathon
daemons (one or several sharing a store) and talk to them as clients do.

    m = start_marathon(cluster, master="127.0.0.1:1")   # no Mesos: API only
    r = m.post("/v2/apps", json={...})
    m.wait_deployments_done()
"""

import json
import threading
import time

import requests

import harness


class Marathon:
    def __init__(self, daemon, ip, port):
        self.daemon = daemon
        self.ip = ip
        self.port = port
        self.url = f"http://{ip}:{port}"

    def get(self, path, **kw):
        kw.setdefault("timeout", 10)
        return requests.get(self.url + path, **kw)

    def post(self, path, **kw):
        kw.setdefault("timeout", 10)
        return requests.post(self.url + path, **kw)

    def put(self, path, **kw):
        kw.setdefault("timeout", 10)
        return requests.put(self.url + path, **kw)

    def patch(self, path, **kw):
        kw.setdefault("timeout", 10)
        return requests.patch(self.url + path, **kw)

    def delete(self, path, **kw):
        kw.setdefault("timeout", 10)
        return requests.delete(self.url + path, **kw)

    def app(self, app_id):
        r = self.get(f"/v2/apps{app_id}")
        r.raise_for_status()
        return r.json()["app"]

    def deployments(self):
        r = self.get("/v2/deployments")
        r.raise_for_status()
        return r.json()

    def is_leader(self):
        try:
            return self.get("/v2/leader", timeout=2).json()["leader"] == \
                f"{self.ip}:{self.port}"
        except (requests.RequestException, ValueError, KeyError):
            return False

    def wait_deployments_done(self, timeout=60):
        return harness.wait_for(lambda: self.deployments() == [], timeout,
                                what="all deployments to finish")

    def wait_running(self, app_id, n, timeout=60, healthy=False):
        def ok():
            a = self.app(app_id)
            key = "tasksHealthy" if healthy else "tasksRunning"
            return a if a[key] == n and len(a["tasks"]) == n and \
                not a["deployments"] else None
        return harness.wait_for(ok, timeout,
                                what=f"{app_id} to run {n} tasks")


def start_marathon(cluster, master, store=None, ip=None, port=8080,
                   name="marathon", extra=(), wait_leader=True):
    """Starts dcos-marathon; returns a Marathon. With wait_leader it waits
    until this daemon answers as leader (the only one, or the first)."""
    ip = ip or cluster.ip()
    store = store or "sqlite:" + cluster.path("marathon", "store.db")
    argv = [harness.bin_path("dcos-marathon"), f"--ip={ip}",
            f"--http_port={port}", f"--master={master}", f"--store={store}",
            "--leader_lease_ttl=2secs", "--log_level=debug", *extra]
    d = cluster.start(name, argv, health=f"http://{ip}:{port}/ping")
    m = Marathon(d, ip, port)
    if wait_leader:
        harness.wait_for(m.is_leader, 20, what=f"{name} to lead")
    return m


class EventStream:
    """Reads /v2/events (SSE) in a thread over a plain socket, so close()
    ends it at once; events() returns what arrived."""

    def __init__(self, url, params=None):
        import socket
        import urllib.parse
        u = urllib.parse.urlparse(url)
        query = urllib.parse.urlencode(params or [])
        self.sock = socket.create_connection((u.hostname, u.port), timeout=10)
        self.sock.sendall(
            f"GET /v2/events{'?' + query if query else ''} HTTP/1.1\r\n"
            f"Host: {u.hostname}:{u.port}\r\n"
            "Accept: text/event-stream\r\n\r\n".encode())
        self.sock.settimeout(None)
        self.file = self.sock.makefile("rb")
        status = self.file.readline().decode()
        if " 200 " not in status:
            raise AssertionError(f"event stream answered {status.strip()}")
        self.chunked = False
        while True:
            h = self.file.readline().decode().strip()
            if not h:
                break
            if h.lower() == "transfer-encoding: chunked":
                self.chunked = True
        self.items = []
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _bytes(self):
        while True:
            if not self.chunked:
                b = self.file.read1(65536)
                if not b:
                    return
                yield b
                continue
            size = int(self.file.readline().split(b";")[0].strip() or b"0",
                       16)
            if size == 0:
                return
            yield self.file.read(size)
            self.file.readline()

    def _lines(self):
        buf = b""
        for chunk in self._bytes():
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                yield line.rstrip(b"\r").decode()

    def _read(self):
        event, data = None, []
        try:
            for line in self._lines():
                if line == "":
                    if data and event:
                        with self.lock:
                            self.items.append((event, json.loads(
                                "\n".join(data))))
                    event, data = None, []
                elif line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].lstrip())
        except (OSError, ValueError):
            pass

    def events(self, kind=None):
        with self.lock:
            return [d for (e, d) in self.items if kind is None or e == kind]

    def wait(self, kind, pred=lambda d: True, timeout=30):
        return harness.wait_for(
            lambda: [d for d in self.events(kind) if pred(d)], timeout,
            what=f"a {kind} event")

    def close(self):
        import socket
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self.thread.join(5)


def unused_master(cluster):
    """A Mesos master address where nothing listens: the API-only tests
    run Marathon without Mesos (it keeps retrying in the background)."""
    return f"{cluster.ip()}:5050"


# --- a real Mesos cluster (dcos-mesos-master, dcos-mesos-slave) ---

AGENT_RESOURCES = "cpus:4;mem:4096;disk:4096;ports:[31000-31199]"


def mesos_built():
    import os
    return all(os.access(os.path.join(harness.BIN, b), os.X_OK) for b in (
        "dcos-mesos-master", "dcos-mesos-slave", "mesos-executor"))


def start_mesos_master(cluster, extra=(), store=None):
    import os
    ip = cluster.ip()
    work = cluster.path(f"master-{ip}", "x")
    work = os.path.dirname(work)
    d = cluster.start(f"mesos-master-{ip}", [
        harness.bin_path("dcos-mesos-master"), f"--ip={ip}", "--port=5050",
        f"--work_dir={work}", f"--store={store or 'sqlite:' + work + '/registry.db'}",
        "--allocation_interval=100ms", *extra],
        health=f"http://{ip}:5050/health")
    d.ip, d.url = ip, f"http://{ip}:5050"
    return d


def start_mesos_agent(cluster, master, public=False, attributes=None,
                      resources=AGENT_RESOURCES):
    import os
    ip = cluster.ip()
    work = os.path.dirname(cluster.path(f"agent-{ip}", "x"))
    masters = master if isinstance(master, list) else [master]
    master = masters[0]
    argv = [harness.bin_path("dcos-mesos-slave"),
            "--master=" + ",".join(f"{x.ip}:5050" for x in masters),
            f"--ip={ip}", "--port=5051", f"--work_dir={work}",
            f"--resources={resources}", "--registration_backoff_factor=100ms"]
    if public:
        argv.append("--default_role=slave_public")
    if attributes:
        argv.append(f"--attributes={attributes}")
    d = cluster.start(f"mesos-agent-{ip}", argv,
                      health=f"http://{ip}:5051/health")
    d.ip, d.url, d.work_dir = ip, f"http://{ip}:5051", work
    def registered():
        for x in masters:
            try:
                slaves = requests.get(x.url + "/master/slaves", timeout=2,
                                      allow_redirects=False).json()["slaves"]
            except (requests.RequestException, ValueError):
                continue
            if any(a["hostname"] == ip or a["pid"].endswith(f"@{ip}:5051")
                   for a in slaves):
                return True
        return False
    harness.wait_for(registered, 30, what=f"agent {ip} registered")
    return d


def _environ(pid):
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            return f.read().split(b"\0")
    except OSError:
        return []


def processes_under(directory):
    """Pids of executors and tasks whose sandbox lies under directory."""
    import os
    prefixes = (b"MESOS_DIRECTORY=" + directory.encode(),
                b"MESOS_SANDBOX=" + directory.encode())
    me = os.getpid()
    return [int(p) for p in os.listdir("/proc") if p.isdigit() and
            int(p) != me and any(v.startswith(prefixes)
                                 for v in _environ(p))]


def task_pids(directory, task_id):
    """Pids of the processes of one task (MESOS_TASK_ID in their env)."""
    key = b"MESOS_TASK_ID=" + task_id.encode()
    return [p for p in processes_under(directory) if key in _environ(p)]


def cleanup_tasks(directories, grace=5.0):
    """Executors outlive their agent on purpose: SIGTERM what runs under
    the agents' work dirs, then SIGKILL what is left."""
    import os
    import signal
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for d in directories:
            for p in processes_under(d):
                try:
                    os.kill(p, sig)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and any(
                processes_under(d) for d in directories):
            time.sleep(0.1)
