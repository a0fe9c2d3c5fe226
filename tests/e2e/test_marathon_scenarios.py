"""What a DC/OS user does with Marathon, against the real daemons: a real
dcos-mesos-master, real dcos-mesos-slave agents running real tasks, and
dcos-marathon. The /sise tutorial app runs with a command instead of a
Docker image. Skipped while the Mesos daemons are not built."""

import json
import os
import signal
import sys
import time

import pytest
import requests

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))

import harness  # noqa: E402
from marathon_cluster import (EventStream, cleanup_tasks,  # noqa: E402
                              mesos_built, start_marathon, start_mesos_agent,
                              start_mesos_master, task_pids)

pytestmark = pytest.mark.skipif(
    not mesos_built(), reason="dcos-mesos-master/-slave are not built yet")

SISE = {"id": "/sise", "instances": 1, "cpus": 0.1, "mem": 32,
        "cmd": "exec python3 -m http.server $PORT0 --bind $HOST",
        "portDefinitions": [{"labels": {"VIP_0": "/sise:80"}}]}


class Env:
    def __init__(self, cluster, master_flags=()):
        self.cluster = cluster
        self.master = start_mesos_master(cluster, master_flags)
        self.agents = []
        self.marathon = None

    def agent(self, **kw):
        a = start_mesos_agent(self.cluster, self.master, **kw)
        self.agents.append(a)
        return a

    def start_marathon(self, **kw):
        self.marathon = start_marathon(self.cluster, f"{self.master.ip}:5050",
                                       **kw)
        return self.marathon


@pytest.fixture
def env(cluster):
    e = Env(cluster)
    yield e
    cluster.stop_all()
    cleanup_tasks([a.work_dir for a in e.agents])


def http_get(host, port, path="/"):
    return requests.get(f"http://{host}:{port}{path}", timeout=3)


def test_sise_app_serves_and_scales_from_one_to_three_and_back(env):
    env.agent()
    m = env.start_marathon()
    assert m.post("/v2/apps", json=SISE).status_code == 201
    app = m.wait_running("/sise", 1)
    task = app["tasks"][0]
    assert task["id"].startswith("sise.")
    assert harness.wait_for(lambda: http_get(task["host"], task["ports"][0])
                            .status_code == 200, 20, what="sise to serve")

    r = m.put("/v2/apps/sise", json={"instances": 3})
    assert r.status_code == 200, r.text
    app = m.wait_running("/sise", 3)
    ports = {(t["host"], t["ports"][0]) for t in app["tasks"]}
    assert len(ports) == 3
    for host, port in ports:
        harness.wait_for(lambda h=host, p=port: http_get(h, p).status_code ==
                         200, 20, what=f"task on {port} to serve")

    m.put("/v2/apps/sise", json={"instances": 1})
    app = m.wait_running("/sise", 1)
    assert m.get("/v2/tasks").json()["tasks"][0]["id"] == app["tasks"][0]["id"]
    # Mesos agrees: one running task of framework marathon
    st = requests.get(env.master.url + "/master/state", timeout=5).json()
    fw = [f for f in st["frameworks"] if f["name"] == "marathon"][0]
    running = [t for t in fw["tasks"] if t["state"] == "TASK_RUNNING"]
    assert [t["id"] for t in running] == [app["tasks"][0]["id"]]
    assert running[0]["name"] == "sise"


def test_task_environment_follows_marathon(env):
    agent = env.agent()
    m = env.start_marathon()
    app = {"id": "/env/probe", "cmd": "env > env.txt; sleep 600",
           "cpus": 0.1, "mem": 32, "labels": {"team": "core", "tier": "a"},
           "env": {"EXTRA": "1"},
           "portDefinitions": [{"port": 0, "name": "http"}, {"port": 0}]}
    assert m.post("/v2/apps", json=app).status_code == 201
    task = m.wait_running("/env/probe", 1)["tasks"][0]

    def sandbox_env():
        for root, _, files in os.walk(agent.work_dir):
            if "env.txt" in files and task["id"] in root:
                with open(os.path.join(root, "env.txt")) as f:
                    lines = f.read().splitlines()
                return dict(x.split("=", 1) for x in lines if "=" in x)
        return None
    env_vars = harness.wait_for(sandbox_env, 20, what="the task's env.txt")
    a = m.app("/env/probe")
    assert env_vars["MESOS_TASK_ID"] == task["id"]
    assert env_vars["MARATHON_APP_ID"] == "/env/probe"
    assert env_vars["MARATHON_APP_VERSION"] == a["version"]
    assert env_vars["MARATHON_APP_RESOURCE_CPUS"] == "0.1"
    assert env_vars["MARATHON_APP_RESOURCE_MEM"] == "32.0"
    assert env_vars["MARATHON_APP_LABEL_TEAM"] == "core"
    assert set(env_vars["MARATHON_APP_LABELS"].split()) == {"TEAM", "TIER"}
    assert env_vars["PORT0"] == str(task["ports"][0])
    assert env_vars["PORT1"] == str(task["ports"][1])
    assert env_vars["PORTS"] == f"{task['ports'][0]},{task['ports'][1]}"
    assert env_vars["PORT_HTTP"] == str(task["ports"][0])
    assert env_vars["PORT_" + str(a["portDefinitions"][0]["port"])] == \
        str(task["ports"][0])
    assert env_vars["HOST"] == task["host"]
    assert env_vars["EXTRA"] == "1"
    assert task["id"].startswith("env_probe.")


def test_killed_task_process_is_replaced_after_backoff(env):
    agent = env.agent()
    m = env.start_marathon()
    app = dict(SISE, id="/crashy", cmd="sleep 600", backoffSeconds=2,
               portDefinitions=[])
    m.post("/v2/apps", json=app)
    first = m.wait_running("/crashy", 1)["tasks"][0]
    pids = harness.wait_for(lambda: task_pids(agent.work_dir, first["id"]),
                            10, what="the task's processes")
    stream = EventStream(m.url, params=[("event_type", "status_update_event")])
    try:
        killed_at = time.time()
        for p in pids:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass

        def replaced():
            a = m.app("/crashy")
            new = [t for t in a["tasks"] if t["id"] != first["id"] and
                   t["state"] == "TASK_RUNNING"]
            return (a, new[0]) if new and len(a["tasks"]) == 1 else None
        a, second = harness.wait_for(replaced, 60, what="a replacement task")
        failure = a["lastTaskFailure"]
        assert failure["taskId"] == first["id"]
        assert failure["state"] in ("TASK_FAILED", "TASK_KILLED")
        # the replacement waited out the backoff (a lower bound)
        staged = time.mktime(time.strptime(second["stagedAt"][:19],
                                           "%Y-%m-%dT%H:%M:%S")) - time.timezone
        assert staged >= killed_at + 1, (second["stagedAt"], killed_at)
        states = [e["taskStatus"] for e in stream.events()
                  if e["taskId"] == first["id"]]
        assert states and states[-1] in ("TASK_FAILED", "TASK_KILLED")
    finally:
        stream.close()


HEALTHY_FOR_A_WHILE = (
    "exec python3 -c \"import http.server,os,time\n"
    "t0=time.time()\n"
    "class H(http.server.BaseHTTPRequestHandler):\n"
    "    def do_GET(self):\n"
    "        self.send_response(200 if time.time()-t0 < 6 else 500)\n"
    "        self.end_headers()\n"
    "    def log_message(self,*a): pass\n"
    "http.server.HTTPServer((os.environ['HOST'],int(os.environ['PORT0'])),H)"
    ".serve_forever()\"")


def test_task_whose_http_health_check_starts_failing_is_replaced(env):
    env.agent()
    m = env.start_marathon()
    app = {"id": "/flaky", "cmd": HEALTHY_FOR_A_WHILE, "cpus": 0.1,
           "mem": 32, "backoffSeconds": 1,
           "healthChecks": [{"protocol": "HTTP", "path": "/", "portIndex": 0,
                             "gracePeriodSeconds": 30, "intervalSeconds": 1,
                             "timeoutSeconds": 1,
                             "maxConsecutiveFailures": 2}]}
    stream = EventStream(m.url)
    try:
        m.post("/v2/apps", json=app)
        first = m.wait_running("/flaky", 1, healthy=True)["tasks"][0]
        assert first["healthCheckResults"][0]["alive"] is True
        kill = stream.wait("unhealthy_instance_kill_event", timeout=60)[0]
        assert kill["taskId"] == first["id"] and kill["appId"] == "/flaky"
        stream.wait("failed_health_check_event")

        def replaced():
            a = m.app("/flaky")
            return a if a["tasks"] and a["tasks"][0]["id"] != first["id"] \
                and a["tasksHealthy"] == 1 else None
        harness.wait_for(replaced, 60, what="a healthy replacement")
    finally:
        stream.close()


def test_rolling_upgrade_with_half_minimum_health_keeps_half_healthy(env):
    env.agent()
    m = env.start_marathon()
    app = dict(SISE, id="/rolling", instances=4, upgradeStrategy={
        "minimumHealthCapacity": 0.5, "maximumOverCapacity": 0},
        healthChecks=[{"protocol": "HTTP", "path": "/", "portIndex": 0,
                       "intervalSeconds": 1, "timeoutSeconds": 1,
                       "gracePeriodSeconds": 30}],
        portDefinitions=[{"port": 0}])
    m.post("/v2/apps", json=app)
    before = {t["id"] for t in m.wait_running("/rolling", 4,
                                              healthy=True)["tasks"]}
    r = m.put("/v2/apps/rolling", json={"env": {"RELEASE": "2"}})
    assert r.status_code == 200
    dep = r.json()["deploymentId"]
    steps = [s["actions"][0]["action"] for s in m.deployments()[0]["steps"]]
    assert steps == ["RestartApplication"]
    lowest, alive_max = 4, 0
    while any(d["id"] == dep for d in m.deployments()):
        a = m.app("/rolling")
        lowest = min(lowest, a["tasksHealthy"])
        alive_max = max(alive_max, len(a["tasks"]))
        time.sleep(0.1)
    a = m.wait_running("/rolling", 4, healthy=True)
    assert lowest >= 2, f"only {lowest} healthy during the upgrade"
    assert not ({t["id"] for t in a["tasks"]} & before)
    assert all(t["version"] == a["version"] for t in a["tasks"])


def test_unique_hostname_spreads_tasks_over_two_agents(env):
    env.agent()
    env.agent()
    m = env.start_marathon()
    app = {"id": "/spread", "cmd": "sleep 600", "cpus": 0.1, "mem": 16,
           "instances": 2, "constraints": [["hostname", "UNIQUE"]]}
    m.post("/v2/apps", json=app)
    a = m.wait_running("/spread", 2)
    assert len({t["host"] for t in a["tasks"]}) == 2
    m.put("/v2/apps/spread", json={"instances": 3})
    q = harness.wait_for(lambda: m.get("/v2/queue").json()["queue"], 20,
                         what="the third instance to wait for an agent")
    assert q[0]["app"]["id"] == "/spread" and q[0]["count"] == 1

    def constraint_rejections():
        s = m.get("/v2/queue").json()["queue"][0]["processedOffersSummary"]
        r = {x["reason"]: x["declined"] for x in s["rejectSummaryLastOffers"]}
        return s if r["UnfulfilledConstraint"] > 0 else None
    summary = harness.wait_for(constraint_rejections, 20,
                               what="offers rejected for the constraint")
    assert summary["unusedOffersCount"] >= 1
    assert m.app("/spread")["tasksRunning"] == 2


def test_public_agent_app_runs_on_the_public_agent(env):
    private = env.agent()
    public = env.agent(public=True)
    m = env.start_marathon()
    m.post("/v2/apps", json={"id": "/edge", "cmd": "sleep 600", "cpus": 0.1,
                             "mem": 16,
                             "acceptedResourceRoles": ["slave_public"]})
    m.post("/v2/apps", json={"id": "/inner", "cmd": "sleep 600", "cpus": 0.1,
                             "mem": 16})
    assert m.wait_running("/edge", 1)["tasks"][0]["host"] == public.ip
    assert m.wait_running("/inner", 1)["tasks"][0]["host"] == private.ip


def test_event_stream_shows_status_updates_and_deployment_success(env):
    env.agent()
    m = env.start_marathon()
    stream = EventStream(m.url)
    try:
        r = m.post("/v2/apps", json=dict(SISE, id="/watched"))
        dep = r.headers["Marathon-Deployment-Id"]
        running = stream.wait("status_update_event",
                              lambda d: d["appId"] == "/watched" and
                              d["taskStatus"] == "TASK_RUNNING", 60)[0]
        assert running["ports"] and running["host"]
        stream.wait("deployment_success", lambda d: d["id"] == dep, 60)
        assert stream.events("deployment_info")
        changed = stream.events("instance_changed_event")
        assert any(e["condition"] == "RUNNING" for e in changed)
    finally:
        stream.close()


def test_marathon_restarted_mid_deployment_completes_it(env):
    env.agent()
    m = env.start_marathon()
    # healthy only after 3 s: the deployment is still running at the restart
    app = dict(SISE, id="/resilient", instances=3,
               cmd="sleep 3; exec python3 -m http.server $PORT0 --bind $HOST",
               healthChecks=[{"protocol": "TCP", "intervalSeconds": 1,
                              "gracePeriodSeconds": 30}])
    r = m.post("/v2/apps", json=app)
    dep = r.json()["deployments"][0]["id"]
    harness.wait_for(lambda: m.app("/resilient")["tasksRunning"] == 3, 30,
                     what="three tasks running, not yet healthy")
    assert [d["id"] for d in m.deployments()] == [dep]
    m.daemon.restart()
    harness.wait_for(m.is_leader, 20, what="Marathon to lead again")
    harness.wait_for(lambda: all(d["id"] != dep for d in m.deployments()),
                     60, what="the deployment to complete")
    a = m.wait_running("/resilient", 3, healthy=True)
    # no duplicates: Mesos runs exactly the three tasks Marathon knows
    st = requests.get(env.master.url + "/master/state", timeout=5).json()
    fw = [f for f in st["frameworks"] if f["name"] == "marathon"][0]
    mesos_ids = {t["id"] for t in fw["tasks"] if t["state"] in (
        "TASK_RUNNING", "TASK_STAGING", "TASK_STARTING")}
    assert mesos_ids == {t["id"] for t in a["tasks"]}


def test_marathon_failover_reconciles_tasks_with_the_master(env):
    env.agent()
    m = env.start_marathon()
    m.post("/v2/apps", json=dict(SISE, id="/kept", instances=2, cmd="sleep 600",
                                 portDefinitions=[]))
    before = {t["id"] for t in m.wait_running("/kept", 2)["tasks"]}
    m.daemon.kill()
    m.daemon.start(wait=True)
    harness.wait_for(m.is_leader, 20, what="Marathon to lead again")
    after = {t["id"] for t in m.wait_running("/kept", 2)["tasks"]}
    assert after == before


def test_killing_tasks_with_scale_shrinks_the_app_and_without_replaces(env):
    env.agent()
    m = env.start_marathon()
    m.post("/v2/apps", json={"id": "/trim", "cmd": "sleep 600", "cpus": 0.1,
                             "mem": 16, "instances": 3, "portDefinitions": []})
    tasks = m.wait_running("/trim", 3)["tasks"]

    # scale=true: the app shrinks by one, as a deployment
    r = m.delete(f"/v2/apps/trim/tasks/{tasks[0]['id']}?scale=true")
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"deploymentId", "version"}
    a = m.wait_running("/trim", 2)
    assert a["instances"] == 2
    assert tasks[0]["id"] not in {t["id"] for t in a["tasks"]}

    # without scale: killed and replaced
    victim = a["tasks"][0]["id"]
    r = m.post("/v2/tasks/delete", json={"ids": [victim]})
    assert r.status_code == 200 and r.json()["tasks"][0]["id"] == victim
    harness.wait_for(lambda: victim not in {t["id"] for t in m.wait_running(
        "/trim", 2)["tasks"]}, 30, what="a replacement of the killed task")

    # wipe: forgotten at once, then replaced
    victim = m.app("/trim")["tasks"][0]["id"]
    r = m.delete(f"/v2/apps/trim/tasks/{victim}?wipe=true")
    assert r.status_code == 200 and r.json()["task"]["id"] == victim
    assert victim not in {t["id"] for t in m.get("/v2/tasks").json()["tasks"]}
    a = m.wait_running("/trim", 2)
    assert victim not in {t["id"] for t in a["tasks"]}
    assert m.app("/trim")["instances"] == 2


READY_AFTER_A_WHILE = (
    "exec python3 -c \"import http.server,os,time\n"
    "t0=time.time()\n"
    "class H(http.server.BaseHTTPRequestHandler):\n"
    "    def do_GET(self):\n"
    "        self.send_response(200 if time.time()-t0 > 3 else 503)\n"
    "        self.end_headers()\n"
    "        self.wfile.write(b'warming up' if time.time()-t0 <= 3 else b'ok')\n"
    "    def log_message(self,*a): pass\n"
    "http.server.HTTPServer((os.environ['HOST'],int(os.environ['PORT0'])),H)"
    ".serve_forever()\"")


def test_deployment_waits_for_readiness_checks(env):
    env.agent()
    m = env.start_marathon()
    app = {"id": "/warm", "cmd": READY_AFTER_A_WHILE, "cpus": 0.1, "mem": 32,
           "portDefinitions": [{"port": 0, "name": "http-api"}],
           "readinessChecks": [{"name": "warm", "path": "/ready",
                                "portName": "http-api", "intervalSeconds": 2,
                                "timeoutSeconds": 1,
                                "preserveLastResponse": True}]}
    dep = m.post("/v2/apps", json=app).headers["Marathon-Deployment-Id"]

    def not_ready_yet():
        for d in m.deployments():
            for act in d["currentActions"]:
                for r in act["readinessCheckResults"]:
                    if not r["ready"] and r.get("lastResponse", {}).get(
                            "status") == 503:
                        return r
        return None
    r = harness.wait_for(not_ready_yet, 20, what="a failing readiness check")
    assert r["name"] == "warm"
    assert m.app("/warm")["tasksRunning"] == 1
    harness.wait_for(lambda: all(d["id"] != dep for d in m.deployments()),
                     30, what="the deployment to finish once ready")
    res = m.get("/v2/apps/warm?embed=app.readiness").json()["app"][
        "readinessCheckResults"]
    assert res and res[0]["ready"] is True


def test_command_health_check_is_run_by_the_executor(env):
    env.agent()
    m = env.start_marathon()
    app = {"id": "/cmdcheck", "cpus": 0.1, "mem": 16, "backoffSeconds": 1,
           "portDefinitions": [],
           "cmd": "touch ok; sleep 4; rm ok; sleep 600",
           "healthChecks": [{"protocol": "COMMAND",
                             "command": {"value": "test -f ok"},
                             "gracePeriodSeconds": 30, "intervalSeconds": 1,
                             "timeoutSeconds": 1, "delaySeconds": 0,
                             "maxConsecutiveFailures": 2}]}
    m.post("/v2/apps", json=app)
    first = m.wait_running("/cmdcheck", 1, healthy=True)["tasks"][0]
    assert first["healthCheckResults"][0]["alive"] is True

    def replaced():
        a = m.app("/cmdcheck")
        return a if a["tasks"] and a["tasks"][0]["id"] != first["id"] else None
    a = harness.wait_for(replaced, 60, what="the unhealthy task replaced")
    assert a["lastTaskFailure"]["taskId"] == first["id"]


def test_task_on_a_lost_agent_is_replaced_per_unreachable_strategy(cluster):
    env = Env(cluster, master_flags=("--agent_ping_timeout=300ms",
                                     "--max_agent_ping_timeouts=2"))
    try:
        first_agent = env.agent()
        m = env.start_marathon()
        m.post("/v2/apps", json={"id": "/survivor", "cmd": "sleep 600",
                                 "cpus": 0.1, "mem": 16, "portDefinitions": [],
                                 "unreachableStrategy": {
                                     "inactiveAfterSeconds": 0,
                                     "expungeAfterSeconds": 0}})
        first = m.wait_running("/survivor", 1)["tasks"][0]
        assert first["host"] == first_agent.ip
        second_agent = env.agent()
        first_agent.kill()

        def moved():
            t = [x for x in m.app("/survivor")["tasks"]
                 if x["state"] == "TASK_RUNNING"]
            return t[0] if len(t) == 1 and t[0]["host"] == second_agent.ip \
                else None
        replacement = harness.wait_for(moved, 60,
                                       what="a replacement on the other agent")
        assert replacement["id"] != first["id"]
        # expungeAfterSeconds 0: the unreachable task is forgotten
        harness.wait_for(lambda: [t["id"] for t in m.app("/survivor")[
            "tasks"]] == [replacement["id"]], 30, what="the old task expunged")
    finally:
        cluster.stop_all()
        cleanup_tasks([a.work_dir for a in env.agents])


def test_mesos_master_failover_keeps_tasks_and_marathon_resubscribes(cluster):
    store = "sqlite:" + cluster.path("mesos-store", "registry.db")
    masters = [start_mesos_master(cluster, store=store,
                                  extra=("--lease_ttl=2secs",))
               for _ in range(3)]
    agents = []
    try:
        agents.append(start_mesos_agent(cluster, masters))
        m = start_marathon(cluster, ",".join(f"{x.ip}:5050" for x in masters))
        m.post("/v2/apps", json={"id": "/steady", "cmd": "sleep 600",
                                 "cpus": 0.1, "mem": 16, "instances": 2,
                                 "portDefinitions": []})
        before = {t["id"] for t in m.wait_running("/steady", 2)["tasks"]}
        leader = harness.wait_for(lambda: [x for x in masters if requests.get(
            x.url + "/metrics/snapshot", timeout=2).json()[
            "master/elected"] == 1.0], 20, what="the leading master")[0]
        leader.kill()
        others = [x for x in masters if x is not leader]
        harness.wait_for(lambda: [x for x in others if requests.get(
            x.url + "/metrics/snapshot", timeout=2).json()[
            "master/elected"] == 1.0], 30, what="a new leading master")
        # Marathon follows: a scale needs offers from the new leader
        m.put("/v2/apps/steady", json={"instances": 3})
        after = {t["id"] for t in m.wait_running("/steady", 3, timeout=60)[
            "tasks"]}
        assert before < after
        info = m.get("/v2/info").json()
        assert info["frameworkId"]
    finally:
        cluster.stop_all()
        cleanup_tasks([a.work_dir for a in agents])
