"""The shared library end to end, through libdcos-probe (tests/probe/probe.c),
a real program built only from libdcos: HTTP routes and errors, streams,
outgoing requests and streams, nng across processes, the store and leases
across processes, garbage on every port, and the daemon conventions."""

import json
import signal
import socket
import subprocess
import threading
import time

import requests

from harness import bin_path, garbage_tcp, wait_for


def start_probe(cluster, *extra, ip=None, name="probe", env=None):
    ip = ip or cluster.ip()
    d = cluster.start(name, [bin_path("libdcos-probe"), f"--ip={ip}",
                             "--port=7000", *extra],
                      health=f"http://{ip}:7000/health", env=env)
    d.url = f"http://{ip}:7000"
    d.ip = ip
    return d


def test_routes_answer_json_and_name_errors(cluster):
    p = start_probe(cluster)
    r = requests.get(f"{p.url}/echo/shop/db/tasks/shop_db.1?embed=a&embed=b")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    assert r.json()["id"] == "shop/db" and r.json()["task"] == "shop_db.1"
    assert r.json()["embed"] == ["a", "b"]

    r = requests.get(f"{p.url}/no/such/thing")
    assert r.status_code == 404 and "no such endpoint" in r.json()["message"]
    r = requests.delete(f"{p.url}/echo/x")
    assert r.status_code == 405 and "DELETE" in r.json()["message"]
    r = requests.post(f"{p.url}/validate", data="{nope")
    assert r.status_code == 400 and "Invalid JSON" in r.json()["message"]
    r = requests.post(f"{p.url}/validate", json={"count": 11, "tags": [1]})
    assert r.status_code == 422
    assert r.json()["details"] == [
        {"path": "/name", "errors": ["error.path.missing"]},
        {"path": "/count", "errors": ["got 11, expected 10 or less"]},
        {"path": "/tags(0)", "errors": ["error.expected.jsstring"]}]
    r = requests.head(f"{p.url}/health")
    assert r.status_code == 200 and r.content == b""


def test_request_body_over_the_limit_gets_413(cluster):
    p = start_probe(cluster, "--max_body=1000")
    r = requests.post(f"{p.url}/validate", data="x" * 5000)
    assert r.status_code == 413
    assert requests.get(f"{p.url}/health").status_code == 200


def test_sse_stream_has_named_events_one_per_chunk(cluster):
    p = start_probe(cluster)
    r = requests.get(f"{p.url}/stream/sse?n=3&every_ms=10", stream=True,
                     headers={"Accept": "text/event-stream"})
    assert r.headers["Content-Type"] == "text/event-stream"
    assert r.headers.get("Transfer-Encoding") == "chunked"
    chunks = [c for c in r.raw.stream(amt=None, decode_content=False)]
    text = b"".join(chunks).decode()
    events = [e for e in text.split("\r\n\r\n") if e]
    assert len(events) == 3
    for i, e in enumerate(events):
        assert e.startswith("event: tick\r\ndata: ")
        assert json.loads(e.split("data: ", 1)[1]) == {"type": "TICK", "n": i}


def read_recordio(raw):
    """Yields RecordIO records from a raw urllib3 response."""
    buf = b""
    for chunk in raw.stream(amt=None, decode_content=False):
        buf += chunk
        while b"\n" in buf:
            size, rest = buf.split(b"\n", 1)
            if len(rest) < int(size):
                break
            yield rest[:int(size)]
            buf = rest[int(size):]


def test_recordio_stream_carries_stream_id_and_records(cluster):
    p = start_probe(cluster)
    r = requests.get(f"{p.url}/stream/recordio?n=4&every_ms=5", stream=True)
    assert r.headers["Mesos-Stream-Id"] == "probe-stream"
    records = [json.loads(x) for x in read_recordio(r.raw)]
    assert [x["n"] for x in records] == [0, 1, 2, 3]


def test_server_notices_a_client_that_goes_away(cluster):
    p = start_probe(cluster)
    s = socket.create_connection((p.ip, 7000))
    s.sendall(b"GET /stream/sse?every_ms=20 HTTP/1.1\r\nHost: x\r\n\r\n")
    assert b"200 OK" in s.recv(4096)
    wait_for(lambda: requests.get(f"{p.url}/streams").json()["open"] == 1,
             what="the stream to be open")
    s.close()
    wait_for(lambda: requests.get(f"{p.url}/streams").json()["open"] == 0,
             what="the server to notice the closed stream")


def test_slow_consumer_is_dropped_not_buffered(cluster):
    p = start_probe(cluster)
    s = socket.create_connection((p.ip, 7000))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.sendall(b"GET /stream/chunked?every_ms=1&pad=65536 HTTP/1.1\r\n"
              b"Host: x\r\n\r\n")
    # never read: the server's queue for this client fills up (4 MiB bound)
    wait_for(lambda: requests.get(f"{p.url}/streams").json()["open"] == 0,
             timeout=30, what="the slow stream to be dropped")
    assert "dropping slow stream consumer" in p.log()
    s.close()
    rss = int(open(f"/proc/{p.pid}/status").read().split("VmRSS:")[1].split()[0])
    assert rss < 64 * 1024, f"probe RSS {rss} kB after dropping a slow consumer"


def test_outgoing_requests_and_streams(cluster):
    a = start_probe(cluster, name="a")
    b = start_probe(cluster, name="b")
    r = requests.post(f"{b.url}/fetch?url={a.url}/echo/x").json()
    assert r["status"] == 200 and json.loads(r["body"])["id"] == "x"
    r = requests.post(f"{b.url}/fetch?url={a.url}/validate&method=POST",
                      data='{"name":"n"}').json()
    assert r["status"] == 200 and json.loads(r["body"]) == {"name": "n"}
    r = requests.post(f"{b.url}/fetch?url=http://{cluster.ip()}:9/x"
                      "&retries=2&timeout=1").json()
    assert r["status"] == 0 and r["error"]
    r = requests.get(f"{b.url}/follow?url={a.url}/stream/recordio"
                     "&kind=recordio&n=5").json()
    assert r["status"] == 200 and r["stream_id"] == "probe-stream"
    assert [json.loads(e)["n"] for e in r["events"]] == [0, 1, 2, 3, 4]
    r = requests.get(f"{b.url}/follow?url={a.url}/stream/sse&kind=sse&n=2").json()
    assert len(r["events"]) == 2
    # the client cancelled the streams it no longer wanted
    wait_for(lambda: requests.get(f"{a.url}/streams").json()["open"] == 0,
             what="the followed streams to close")


def test_nng_request_reply_across_processes_survives_a_restart(cluster):
    ip_a = cluster.ip()
    a = start_probe(cluster, f"--rep=tcp://{ip_a}:7100", ip=ip_a, name="rep")
    b = start_probe(cluster, f"--req=tcp://{ip_a}:7100", name="req")
    r = requests.post(f"{b.url}/ipc/ask", json={"type": "PING", "n": 1})
    assert r.status_code == 200
    assert r.json() == {"type": "ECHO", "request": {"type": "PING", "n": 1}}
    a.kill()
    r = requests.post(f"{b.url}/ipc/ask", json={"type": "PING"})
    assert r.status_code == 504 and "timed out" in r.json()["message"]
    a.start()
    wait_for(lambda: requests.post(f"{b.url}/ipc/ask",
                                   json={"n": 2}).status_code == 200,
             what="the requester to reconnect to the restarted replier")


def test_nng_pub_sub_filters_topics(cluster):
    ip_a = cluster.ip()
    a = start_probe(cluster, f"--pub=tcp://{ip_a}:7101", ip=ip_a, name="pub")
    b = start_probe(cluster, f"--sub=tcp://{ip_a}:7101", name="sub")

    def heard():
        requests.post(f"{a.url}/ipc/publish?topic=agent.added", json={"x": 0})
        requests.post(f"{a.url}/ipc/publish?topic=task.updated", json={"x": 1})
        return requests.get(f"{b.url}/ipc/events").json()["events"]

    events = wait_for(heard, what="an event through PUB/SUB")
    assert all(e["topic"] == "task.updated" for e in events)
    assert events[0]["msg"] == {"x": 1}


def test_store_writes_are_shared_and_survive_restart(cluster):
    url = "sqlite:" + cluster.path("store.db")
    a = start_probe(cluster, f"--store={url}", name="a")
    b = start_probe(cluster, f"--store={url}", name="b")
    assert requests.put(f"{a.url}/kv/app", data="sise").status_code == 201
    assert requests.get(f"{b.url}/kv/app").json() == {"value": "sise"}
    assert requests.get(f"{b.url}/kv/nope").status_code == 404
    a.kill()
    a.start()
    assert requests.get(f"{a.url}/kv/app").json() == {"value": "sise"}


def test_lease_never_has_two_holders_across_kills(cluster):
    url = "sqlite:" + cluster.path("store.db")
    probes = [start_probe(cluster, f"--store={url}", "--lease_name=leader",
                          "--lease_ttl=1secs", name=f"c{i}") for i in range(3)]
    stop = threading.Event()
    overlaps = []
    fenced_ok = []

    def leaders():
        out = []
        for p in probes:
            try:
                if requests.get(f"{p.url}/lease", timeout=1).json()["leader"]:
                    out.append(p)
            except requests.RequestException:
                pass
        return out

    def watch():
        while not stop.is_set():
            now = leaders()
            if len(now) > 1:
                overlaps.append([p.name for p in now])
            time.sleep(0.02)

    t = threading.Thread(target=watch)
    t.start()
    try:
        for round_ in range(3):
            leader = wait_for(lambda: leaders() and leaders()[0],
                              timeout=15, what="a lease holder")
            r = requests.put(f"{leader.url}/kv/k?fenced=1", data=str(round_))
            if r.status_code == 201:
                fenced_ok.append(round_)
            leader.kill()
            wait_for(lambda: any(p is not leader for p in leaders()),
                     timeout=15, what="another holder after the kill")
            leader.start()
    finally:
        stop.set()
        t.join()
    assert overlaps == []
    assert fenced_ok, "the holder could never write with its fencing token"
    # a non-holder's fenced write is refused
    follower = next(p for p in probes if p not in leaders())
    assert requests.put(f"{follower.url}/kv/k?fenced=1", data="x").status_code == 409


def test_garbage_on_every_port_does_not_kill_it(cluster):
    ip = cluster.ip()
    p = start_probe(cluster, f"--rep=tcp://{ip}:7100", f"--pub=tcp://{ip}:7101",
                    ip=ip)
    for port in (7000, 7100, 7101):
        garbage_tcp(ip, port)
    assert p.alive()
    assert requests.get(f"{p.url}/health").status_code == 200


def test_daemon_conventions_help_version_flags_sigterm(cluster):
    probe = bin_path("libdcos-probe")
    out = subprocess.run([probe, "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "--store=VALUE" in out.stdout
    assert "PROBE_STORE" in out.stdout
    out = subprocess.run([probe, "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("libdcos-probe ")
    out = subprocess.run([probe, "--port=x"], capture_output=True, text=True)
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        "libdcos-probe: invalid value 'x' for --port: expected a port number "
        "0-65535 (see --help)"]
    out = subprocess.run([probe, "--bogus"], capture_output=True, text=True)
    assert out.returncode == 2 and "unknown flag '--bogus'" in out.stderr

    p = start_probe(cluster, env={"PROBE_LOG_LEVEL": "debug"})
    p.signal(signal.SIGTERM)
    p.proc.wait(timeout=10)
    assert p.proc.returncode == 0
    assert "shutting down" in p.log()


def test_journal_prefixes_when_stderr_is_the_journal(cluster, tmp_path):
    log = tmp_path / "journal.log"
    with open(log, "w") as f:
        st = __import__("os").fstat(f.fileno())
        env = {"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"}
        proc = subprocess.Popen([bin_path("libdcos-probe"), f"--ip={cluster.ip()}",
                                 "--port=7000"], stderr=f,
                                env={**__import__("os").environ, **env})
        wait_for(lambda: "serving" in log.read_text(), what="the first log line")
        proc.terminate()
        proc.wait(timeout=10)
    lines = log.read_text().splitlines()
    assert lines and all(line.startswith("<") for line in lines)
    assert any(line.startswith("<6>probe: probe serving") for line in lines)
