"""dcos-mesos-master as operators and tools see it: the state endpoints in
the Mesos shapes, the v1 operator API and its event stream, the nng event
bus, bad requests, garbage on every port, agents that disappear, and roles
reserved to public agents."""

import json
import os
import signal
import subprocess
import threading
import time

import pytest
import requests

from harness import bin_path, garbage_tcp, wait_for
from mesos_framework import (EventBus, MesosFramework, cleanup_sandboxes,
                             recordio_records, start_agent, start_master,
                             wait_agents)

SCHED = "/api/v1/scheduler"


@pytest.fixture(autouse=True)
def _no_leftover_tasks(tmp_path):
    """Set up before the cluster, so it runs after the daemons stopped:
    the executors they leave behind go too."""
    yield
    cleanup_sandboxes(str(tmp_path))


def post(url, body, headers=None, **kw):
    h = {"Content-Type": "application/json"}
    h.update(headers or {})
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return requests.post(url, data=data, headers=h, timeout=5,
                         allow_redirects=False, **kw)


def test_master_runs_with_help_version_and_stops_cleanly_on_sigterm(cluster):
    out = subprocess.run([bin_path("dcos-mesos-master"), "--help"],
                         capture_output=True, text=True, timeout=10)
    assert out.returncode == 0
    for flag in ("--ip", "--port", "--hostname", "--cluster", "--work_dir",
                 "--quorum", "--offer_timeout", "--agent_ping_timeout",
                 "--max_agent_ping_timeouts", "--roles", "--weights",
                 "--store", "MESOS_WORK_DIR"):
        assert flag in out.stdout
    out = subprocess.run([bin_path("dcos-mesos-master"), "--version"],
                         capture_output=True, text=True, timeout=10)
    assert out.returncode == 0 and out.stdout.strip()
    bad = subprocess.run([bin_path("dcos-mesos-master"), "--port=http"],
                         capture_output=True, text=True, timeout=10)
    assert bad.returncode == 2 and "port" in bad.stderr

    # flags also come from MESOS_<NAME>
    ip = cluster.ip()
    d = cluster.start("env-master", [bin_path("dcos-mesos-master")],
                      env={"MESOS_IP": ip, "MESOS_WORK_DIR":
                           cluster.path("env-master", "w"),
                           "MESOS_CLUSTER": "from-env"},
                      health=f"http://{ip}:5050/health")
    st = wait_for(lambda: requests.get(f"http://{ip}:5050/master/state",
                                       timeout=2).json(), 10, what="state")
    assert st["cluster"] == "from-env"
    assert d.stop() == 0
    assert "stopped" in d.log()


def test_state_endpoints_have_the_mesos_shapes(cluster):
    master = start_master(cluster, extra=["--cluster=story"])
    agent = start_agent(cluster, master, extra=[
        "--attributes=rack:r1;level:10"])
    wait_agents(master.url)
    fw = MesosFramework([master.ip + ":5050"], name="shapes")
    fw.subscribe()
    offer = fw.wait_offers()[0]
    task = fw.task(offer, "web", cmd="sleep 1000", ports=[31005],
                   labels={"HAPROXY_GROUP": "external"})
    fw.launch(offer, [task])
    fw.wait_state(task["task_id"]["value"], "TASK_RUNNING")

    for path in ("/master/state", "/state", "/state.json",
                 "/master/state.json"):
        st = requests.get(master.url + path).json()
        for key in ("version", "build_date", "build_time", "build_user",
                    "start_time", "elected_time", "id", "pid", "hostname",
                    "activated_slaves", "deactivated_slaves",
                    "unreachable_slaves", "leader", "leader_info", "flags",
                    "slaves", "recovered_slaves", "frameworks",
                    "completed_frameworks", "orphan_tasks",
                    "unregistered_frameworks", "capabilities"):
            assert key in st, (path, key)
    assert st["cluster"] == "story"
    assert st["pid"] == st["leader"] == f"master@{master.ip}:5050"
    assert st["leader_info"]["port"] == 5050
    assert st["activated_slaves"] == 1
    s = st["slaves"][0]
    assert s["pid"] == f"slave(1)@{agent.ip}:5051"
    assert s["attributes"] == {"rack": "r1", "level": 10.0}
    assert s["resources"]["ports"] == "[31000-31099]"
    assert s["used_resources"]["ports"] == "[31005-31005]"
    assert s["used_resources"]["cpus"] == 0.1
    f = st["frameworks"][0]
    assert f["name"] == "shapes" and f["active"] and f["connected"]
    assert f["capabilities"] == ["PARTITION_AWARE"]
    assert f["role"] == "*" and "pid" not in f
    t = f["tasks"][0]
    assert t["state"] == "TASK_RUNNING"
    assert t["labels"] == [{"key": "HAPROXY_GROUP", "value": "external"}]
    assert t["resources"]["ports"] == "[31005-31005]"
    assert [x["state"] for x in t["statuses"]] == ["TASK_STARTING",
                                                   "TASK_RUNNING"]
    assert isinstance(t["statuses"][0]["timestamp"], float)

    summary = requests.get(master.url + "/master/state-summary").json()
    assert summary["hostname"] == master.ip
    assert summary["slaves"][0]["TASK_RUNNING"] == 1
    assert summary["slaves"][0]["framework_ids"] == [fw.framework_id]
    assert summary["frameworks"][0]["TASK_RUNNING"] == 1
    assert summary["frameworks"][0]["slave_ids"] == [s["id"]]

    slaves = requests.get(master.url + "/master/slaves").json()
    assert set(slaves) == {"slaves", "recovered_slaves"}
    assert slaves["slaves"][0]["used_resources_full"]
    one = requests.get(master.url + "/master/slaves",
                       params={"slave_id": "nope"}).json()
    assert one["slaves"] == []

    fws = requests.get(master.url + "/master/frameworks").json()
    assert set(fws) == {"frameworks", "completed_frameworks",
                        "unregistered_frameworks"}
    tasks = requests.get(master.url + "/master/tasks",
                         params={"limit": 1}).json()["tasks"]
    assert [x["id"] for x in tasks] == [task["task_id"]["value"]]

    metrics = requests.get(master.url + "/metrics/snapshot").json()
    assert metrics["master/elected"] == 1.0
    assert metrics["master/slaves_active"] == 1.0
    assert metrics["master/tasks_running"] == 1.0
    assert metrics["master/cpus_total"] == 2.0
    assert all(isinstance(v, float) for v in metrics.values())

    version = requests.get(master.url + "/version").json()
    assert version["version"].startswith("1.")
    assert requests.get(master.url + "/health").status_code == 200
    assert requests.get(master.url + "/master/health").status_code == 200
    r = requests.get(master.url + "/master/state?jsonp=cb")
    assert r.text.startswith("cb(") and r.text.endswith(");")
    fw.close()


def test_operator_api_answers_calls_and_streams_events(cluster):
    master = start_master(cluster)
    start_agent(cluster, master)
    wait_agents(master.url)
    url = master.url + "/api/v1"

    assert post(url, {"type": "GET_HEALTH"}).json() == {
        "type": "GET_HEALTH", "get_health": {"healthy": True}}
    assert post(url, {"type": "GET_VERSION"}).json()["get_version"][
        "version_info"]["version"]
    agents = post(url, {"type": "GET_AGENTS"}).json()["get_agents"]
    assert agents["agents"][0]["active"] is True
    assert agents["agents"][0]["agent_info"]["id"]["value"]

    events = []
    stream = requests.post(url, data=json.dumps({"type": "SUBSCRIBE"}),
                           headers={"Content-Type": "application/json"},
                           stream=True, timeout=(5, 30))
    assert stream.status_code == 200

    def read():
        try:
            for rec in recordio_records(stream.iter_content(chunk_size=None)):
                events.append(json.loads(rec))
        except Exception:  # noqa: BLE001 - closed at the end of the test
            pass
    threading.Thread(target=read, daemon=True).start()
    first = wait_for(lambda: events, 10, what="SUBSCRIBED")[0]
    assert first["type"] == "SUBSCRIBED"
    assert first["subscribed"]["get_state"]["get_agents"]["agents"]

    fw = MesosFramework([master.ip + ":5050"], name="watched")
    fw.subscribe()
    offer = fw.wait_offers()[0]
    task = fw.task(offer, "t", cmd="sleep 1000")
    fw.launch(offer, [task])
    fw.wait_state(task["task_id"]["value"], "TASK_RUNNING")

    def types():
        return {e["type"] for e in events}

    def updated_states():
        return [e["task_updated"]["state"] for e in events
                if e["type"] == "TASK_UPDATED"]
    # the operator stream is another connection than the framework's: its
    # TASK_RUNNING may arrive a moment after the framework saw it
    wait_for(lambda: {"FRAMEWORK_ADDED", "TASK_ADDED"} <= types() and
             "TASK_RUNNING" in updated_states(), 10, what="task events")
    added = [e for e in events if e["type"] == "TASK_ADDED"][0]
    assert added["task_added"]["task"]["task_id"] == task["task_id"]
    assert updated_states()[-1] == "TASK_RUNNING"

    state = post(url, {"type": "GET_STATE"}).json()["get_state"]
    assert state["get_tasks"]["tasks"][0]["state"] == "TASK_RUNNING"
    assert state["get_frameworks"]["frameworks"][0]["framework_info"][
        "name"] == "watched"
    tasks = post(url, {"type": "GET_TASKS"}).json()["get_tasks"]
    assert tasks["tasks"][0]["task_id"] == task["task_id"]
    assert post(url, {"type": "GET_FRAMEWORKS"}).status_code == 200
    assert post(url, {"type": "GET_EXECUTORS"}).status_code == 200
    # not a Mesos call at all: 400, as Mesos fails to parse it
    bad = post(url, {"type": "NO_SUCH_CALL"})
    assert bad.status_code == 400 and "NO_SUCH_CALL" in bad.json()["message"]
    assert post(url, "{not json").status_code == 400
    stream.close()
    fw.close()


def test_operator_weights_logging_and_the_calls_of_absent_features(cluster):
    master = start_master(cluster, extra=["--weights=web=2"])
    url = master.url + "/api/v1"

    def weights():
        got = post(url, {"type": "GET_WEIGHTS"}).json()["get_weights"]
        return {w["role"]: w["weight"] for w in got["weight_infos"]}
    assert weights() == {"web": 2.0}

    # bad updates name the problem and change nothing
    for infos, field in (([], "weight_infos"),
                         ([{"role": "db", "weight": 0}], "weight"),
                         ([{"role": "db", "weight": 3},
                           {"role": "../x", "weight": 1}], "role")):
        r = post(url, {"type": "UPDATE_WEIGHTS",
                       "update_weights": {"weight_infos": infos}})
        assert r.status_code == 400 and field in r.json()["message"], r.text
    assert weights() == {"web": 2.0}

    r = post(url, {"type": "UPDATE_WEIGHTS", "update_weights": {
        "weight_infos": [{"role": "web", "weight": 5},
                         {"role": "db", "weight": 0.5}]}})
    assert r.status_code == 200, r.text
    assert weights() == {"web": 5.0, "db": 0.5}
    # kept in the registry: a restarted master (the next leader) has them
    master.restart()
    wait_for(lambda: post(url, {"type": "GET_WEIGHTS"}).status_code == 200,
             30, what="the master leading again")
    assert weights() == {"web": 5.0, "db": 0.5}

    # debug logging for a while, then --log_level again
    def level():
        return post(url, {"type": "GET_LOGGING_LEVEL"}).json()[
            "get_logging_level"]["level"]
    assert level() == 0
    r = post(url, {"type": "SET_LOGGING_LEVEL", "set_logging_level": {
        "level": 1, "duration": {"nanoseconds": 1000000000}}})
    assert r.status_code == 200, r.text
    assert level() == 1
    wait_for(lambda: level() == 0, 10, what="the level to come back")
    r = post(url, {"type": "SET_LOGGING_LEVEL", "set_logging_level": {
        "level": 1}})
    assert r.status_code == 400 and "duration" in r.json()["message"]

    # what this master does not have reads empty, and writes say why
    r = post(url, {"type": "LIST_FILES", "list_files": {"path": "/x"}})
    assert r.status_code == 404 and "journal" in r.json()["message"]
    assert post(url, {"type": "GET_OPERATIONS"}).json()[
        "get_operations"] == {"operations": []}
    assert post(url, {"type": "GET_QUOTA"}).json()[
        "get_quota"] == {"status": {"infos": []}}
    r = post(url, {"type": "RESERVE_RESOURCES", "reserve_resources": {}})
    assert r.status_code == 501
    assert "dynamic reservations" in r.json()["message"]


def test_event_bus_publishes_agent_framework_and_task_topics(cluster):
    master = start_master(cluster)
    bus = EventBus(f"tcp://{master.ip}:5053")
    try:
        # the SUB connection must be up before anything is published
        time.sleep(0.3)
        agent = start_agent(cluster, master)
        wait_agents(master.url)
        fw = MesosFramework([master.ip + ":5050"], name="published")
        fw.subscribe()
        offer = fw.wait_offers()[0]
        task = fw.task(offer, "t", cmd="sleep 1000")
        tid = task["task_id"]["value"]
        fw.launch(offer, [task])
        fw.wait_state(tid, "TASK_RUNNING")
        running = wait_for(lambda: bus.find(
            "task.updated", lambda e: e["task"]["id"] == tid and
            e["task"]["state"] == "TASK_RUNNING"), 10, what="task.updated")
        assert running[0]["task"]["slave_id"] == offer["agent_id"]["value"]
        assert bus.find("task.added", lambda e: e["task"]["id"] == tid)
        added = bus.find("agent.added")
        assert added and added[0]["agent"]["hostname"] == agent.ip
        assert bus.find("framework.added",
                        lambda e: e["framework"]["name"] == "published")
        agent.kill()
        removed = wait_for(lambda: bus.find("agent.removed"), 20,
                           what="agent.removed")
        assert removed[0]["reason"] == "unreachable"
        fw.close()
    finally:
        bus.close()


def test_bad_scheduler_calls_get_clear_errors(cluster):
    master = start_master(cluster)
    url = master.url + SCHED
    sub = {"type": "SUBSCRIBE", "subscribe": {"framework_info": {
        "user": "root", "name": "x"}}}

    r = requests.post(url, data=json.dumps(sub), timeout=5)
    assert r.status_code == 400 and "Content-Type" in r.json()["message"]
    r = post(url, sub, {"Content-Type": "application/x-protobuf"})
    assert r.status_code == 415
    r = post(url, sub, {"Accept": "application/x-protobuf"})
    assert r.status_code == 406
    assert requests.get(url, timeout=5).status_code == 405
    r = post(url, "{\"type\": ")
    assert r.status_code == 400
    r = post(url, {"type": "HUG"})
    assert r.status_code == 400 and "HUG" in r.json()["message"]
    r = post(url, {"type": "SUBSCRIBE", "subscribe": {"framework_info": {
        "name": "no-user"}}})
    assert r.status_code == 400 and "user" in r.json()["message"]
    r = post(url, sub, {"Mesos-Stream-Id": "abc"})
    assert r.status_code == 400 and "Mesos-Stream-Id" in r.json()["message"]
    r = post(url, {"type": "SUBSCRIBE", "subscribe": {"framework_info": {
        "user": "u", "name": "n", "roles": ["a"]}}})
    assert r.status_code == 400 and "MULTI_ROLE" in r.json()["message"]
    r = post(url, {"type": "REVIVE"})
    assert r.status_code == 400 and "framework_id" in r.json()["message"]
    r = post(url, {"type": "REVIVE", "framework_id": {"value": "nope"}},
             {"Mesos-Stream-Id": "x"})
    assert r.status_code == 400 and "cannot be found" in r.json()["message"]

    fw = MesosFramework([master.ip + ":5050"], name="bad-calls",
                        failover_timeout=60)
    fw.subscribe()
    good = {"framework_id": {"value": fw.framework_id}}
    r = post(url, dict(good, type="REVIVE"))
    assert r.status_code == 400 and "Mesos-Stream-Id" in r.json()["message"]
    r = post(url, dict(good, type="REVIVE"), {"Mesos-Stream-Id": "other"})
    assert r.status_code == 400 and "didn't match" in r.json()["message"]
    hdr = {"Mesos-Stream-Id": fw.stream_id}
    r = post(url, dict(good, type="ACCEPT", accept={"offer_ids": []}), hdr)
    assert r.status_code == 400 and "offer" in r.json()["message"]
    r = post(url, dict(good, type="ACCEPT", accept={
        "offer_ids": [{"value": "o"}], "operations": [{"type": "LAUNCH",
        "launch": {"task_infos": [{"name": "t", "agent_id": {"value": "a"},
                                   "resources": []}]}}]}), hdr)
    assert r.status_code == 400
    assert "task_infos[0].task_id" in r.json()["message"]
    r = post(url, dict(good, type="ACCEPT", accept={
        "offer_ids": [{"value": "o"}], "operations": [{"type": "RESERVE"}]}),
        hdr)
    assert r.status_code == 400 and "RESERVE" in r.json()["message"]
    r = post(url, dict(good, type="ACKNOWLEDGE", acknowledge={
        "agent_id": {"value": "a"}, "task_id": {"value": "t"},
        "uuid": "not-a-uuid"}), hdr)
    assert r.status_code == 400 and "uuid" in r.json()["message"]
    r = post(url, dict(good, type="KILL", kill={}), hdr)
    assert r.status_code == 400 and "task_id" in r.json()["message"]
    # the framework is still fine
    assert post(url, dict(good, type="REVIVE"), hdr).status_code == 202

    # disconnected frameworks are refused with 403
    fw.close_stream()
    wait_for(lambda: post(url, dict(good, type="REVIVE"), hdr).status_code ==
             403, 10, what="403 for a disconnected framework")
    # none of it changed the master
    st = requests.get(master.url + "/master/state").json()
    assert [f["name"] for f in st["frameworks"]] == ["bad-calls"]


def test_master_survives_garbage_on_every_port(cluster):
    master = start_master(cluster)
    start_agent(cluster, master)
    wait_agents(master.url)
    for port in (5050, 5052, 5053):
        garbage_tcp(master.ip, port)
    # malformed agent channel messages through a real nng REQ socket
    bus = None
    try:
        import ctypes
        lib = ctypes.CDLL("libnng.so.1")

        class Sock(ctypes.Structure):
            _fields_ = [("id", ctypes.c_uint32)]
        s = Sock()
        assert lib.nng_req0_open(ctypes.byref(s)) == 0
        lib.nng_socket_set_ms(s, b"recv-timeout", 3000)
        assert lib.nng_dial(s, f"tcp://{master.ip}:5052".encode(), None, 0) \
            == 0
        for msg in (b"not json", b"[1,2]", b'{"type": 7}',
                    b'{"type": "REGISTER_AGENT"}',
                    b'{"type": "STATUS_UPDATE", "agent_id": {"value": "x"}}',
                    b'{"type": "REGISTER_AGENT", "agent_info": {"hostname":'
                    b' "h", "resources": [{"name": "cpus"}]}, "pid": "p@h:1",'
                    b' "channel": "tcp://h:1"}'):
            assert lib.nng_send(s, msg, len(msg), 0) == 0
            buf = ctypes.c_void_p()
            size = ctypes.c_size_t()
            assert lib.nng_recv(s, ctypes.byref(buf), ctypes.byref(size),
                                1) == 0
            reply = json.loads(ctypes.string_at(buf, size.value))
            lib.nng_free(buf, size)
            assert reply["type"] == "ERROR" and reply["message"], msg
        lib.nng_close(s)
    finally:
        if bus:
            bus.close()
    assert master.alive()
    st = requests.get(master.url + "/master/state", timeout=5).json()
    assert st["activated_slaves"] == 1


def test_agent_that_stops_answering_becomes_unreachable_with_its_tasks(
        cluster):
    master = start_master(cluster)
    agent = start_agent(cluster, master)
    wait_agents(master.url)
    aware = MesosFramework([master.ip + ":5050"], name="aware")
    aware.subscribe()
    legacy = MesosFramework([master.ip + ":5050"], name="legacy",
                            capabilities=())
    legacy.subscribe()
    # each gets half of the agent in turn
    offer = aware.wait_offers()[0]
    t1 = aware.task(offer, "a", cmd="sleep 1000")
    aware.launch(offer, [t1], refuse_seconds=60)
    aware.wait_state(t1["task_id"]["value"], "TASK_RUNNING")
    offer = legacy.wait_offers()[0]
    t2 = legacy.task(offer, "b", cmd="sleep 1000")
    legacy.launch(offer, [t2])
    legacy.wait_state(t2["task_id"]["value"], "TASK_RUNNING")

    agent.signal(signal.SIGSTOP)  # alive but silent: a partition
    try:
        st = aware.wait_state(t1["task_id"]["value"], "TASK_UNREACHABLE",
                              timeout=30)
        assert st["reason"] == "REASON_AGENT_REMOVED"
        assert legacy.wait_state(t2["task_id"]["value"], "TASK_LOST",
                                 timeout=10)
        state = requests.get(master.url + "/master/state").json()
        assert state["unreachable_slaves"] == 1
        f = [x for x in state["frameworks"] if x["name"] == "aware"][0]
        assert [t["state"] for t in f["unreachable_tasks"]] == \
            ["TASK_UNREACHABLE"]
    finally:
        agent.signal(signal.SIGCONT)
    # the agent comes back by itself and its tasks with it
    back = aware.wait_state(t1["task_id"]["value"], "TASK_RUNNING",
                            timeout=30, since=len(aware.updates) - 1)
    assert back["agent_id"]["value"] == offer["agent_id"]["value"]
    wait_agents(master.url)
    aware.close()
    legacy.close()


def test_public_agent_resources_are_offered_only_to_slave_public(cluster):
    master = start_master(cluster)
    start_agent(cluster, master, name="private")
    start_agent(cluster, master, name="public",
                extra=["--default_role=slave_public"])
    wait_agents(master.url, 2)
    star = MesosFramework([master.ip + ":5050"], name="star")
    star.subscribe()
    offers = star.wait_offers()
    time.sleep(1)
    assert len(star.offers) == 1
    assert all(r.get("role", "*") == "*" for r in offers[0]["resources"])

    public = MesosFramework([master.ip + ":5050"], name="public",
                            roles=["slave_public"],
                            capabilities=("MULTI_ROLE", "PARTITION_AWARE"))
    public.subscribe()
    o = public.wait_offers()[0]
    assert o["allocation_info"] == {"role": "slave_public"}
    assert all(r["reservations"][0]["role"] == "slave_public"
               for r in o["resources"])
    t = public.task(o, "edge", cmd="sleep 1000")
    public.launch(o, [t])
    public.wait_state(t["task_id"]["value"], "TASK_RUNNING")
    st = requests.get(master.url + "/master/state").json()
    f = [x for x in st["frameworks"] if x["name"] == "public"][0]
    assert f["roles"] == ["slave_public"]
    assert f["tasks"][0]["role"] == "slave_public"
    pub = [s for s in st["slaves"] if s["reserved_resources"]][0]
    assert pub["reserved_resources"]["slave_public"]["cpus"] == 2.0
    star.close()
    public.close()


def test_unknown_roles_are_refused_when_the_master_has_a_whitelist(cluster):
    master = start_master(cluster, extra=["--roles=slave_public,analytics",
                                          "--weights=analytics=2"])
    ok = MesosFramework([master.ip + ":5050"], role="analytics")
    ok.subscribe()
    nope = MesosFramework([master.ip + ":5050"], role="marketing")
    r = nope.subscribe(expect=400)
    assert "marketing" in r.json()["message"]
    ok.close()
    st = requests.get(master.url + "/master/flags").json()["flags"]
    assert st["weights"] == "analytics=2"


def test_master_restart_keeps_agents_and_frameworks_in_the_registry(cluster):
    master = start_master(cluster)
    start_agent(cluster, master)
    agent_id = wait_agents(master.url)[0]["id"]
    fw = MesosFramework([master.ip + ":5050"], name="persistent",
                        failover_timeout=3600)
    fw.subscribe()
    offer = fw.wait_offers()[0]
    task = fw.task(offer, "t", cmd="sleep 1000")
    fw.launch(offer, [task])
    fw.wait_state(task["task_id"]["value"], "TASK_RUNNING")
    fw.close_stream()

    master.restart()
    # the registry brings back the framework (recovered) and the agent
    # re-registers with its task
    agents = wait_agents(master.url, timeout=30)
    assert agents[0]["id"] == agent_id
    fws = requests.get(master.url + "/master/frameworks").json()
    assert [f["id"] for f in fws["frameworks"]] == [fw.framework_id]
    fw.subscribe()
    mark = len(fw.updates)
    fw.reconcile()
    fw.wait_state(task["task_id"]["value"], "TASK_RUNNING", since=mark)
    fw.close()
    assert os.path.exists(cluster.path("master", "registry.db"))


def test_tasks_of_a_framework_removed_while_their_agent_was_away_are_killed(
        cluster):
    master = start_master(cluster, extra=["--max_agent_ping_timeouts=2"])
    agent = start_agent(cluster, master)
    wait_agents(master.url)
    fw = MesosFramework([master.ip + ":5050"], name="left-behind")
    fw.subscribe()
    offer = fw.wait_offers()[0]
    task = fw.task(offer, "orphan", cmd="sleep 1000")
    tid = task["task_id"]["value"]
    fw.launch(offer, [task])
    fw.wait_state(tid, "TASK_RUNNING")

    agent.signal(signal.SIGSTOP)
    try:
        fw.wait_state(tid, "TASK_UNREACHABLE", timeout=20)
        fw.teardown()  # the agent cannot hear about it now
    finally:
        agent.signal(signal.SIGCONT)

    # back, it reports the task; the master has it shut down
    def task_gone_on_agent():
        st = requests.get(agent.url + "/state", timeout=5).json()
        return not [t for f in st["frameworks"] for e in f["executors"]
                    for t in e["tasks"] if t["id"] == tid]
    wait_for(task_gone_on_agent, 30, what="the agent to kill the task")
    assert "removed framework" in master.log()
    fw.close()
