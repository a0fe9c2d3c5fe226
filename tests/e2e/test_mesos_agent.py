"""The Mesos agent (dcos-mesos-slave + mesos-executor), end to end: a real
master, a real agent, and a framework speaking the v1 scheduler API.
Tasks run, report their states, leave stdout/stderr in a sandbox readable
through /files, see the Mesos environment, are killed with a grace
period, fail with the right reasons, fetch their URIs, and are cleaned
up. Restarts and failures of the agent are in test_mesos_agent_recovery.py.
"""

import base64
import io
import os
import socket
import tarfile
import threading
import http.server

import pytest
import requests

from harness import garbage_tcp, wait_for
from mesos_agent_util import (agent_state, cleanup_containers, framework,
                              offer_on, processes_under, read_file,
                              registered, run, sandbox, start_agent,
                              start_master, tid, wait_file)


class World:
    def __init__(self, cluster, agent_extra=(), master_extra=()):
        self.cluster = cluster
        self.master = start_master(cluster, extra=master_extra)
        self.agent = start_agent(cluster, self.master, extra=agent_extra)
        self.agent_id = registered(self.agent)
        self.fw = framework(self.master)

    def run(self, name, **kw):
        return run(self.fw, self.agent_id, name, **kw)


@pytest.fixture
def world(cluster):
    worlds = []

    def make(**kw):
        w = World(cluster, **kw)
        worlds.append(w)
        return w
    yield make
    for w in worlds:
        w.fw.close()
    cleanup_containers(cluster.dir)


def test_echo_task_runs_through_its_states_and_its_stdout_is_readable(world):
    w = world()
    task = w.run("hello", cmd="echo hello; echo oops >&2")

    w.fw.wait_state(tid(task), "TASK_FINISHED")
    assert w.fw.states(tid(task)) == ["TASK_STARTING", "TASK_RUNNING",
                                      "TASK_FINISHED"]
    final = w.fw.statuses(tid(task))[-1]
    assert final["message"] == "Command exited with status 0"
    assert final["agent_id"]["value"] == w.agent_id
    # where mesos-dns and Marathon find a task's address
    running = w.fw.statuses(tid(task))[1]
    assert running["container_status"]["network_infos"][0][
        "ip_addresses"][0] == {"protocol": "IPv4", "ip_address": w.agent.ip}

    box = sandbox(w.agent, tid(task))
    assert f"/slaves/{w.agent_id}/frameworks/{w.fw.framework_id}/executors/" \
        f"{tid(task)}/runs/" in box
    assert read_file(w.agent, box + "/stdout").json() == \
        {"data": "hello\n", "offset": 0}
    assert "oops\n" in read_file(w.agent, box + "/stderr").json()["data"]
    # the virtual path DC/OS tools use reaches the same file
    virtual = f"/frameworks/{w.fw.framework_id}/executors/{tid(task)}/runs/" \
        "latest/stdout"
    assert read_file(w.agent, virtual).json()["data"] == "hello\n"


def test_files_endpoints_browse_read_windows_and_download(world):
    w = world()
    task = w.run("files", cmd="printf 'line1\\nline2\\n'; mkdir d; "
                 "echo x > d/inner.txt")
    w.fw.wait_state(tid(task), "TASK_FINISHED")
    box = sandbox(w.agent, tid(task))

    listing = requests.get(w.agent.url + "/files/browse",
                           params={"path": box}).json()
    by_name = {os.path.basename(f["path"]): f for f in listing}
    assert {"stdout", "stderr", "d"} <= set(by_name)
    assert by_name["stdout"]["size"] == 12
    assert by_name["stdout"]["mode"] == "-rw-r--r--"
    assert by_name["d"]["mode"].startswith("d")
    assert set(by_name["stdout"]) == {"path", "nlink", "size", "mtime",
                                      "mode", "uid", "gid"}

    # offset -1 asks for the size; windows read what is there
    assert read_file(w.agent, box + "/stdout", offset=-1).json() == \
        {"data": "", "offset": 12}
    assert read_file(w.agent, box + "/stdout", 6, 5).json() == \
        {"data": "line2", "offset": 6}
    assert read_file(w.agent, box + "/stdout", 100).json()["data"] == ""

    r = requests.get(w.agent.url + "/files/download",
                     params={"path": box + "/d/inner.txt"})
    assert r.status_code == 200 and r.content == b"x\n"
    assert r.headers["Content-Disposition"] == "attachment; filename=inner.txt"
    assert r.headers["Content-Type"] == "text/plain"

    # bad requests name the problem and serve nothing outside sandboxes
    assert requests.get(w.agent.url + "/files/read").status_code == 400
    bad = read_file(w.agent, box + "/stdout", offset="x")
    assert bad.status_code == 400 and "offset" in bad.json()["message"]
    assert read_file(w.agent, box + "/stdout", offset=-5).status_code == 400
    assert read_file(w.agent, box + "/nope").status_code == 404
    assert read_file(w.agent, box + "/../../../../../../etc/passwd"
                     ).status_code == 404
    assert read_file(w.agent, "/etc/passwd").status_code == 404
    assert requests.get(w.agent.url + "/files/download",
                        params={"path": box + "/d"}).status_code == 400


def test_task_sees_the_mesos_environment_and_its_own_variables(world):
    w = world()
    task = w.run("env", cmd="env | sort", env={"GREETING": "hi there"})
    w.fw.wait_state(tid(task), "TASK_FINISHED")
    box = sandbox(w.agent, tid(task))
    env = dict(line.split("=", 1) for line in
               read_file(w.agent, box + "/stdout").json()["data"].splitlines()
               if "=" in line)

    assert env["GREETING"] == "hi there"
    assert env["MESOS_TASK_ID"] == tid(task)
    assert env["MESOS_SANDBOX"] == box
    assert env["MESOS_EXECUTOR_ID"] == tid(task)
    assert env["MESOS_FRAMEWORK_ID"] == w.fw.framework_id
    assert env["MESOS_AGENT_ENDPOINT"] == f"{w.agent.ip}:5051"


def test_argv_commands_run_without_a_shell(world):
    w = world()
    task = w.run("argv", argv=["/bin/echo", "a  b", "$HOME"], shell=False)
    w.fw.wait_state(tid(task), "TASK_FINISHED")
    box = sandbox(w.agent, tid(task))
    assert read_file(w.agent, box + "/stdout").json()["data"] == \
        "a  b $HOME\n"


def test_failing_command_is_task_failed_with_reason_and_exit_status(world):
    w = world()
    task = w.run("fail", cmd="echo about to fail >&2; exit 3")
    status = w.fw.wait_state(tid(task), "TASK_FAILED")
    assert status["reason"] == "REASON_COMMAND_EXECUTOR_FAILED"
    assert status["message"] == "Command exited with status 3"
    assert status["source"] == "SOURCE_EXECUTOR"

    missing = w.run("missing", argv=["/no/such/program"], shell=False)
    status = w.fw.wait_state(tid(missing), "TASK_FAILED")
    assert status["message"] == "Command exited with status 127"
    box = sandbox(w.agent, tid(missing))
    assert "/no/such/program" in read_file(w.agent, box + "/stderr"
                                           ).json()["data"]


def test_kill_sends_sigterm_then_sigkill_after_the_grace_period(world):
    w = world()
    # ignores SIGTERM: only the SIGKILL after the grace period stops it
    stubborn = w.run("stubborn", cmd="trap 'echo got TERM' TERM; "
                     "echo ready; while true; do sleep 0.1; done")
    # stops at once on SIGTERM
    polite = w.run("polite", cmd="trap 'echo bye; exit 0' TERM; echo ready; "
                   "while true; do sleep 0.1; done")
    for t in (stubborn, polite):
        w.fw.wait_state(tid(t), "TASK_RUNNING")
        wait_file(w.agent, sandbox(w.agent, tid(t)) + "/stdout",
                  lambda d: "ready" in d)

    w.fw.kill(tid(stubborn), grace=1)
    w.fw.kill(tid(polite), grace=30)

    killed = w.fw.wait_state(tid(stubborn), "TASK_KILLED")
    assert "TASK_KILLING" in w.fw.states(tid(stubborn))
    assert killed["message"] == "Command terminated with signal Killed"
    assert "got TERM" in read_file(
        w.agent, sandbox(w.agent, tid(stubborn)) + "/stdout").json()["data"]
    # long before its 30s grace period is over
    killed = w.fw.wait_state(tid(polite), "TASK_KILLED", timeout=20)
    assert killed["message"] == "Command exited with status 0"


def test_kill_policy_of_the_task_sets_the_grace_period(world):
    w = world()
    task = w.run("graceful", kill_grace=0.5,
                 cmd="trap '' TERM; echo ready; while true; do sleep 0.1; done")
    w.fw.wait_state(tid(task), "TASK_RUNNING")
    wait_file(w.agent, sandbox(w.agent, tid(task)) + "/stdout",
              lambda d: "ready" in d)
    w.fw.kill(tid(task))
    assert w.fw.wait_state(tid(task), "TASK_KILLED")["message"] == \
        "Command terminated with signal Killed"


def test_task_over_its_memory_limit_fails_with_memory_limitation(world):
    w = world()
    isolation = agent_state(w.agent)["flags"]["isolation"]
    if "cgroups/mem" not in isolation:
        pytest.skip(f"no memory cgroup on this host (isolation {isolation!r}:"
                    f" {agent_state(w.agent)['flags'].get('isolation_notes')})"
                    "; tasks are not memory limited")
    # dd fills a 256 MB buffer: far over the task's 32 MB
    task = w.run("hog", mem=32, cmd="dd if=/dev/zero of=/dev/null bs=256M "
                 "count=1")
    status = w.fw.wait_state(tid(task), {"TASK_FAILED", "TASK_FINISHED"})
    assert status["state"] == "TASK_FAILED"
    assert status["reason"] == "REASON_CONTAINER_LIMITATION_MEMORY"
    assert status["message"].startswith("Memory limit exceeded: Requested: "
                                        "32MB")
    # a task within its limit is left alone
    ok = w.run("fits", mem=64, cmd="dd if=/dev/zero of=/dev/null bs=8M count=1")
    assert w.fw.wait_state(tid(ok), {"TASK_FAILED", "TASK_FINISHED"}
                           )["state"] == "TASK_FINISHED"


class _Files(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a):
        pass


@pytest.fixture
def http_files(cluster, tmp_path):
    """A plain HTTP server (not ours) serving tmp_path/www."""
    root = tmp_path / "www"
    root.mkdir()
    ip = cluster.ip()
    srv = http.server.ThreadingHTTPServer(
        (ip, 8000), lambda *a: _Files(*a, directory=str(root)))
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    yield root, f"http://{ip}:8000"
    srv.shutdown()
    srv.server_close()


def test_fetcher_downloads_extracts_and_marks_executable(world, http_files):
    root, base = http_files
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        data = b"#!/bin/sh\necho from the tarball\n"
        info = tarfile.TarInfo("app/run.sh")
        info.size = len(data)
        info.mode = 0o755
        tar.addfile(info, io.BytesIO(data))
    (root / "app.tar.gz").write_bytes(buf.getvalue())
    (root / "tool").write_text("#!/bin/sh\necho tool says $1\n")
    (root / "data.txt").write_text("plain data\n")
    w = world()
    offer = offer_on(w.fw, w.agent_id)
    task = w.fw.task(offer, "fetch", cmd="./app/run.sh && ./tool hi && "
                     "cat renamed.txt")
    task["command"]["uris"] = [
        {"value": f"{base}/app.tar.gz"},
        {"value": f"{base}/tool", "executable": True},
        {"value": f"{base}/data.txt", "output_file": "renamed.txt"},
    ]
    w.fw.launch(offer, [task], refuse_seconds=0)
    w.fw.wait_state(tid(task), {"TASK_FINISHED", "TASK_FAILED"})
    box = sandbox(w.agent, tid(task))
    assert read_file(w.agent, box + "/stdout").json()["data"] == \
        "from the tarball\ntool says hi\nplain data\n"
    assert w.fw.states(tid(task))[-1] == "TASK_FINISHED"
    names = {os.path.basename(f["path"]) for f in requests.get(
        w.agent.url + "/files/browse", params={"path": box}).json()}
    assert {"app.tar.gz", "app", "tool", "renamed.txt"} <= names

    offer = offer_on(w.fw, w.agent_id)
    broken = w.fw.task(offer, "broken", cmd="true")
    broken["command"]["uris"] = [{"value": f"{base}/no-such-file"}]
    w.fw.launch(offer, [broken], refuse_seconds=0)
    status = w.fw.wait_state(tid(broken), {"TASK_FAILED", "TASK_FINISHED"})
    assert status["state"] == "TASK_FAILED"
    assert status["reason"] == "REASON_CONTAINER_LAUNCH_FAILED"
    assert "Failed to fetch all URIs" in status["message"]
    assert "404" in status["message"]


def test_state_monitor_and_metrics_describe_the_agent_and_its_tasks(world):
    w = world()
    task = w.run("sleepy", cmd="sleep 60", cpus=0.5, mem=64)
    w.fw.wait_state(tid(task), "TASK_RUNNING")
    st = agent_state(w.agent)
    assert st["id"] == w.agent_id
    assert st["pid"] == f"slave(1)@{w.agent.ip}:5051"
    assert st["hostname"] == w.agent.ip
    assert st["resources"] == {"cpus": 4.0, "gpus": 0.0, "mem": 2048.0,
                               "disk": 2048.0, "ports": "[31000-31099]"}
    assert st["flags"]["isolation"]
    (fw,) = st["frameworks"]
    assert fw["id"] == w.fw.framework_id
    (ex,) = fw["executors"]
    assert ex["id"] == tid(task) and ex["source"] == tid(task)
    assert ex["name"].startswith(f"Command Executor (Task: {tid(task)})")
    (t,) = ex["tasks"]
    assert t["state"] == "TASK_RUNNING" and t["executor_id"] == ""
    assert t["resources"]["cpus"] == 0.5 and t["resources"]["mem"] == 64.0
    assert [s["state"] for s in t["statuses"]] == ["TASK_STARTING",
                                                   "TASK_RUNNING"]
    assert st["unreserved_resources_allocated"]["cpus"] == 0.5
    for alias in ("/state.json", "/slave(1)/state"):
        assert requests.get(w.agent.url + alias).json()["id"] == w.agent_id

    stats = requests.get(w.agent.url + "/monitor/statistics").json()
    (s,) = [x for x in stats if x["executor_id"] == tid(task)]
    assert s["framework_id"] == w.fw.framework_id
    assert s["statistics"]["cpus_limit"] == 0.5
    assert s["statistics"]["mem_limit_bytes"] == 64 * 1024 * 1024
    assert "cpus_user_time_secs" in s["statistics"]

    m = requests.get(w.agent.url + "/metrics/snapshot").json()
    assert m["slave/registered"] == 1.0
    assert m["slave/tasks_running"] == 1.0
    assert m["slave/cpus_used"] == 0.5
    assert requests.get(w.agent.url + "/health").status_code == 200
    v = requests.post(w.agent.url + "/api/v1", json={"type": "GET_TASKS"})
    assert v.status_code == 200
    assert [x["task_id"]["value"] for x in
            v.json()["get_tasks"]["launched_tasks"]] == [tid(task)]


def test_public_agent_offers_its_resources_to_slave_public(world, cluster):
    w = world()
    public = start_agent(cluster, w.master, extra=(
        "--default_role=slave_public", "--attributes=public_ip:true"))
    public_id = registered(public)
    st = agent_state(public)
    assert st["reserved_resources"]["slave_public"]["cpus"] == 4.0
    assert st["unreserved_resources"]["cpus"] == 0.0
    assert st["attributes"] == {"public_ip": "true"}
    fw = framework(w.master, role="slave_public")
    try:
        task = run(fw, public_id, "web", cmd="echo public")
        fw.wait_state(tid(task), "TASK_FINISHED")
    finally:
        fw.close()


def test_bad_executor_calls_get_clear_errors(world):
    w = world()
    url = w.agent.url + "/api/v1/executor"
    r = requests.post(url, data="{", headers={"Content-Type":
                                              "application/json"})
    assert r.status_code == 400
    r = requests.post(url, data=b"\x08\x01",
                      headers={"Content-Type": "application/x-protobuf"})
    assert r.status_code == 415
    r = requests.post(url, json={"type": "SUBSCRIBE",
                                 "framework_id": {"value": "nope"},
                                 "executor_id": {"value": "nope"}})
    assert r.status_code == 400 and "unknown executor" in r.json()["message"]
    r = requests.post(url, json={"type": "UPDATE"})
    assert r.status_code == 400 and "framework_id" in r.json()["message"]


def test_garbage_on_every_agent_port_leaves_it_working(world):
    w = world()
    for port in (5051, 5054):
        garbage_tcp(w.agent.ip, port)
    assert w.agent.alive()
    assert requests.get(w.agent.url + "/health").status_code == 200
    task = w.run("after-garbage", cmd="echo still here")
    w.fw.wait_state(tid(task), "TASK_FINISHED")


def test_finished_sandboxes_are_garbage_collected(world):
    w = world(agent_extra=("--gc_delay=2secs", "--disk_watch_interval=1secs",
                           "--gc_disk_headroom=0"))
    task = w.run("short", cmd="echo short-lived")
    w.fw.wait_state(tid(task), "TASK_FINISHED")
    box = sandbox(w.agent, tid(task))
    assert read_file(w.agent, box + "/stdout").json()["data"] == \
        "short-lived\n"
    wait_for(lambda: not os.path.exists(box), 30,
             what="the sandbox to be garbage collected")
    assert read_file(w.agent, box + "/stdout").status_code == 404
    m = requests.get(w.agent.url + "/metrics/snapshot").json()
    assert m["gc/path_removals_succeeded"] >= 1


def test_task_group_runs_in_one_executor_with_a_sandbox_per_task(world):
    w = world()
    offer = offer_on(w.fw, w.agent_id)
    a = w.fw.task(offer, "web", cmd="echo I am web; echo $MESOS_SANDBOX")
    b = w.fw.task(offer, "sidecar", cmd="echo I am sidecar")
    for t in (a, b):
        t["command"]["shell"] = True
    executor = {"type": "DEFAULT", "executor_id": {"value": "pod-1"},
                "framework_id": {"value": w.fw.framework_id},
                "resources": [w.fw.scalar("cpus", 0.1),
                              w.fw.scalar("mem", 32)]}
    w.fw.launch_group(offer, executor, [a, b], refuse_seconds=0)
    for t in (a, b):
        w.fw.wait_state(tid(t), "TASK_FINISHED")
    box = sandbox(w.agent, "pod-1")
    out = read_file(w.agent, f"{box}/tasks/{tid(a)}/stdout").json()["data"]
    assert out == f"I am web\n{box}/tasks/{tid(a)}\n"
    assert read_file(w.agent, f"{box}/tasks/{tid(b)}/stdout").json()[
        "data"] == "I am sidecar\n"


# A third-party executor, written against the Mesos v1 executor HTTP API
# with nothing of ours: it subscribes, reports each task RUNNING, answers a
# framework message "x" with "pong:x", then reports the task FINISHED and
# leaves once the agent acknowledged everything.
CUSTOM_EXECUTOR = r'''
import json, os, sys, uuid, base64, requests
url = "http://%s/api/v1/executor" % os.environ["MESOS_AGENT_ENDPOINT"]
fid = {"value": os.environ["MESOS_FRAMEWORK_ID"]}
eid = {"value": os.environ["MESOS_EXECUTOR_ID"]}
H = {"Content-Type": "application/json", "Accept": "application/json"}
r = requests.post(url, headers=H, stream=True, json={
    "type": "SUBSCRIBE", "framework_id": fid, "executor_id": eid,
    "subscribe": {"unacknowledged_tasks": [], "unacknowledged_updates": []}})
assert r.status_code == 200, r.text
pending = set()
def update(task_id, state):
    u = base64.b64encode(uuid.uuid4().bytes).decode()
    pending.add(u)
    s = requests.post(url, headers=H, json={
        "type": "UPDATE", "framework_id": fid, "executor_id": eid,
        "update": {"status": {"task_id": task_id, "state": state,
                              "source": "SOURCE_EXECUTOR", "uuid": u,
                              "message": "custom " + state}}})
    assert s.status_code == 202, s.text
buf = b""
done = 0
for chunk in r.iter_content(chunk_size=None):
    buf += chunk
    while b"\n" in buf:
        n, rest = buf.split(b"\n", 1)
        if len(rest) < int(n):
            break
        ev, buf = json.loads(rest[:int(n)]), rest[int(n):]
        print("event", ev["type"], flush=True)
        if ev["type"] == "LAUNCH":
            task = ev["launch"]["task"]["task_id"]
            update(task, "TASK_RUNNING")
        elif ev["type"] == "MESSAGE":
            data = base64.b64decode(ev["message"]["data"])
            m = requests.post(url, headers=H, json={
                "type": "MESSAGE", "framework_id": fid, "executor_id": eid,
                "message": {"data": base64.b64encode(b"pong:" + data).decode()}})
            assert m.status_code == 202, m.text
            update(task, "TASK_FINISHED")
            done += 1
        elif ev["type"] == "ACKNOWLEDGED":
            pending.discard(ev["acknowledged"]["uuid"])
            if done and not pending:
                sys.exit(0)
        elif ev["type"] == "SHUTDOWN":
            sys.exit(0)
'''


def test_custom_executor_speaking_the_v1_executor_api_runs_tasks(world,
                                                                 tmp_path):
    script = tmp_path / "executor.py"
    script.write_text(CUSTOM_EXECUTOR)
    w = world()
    offer = offer_on(w.fw, w.agent_id)
    executor = {"executor_id": {"value": "custom-1"},
                "framework_id": {"value": w.fw.framework_id},
                "command": {"value": f"/usr/bin/python3 {script}"},
                "resources": [w.fw.scalar("cpus", 0.1),
                              w.fw.scalar("mem", 64)]}
    task = w.fw.task(offer, "by-custom", executor=executor)
    w.fw.launch(offer, [task], refuse_seconds=0)
    w.fw.wait_state(tid(task), "TASK_RUNNING")
    # a framework message goes to the executor and its answer comes back
    w.fw.message(w.agent_id, "custom-1", b"ping")
    msg = w.fw.wait_event("MESSAGE")["message"]
    assert base64.b64decode(msg["data"]) == b"pong:ping"
    assert msg["executor_id"]["value"] == "custom-1"
    st = w.fw.wait_state(tid(task), "TASK_FINISHED")
    assert st["message"] == "custom TASK_FINISHED"
    assert st["executor_id"]["value"] == "custom-1"
    assert w.fw.states(tid(task)) == ["TASK_RUNNING", "TASK_FINISHED"]
    box = sandbox(w.agent, "custom-1")
    assert "event LAUNCH" in wait_file(w.agent, box + "/stdout",
                                       lambda d: "ACKNOWLEDGED" in d)


def test_agent_finds_the_leading_master_through_the_store(cluster):
    master = start_master(cluster)
    store = f"sqlite:{cluster.dir}/master-{master.ip}/registry.db"
    agent = start_agent(cluster, master, master_arg=store)
    registered(agent)
    assert f"the store names {master.ip}:5050 as the leading master" in \
        agent.log()
    slaves = requests.get(master.url + "/master/slaves").json()["slaves"]
    assert [s["hostname"] for s in slaves] == [agent.ip]


def test_without_cgroups_memory_is_bounded_by_rlimits(world):
    w = world(agent_extra=("--isolation=posix/rlimits",))
    flags = agent_state(w.agent)["flags"]
    assert flags["isolation"] == "posix/rlimits"
    # dd cannot even allocate its 256 MB buffer under a 32 MB RLIMIT_DATA
    hog = w.run("hog", mem=32, cmd="dd if=/dev/zero of=/dev/null bs=256M "
                "count=1")
    status = w.fw.wait_state(tid(hog), {"TASK_FAILED", "TASK_FINISHED"})
    assert status["state"] == "TASK_FAILED"
    assert status["reason"] == "REASON_COMMAND_EXECUTOR_FAILED"
    assert "memory exhausted" in read_file(
        w.agent, sandbox(w.agent, tid(hog)) + "/stderr").json()["data"]
    ok = w.run("fits", mem=64, cmd="dd if=/dev/zero of=/dev/null bs=8M count=1")
    assert w.fw.wait_state(tid(ok), {"TASK_FAILED", "TASK_FINISHED"}
                           )["state"] == "TASK_FINISHED"


def test_agent_stopping_with_shutdown_executors_on_exit_leaves_nothing(
        world):
    w = world(agent_extra=("--shutdown_executors_on_exit",
                           "--executor_shutdown_grace_period=2secs"))
    task = w.run("long", cmd="sleep 300")
    w.fw.wait_state(tid(task), "TASK_RUNNING")
    box = sandbox(w.agent, tid(task))
    assert processes_under(box)
    assert w.agent.stop() == 0
    assert not processes_under(box)


def test_tasks_run_as_their_user_and_unknown_users_fail(world, cluster):
    if os.geteuid() != 0:
        pytest.skip("switching users needs the agent to run as root")
    w = world()
    w.fw.close()  # its offers go to the frameworks below
    fw = framework(w.master, user="nobody", name="as-nobody")
    try:
        task = run(fw, w.agent_id, "whoami", cmd="id -un; touch mine")
        fw.wait_state(tid(task), "TASK_FINISHED")
        box = sandbox(w.agent, tid(task))
        assert read_file(w.agent, box + "/stdout").json()["data"] == \
            "nobody\n"
        listing = requests.get(w.agent.url + "/files/browse",
                               params={"path": box}).json()
        owners = {os.path.basename(f["path"]): f["uid"] for f in listing}
        assert owners["mine"] == "nobody"
    finally:
        fw.close()
    registered(w.agent)
    ghost = framework(w.master, user="no-such-user-here", name="ghost")
    try:
        task = run(ghost, w.agent_id, "ghost", cmd="true")
        status = ghost.wait_state(tid(task), {"TASK_FAILED", "TASK_FINISHED"})
        assert status["state"] == "TASK_FAILED"
        assert status["reason"] == "REASON_CONTAINER_LAUNCH_FAILED"
        assert "no-such-user-here" in status["message"]
    finally:
        ghost.close()


def test_health_checks_mark_tasks_healthy_and_kill_failing_ones(world):
    w = world()
    offer = offer_on(w.fw, w.agent_id)
    # Mesos checks go to 127.0.0.1, shared by every loopback agent: ports
    # of this test process's own, so a second run on the machine cannot
    # hold them
    p = 31000 + (os.getpid() % 50) * 2
    web = w.fw.task(offer, "web", ports=[p], cmd="exec /usr/bin/python3 "
                    f"-m http.server {p} --bind 127.0.0.1")
    web["health_check"] = {"type": "HTTP", "http": {"port": p, "path": "/"},
                           "delay_seconds": 0, "interval_seconds": 0.5,
                           "grace_period_seconds": 10}
    tcp = w.fw.task(offer, "tcp", ports=[p + 1], cmd="exec /usr/bin/python3 "
                    f"-m http.server {p + 1} --bind 127.0.0.1")
    tcp["health_check"] = {"type": "TCP", "tcp": {"port": p + 1},
                           "delay_seconds": 0, "interval_seconds": 0.5}
    # healthy while the file exists, then failing: killed after 2 failures
    flaky = w.fw.task(offer, "flaky", cmd="touch ok; sleep 2; rm ok; "
                      "sleep 300")
    flaky["health_check"] = {"type": "COMMAND",
                             "command": {"value": "test -e ok"},
                             "delay_seconds": 0, "interval_seconds": 0.5,
                             "timeout_seconds": 5, "grace_period_seconds": 1,
                             "consecutive_failures": 2}
    w.fw.launch(offer, [web, tcp, flaky], refuse_seconds=0)

    for t in (web, tcp):
        st = w.fw.wait_for(lambda t=t: next(
            (s for s in w.fw.statuses(tid(t)) if s.get("healthy")), None),
            30, f"{t['name']} healthy")
        assert st["state"] == "TASK_RUNNING"
        assert st["reason"] == "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED"

    killed = w.fw.wait_state(tid(flaky), "TASK_KILLED", timeout=30)
    assert killed["healthy"] is False
    assert killed["reason"] == "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED"
    healths = [s.get("healthy") for s in w.fw.statuses(tid(flaky))
               if s["state"] == "TASK_RUNNING"]
    assert healths[:2] == [None, True]
    assert healths[2:] == [False, False]
    assert "TASK_KILLED" not in w.fw.states(tid(web))


def test_files_read_returns_text_even_for_binary_output(world):
    w = world()
    # a byte that is not UTF-8, then a euro sign (3 bytes), then text
    task = w.run("binary", cmd=r"printf '\377\342\202\254ok'")
    w.fw.wait_state(tid(task), "TASK_FINISHED")
    out = sandbox(w.agent, tid(task)) + "/stdout"
    assert read_file(w.agent, out).json() == {"data": "\u00ff\u20acok",
                                              "offset": 0}
    # a window that would cut the euro sign in two stops before it
    r = read_file(w.agent, out, 0, 3).json()
    assert r == {"data": "\u00ff", "offset": 0}
    assert read_file(w.agent, out, 1, 5).json()["data"] == "\u20acok"


def test_resources_not_given_are_detected_from_the_host(cluster):
    master = start_master(cluster)
    agent = start_agent(cluster, master, resources="ports:[31000-31009]")
    registered(agent)
    res = agent_state(agent)["resources"]
    assert res["cpus"] == float(os.cpu_count())
    total_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20
    assert 0 < res["mem"] < total_mb       # a reserve is left to the host
    st = os.statvfs(agent.work_dir)
    assert 0 < res["disk"] < st.f_blocks * st.f_frsize / 2**20
    assert res["ports"] == "[31000-31009]"  # what was given is kept
    bare = start_agent(cluster, master, resources="")
    registered(bare)
    assert agent_state(bare)["resources"]["ports"] == \
        "[1025-2180, 2182-3887, 3889-5049, 5052-8079, 8082-8180, 8182-32000]"
