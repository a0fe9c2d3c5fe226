"""Helpers for the replicated store tests: dcos-exhibitor members on fresh
loopback addresses, libdcos-probe as the store client, and the go-dqlite
`dqlite` shell as an independent client to cross-check what ours wrote.

    members = start_members(cluster, 3)
    wait_serving(members)
    probe = start_probe(cluster, members)
    put(probe, "k", "v")
    assert keys_on_member(members[1]) >= {"k"}   # that member's own copy
"""

import os
import sqlite3
import subprocess
import tempfile

import requests

import harness
from harness import bin_path, get_json, wait_for

DB = "dcos"
STORE_PORT = 2181
HTTP_PORT = 8181


class Member:
    def __init__(self, ip, daemon, data_dir):
        self.ip = ip
        self.daemon = daemon
        self.data_dir = data_dir
        self.address = f"{ip}:{STORE_PORT}"
        self.http = f"http://{ip}:{HTTP_PORT}"

    def status(self):
        return get_json(self.http + "/exhibitor/v1/cluster/status", timeout=2)


def start_members(cluster, n, election_timeout="1secs", wait=True):
    """n members of one ensemble, started together (a new cluster needs a
    majority up before the lowest address bootstraps it)."""
    ips = [cluster.ip() for _ in range(n)]
    members = []
    for ip in ips:
        data_dir = cluster.path(f"exhibitor-{ip}", "data")
        argv = [bin_path("dcos-exhibitor"), f"--ip={ip}",
                f"--master_list={','.join(ips)}", f"--data_dir={data_dir}",
                f"--election_timeout={election_timeout}",
                "--check_interval=300ms"]
        d = cluster.start(f"exhibitor-{ip}", argv, wait=False,
                          health=f"http://{ip}:{HTTP_PORT}/health")
        members.append(Member(ip, d, data_dir))
    if wait:
        for m in members:
            m.daemon.wait_healthy()
    return members


def leader_of(members):
    """The address every live member agrees leads, or None."""
    seen = set()
    for m in members:
        if not m.daemon.alive():
            continue
        entries = m.status()
        leaders = [e["hostname"] for e in entries if e["isLeader"]]
        seen.add(leaders[0] if len(leaders) == 1 else None)
    return seen.pop() if len(seen) == 1 else None


def wait_serving(members, timeout=40):
    """Waits until every live member reports every live member serving and
    exactly one leader; returns the leader's Member."""
    live = [m for m in members if m.daemon.alive()]

    def check():
        for m in live:
            entries = {e["hostname"]: e for e in m.status()}
            if any(entries[x.ip]["description"] != "serving" for x in live):
                return None
            if sum(e["isLeader"] for e in entries.values()) != 1:
                return None
        ip = leader_of(live)
        return next((m for m in live if m.ip == ip), None)

    return wait_for(check, timeout=timeout, what="every member serving")


def store_url(members):
    return "dqlite://" + ",".join(m.address for m in members) + "/" + DB


def start_probe(cluster, members, name=None, extra=(), wait=True):
    ip = cluster.ip()
    argv = [bin_path("libdcos-probe"), f"--ip={ip}", "--port=7000",
            f"--store={store_url(members)}", *extra]
    d = cluster.start(name or f"probe-{ip}", argv, wait=wait,
                      health=f"http://{ip}:7000/health", start_timeout=40)
    d.url = f"http://{ip}:7000"
    return d


def put(probe, key, value, timeout=30, session=None):
    """PUT through the probe's store client; returns the response."""
    s = session or requests
    return s.put(f"{probe.url}/kv/{key}", data=value, timeout=timeout)


def dqlite_shell(members, sql, timeout=20):
    """Runs SQL with the go-dqlite shell (a client that is not ours)."""
    servers = ",".join(m.address for m in members if m.daemon.alive())
    out = subprocess.run(["dqlite", "-s", servers, DB, sql],
                         capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        raise AssertionError(f"dqlite shell failed: {out.stderr.strip()}")
    return out.stdout


def member_copy(member, sql):
    """Runs a read on one member's own copy of the database: the dqlite
    shell dumps that member's files and sqlite3 reads them."""
    with tempfile.TemporaryDirectory() as d:
        out = subprocess.run(["dqlite", "-s", member.address, DB,
                              f".dump {member.address} {DB}"], cwd=d,
                             capture_output=True, text=True, timeout=20)
        if out.returncode != 0 or "OK" not in out.stdout:
            raise AssertionError(f"dump of {member.address} failed: "
                                 f"{out.stdout.strip()} {out.stderr.strip()}")
        conn = sqlite3.connect(os.path.join(d, DB))
        try:
            return conn.execute(sql).fetchall()
        finally:
            conn.close()


def keys_on_member(member):
    try:
        return {k for (k,) in member_copy(member, "SELECT k FROM probe_kv")}
    except sqlite3.OperationalError:
        return set()  # table not replicated here yet


def wait_keys_everywhere(members, keys, timeout=30):
    keys = set(keys)
    for m in members:
        wait_for(lambda m=m: keys <= keys_on_member(m), timeout=timeout,
                 what=f"{len(keys)} keys in {m.address}'s copy")
