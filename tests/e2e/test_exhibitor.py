"""dcos-exhibitor on its own: Exhibitor's API shapes, its flags, a clean
stop, and garbage on both of its ports."""

import os
import random
import socket
import struct
import subprocess

import requests

from harness import bin_path, garbage_tcp, get_json
from store_cluster import (HTTP_PORT, STORE_PORT, dqlite_shell, put,
                           start_members, start_probe, wait_serving)


def test_single_master_serves_exhibitor_api_and_the_store(cluster):
    (m,) = start_members(cluster, 1)
    wait_serving([m])

    status = m.status()
    assert status == [{"hostname": m.ip, "code": 3, "description": "serving",
                       "isLeader": True}]
    assert get_json(m.http + "/exhibitor/v1/cluster/list") == {
        "servers": [m.ip], "port": STORE_PORT}
    form = requests.get(m.http + "/exhibitor/v1/cluster/list", timeout=5,
                        headers={"Accept": "application/x-www-form-urlencoded"})
    assert form.text == f"count=1&server0={m.ip}&port={STORE_PORT}"
    state = get_json(m.http + "/exhibitor/v1/cluster/state")
    assert state["state"] == 3 and state["isLeader"] is True
    conf = get_json(m.http + "/exhibitor/v1/config/get-state")
    assert conf["running"] is True and conf["standaloneMode"] is True
    assert conf["config"]["hostname"] == m.ip
    assert conf["config"]["serversSpec"] == f"S:1:{m.ip}"
    assert conf["config"]["clientPort"] == STORE_PORT
    page = requests.get(m.http + "/exhibitor/v1/ui/index.html", timeout=5)
    assert page.status_code == 200 and "Exhibitor for ZooKeeper" in page.text
    assert m.address in page.text and "serving" in page.text
    health = get_json(m.http + "/health")
    assert health["healthy"] and health["serving"] and health["node_id"] == 1

    # our client writes, another client (the dqlite shell) reads it back
    probe = start_probe(cluster, [m])
    assert put(probe, "greeting", "hello").status_code == 201
    assert dqlite_shell([m], "SELECT v FROM probe_kv WHERE k = 'greeting'"
                        ).strip() == "hello"
    assert get_json(probe.url + "/kv/greeting") == {"value": "hello"}

    # SIGTERM: clean exit, and the data survives a restart
    assert m.daemon.stop() == 0
    m.daemon.start()
    wait_serving([m])
    assert dqlite_shell([m], "SELECT v FROM probe_kv").strip() == "hello"


def run(*args):
    return subprocess.run([bin_path("dcos-exhibitor"), *args],
                          capture_output=True, text=True, timeout=10)


def test_exhibitor_flags_help_version_and_clear_errors(cluster, tmp_path):
    out = run("--help")
    assert out.returncode == 0 and "--master_list" in out.stdout
    out = run("--version")
    assert out.returncode == 0 and out.stdout.strip()

    ip = cluster.ip()
    data = f"--data_dir={tmp_path}/d"
    out = run(f"--ip={ip}", "--master_list=127.9.9.1,127.9.9.2", data)
    assert out.returncode == 2
    assert f"--ip {ip} is not in --master_list" in out.stderr
    out = run(f"--ip={ip}", f"--master_list={ip},not-an-ip", data)
    assert out.returncode == 2 and "'not-an-ip' is not an IPv4" in out.stderr
    out = run(f"--ip={ip}", f'--master_list=["{ip}", "{ip}"]', data)
    assert out.returncode == 2 and f"names {ip} twice" in out.stderr
    out = run(f"--ip={ip}", "--data_dir=relative/path")
    assert out.returncode == 2 and "absolute path" in out.stderr
    assert not os.path.exists(f"{tmp_path}/d")

    # a data directory already in use by a running member
    (m,) = start_members(cluster, 1)
    out = run(f"--ip={m.ip}", f"--data_dir={m.data_dir}", "--port=18181",
              f"--client_port={STORE_PORT + 10000}")
    assert out.returncode == 1 and "in use by another" in out.stderr


def dqlite_garbage(host, port, seed):
    """Protocol-aware junk: a valid handshake, then requests of every type
    with random bodies, with no body, overlapping, or a member CONNECT
    followed by random Raft bytes."""
    rnd = random.Random(seed)
    hello = struct.pack("<Q", 1)

    def header(words, kind):
        return struct.pack("<IBBH", words, kind, rnd.choice([0, 1, 255]), 0)

    payloads = []
    for kind in list(range(0, 22)) * 3:
        words = rnd.choice([0, 1, 2, 3, 5, 20])
        body = bytes(rnd.getrandbits(8) for _ in range(words * 8))
        payloads.append(hello + header(words, kind) + body)
        payloads.append(hello + header(words, kind) + body * 2)  # overlapping
    connect = struct.pack("<Q", 7) + wire_text(f"{host}:{port}")
    for _ in range(20):
        junk = bytes(rnd.getrandbits(8) for _ in range(rnd.choice([8, 24, 500])))
        payloads.append(hello + header(len(connect) // 8, 11) + connect +
                        struct.pack("<QQQ", 1, rnd.randrange(1, 12), 8) + junk)
    payloads.append(hello + header(1, 18) + struct.pack("<Q", 5))  # DESCRIBE
    payloads.append(hello + header(2, 12) + struct.pack("<Q", 0) +
                    wire_text("x"))
    payloads.append(struct.pack("<IBBH", 0xffffffff, 8, 0, 0) * 2)
    garbage_tcp(host, port, payloads)


def wire_text(s):
    b = s.encode() + b"\0"
    return b + b"\0" * (-len(b) % 8)


def test_garbage_on_store_and_http_ports_does_not_crash_the_member(cluster):
    members = start_members(cluster, 3)
    leader = wait_serving(members)
    follower = next(m for m in members if m is not leader)
    probe = start_probe(cluster, members)
    assert put(probe, "before", "1").status_code == 201
    configuration = dqlite_shell(members, ".cluster")

    # a well-formed request to add a stranger, from outside the master list
    body = struct.pack("<Q", 77) + wire_text("127.9.9.9:2181")
    with socket.create_connection((leader.ip, STORE_PORT), timeout=5) as s:
        s.sendall(struct.pack("<Q", 1) + struct.pack("<IBBH", len(body) // 8,
                                                     12, 0, 0) + body)
        assert s.recv(64) == b""  # closed, unanswered

    for m in (leader, follower):
        garbage_tcp(m.ip, HTTP_PORT)
        garbage_tcp(m.ip, STORE_PORT)
        dqlite_garbage(m.ip, STORE_PORT, seed=hash(m.ip))
        # a slow client that never finishes its request holds nothing up
        s = socket.create_connection((m.ip, STORE_PORT), timeout=2)
        s.sendall(struct.pack("<Q", 1) + struct.pack("<IBBH", 4, 8, 0, 0))
        assert m.daemon.alive(), m.daemon.log_tail(20)
        assert requests.get(m.http + "/health", timeout=5).status_code == 200
        s.close()

    assert all(m.daemon.alive() for m in members)
    wait_serving(members)
    assert put(probe, "after", "2").status_code == 201
    assert dqlite_shell(members, "SELECT k FROM probe_kv ORDER BY k"
                        ).split() == ["after", "before"]
    assert "ok" in dqlite_shell(members, "SELECT * FROM pragma_integrity_check")
    assert dqlite_shell(members, ".cluster") == configuration
