"""The dev cluster launcher, scripts/dcos-up: cluster.json in DESIGN's shape,
dependency order, health waits, --detach/--stop and Ctrl-C. Components are
described by <component>/launch.json; these tests add one more description
(the libdcos probe) so the launcher has a real program to run whatever is
built."""

import json
import os
import signal
import subprocess
import sys

import requests

from harness import REPO, bin_path, fresh_ip, wait_for

DCOS_UP = os.path.join(REPO, "scripts", "dcos-up")


def probe_spec(tmp_path):
    bin_path("libdcos-probe")
    spec_dir = tmp_path / "specs"
    spec_dir.mkdir()
    (spec_dir / "probe.json").write_text(json.dumps({
        "service": "probe", "binary": "libdcos-probe",
        "roles": ["master", "agent", "agent_public"], "order": 99,
        "ports": {"http": 7000},
        "args": ["--ip={ip}", "--port={ports[http]}", "--store={store}"],
        "endpoints": {"http": "http://{ip}:{ports[http]}"},
        "health": "http://{ip}:{ports[http]}/health"}))
    return spec_dir


def ip_base():
    """A /24 nobody else uses: the first three octets of a fresh address."""
    return fresh_ip().rsplit(".", 1)[0]


def only_probe(args):
    # run with only the test's own spec, whatever components are built
    return [sys.executable, DCOS_UP, "--spec-dir-only", *args]


def test_detach_writes_cluster_json_and_stop_stops_everything(tmp_path):
    state = tmp_path / "state"
    base = ip_base()
    out = subprocess.run(only_probe([
        "--masters", "3", "--agents", "2", "--public-agents", "1",
        "--state-dir", str(state), "--ip-base", base,
        "--spec-dir", str(probe_spec(tmp_path)), "--detach"]),
        capture_output=True, text=True, timeout=300)
    try:
        assert out.returncode == 0, out.stdout + out.stderr
        doc = json.loads((state / "cluster.json").read_text())
        assert doc["state_dir"] == str(state)
        roles = [(n["role"], n["ip"]) for n in doc["nodes"]]
        assert roles == [("master", f"{base}.1"), ("master", f"{base}.2"),
                         ("master", f"{base}.3"), ("agent", f"{base}.11"),
                         ("agent", f"{base}.12"), ("agent_public", f"{base}.21")]
        for node in doc["nodes"]:
            probe = node["services"]["probe"]
            assert probe["http"] == f"http://{node['ip']}:7000"
            assert isinstance(probe["pid"], int)
            assert requests.get(probe["http"] + "/health").status_code == 200
        pids = [n["services"]["probe"]["pid"] for n in doc["nodes"]]
        # a second launch into the same state dir refuses to clobber it
        again = subprocess.run(only_probe(["--state-dir", str(state), "--ip-base",
                                           base, "--detach"]),
                               capture_output=True, text=True, timeout=60)
        assert again.returncode == 1 and "already running" in again.stderr
    finally:
        stop = subprocess.run([sys.executable, DCOS_UP, "--stop", "--state-dir",
                               str(state)], capture_output=True, text=True,
                              timeout=120)
    assert stop.returncode == 0, stop.stderr
    for pid in pids:
        wait_for(lambda: not os.path.exists(f"/proc/{pid}") or
                 open(f"/proc/{pid}/stat").read().split(") ")[1][0] == "Z",
                 what=f"pid {pid} to exit")
    doc = json.loads((state / "cluster.json").read_text())
    assert all("pid" not in s for n in doc["nodes"] for s in n["services"].values())


def test_ctrl_c_stops_the_cluster(tmp_path):
    state = tmp_path / "state"
    proc = subprocess.Popen(only_probe([
        "--masters", "1", "--agents", "1", "--public-agents", "0",
        "--state-dir", str(state), "--ip-base", ip_base(),
        "--spec-dir", str(probe_spec(tmp_path))]),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for(lambda: (state / "cluster.json").exists() and all(
            "probe" in n["services"] for n in
            json.loads((state / "cluster.json").read_text())["nodes"]),
            timeout=60, what="both probes to start")
        wait_for(lambda: all(requests.get(n["services"]["probe"]["http"] +
                                          "/health").ok for n in json.loads(
            (state / "cluster.json").read_text())["nodes"]), what="health")
        pids = [n["services"]["probe"]["pid"] for n in
                json.loads((state / "cluster.json").read_text())["nodes"]]
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "stopping" in out
    for pid in pids:
        assert not os.path.exists(f"/proc/{pid}") or \
            open(f"/proc/{pid}/stat").read().split(") ")[1][0] == "Z"


def test_a_daemon_that_fails_to_start_is_reported_and_the_rest_stopped(tmp_path):
    state = tmp_path / "state"
    spec_dir = probe_spec(tmp_path)
    (spec_dir / "broken.json").write_text(json.dumps({
        "service": "broken", "binary": "libdcos-probe", "roles": ["master"],
        "order": 100, "args": ["--port=notaport"],
        "health": "http://{ip}:1/health"}))
    out = subprocess.run(only_probe([
        "--masters", "1", "--agents", "0", "--public-agents", "0",
        "--state-dir", str(state), "--ip-base", ip_base(),
        "--spec-dir", str(spec_dir), "--detach"]),
        capture_output=True, text=True, timeout=120)
    assert out.returncode == 1
    assert "broken" in out.stderr and "exited with 2" in out.stderr
    doc = json.loads((state / "cluster.json").read_text())
    probe_pid = doc["nodes"][0]["services"]["probe"].get("pid")
    assert probe_pid is None  # stopped and cleared
