"""Several masters sharing one store: one leads, the others redirect to it;
when the leader dies another takes over, agents re-register with their
tasks, frameworks re-subscribe, and running tasks keep running."""

import signal

import pytest
import requests

from harness import wait_for
from mesos_framework import (MesosFramework, cleanup_sandboxes, leader_url,
                             start_agent, start_master, wait_agents)


@pytest.fixture(autouse=True)
def _no_leftover_tasks(tmp_path):
    """Set up before the cluster, so it runs after the daemons stopped:
    the executors they leave behind go too."""
    yield
    cleanup_sandboxes(str(tmp_path))


def three_masters(cluster, extra=()):
    store = "sqlite:" + cluster.path("store", "registry.db")
    return [start_master(cluster, name=f"master-{i}", store=store,
                         extra=extra) for i in range(3)]


def test_one_of_three_masters_leads_and_the_others_redirect(cluster):
    masters = three_masters(cluster)
    leader = leader_url(masters)
    followers = [m for m in masters if m.url != leader]
    assert len(followers) == 2
    host = leader.split("//")[1]
    for f in followers:
        for path in ("/master/state", "/state.json", "/master/slaves",
                     "/master/frameworks", "/master/tasks",
                     "/master/state-summary"):
            r = requests.get(f.url + path + "?x=1", allow_redirects=False,
                             timeout=5)
            assert r.status_code == 307, path
            assert r.headers["Location"] == f"//{host}{path}?x=1"
        r = requests.post(f.url + "/api/v1/scheduler", data="{}",
                          headers={"Content-Type": "application/json"},
                          allow_redirects=False, timeout=5)
        assert r.status_code == 307
        assert r.headers["Location"] == f"//{host}/api/v1/scheduler"
        r = requests.get(f.url + "/master/redirect", allow_redirects=False,
                         timeout=5)
        assert r.status_code == 307 and r.headers["Location"] == f"//{host}"
        # every master answers health, version and metrics itself
        assert requests.get(f.url + "/health").status_code == 200
        assert requests.get(f.url + "/version").status_code == 200
        m = requests.get(f.url + "/metrics/snapshot").json()
        assert m["master/elected"] == 0.0
    assert requests.get(leader + "/metrics/snapshot").json()[
        "master/elected"] == 1.0
    assert requests.get(leader + "/master/redirect/x").status_code == 404
    # a framework pointed at a follower is sent to the leader
    fw = MesosFramework([followers[0].ip + ":5050"], name="redirected")
    fw.subscribe()
    assert fw.leader == leader
    fw.close()


def test_leader_dies_and_the_cluster_carries_on(cluster):
    masters = three_masters(cluster)
    leader = leader_url(masters)
    agent = start_agent(cluster, masters)
    agent_id = wait_agents(leader)[0]["id"]

    fw = MesosFramework([m.ip + ":5050" for m in masters], name="durable",
                        failover_timeout=3600)
    fw.subscribe()
    offer = fw.wait_offers()[0]
    task = fw.task(offer, "long-runner", cmd="sleep 1000")
    tid = task["task_id"]["value"]
    fw.launch(offer, [task])
    fw.wait_state(tid, "TASK_RUNNING")

    # the leading master crashes
    dead = [m for m in masters if m.url == leader][0]
    dead.kill()
    survivors = [m for m in masters if m is not dead]
    new_leader = leader_url(survivors, timeout=30)
    assert new_leader != leader

    # the agent re-registers with the new leader, with its task
    agents = wait_agents(new_leader, timeout=30)
    assert agents[0]["id"] == agent_id

    def task_back():
        st = requests.get(new_leader + "/master/state", timeout=5).json()
        return [t for f in st["frameworks"] for t in f["tasks"]
                if t["id"] == tid and t["state"] == "TASK_RUNNING"]
    wait_for(task_back, 30, what="the task in the new leader's state")

    # the framework finds the new leader and re-subscribes with its id
    fw.close_stream()
    fw.find_leader()
    assert fw.leader == new_leader
    fw.subscribe()
    mark = len(fw.updates)
    fw.reconcile([(tid, agent_id)])
    st = fw.wait_state(tid, "TASK_RUNNING", since=mark)
    assert st["reason"] == "REASON_RECONCILIATION"

    # the task process itself never stopped
    ast = requests.get(agent.url + "/state", timeout=5).json()
    running = [t for f in ast["frameworks"] for e in f["executors"]
               for t in e["tasks"] if t["id"] == tid]
    assert running and running[0]["state"] == "TASK_RUNNING"

    # and the cluster still schedules
    offer = fw.wait_offers()[0]
    t2 = fw.task(offer, "after-failover", cmd="true")
    fw.launch(offer, [t2])
    fw.wait_state(t2["task_id"]["value"], "TASK_FINISHED")
    fw.close()


def test_agents_that_never_come_back_after_failover_become_unreachable(
        cluster):
    store = "sqlite:" + cluster.path("store", "registry.db")
    extra = ["--agent_reregister_timeout=2secs"]
    first = start_master(cluster, name="master-a", store=store, extra=extra)
    agent = start_agent(cluster, first)
    agent_id = wait_agents(first.url)[0]["id"]
    agent.kill()
    first.kill()

    second = start_master(cluster, name="master-b", store=store, extra=extra)
    leader = leader_url([second], timeout=30)
    # first it knows the agent only from the registry ...
    st = requests.get(leader + "/master/slaves").json()
    assert [s["id"]["value"] for s in st["recovered_slaves"]] == [agent_id] \
        or any(s["id"] == agent_id for s in st["slaves"])

    # ... then marks it unreachable
    def unreachable():
        s = requests.get(leader + "/master/state").json()
        return s["unreachable_slaves"] == 1
    wait_for(unreachable, 20, what="the agent to be marked unreachable")


def test_a_paused_leader_steps_down_when_it_wakes_up(cluster):
    store = "sqlite:" + cluster.path("store", "registry.db")
    masters = [start_master(cluster, name=f"master-{i}", store=store)
               for i in range(2)]
    leader = leader_url(masters)
    old = [m for m in masters if m.url == leader][0]
    other = [m for m in masters if m is not old][0]

    old.signal(signal.SIGSTOP)  # frozen past its lease
    try:
        new_leader = leader_url([other], timeout=30)
        assert new_leader == other.url
    finally:
        old.signal(signal.SIGCONT)

    # once awake it knows it lost the lease: it follows and redirects
    def following():
        r = requests.get(old.url + "/master/state", allow_redirects=False,
                         timeout=2)
        return r.status_code == 307 and \
            r.headers["Location"] == "//" + other.url.split("//")[1] + \
            "/master/state"
    wait_for(following, 20, what="the old leader to redirect")
    m = requests.get(old.url + "/metrics/snapshot").json()
    assert m["master/elected"] == 0.0
    assert "stepping down" in old.log()


def test_agent_unreachable_too_long_is_gone_and_must_register_anew(cluster):
    master = start_master(cluster, extra=["--max_agent_ping_timeouts=2",
                                          "--registry_max_agent_age=3secs"])
    agent = start_agent(cluster, master)
    old_id = wait_agents(master.url)[0]["id"]
    fw = MesosFramework([master.ip + ":5050"], name="watcher")
    fw.subscribe()
    offer = fw.wait_offers()[0]
    task = fw.task(offer, "doomed", cmd="sleep 1000")
    tid = task["task_id"]["value"]
    fw.launch(offer, [task])
    fw.wait_state(tid, "TASK_RUNNING")

    agent.signal(signal.SIGSTOP)
    try:
        fw.wait_state(tid, "TASK_UNREACHABLE", timeout=20)
        gone = fw.wait_state(tid, "TASK_GONE", timeout=20)
        assert "gone" in gone["message"]
    finally:
        agent.signal(signal.SIGCONT)
    # it comes back, is told to shut down, and registers as a new agent
    def new_agent():
        st = requests.get(master.url + "/master/slaves").json()
        return [s for s in st["slaves"] if s["active"] and s["id"] != old_id]
    wait_for(new_agent, 40, what="the agent to register anew")
    st = requests.get(master.url + "/master/state").json()
    assert all(s["id"] != old_id for s in st["slaves"])
    fw.close()
