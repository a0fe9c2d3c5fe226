"""Marathon high availability: three real dcos-marathon daemons sharing one
store elect one leader through the "marathon" lease; followers proxy the
API to it; when the leader dies or abdicates another takes over within
seconds with everything intact."""

import os
import sys
import time

import requests

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))

import harness  # noqa: E402
from marathon_cluster import (EventStream, start_marathon,  # noqa: E402
                              unused_master)


def three_marathons(cluster):
    master = unused_master(cluster)
    store = "sqlite:" + cluster.path("shared", "store.db")
    nodes = [start_marathon(cluster, master, store=store, name=f"marathon{i}",
                            wait_leader=False) for i in range(3)]

    def one_leader():
        leaders = [n for n in nodes if n.is_leader()]
        return leaders[0] if len(leaders) == 1 else None
    leader = harness.wait_for(one_leader, 20, what="one leader of three")
    return nodes, leader


def test_followers_proxy_the_api_to_the_leader(cluster):
    nodes, leader = three_marathons(cluster)
    follower = next(n for n in nodes if n is not leader)
    r = follower.post("/v2/apps", json={"id": "/via", "cmd": "sleep 100"})
    assert r.status_code == 201, r.text
    assert r.headers["X-Marathon-Leader"] == leader.url
    assert r.headers["X-Marathon-Via"].endswith(f"{follower.ip}:{follower.port}")
    assert r.headers.get("Marathon-Deployment-Id")
    for n in nodes:
        assert n.get("/v2/leader").json() == {
            "leader": f"{leader.ip}:{leader.port}"}
        assert n.app("/via")["cmd"] == "sleep 100"
    # the event stream through a follower
    stream = EventStream(follower.url)
    try:
        stream.wait("event_stream_attached")
        leader.put("/v2/apps/via?force=true", json={"instances": 2})
        stream.wait("api_post_event", lambda d: d["appDefinition"][
            "instances"] == 2)
    finally:
        stream.close()
    # errors come back unchanged
    r = follower.post("/v2/apps", json={"id": "/via", "cmd": "x"})
    assert r.status_code == 409
    assert follower.get("/v2/apps/none").status_code == 404


def test_killing_the_leader_of_three_keeps_the_api_answering(cluster):
    nodes, leader = three_marathons(cluster)
    assert leader.post("/v2/apps", json={"id": "/keep", "cmd": "sleep 9"}
                       ).status_code == 201
    others = [n for n in nodes if n is not leader]
    t0 = time.monotonic()
    leader.daemon.kill()

    def new_leader():
        for n in others:
            if n.is_leader():
                return n
        return None
    nl = harness.wait_for(new_leader, 15, what="a new leader")
    elapsed = time.monotonic() - t0
    assert nl.app("/keep")["cmd"] == "sleep 9"
    other = next(n for n in others if n is not nl)
    harness.wait_for(lambda: other.get("/v2/apps/keep").status_code == 200,
                     10, what="the follower to proxy to the new leader")
    assert len(nl.deployments()) == 1
    print(f"new leader serving {elapsed:.2f}s after the old one was killed")


def test_delete_leader_abdicates_to_another_node(cluster):
    nodes, leader = three_marathons(cluster)
    r = leader.delete("/v2/leader")
    assert r.status_code == 200
    assert r.json() == {"message": "Leadership abdicated"}

    def someone_else():
        for n in nodes:
            if n is not leader and n.is_leader():
                return n
        return None
    harness.wait_for(someone_else, 15, what="another node to lead")


def test_a_node_without_a_reachable_leader_answers_503_then_leads(cluster):
    # the leader is killed while the others are down; a node that comes
    # back finds the lease still held by the dead leader until it expires
    nodes, leader = three_marathons(cluster)
    others = [n for n in nodes if n is not leader]
    for n in others:
        n.daemon.stop()
    leader.daemon.kill()
    lonely = others[0]
    lonely.daemon.start(wait=False)

    def answers():
        try:
            return lonely.get("/ping", timeout=1).text == "pong"
        except requests.RequestException:
            return False
    harness.wait_for(answers, 15, what="the restarted node to answer")
    # until it wins the (expiring) lease it cannot name a leader
    r = lonely.get("/v2/apps")
    assert r.status_code in (200, 503)
    if r.status_code == 503:
        assert "leader" in r.json()["message"]
    harness.wait_for(lonely.is_leader, 20, what="the lonely node to lead")
    assert lonely.get("/v2/apps").status_code == 200
