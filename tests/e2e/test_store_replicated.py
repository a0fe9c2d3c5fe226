"""The replicated store end to end: dcos-exhibitor members, libdcos-probe
writing through our store client, and the dqlite shell reading each
member's own copy to check what landed where."""

import shutil
import signal
import threading
import time

import pytest
import requests

from harness import get_json, wait_for
from store_cluster import (dqlite_shell, keys_on_member, member_copy, put,
                           start_members, start_probe, wait_keys_everywhere,
                           wait_serving)


@pytest.mark.parametrize("n", [1, 3, 5])
def test_writes_through_any_member_land_on_all(cluster, n):
    members = start_members(cluster, n)
    wait_serving(members)
    # one client per member, each told only about that member: it finds the
    # leader through it
    keys = set()
    for i, m in enumerate(members):
        probe = start_probe(cluster, [m])
        for j in range(3):
            key = f"via-{i}-{j}"
            assert put(probe, key, m.ip).status_code == 201
            keys.add(key)
    wait_keys_everywhere(members, keys)
    for m in members:
        got = dict(member_rows(m))
        assert all(got[f"via-{i}-0"] == x.ip for i, x in enumerate(members))
    configured = dqlite_shell(members, ".cluster").split()
    assert sorted(line.split("|")[1] for line in configured) == sorted(
        m.address for m in members)
    assert all(line.endswith("|voter") for line in configured)


def member_rows(member):
    return member_copy(member, "SELECT k, v FROM probe_kv")


def test_replaced_members_with_empty_disks_rejoin(cluster):
    members = start_members(cluster, 3)
    wait_serving(members)
    probe = start_probe(cluster, members)
    for i in range(5):
        assert put(probe, f"r{i}", "before").status_code == 201
    # the first master bootstrapped the cluster (node id 1); replace it,
    # then another one, each with a new empty disk at the same address
    for m in (members[0], members[2]):
        assert m.daemon.stop() == 0
        shutil.rmtree(m.data_dir)
        m.daemon.start()
        wait_serving(members)
        assert put(probe, f"after-{m.ip}", "x").status_code == 201
    want = {f"r{i}" for i in range(5)} | {f"after-{m.ip}"
                                          for m in (members[0], members[2])}
    wait_keys_everywhere(members, want)
    voters = [line.split("|") for line in
              dqlite_shell(members, ".cluster").split()]
    assert sorted(v[1] for v in voters) == sorted(m.address for m in members)
    assert all(v[2] == "voter" for v in voters)
    assert "1" not in [v[0] for v in voters]  # the old id 1 entry is gone
    assert "removing the old membership" in members[0].daemon.log()


def test_one_component_on_every_master_migrates_its_schema_once(cluster):
    members = start_members(cluster, 3)
    wait_serving(members)
    # five copies of one component start at once on a fresh store, each
    # upgrading the same schema: none may fail on the others' work
    probes = [start_probe(cluster, members, wait=False) for _ in range(5)]
    for p in probes:
        p.wait_healthy(timeout=40)
    assert dqlite_shell(members, "SELECT version FROM schema_versions WHERE "
                        "component = 'probe'").strip() == "1"
    upgraded = sum("upgraded to version 1" in p.log() for p in probes)
    assert upgraded == 1, [p.log_tail(5) for p in probes]


class Writer(threading.Thread):
    """Writes k0, k1, ... one after the other through a probe and records
    when each write was acknowledged."""

    def __init__(self, probe):
        super().__init__(daemon=True)
        self.probe = probe
        self.acked = []  # (key, time acknowledged)
        self.failed = []
        self.stop = threading.Event()

    def run(self):
        s = requests.Session()
        i = 0
        while not self.stop.is_set():
            key = f"k{i}"
            i += 1
            try:
                r = put(self.probe, key, str(i), session=s, timeout=60)
                if r.status_code == 201:
                    self.acked.append((key, time.monotonic()))
                else:
                    self.failed.append((key, r.status_code, r.text))
            except requests.RequestException as e:
                self.failed.append((key, 0, str(e)))

    def acks_after(self, t):
        return sum(1 for _, at in self.acked if at > t)


def test_killing_the_leader_loses_no_acknowledged_write(cluster):
    members = start_members(cluster, 3)
    leader = wait_serving(members)
    probe = start_probe(cluster, members)
    writer = Writer(probe)
    writer.start()
    wait_for(lambda: len(writer.acked) >= 50, timeout=30, what="50 writes")

    killed_at = time.monotonic()
    leader.daemon.kill()
    wait_for(lambda: writer.acks_after(killed_at) >= 50, timeout=60,
             what="writes to resume through a new leader")
    writer.stop.set()
    writer.join(timeout=70)

    # the outage: the longest wait between two acknowledgements around it
    times = [killed_at] + [at for _, at in writer.acked if at > killed_at]
    outage = max(b - a for a, b in zip(times, times[1:]))
    print(f"\nleader {leader.address} killed: no write acknowledged for "
          f"{outage:.2f}s; {len(writer.acked)} acknowledged, "
          f"{len(writer.failed)} failed")
    assert "the leader is now" in probe.log()

    survivors = [m for m in members if m is not leader]
    new_leader = wait_serving(survivors)
    assert new_leader is not leader
    acked = {k for k, _ in writer.acked}
    wait_keys_everywhere(survivors, acked)
    # the killed member comes back and catches up
    leader.daemon.start()
    wait_serving(members)
    wait_keys_everywhere([leader], acked)


def test_a_frozen_leader_neither_loses_nor_repeats_writes(cluster):
    """Appends (not idempotent) while the leader freezes mid-stream: the
    client cannot tell whether the write in flight committed, finds out
    from the new leader, and every append is applied exactly once."""
    members = start_members(cluster, 3)
    leader = wait_serving(members)
    probe = start_probe(cluster, members)
    acked, failed = [], []
    stop = threading.Event()

    def append():
        s = requests.Session()
        while not stop.is_set():
            try:
                r = s.post(probe.url + "/kv/counter", data=".", timeout=60)
                (acked if r.status_code == 201 else failed).append(r.text)
            except requests.RequestException as e:
                failed.append(str(e))

    writer = threading.Thread(target=append, daemon=True)
    writer.start()
    wait_for(lambda: len(acked) >= 30, timeout=30, what="30 appends")
    leader.daemon.signal(signal.SIGSTOP)
    frozen_at = len(acked)
    wait_for(lambda: len(acked) >= frozen_at + 30, timeout=60,
             what="appends to resume on a new leader")
    leader.daemon.kill()
    stop.set()
    writer.join(timeout=70)

    survivors = [m for m in members if m is not leader]
    value = dqlite_shell(survivors, "SELECT v FROM probe_kv WHERE k = "
                         "'counter'").strip()
    resolved = [line for line in probe.log().splitlines()
                if "commit outcome unknown" in line or "was applied" in line
                or "was not applied" in line]
    print(f"\n{len(acked)} appends acknowledged, {len(failed)} failed, "
          f"{len(value)} applied; " + " / ".join(resolved))
    assert len(acked) <= len(value) <= len(acked) + len(failed)
    if not failed:
        assert len(value) == len(acked)


def test_quorum_one_member_down_writable_two_down_not(cluster):
    members = start_members(cluster, 3)
    wait_serving(members)
    probe = start_probe(cluster, members)
    for i in range(5):
        assert put(probe, f"a{i}", "all up").status_code == 201

    first = members[2]
    assert first.daemon.stop() == 0
    for i in range(5):
        assert put(probe, f"b{i}", "one down").status_code == 201

    second = wait_serving(members[:2])  # stop the leader this time
    assert second.daemon.stop() == 0
    alone = next(m for m in members[:2] if m is not second)
    # once the last member knows it has no quorum, writes fail clearly
    wait_for(lambda: {e["hostname"]: e for e in alone.status()}[alone.ip][
        "description"] == "not serving", timeout=20, what="no quorum")
    assert not any(e["isLeader"] for e in alone.status())
    assert get_json(alone.http + "/health")["serving"] is False
    r = put(probe, "c0", "no quorum", timeout=60)
    assert r.status_code == 503
    assert "no leader" in r.json()["message"], r.text

    second.daemon.start()
    first.daemon.start()
    wait_serving(members)
    want = {f"a{i}" for i in range(5)} | {f"b{i}" for i in range(5)}
    wait_keys_everywhere(members, want)
    for m in members:
        assert keys_on_member(m) == want  # the refused write left nothing
        assert member_copy(m, "PRAGMA integrity_check") == [("ok",)]
    assert put(probe, "c1", "quorum back").status_code == 201


def test_lease_never_has_two_holders_across_kills(cluster):
    members = start_members(cluster, 3)
    wait_serving(members)
    probes = [start_probe(cluster, members, extra=["--lease_name=bench",
                                                   "--lease_ttl=2secs"])
              for _ in range(3)]
    holders = {}   # epoch -> the probe that held it
    overlaps = []
    stop = threading.Event()

    def watch():
        s = requests.Session()
        while not stop.is_set():
            leading = []
            for p in probes:
                if not p.alive():
                    continue
                try:
                    st = s.get(p.url + "/lease", timeout=2).json()
                except requests.RequestException:
                    continue
                if st["leader"]:
                    leading.append(p.name)
                    if holders.setdefault(st["epoch"], p.name) != p.name:
                        overlaps.append(("epoch", st["epoch"],
                                         holders[st["epoch"]], p.name))
            if len(leading) > 1:
                overlaps.append(("at once", leading))
            time.sleep(0.02)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()

    def holder():
        alive = [p for p in probes if p.alive()]
        lead = [p for p in alive
                if requests.get(p.url + "/lease", timeout=2).json()["leader"]]
        return lead[0] if len(lead) == 1 else None

    first = wait_for(holder, timeout=20, what="a lease holder")
    epoch = get_json(first.url + "/lease")["epoch"]
    # the holder crashes: another takes over after the ttl, with a new epoch
    first.kill()
    second = wait_for(lambda: (h := holder()) not in (None, first) and h,
                      timeout=20, what="a new holder")
    assert get_json(second.url + "/lease")["epoch"] > epoch
    # a fenced write only works for the holder
    other = next(p for p in probes if p.alive() and p is not second)
    assert requests.put(other.url + "/kv/fenced?fenced=1", data="x",
                        timeout=30).status_code == 409
    assert requests.put(second.url + "/kv/fenced?fenced=1", data="y",
                        timeout=30).status_code == 201
    # the store's leader crashes: holders may step down, never overlap
    store_leader = wait_serving(members)
    store_leader.daemon.kill()
    wait_serving([m for m in members if m is not store_leader])
    wait_for(holder, timeout=30, what="a holder after the store failover")
    stop.set()
    watcher.join(timeout=5)
    assert overlaps == []
    assert len(holders) >= 2
