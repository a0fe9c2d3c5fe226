"""Marathon's REST API against a real dcos-marathon (without Mesos: no
offers arrive, so deployments stay in progress where a test needs them to):
the app model, validation, versions, groups, deployments, the event bus,
the info/leader/queue/ping/metrics endpoints, and bad input."""

import os
import subprocess
import sys
import time

import requests

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))

import harness  # noqa: E402
from marathon_cluster import (EventStream, start_marathon,  # noqa: E402
                              unused_master)

SISE = {"id": "/sise", "instances": 1, "cpus": 0.1, "mem": 32,
        "cmd": "python3 -m http.server $PORT0",
        "portDefinitions": [{"labels": {"VIP_0": "/sise:80"}}]}


def test_marathon_answers_help_and_version():
    out = subprocess.run([harness.bin_path("dcos-marathon"), "--help"],
                         capture_output=True, text=True, timeout=10)
    assert out.returncode == 0
    assert "--master" in out.stdout and "MARATHON_" in out.stdout
    out = subprocess.run([harness.bin_path("dcos-marathon"), "--version"],
                         capture_output=True, text=True, timeout=10)
    assert out.returncode == 0 and out.stdout.strip()
    out = subprocess.run([harness.bin_path("dcos-marathon"), "--bogus=1"],
                         capture_output=True, text=True, timeout=10)
    assert out.returncode == 2 and "bogus" in out.stderr


def test_create_sise_app_returns_201_with_a_deployment_and_defaults(cluster):
    m = start_marathon(cluster, unused_master(cluster))
    r = m.post("/v2/apps", json=SISE)
    assert r.status_code == 201, r.text
    dep = r.headers["Marathon-Deployment-Id"]
    assert r.headers["Location"].endswith("/sise")
    app = r.json()
    assert app["id"] == "/sise"
    assert app["tasksRunning"] == 0 and app["tasks"] == []
    assert app["deployments"] == [{"id": dep}]
    # Marathon's defaults, and a service port from 10000-20000
    assert app["backoffFactor"] == 1.15 and app["backoffSeconds"] == 1
    assert app["maxLaunchDelaySeconds"] == 3600
    assert app["upgradeStrategy"] == {"minimumHealthCapacity": 1.0,
                                      "maximumOverCapacity": 1.0}
    assert app["killSelection"] == "YOUNGEST_FIRST"
    assert app["networks"] == [{"mode": "host"}]
    pd = app["portDefinitions"][0]
    assert 10000 <= pd["port"] <= 20000
    assert pd["labels"] == {"VIP_0": "/sise:80"}
    assert app["version"] == app["versionInfo"]["lastConfigChangeAt"]

    got = m.app("/sise")
    assert got["cmd"] == SISE["cmd"] and got["deployments"] == [{"id": dep}]
    assert [d["id"] for d in m.deployments()] == [dep]
    plan = m.deployments()[0]
    assert [s["actions"][0]["action"] for s in plan["steps"]] == \
        ["StartApplication", "ScaleApplication"]
    assert plan["affectedApps"] == ["/sise"]

    # a second app gets the next service port
    r = m.post("/v2/apps", json={"id": "other", "cmd": "sleep 100"})
    assert r.status_code == 201
    assert r.json()["portDefinitions"][0]["port"] != pd["port"]


def test_invalid_app_definitions_get_422_naming_each_bad_path(cluster):
    m = start_marathon(cluster, unused_master(cluster))
    bad = {"id": "/Bad_Id", "cmd": "x", "instances": -1, "cpus": "lots",
           "mem": -5, "upgradeStrategy": {"minimumHealthCapacity": 1.5},
           "constraints": [["hostname", "SOMETIMES"]],
           "healthChecks": [{"protocol": "SMOKE"}],
           "portDefinitions": [{"port": 70000}]}
    r = m.post("/v2/apps", json=bad)
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["message"] == "Object is not valid"
    paths = {d["path"]: d["errors"] for d in body["details"]}
    for p in ("/id", "/instances", "/cpus", "/mem",
              "/upgradeStrategy/minimumHealthCapacity", "/constraints(0)",
              "/healthChecks(0)/protocol", "/portDefinitions(0)/port"):
        assert p in paths, (p, paths)
    assert paths["/upgradeStrategy/minimumHealthCapacity"] == \
        ["is greater than 1"]
    # both cmd and args
    r = m.post("/v2/apps", json={"id": "/x", "cmd": "a", "args": ["b"]})
    assert r.status_code == 422
    # not JSON at all
    r = m.post("/v2/apps", data="{nope", headers={
        "Content-Type": "application/json"})
    assert r.status_code == 400 and "message" in r.json()
    # nothing was created
    assert m.get("/v2/apps").json() == {"apps": []}
    assert m.deployments() == []


def test_duplicate_app_is_409_and_unknown_app_is_404(cluster):
    m = start_marathon(cluster, unused_master(cluster))
    assert m.post("/v2/apps", json=SISE).status_code == 201
    r = m.post("/v2/apps", json=SISE)
    assert r.status_code == 409
    assert r.json()["message"] == "An app with id [/sise] already exists."
    r = m.get("/v2/apps/nope")
    assert r.status_code == 404
    assert r.json()["message"] == "App '/nope' does not exist"
    assert m.delete("/v2/apps/nope").status_code == 404
    assert m.post("/v2/apps/nope/restart").status_code == 404


def test_change_to_an_app_in_deployment_is_409_unless_forced(cluster):
    m = start_marathon(cluster, unused_master(cluster))
    first = m.post("/v2/apps", json=SISE).headers["Marathon-Deployment-Id"]
    r = m.put("/v2/apps/sise", json={"instances": 3})
    assert r.status_code == 409, r.text
    body = r.json()
    assert body["deployments"] == [{"id": first}]
    assert "locked" in body["message"] and first in body["message"]
    assert m.app("/sise")["instances"] == 1  # nothing changed

    r = m.put("/v2/apps/sise?force=true", json={"instances": 3})
    assert r.status_code == 200, r.text
    second = r.json()["deploymentId"]
    assert r.headers["Marathon-Deployment-Id"] == second
    assert [d["id"] for d in m.deployments()] == [second]
    assert m.app("/sise")["instances"] == 3


def test_partial_update_scales_and_keeps_every_version(cluster):
    m = start_marathon(cluster, unused_master(cluster))
    v1 = m.post("/v2/apps", json=dict(SISE, labels={"team": "a"})).json()
    r = m.put("/v2/apps/sise?force=true", json={"instances": 2})
    assert r.status_code == 200
    a = m.app("/sise")
    assert a["instances"] == 2 and a["labels"] == {"team": "a"}
    assert a["cmd"] == SISE["cmd"]
    # a scale changes lastScalingAt but not lastConfigChangeAt
    assert a["versionInfo"]["lastConfigChangeAt"] == v1["version"]
    assert a["versionInfo"]["lastScalingAt"] == a["version"] != v1["version"]
    r = m.put("/v2/apps/sise?force=true", json={"cmd": "sleep 1000"})
    assert r.status_code == 200
    # scale and restart plans
    steps = m.deployments()[0]["steps"]
    assert steps[0]["actions"][0]["action"] == "RestartApplication"
    versions = m.get("/v2/apps/sise/versions").json()["versions"]
    assert len(versions) == 3 and versions[-1] == v1["version"]
    old = m.get(f"/v2/apps/sise/versions/{v1['version']}").json()
    assert old["cmd"] == SISE["cmd"] and old["instances"] == 1
    assert m.get("/v2/apps/sise/versions/2001-01-01T00:00:00.000Z"
                 ).status_code == 404
    # PATCH and PUT without partialUpdate
    r = m.patch("/v2/apps/sise?force=true", json={"labels": {"team": "b"}})
    assert r.status_code == 200
    assert m.app("/sise")["labels"] == {"team": "b"}
    r = m.put("/v2/apps/sise?force=true&partialUpdate=false",
              json={"cmd": "sleep 5"})
    assert r.status_code == 200
    a = m.app("/sise")
    assert a["labels"] == {} and a["instances"] == 1 and a["mem"] == 128


def test_put_creates_a_missing_app_with_201(cluster):
    m = start_marathon(cluster, unused_master(cluster))
    r = m.put("/v2/apps/made/by/put", json={"cmd": "sleep 10"})
    assert r.status_code == 201, r.text
    assert set(r.json()) == {"deploymentId", "version"}
    assert m.app("/made/by/put")["cmd"] == "sleep 10"


def test_groups_take_nested_relative_ids_and_scale_by(cluster):
    m = start_marathon(cluster, unused_master(cluster))
    group = {"id": "/shop", "apps": [
        {"id": "web", "cmd": "sleep 100", "instances": 1,
         "dependencies": ["db"]},
        {"id": "db", "cmd": "sleep 100", "instances": 2}],
        "groups": [{"id": "tools", "apps": [
            {"id": "cron", "cmd": "sleep 100"}]}]}
    r = m.post("/v2/groups", json=group)
    assert r.status_code == 201, r.text
    root = m.get("/v2/groups").json()
    assert root["id"] == "/"
    shop = root["groups"][0]
    assert shop["id"] == "/shop"
    assert sorted(a["id"] for a in shop["apps"]) == ["/shop/db", "/shop/web"]
    assert shop["groups"][0]["id"] == "/shop/tools"
    assert shop["groups"][0]["apps"][0]["id"] == "/shop/tools/cron"
    assert m.app("/shop/web")["dependencies"] == ["/shop/db"]
    # dependencies order the deployment: db before web
    steps = m.deployments()[0]["steps"]
    order = [[a["app"] for a in s["actions"]] for s in steps]
    assert order.index(["/shop/db", "/shop/tools/cron"]) < \
        order.index(["/shop/web"])
    assert m.get("/v2/groups/shop/tools").json()["apps"][0]["id"] == \
        "/shop/tools/cron"
    assert m.post("/v2/groups", json={"id": "/shop"}).status_code == 409

    r = m.put("/v2/groups/shop?force=true", json={"scaleBy": 2})
    assert r.status_code == 200, r.text
    assert m.app("/shop/db")["instances"] == 4
    assert m.app("/shop/tools/cron")["instances"] == 2

    r = m.put("/v2/groups/shop?dryRun=true", json={"id": "/shop", "apps": [
        {"id": "web", "cmd": "sleep 100"}]})
    assert r.status_code == 200 and "steps" in r.json()
    assert m.app("/shop/db")["instances"] == 4  # a dry run changes nothing

    r = m.delete("/v2/groups/shop?force=true")
    assert r.status_code == 200
    assert m.get("/v2/apps").json()["apps"] == []
    assert m.get("/v2/groups/shop").status_code == 404
    r = m.post("/v2/groups", json={"id": "/g", "apps": [
        {"id": "/elsewhere/x", "cmd": "x"}]})
    assert r.status_code == 422
    assert r.json()["details"][0]["path"] == "/apps(0)/id"


def test_deployment_rollback_restores_the_original_definition(cluster):
    m = start_marathon(cluster, unused_master(cluster))
    m.post("/v2/apps", json=SISE)
    m.put("/v2/apps/sise?force=true", json={"cmd": "sleep 1"})
    dep = m.deployments()[0]["id"]
    r = m.delete(f"/v2/deployments/{dep}")
    assert r.status_code == 200, r.text
    rollback = r.json()["deploymentId"]
    assert rollback != dep
    assert m.app("/sise")["cmd"] == SISE["cmd"]
    assert [d["id"] for d in m.deployments()] == [rollback]
    r = m.delete(f"/v2/deployments/{rollback}?force=true")
    assert r.status_code == 202 and r.text == ""
    assert m.deployments() == []
    assert m.delete(f"/v2/deployments/{rollback}").status_code == 404
    # a new app's deployment rolled back removes the app
    m.post("/v2/apps", json={"id": "/fresh", "cmd": "sleep 1"})
    dep = m.app("/fresh")["deployments"][0]["id"]
    assert m.delete(f"/v2/deployments/{dep}").status_code == 200
    assert m.get("/v2/apps/fresh").status_code == 404


def test_event_stream_shows_api_and_deployment_events(cluster):
    m = start_marathon(cluster, unused_master(cluster))
    assert m.get("/v2/events", stream=True).status_code == 405
    all_events = EventStream(m.url)
    only = EventStream(m.url, params=[("event_type", "deployment_info")])
    try:
        all_events.wait("event_stream_attached")
        m.post("/v2/apps", json=SISE)
        post = all_events.wait("api_post_event")[0]
        assert post["appDefinition"]["id"] == "/sise"
        assert post["eventType"] == "api_post_event" and post["timestamp"]
        info = only.wait("deployment_info")[0]
        assert info["plan"]["steps"][0]["actions"][0]["app"] == "/sise"
        all_events.wait("group_change_success")
        time.sleep(0.3)
        kinds = {e for e, _ in only.items}
        assert kinds == {"deployment_info"}, kinds
        # cancelling it is a deployment_failed event
        dep = m.deployments()[0]["id"]
        m.delete(f"/v2/deployments/{dep}?force=true")
        failed = all_events.wait("deployment_failed")[0]
        assert failed["id"] == dep
    finally:
        all_events.close()
        only.close()


def test_apps_list_filters_by_id_cmd_and_label_selectors(cluster):
    m = start_marathon(cluster, unused_master(cluster))
    for app in ({"id": "/a/web", "cmd": "nginx -g x", "labels": {
                 "tier": "front", "env": "prod"}},
                {"id": "/a/db", "cmd": "postgres", "labels": {
                 "tier": "back", "env": "prod"}},
                {"id": "/b/web", "cmd": "nginx", "labels": {"tier": "front",
                                                            "env": "dev"}}):
        assert m.post("/v2/apps", json=app).status_code == 201

    def ids(**params):
        r = m.get("/v2/apps", params=params)
        assert r.status_code == 200
        return sorted(a["id"] for a in r.json()["apps"])

    assert ids(id="web") == ["/a/web", "/b/web"]
    assert ids(cmd="postgres") == ["/a/db"]
    assert ids(label="tier==front") == ["/a/web", "/b/web"]
    assert ids(label="tier==front,env!=dev") == ["/a/web"]
    assert ids(label="env in (dev, test)") == ["/b/web"]
    assert ids(label="tier notin (front)") == ["/a/db"]
    assert ids(label="env") == ["/a/db", "/a/web", "/b/web"]
    apps = m.get("/v2/apps", params=[("embed", "apps.tasks"),
                                     ("embed", "apps.taskStats")]).json()
    assert all(a["tasks"] == [] and "taskStats" in a for a in apps["apps"])
    assert list(m.get("/v2/apps/a/*").json()) == ["*"]
    assert len(m.get("/v2/apps/a/*").json()["*"]) == 2


def test_info_ping_metrics_queue_and_leader_endpoints(cluster):
    m = start_marathon(cluster, unused_master(cluster))
    assert m.get("/ping").text == "pong"
    info = m.get("/v2/info").json()
    assert info["name"] == "marathon" and info["elected"] is True
    assert info["leader"] == f"{m.ip}:{m.port}"
    assert info["marathon_config"]["framework_name"] == "marathon"
    assert info["http_config"]["http_port"] == m.port
    metrics = m.get("/metrics").json()
    assert {"version", "gauges", "counters", "histograms", "meters",
            "timers"} <= set(metrics)
    assert m.get("/v2/leader").json() == {"leader": f"{m.ip}:{m.port}"}
    m.post("/v2/apps", json=dict(SISE, instances=2))
    q = harness.wait_for(lambda: m.get("/v2/queue").json()["queue"], 10,
                         what="the app to queue for offers")
    assert q[0]["app"]["id"] == "/sise" and q[0]["count"] == 2
    assert q[0]["delay"]["overdue"] is True
    assert "processedOffersSummary" in q[0]
    assert m.delete("/v2/queue/sise/delay").status_code == 204
    assert m.delete("/v2/queue/nope/delay").status_code == 404
    assert metrics["gauges"]["service.mesosphere.marathon.app.count"] == \
        {"value": 0.0}


def test_tasks_endpoints_answer_without_tasks(cluster):
    m = start_marathon(cluster, unused_master(cluster))
    m.post("/v2/apps", json=SISE)
    assert m.get("/v2/tasks").json() == {"tasks": []}
    assert m.get("/v2/apps/sise/tasks").json() == {"tasks": []}
    r = m.get("/v2/tasks", headers={"Accept": "text/plain"})
    assert r.headers["Content-Type"].startswith("text/plain")
    assert r.text.startswith("sise ")
    r = m.post("/v2/tasks/delete", json={"ids": ["nope.1"]})
    assert r.status_code == 200 and r.json() == {"tasks": []}
    assert m.post("/v2/tasks/delete", json={"ids": 3}).status_code == 422
    assert m.delete("/v2/apps/sise/tasks/sise.x").status_code == 404


def test_pods_are_validated_stored_and_listed(cluster):
    m = start_marathon(cluster, unused_master(cluster))
    pod = {"id": "/p1", "scaling": {"kind": "fixed", "instances": 1},
           "containers": [{"name": "c1", "resources": {"cpus": 0.1,
                                                       "mem": 32},
                           "exec": {"command": {"shell": "sleep 100"}}}]}
    r = m.post("/v2/pods", json=pod)
    assert r.status_code == 201, r.text
    assert r.json()["id"] == "/p1"
    assert [p["id"] for p in m.get("/v2/pods").json()] == ["/p1"]
    st = m.get("/v2/pods/p1::status").json()
    assert st["id"] == "/p1" and st["spec"]["id"] == "/p1"
    assert m.post("/v2/pods", json=pod).status_code == 409
    r = m.post("/v2/pods", json={"id": "/p2", "containers": [{}]})
    assert r.status_code == 422
    paths = [d["path"] for d in r.json()["details"]]
    assert "/containers(0)/name" in paths
    assert m.delete("/v2/pods/p1?force=true").status_code == 202
    assert m.get("/v2/pods/p1").status_code == 404


def test_restart_keeps_apps_groups_and_deployments(cluster):
    m = start_marathon(cluster, unused_master(cluster))
    m.post("/v2/groups", json={"id": "/g", "dependencies": [],
                               "apps": [{"id": "a", "cmd": "sleep 1"}]})
    dep = m.deployments()[0]["id"]
    m.daemon.restart()
    harness.wait_for(m.is_leader, 20, what="leadership after a restart")
    assert m.app("/g/a")["cmd"] == "sleep 1"
    assert [d["id"] for d in m.deployments()] == [dep]
    assert m.get("/v2/groups/g").status_code == 200
    assert m.get("/v2/apps/g/a/versions").json()["versions"]


def test_sigterm_stops_marathon_cleanly(cluster):
    m = start_marathon(cluster, unused_master(cluster))
    stream = EventStream(m.url)
    try:
        stream.wait("event_stream_attached")
        assert m.daemon.stop() == 0
    finally:
        stream.close()


def test_marathon_survives_garbage_on_its_port(cluster):
    m = start_marathon(cluster, unused_master(cluster))
    harness.garbage_tcp(m.ip, m.port)
    for body in (b"[]", b"null", b"\"x\"", b"{\"id\": 5}",
                 b"{\"id\":\"/x\",\"cmd\":\"y\",\"env\":{\"A\":{}}}",
                 b"{\"id\":\"/x\",\"cmd\":\"y\",\"healthChecks\":[7]}"):
        r = m.post("/v2/apps", data=body,
                   headers={"Content-Type": "application/json"})
        assert 400 <= r.status_code < 500, (body, r.status_code)
    r = m.put("/v2/apps", data=b"{}")
    assert r.status_code == 400
    r = m.put("/v2/groups/x", data=b"[1,2]")
    assert r.status_code == 422
    assert m.get("/v2/apps/%2e%2e").status_code in (404, 422)
    assert m.get("/ping").text == "pong"
    assert m.get("/v2/apps").json() == {"apps": []}
