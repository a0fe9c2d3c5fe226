"""Marathon pods against the real daemons: a real dcos-mesos-master, a real
dcos-mesos-slave whose mesos-executor runs each pod instance as one task
group (Mesos' default executor), and dcos-marathon. Each instance is one
LAUNCH_GROUP; /v2/pods/{id}::status reports it. Skipped while the Mesos
daemons are not built."""

import os
import signal
import sys

import pytest
import requests

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))

import harness  # noqa: E402
from marathon_cluster import (EventStream, cleanup_tasks,  # noqa: E402
                              mesos_built, start_marathon, start_mesos_agent,
                              start_mesos_master, task_pids)

pytestmark = pytest.mark.skipif(
    not mesos_built(), reason="dcos-mesos-master/-slave are not built yet")

# One container serves HTTP on its endpoint's host port, one sleeps. Mesos
# runs HTTP checks against 127.0.0.1, so that is where it listens.
WEB = {
    "id": "/shop/web",
    "scaling": {"kind": "fixed", "instances": 1},
    "labels": {"team": "shop"},
    "environment": {"GREETING": "hello"},
    "containers": [
        {"name": "http", "resources": {"cpus": 0.1, "mem": 32},
         "exec": {"command": {"shell":
                              "env > env.txt; exec python3 -m http.server "
                              "$ENDPOINT_WWW --bind 127.0.0.1"}},
         "endpoints": [{"name": "www", "hostPort": 0, "protocol": ["tcp"]}],
         "healthCheck": {"http": {"endpoint": "www", "path": "/"},
                         "gracePeriodSeconds": 30, "intervalSeconds": 1,
                         "delaySeconds": 0, "timeoutSeconds": 2}},
        {"name": "sidecar", "resources": {"cpus": 0.1, "mem": 16},
         "exec": {"command": {"shell": "sleep 600"}}},
    ],
    "scheduling": {"backoff": {"backoff": 1, "backoffFactor": 1.15}},
}


# The pod's HTTP container listens on 127.0.0.1, which every loopback agent
# shares: host ports from a range of this test process's own, so a second
# test run on the same machine cannot take them.
_BASE = 21000 + (os.getpid() % 50) * 200
AGENT_RESOURCES = f"cpus:4;mem:4096;disk:4096;ports:[{_BASE}-{_BASE + 199}]"


class Env:
    def __init__(self, cluster):
        self.cluster = cluster
        self.master = start_mesos_master(cluster)
        self.agent = start_mesos_agent(cluster, self.master,
                                       resources=AGENT_RESOURCES)
        self.agents = [self.agent]
        self.marathon = start_marathon(cluster, f"{self.master.ip}:5050")

    def another_agent(self):
        a = start_mesos_agent(self.cluster, self.master,
                              resources=AGENT_RESOURCES)
        self.agents.append(a)
        return a


@pytest.fixture
def env(cluster):
    e = Env(cluster)
    yield e
    cluster.stop_all()
    cleanup_tasks([a.work_dir for a in e.agents])


def status(m, pod_id):
    r = m.get(f"/v2/pods{pod_id}::status")
    r.raise_for_status()
    return r.json()


def wait_stable(m, pod_id, n, timeout=60):
    def ok():
        st = status(m, pod_id)
        stable = [i for i in st["instances"] if i["status"] == "STABLE"]
        return st if st["status"] == "STABLE" and len(stable) == n and \
            len(st["instances"]) == n and not m.deployments() else None
    return harness.wait_for(ok, timeout, what=f"{pod_id}: {n} STABLE")


def mesos_tasks(env, states=("TASK_RUNNING", "TASK_STAGING", "TASK_STARTING")):
    st = requests.get(env.master.url + "/master/state", timeout=5).json()
    fw = [f for f in st["frameworks"] if f["name"] == "marathon"]
    return [t for t in (fw[0]["tasks"] if fw else []) if t["state"] in states]


def container(instance, name):
    return [c for c in instance["containers"] if c["name"] == name][0]


def test_two_container_pod_runs_serves_and_scales_one_two_one(env):
    m = env.marathon
    stream = EventStream(m.url)
    try:
        r = m.post("/v2/pods", json=WEB)
        assert r.status_code == 201, r.text
        assert r.headers["Location"].endswith("/v2/pods/shop/web")
        assert r.headers["Marathon-Deployment-Id"]
        st = wait_stable(m, "/shop/web", 1)
        inst = st["instances"][0]
        assert inst["id"].startswith("shop_web.instance-")
        assert inst["agentHostname"] == env.agent.ip and inst["agentId"]
        assert inst["resources"]["cpus"] == pytest.approx(0.3)
        assert inst["resources"]["mem"] == pytest.approx(80)
        http, side = container(inst, "http"), container(inst, "sidecar")
        assert http["status"] == side["status"] == "TASK_RUNNING"
        assert http["containerId"] == inst["id"] + ".http"
        assert side["containerId"] == inst["id"] + ".sidecar"
        port = http["endpoints"][0]["allocatedHostPort"]
        assert http["endpoints"][0]["name"] == "www"
        assert http["endpoints"][0]["healthy"] is True
        assert {c["name"]: c["value"] for c in http["conditions"]} == \
            {"healthy": "true"}
        assert requests.get(f"http://127.0.0.1:{port}/",
                            timeout=5).status_code == 200

        # one executor (DEFAULT) runs both tasks of the instance
        tasks = mesos_tasks(env)
        assert sorted(t["id"] for t in tasks) == sorted(
            [http["containerId"], side["containerId"]])
        exec_id = "instance-shop_web." + inst["id"].split(".instance-")[1]
        assert {t["executor_id"] for t in tasks} == {exec_id}

        # the container's environment, as Marathon sets it for pods
        env_txt = harness.wait_for(lambda: next((
            os.path.join(d, "env.txt") for d, _, f in os.walk(
                env.agent.work_dir) if "env.txt" in f), None), 10,
            what="the container's env.txt")
        with open(env_txt) as f:
            e = dict(x.split("=", 1) for x in f.read().splitlines()
                     if "=" in x)
        assert e["MARATHON_APP_ID"] == "/shop/web"
        assert e["MARATHON_CONTAINER_ID"] == "http"
        assert e["MESOS_TASK_ID"] == http["containerId"]
        assert e["MESOS_EXECUTOR_ID"] == exec_id
        assert e["ENDPOINT_WWW"] == e["EP_HOST_WWW"] == str(port)
        assert e["MARATHON_CONTAINER_RESOURCE_MEM"] == "32.0"
        assert e["MARATHON_APP_LABEL_TEAM"] == "shop"
        assert e["GREETING"] == "hello"

        # the deployment went by with the pod's actions and events
        info = stream.wait("deployment_info")[0]
        actions = [a for s in info["plan"]["steps"] for a in s["actions"]]
        assert actions == [{"action": "StartPod", "pod": "/shop/web"},
                           {"action": "ScalePod", "pod": "/shop/web"}]
        stream.wait("deployment_success")
        changed = stream.wait("instance_changed_event", lambda d: d[
            "instanceId"] == inst["id"] and d["condition"] == "RUNNING")
        assert changed[0]["runSpecId"] == "/shop/web"
        update = stream.wait("status_update_event", lambda d: d[
            "taskId"] == http["containerId"] and d["taskStatus"] ==
            "TASK_RUNNING")[0]
        assert update["appId"] == "/shop/web" and update["ports"] == [port]

        # scale 1 -> 2 -> 1
        scaled = dict(WEB, scaling={"kind": "fixed", "instances": 2})
        r = m.put("/v2/pods/shop/web", json=scaled)
        assert r.status_code == 200, r.text
        st = wait_stable(m, "/shop/web", 2)
        ids = {i["id"] for i in st["instances"]}
        assert inst["id"] in ids and len(ids) == 2
        ports = {container(i, "http")["endpoints"][0]["allocatedHostPort"]
                 for i in st["instances"]}
        assert len(ports) == 2
        # killing instances (a list of ids) replaces them
        other = (ids - {inst["id"]}).pop()
        r = m.delete("/v2/pods/shop/web::instances", json=[other, "nope"])
        assert r.status_code == 200, r.text
        assert [i["id"] for i in r.json()] == [other]
        harness.wait_for(lambda: other not in {
            i["id"] for i in wait_stable(m, "/shop/web", 2)["instances"]},
            60, what="the killed instance's replacement")
        r = m.put("/v2/pods/shop/web", json=WEB)
        assert r.status_code == 200, r.text
        st = wait_stable(m, "/shop/web", 1)
        harness.wait_for(lambda: len(mesos_tasks(env)) == 2, 30,
                         what="the scaled-down instance's tasks to end")

        # a new environment restarts the instance (RestartPod)
        kept = st["instances"][0]["id"]
        r = m.put("/v2/pods/shop/web", json=dict(WEB, environment={
            "GREETING": "bonjour"}))
        assert r.status_code == 200, r.text
        dep = r.headers["Marathon-Deployment-Id"]
        info = stream.wait("deployment_info", lambda d: d["plan"]["id"] ==
                           dep)[0]
        assert info["plan"]["steps"] == [
            {"actions": [{"action": "RestartPod", "pod": "/shop/web"}]}]
        harness.wait_for(lambda: [i for i in wait_stable(
            m, "/shop/web", 1)["instances"] if i["id"] != kept], 60,
            what="the restarted instance")
        harness.wait_for(lambda: len(mesos_tasks(env)) == 2, 30,
                         what="the old instance's tasks to end")
    finally:
        stream.close()


def test_killed_container_process_replaces_the_whole_instance(env):
    m = env.marathon
    pod = dict(WEB, id="/crashy")
    assert m.post("/v2/pods", json=pod).status_code == 201
    first = wait_stable(m, "/crashy", 1)["instances"][0]
    sidecar = container(first, "sidecar")["containerId"]
    pids = harness.wait_for(lambda: task_pids(env.agent.work_dir, sidecar),
                            10, what="the sidecar's processes")
    for p in pids:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def replaced():
        st = status(m, "/crashy")
        new = [i for i in st["instances"] if i["id"] != first["id"]]
        return st if len(st["instances"]) == 1 and new and \
            new[0]["status"] == "STABLE" else None
    st = harness.wait_for(replaced, 60, what="a replacement instance")
    hist = st["terminationHistory"][0]
    assert hist["instanceID"] == first["id"]
    assert hist["containers"][0]["containerId"] == sidecar
    # the old instance's other container was taken down with it
    running = {t["id"] for t in mesos_tasks(env)}
    assert not running & {c["containerId"] for c in first["containers"]}

    # killing an instance through the API replaces it too
    second = st["instances"][0]
    r = m.delete(f"/v2/pods/crashy::instances/{second['id']}")
    assert r.status_code == 200, r.text
    assert r.json()["id"] == second["id"]
    harness.wait_for(lambda: [i for i in status(m, "/crashy")["instances"]
                              if i["id"] not in (first["id"], second["id"])
                              and i["status"] == "STABLE"], 60,
                     what="the killed instance's replacement")
    assert m.delete("/v2/pods/crashy::instances/nope").status_code == 404


def test_deleting_a_pod_kills_all_its_tasks(env):
    m = env.marathon
    pod = dict(WEB, id="/gone", scaling={"kind": "fixed", "instances": 2})
    assert m.post("/v2/pods", json=pod).status_code == 201
    wait_stable(m, "/gone", 2)
    assert len(mesos_tasks(env)) == 4
    r = m.delete("/v2/pods/gone")
    assert r.status_code == 202, r.text
    assert m.get("/v2/pods/gone").status_code == 404
    harness.wait_for(lambda: mesos_tasks(env) == [], 30,
                     what="every task of the pod to be killed")
    m.wait_deployments_done()
    st = requests.get(env.master.url + "/master/state", timeout=5).json()
    fw = [f for f in st["frameworks"] if f["name"] == "marathon"][0]
    killed = [t for t in fw["completed_tasks"] if t["state"] == "TASK_KILLED"]
    assert len(killed) == 4


def test_pod_that_fits_no_offer_waits_in_the_queue(env):
    m = env.marathon
    pod = {"id": "/huge", "containers": [
        {"name": "big", "resources": {"cpus": 0.1, "mem": 100000},
         "exec": {"command": {"shell": "sleep 600"}}}]}
    assert m.post("/v2/pods", json=pod).status_code == 201

    def queued():
        q = m.get("/v2/queue").json()["queue"]
        return [e for e in q if e.get("pod", {}).get("id") == "/huge" and
                e["processedOffersSummary"]["processedOffersCount"] > 0]
    entry = harness.wait_for(queued, 30, what="the pod in the queue")[0]
    assert entry["count"] == 1
    reasons = {r["reason"]: r["declined"] for r in
               entry["processedOffersSummary"]["rejectSummaryLastOffers"]}
    assert reasons["InsufficientMemory"] > 0
    st = status(m, "/huge")
    assert st["status"] == "DEGRADED" and st["instances"] == []
    assert mesos_tasks(env) == []
    assert [d["affectedPods"] for d in m.deployments()] == [["/huge"]]


def test_marathon_restart_keeps_the_running_instance(env):
    m = env.marathon
    assert m.post("/v2/pods", json=dict(WEB, id="/kept")).status_code == 201
    before = wait_stable(m, "/kept", 1)["instances"][0]
    m.daemon.kill()
    m.daemon.start(wait=True)
    harness.wait_for(m.is_leader, 20, what="Marathon to lead again")
    after = wait_stable(m, "/kept", 1)["instances"][0]
    assert after["id"] == before["id"]
    assert [c["containerId"] for c in after["containers"]] == \
        [c["containerId"] for c in before["containers"]]
    assert len(mesos_tasks(env)) == 2


def test_unique_hostname_constraint_spreads_instances_over_agents(env):
    m = env.marathon
    second = env.another_agent()
    pod = {"id": "/spread", "scaling": {"kind": "fixed", "instances": 3},
           "containers": [{"name": "c", "resources": {"cpus": 0.1, "mem": 16},
                           "exec": {"command": {"shell": "sleep 600"}}}],
           "scheduling": {"placement": {"constraints": [
               {"fieldName": "hostname", "operator": "UNIQUE"}]}}}
    assert m.post("/v2/pods", json=pod).status_code == 201

    def queued():
        q = [e for e in m.get("/v2/queue").json()["queue"]
             if e.get("pod", {}).get("id") == "/spread"]
        return q[0] if q else None

    def two_placed_one_refused():
        st, entry = status(m, "/spread"), queued()
        running = [i for i in st["instances"] if i["status"] == "STABLE"]
        refused = entry and [r for r in entry["processedOffersSummary"][
            "rejectSummaryLastOffers"] if r["reason"] ==
            "UnfulfilledConstraint" and r["declined"] > 0]
        return (st, entry) if len(running) == 2 and refused else None
    st, entry = harness.wait_for(two_placed_one_refused, 30,
                                 what="two instances, the third refused")
    assert {i["agentHostname"] for i in st["instances"]} == \
        {env.agent.ip, second.ip}
    assert st["status"] == "DEGRADED" and entry["count"] == 1
