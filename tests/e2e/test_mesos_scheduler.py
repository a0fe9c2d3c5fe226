"""A framework's life on the master, through the v1 scheduler HTTP API only
(tests/lib/mesos_framework.py), against a real dcos-mesos-master and a
real dcos-mesos-slave: subscribe, offers, launch, status updates and their
acknowledgement, kill, reconcile, decline and revive, failover."""

import base64
import time

import pytest
import requests

from harness import wait_for
from mesos_framework import (MesosFramework, cleanup_sandboxes, start_agent,
                             start_master, wait_agents)


@pytest.fixture(autouse=True)
def _no_leftover_tasks(tmp_path):
    """Set up before the cluster, so it runs after the daemons stopped:
    the executors they leave behind go too."""
    yield
    cleanup_sandboxes(str(tmp_path))


@pytest.fixture
def mesos(cluster):
    """One master and one agent, registered."""
    master = start_master(cluster)
    agent = start_agent(cluster, master)
    wait_agents(master.url)
    return master, agent


def subscribed(master, **kw):
    fw = MesosFramework([master.ip + ":5050"], **kw)
    fw.subscribe()
    return fw


def sandbox_file(agent, fw_id, task_id, name):
    """Reads a file of a command task's sandbox through the agent's
    /files/read, the way `dcos task log` does."""
    st = requests.get(agent.url + "/state", timeout=5).json()
    for f in st["frameworks"] + st.get("completed_frameworks", []):
        if f["id"] != fw_id:
            continue
        for ex in f["executors"] + f.get("completed_executors", []):
            if ex["id"] == task_id:
                r = requests.get(agent.url + "/files/read", params={
                    "path": ex["directory"] + "/" + name, "offset": 0},
                    timeout=5)
                r.raise_for_status()
                return r.json()["data"]
    raise AssertionError(f"no executor for {task_id} in the agent's state")


def test_echo_task_runs_to_finished_and_its_stdout_is_in_the_sandbox(mesos):
    master, agent = mesos
    fw = subscribed(master, name="echo-story")
    assert fw.heartbeat_interval == 2.0
    fw.wait_event("HEARTBEAT", timeout=10)
    offer = fw.wait_offers()[0]
    assert offer["hostname"] == agent.ip
    assert offer["url"]["address"]["ip"] == agent.ip
    names = {r["name"] for r in offer["resources"]}
    assert {"cpus", "mem", "disk", "ports"} <= names

    task = fw.task(offer, "echo", cmd="echo hello from $MESOS_TASK_ID")
    tid = task["task_id"]["value"]
    fw.launch(offer, [task])

    fw.wait_state(tid, "TASK_FINISHED")
    assert fw.states(tid) == ["TASK_STARTING", "TASK_RUNNING",
                              "TASK_FINISHED"]
    assert all(s.get("uuid") for s in fw.statuses(tid))
    out = wait_for(lambda: sandbox_file(agent, fw.framework_id, tid,
                                        "stdout"), 10, what="stdout")
    assert f"hello from {tid}" in out

    # the master shows it among the completed tasks once acknowledged
    def completed():
        st = requests.get(master.url + "/master/state").json()
        f = st["frameworks"][0]
        return [t for t in f["completed_tasks"] if t["id"] == tid]
    t = wait_for(completed, 10, what="a completed task")[0]
    assert t["state"] == "TASK_FINISHED"
    assert t["slave_id"] == offer["agent_id"]["value"]
    assert [s["state"] for s in t["statuses"]][-1] == "TASK_FINISHED"
    assert t["resources"]["cpus"] == 0.1 and t["resources"]["mem"] == 32.0
    fw.close()


def test_long_task_is_killed_when_the_framework_asks(mesos):
    master, agent = mesos
    fw = subscribed(master, name="kill-story")
    offer = fw.wait_offers()[0]
    task = fw.task(offer, "sleeper", cmd="sleep 1000")
    tid = task["task_id"]["value"]
    fw.launch(offer, [task])
    running = fw.wait_state(tid, "TASK_RUNNING")

    # running tasks are visible with their resources
    st = requests.get(master.url + "/master/tasks").json()
    assert [t["state"] for t in st["tasks"] if t["id"] == tid] == \
        ["TASK_RUNNING"]

    fw.kill(tid, running["agent_id"]["value"])
    killed = fw.wait_state(tid, "TASK_KILLED", timeout=20)
    assert killed["agent_id"] == running["agent_id"]
    # the resources went back: a new offer carries the whole agent again
    fw.revive()

    def full_offer():
        return [o for o in fw.offers.values()
                if any(r["name"] == "cpus" and r["scalar"]["value"] == 2.0
                       for r in o["resources"])]
    wait_for(full_offer, 10, what="an offer with all 2 cpus")
    fw.close()


def test_reconciliation_reports_known_and_unknown_tasks(mesos):
    master, agent = mesos
    fw = subscribed(master, name="reconcile-story")
    offer = fw.wait_offers()[0]
    agent_id = offer["agent_id"]["value"]
    task = fw.task(offer, "long", cmd="sleep 1000")
    tid = task["task_id"]["value"]
    fw.launch(offer, [task])
    fw.wait_state(tid, "TASK_RUNNING")

    mark = len(fw.updates)
    fw.reconcile()  # implicit: every task the master knows
    st = fw.wait_state(tid, "TASK_RUNNING", since=mark)
    assert st["reason"] == "REASON_RECONCILIATION"
    assert st["source"] == "SOURCE_MASTER"
    assert "uuid" not in st

    mark = len(fw.updates)
    fw.reconcile([(tid, agent_id), ("never-launched", agent_id),
                  ("nowhere", None)])
    fw.wait_state(tid, "TASK_RUNNING", since=mark)
    # partition-aware: unknown task on a registered agent is GONE, with no
    # agent given it is UNKNOWN
    assert fw.wait_state("never-launched", "TASK_GONE", since=mark)
    assert fw.wait_state("nowhere", "TASK_UNKNOWN", since=mark)

    # a framework without PARTITION_AWARE hears TASK_LOST instead
    old = subscribed(master, name="old-style", capabilities=())
    old.reconcile([("ghost", agent_id)])
    assert old.wait_state("ghost", "TASK_LOST")["reason"] == \
        "REASON_RECONCILIATION"
    fw.close()
    old.close()


def test_operation_reconciliation_answers_for_operations_never_run(mesos):
    master, agent = mesos
    fw = subscribed(master, name="operations-story")
    agent_id = fw.wait_offers()[0]["agent_id"]["value"]

    def operation_states(since):
        return {e["update_operation_status"]["status"]["operation_id"][
            "value"]: e["update_operation_status"]["status"]["state"]
            for e in fw.events[since:]
            if e.get("type") == "UPDATE_OPERATION_STATUS"}

    mark = len(fw.events)
    fw.call("RECONCILE_OPERATIONS", {"operations": [
        {"operation_id": {"value": "op-1"}, "agent_id": {"value": agent_id}},
        {"operation_id": {"value": "op-2"}}]})
    got = fw.wait_for(lambda: (lambda s: s if len(s) == 2 else None)(
        operation_states(mark)), 15, "two operation statuses")
    assert got == {"op-1": "OPERATION_UNKNOWN", "op-2": "OPERATION_UNKNOWN"}

    # implicit: no operation ever runs here, so nothing is sent
    fw.call("RECONCILE_OPERATIONS", {})
    fw.call("ACKNOWLEDGE_OPERATION_STATUS", {
        "operation_id": {"value": "op-1"}, "agent_id": {"value": agent_id},
        "uuid": "5iRNoKd6TSiipSoPh5KxRw=="})
    bad = fw.call("ACKNOWLEDGE_OPERATION_STATUS", {
        "operation_id": {"value": "op-1"}, "uuid": "nope"}, expect=400)
    assert "uuid" in bad.text
    bad = fw.call("RECONCILE_OPERATIONS", {"operations": [{}]}, expect=400)
    assert "operation_id" in bad.text
    fw.close()


def test_invalid_tasks_get_task_error_and_the_rest_still_launches(mesos):
    master, agent = mesos
    fw = subscribed(master, name="invalid-task-story")
    offer = fw.wait_offers()[0]
    greedy = fw.task(offer, "greedy", cmd="true", cpus=64)
    ok = fw.task(offer, "fine", cmd="sleep 1000")
    both = fw.task(offer, "both", cmd="true")
    both["executor"] = {"executor_id": {"value": "x"},
                        "command": {"value": "true"}}
    dup = fw.task(offer, "dup", cmd="true",
                  task_id=ok["task_id"]["value"])
    fw.launch(offer, [greedy, ok, both, dup])

    err = fw.wait_state(greedy["task_id"]["value"], "TASK_ERROR")
    assert err["reason"] == "REASON_TASK_INVALID"
    assert "more resources" in err["message"]
    err = fw.wait_state(both["task_id"]["value"], "TASK_ERROR")
    assert "CommandInfo or ExecutorInfo" in err["message"]
    fw.wait_state(ok["task_id"]["value"], "TASK_RUNNING")
    dup_err = [s for s in fw.statuses(ok["task_id"]["value"])
               if s["state"] == "TASK_ERROR"]
    assert dup_err and "duplicate" in dup_err[0]["message"]
    fw.close()


def test_accepting_an_offer_that_is_gone_drops_its_tasks(mesos):
    master, agent = mesos
    fw = subscribed(master, name="stale-offer-story")
    offer = fw.wait_offers()[0]
    task = fw.task(offer, "late", cmd="true")
    fw.decline(offer, refuse_seconds=0)
    fw.launch(offer, [task])  # the offer no longer exists
    st = fw.wait_state(task["task_id"]["value"], "TASK_DROPPED")
    assert st["reason"] == "REASON_INVALID_OFFERS"
    assert "no longer valid" in st["message"]
    fw.close()


def test_declined_agent_is_filtered_until_the_framework_revives(mesos):
    master, agent = mesos
    fw = subscribed(master, name="filter-story")
    offer = fw.wait_offers()[0]
    fw.decline(offer, refuse_seconds=3600)
    time.sleep(1.5)  # three allocation intervals: nothing may come
    assert fw.offers == {}
    fw.revive()
    again = fw.wait_offers()[0]
    assert again["id"] != offer["id"]

    fw.suppress()
    fw.decline(again, refuse_seconds=0)
    time.sleep(1.5)
    assert fw.offers == {}
    fw.revive()
    fw.wait_offers()
    fw.close()


def test_two_frameworks_share_two_agents_by_drf(cluster):
    master = start_master(cluster)
    start_agent(cluster, master, name="agent-1")
    start_agent(cluster, master, name="agent-2")
    wait_agents(master.url, 2)
    a = subscribed(master, name="first")
    first = a.wait_offers(2)  # alone, it is offered everything
    b = subscribed(master, name="second")
    a.decline(first, refuse_seconds=0)
    # back in the pool, each agent goes to the framework with the smaller
    # dominant share: one each
    offers_a = a.wait_offers()
    offers_b = b.wait_offers()
    agents_a = {o["agent_id"]["value"] for o in offers_a}
    agents_b = {o["agent_id"]["value"] for o in offers_b}
    assert len(agents_a) == 1 and len(agents_b) == 1
    assert agents_a != agents_b
    a.close()
    b.close()


def test_unacknowledged_update_is_resent_after_resubscription(mesos):
    master, agent = mesos
    fw = subscribed(master, name="ack-story", failover_timeout=60,
                    auto_ack=False)
    offer = fw.wait_offers()[0]
    task = fw.task(offer, "quiet", cmd="sleep 1000")
    tid = task["task_id"]["value"]
    fw.launch(offer, [task])
    starting = fw.wait_state(tid, "TASK_STARTING")

    # the framework "crashes" before acknowledging and comes back
    fw.close_stream()
    mark = len(fw.updates)
    fw.subscribe()
    again = fw.wait_state(tid, "TASK_STARTING", since=mark)
    assert again["uuid"] == starting["uuid"]
    fw.acknowledge(again)
    fw.wait_state(tid, "TASK_RUNNING", since=mark)
    fw.close()


def test_framework_failover_keeps_its_tasks_and_invalidates_the_old_stream(
        mesos):
    master, agent = mesos
    fw = subscribed(master, name="failover-story", failover_timeout=60)
    offer = fw.wait_offers()[0]
    task = fw.task(offer, "survivor", cmd="sleep 1000")
    tid = task["task_id"]["value"]
    fw.launch(offer, [task])
    fw.wait_state(tid, "TASK_RUNNING")
    old_stream = fw.stream_id

    fw.close_stream()

    def disconnected():
        f = requests.get(master.url + "/master/frameworks").json()
        return not f["frameworks"][0]["connected"]
    wait_for(disconnected, 10, what="the framework to be disconnected")

    second = MesosFramework([master.ip + ":5050"], name="failover-story",
                            failover_timeout=60,
                            framework_id=fw.framework_id)
    second.subscribe()
    assert second.framework_id == fw.framework_id
    assert second.stream_id != old_stream
    mark = len(second.updates)
    second.reconcile([(tid, None)])
    assert second.wait_state(tid, "TASK_RUNNING", since=mark)
    # the old stream id no longer works
    fw.stream_id = old_stream
    with pytest.raises(AssertionError) as e:
        fw.reconcile()
    assert "400" in str(e.value)
    second.close()


def test_framework_gone_past_its_failover_timeout_is_removed_with_its_tasks(
        mesos):
    master, agent = mesos
    fw = subscribed(master, name="short-lived", failover_timeout=1)
    offer = fw.wait_offers()[0]
    task = fw.task(offer, "orphan", cmd="sleep 1000")
    tid = task["task_id"]["value"]
    fw.launch(offer, [task])
    fw.wait_state(tid, "TASK_RUNNING")
    fw_id = fw.framework_id
    fw.close_stream()

    def removed():
        st = requests.get(master.url + "/master/frameworks").json()
        return [f for f in st["completed_frameworks"] if f["id"] == fw_id]
    f = wait_for(removed, 15, what="the framework among completed ones")[0]
    assert [t["state"] for t in f["completed_tasks"]] == ["TASK_KILLED"]

    # the agent killed it too
    def agent_has_no_running_task():
        st = requests.get(agent.url + "/state", timeout=5).json()
        return all(not ex["tasks"] for fr in st["frameworks"]
                   for ex in fr["executors"])
    wait_for(agent_has_no_running_task, 20, what="the agent to kill it")

    # re-subscribing with a removed id is refused
    ghost = MesosFramework([master.ip + ":5050"], framework_id=fw_id)
    r = ghost.subscribe(expect=403)
    assert "removed" in r.json()["message"]


def test_teardown_kills_the_tasks_and_completes_the_framework(mesos):
    master, agent = mesos
    fw = subscribed(master, name="teardown-story", failover_timeout=3600)
    offer = fw.wait_offers()[0]
    task = fw.task(offer, "t", cmd="sleep 1000")
    fw.launch(offer, [task])
    fw.wait_state(task["task_id"]["value"], "TASK_RUNNING")
    fw.teardown()
    st = requests.get(master.url + "/master/state").json()
    assert st["frameworks"] == []
    assert st["completed_frameworks"][0]["id"] == fw.framework_id
    fw.close()


def test_offer_timeout_rescinds_an_unused_offer(cluster):
    master = start_master(cluster, extra=["--offer_timeout=1secs"])
    start_agent(cluster, master)
    wait_agents(master.url)
    fw = subscribed(master, name="hoarder")
    first = fw.wait_offers()[0]
    ev = fw.wait_event("RESCIND", timeout=10)
    assert ev["rescind"]["offer_id"] == first["id"]
    # and the resources come back in a new offer
    fw.wait_offers(pred=lambda o: o["id"] != first["id"])
    fw.close()


def test_launch_group_runs_its_tasks_under_one_executor(mesos):
    master, agent = mesos
    fw = subscribed(master, name="pod-story")
    offer = fw.wait_offers()[0]
    executor = {"type": "DEFAULT", "executor_id": {"value": "pod-exec"},
                "framework_id": {"value": fw.framework_id},
                "resources": [fw.scalar("cpus", 0.1), fw.scalar("mem", 32)]}
    t1 = fw.task(offer, "web", cmd="sleep 1000")
    t2 = fw.task(offer, "sidecar", cmd="sleep 1000")
    fw.launch_group(offer, executor, [t1, t2])
    for t in (t1, t2):
        fw.wait_state(t["task_id"]["value"], "TASK_RUNNING", timeout=30)
    st = requests.get(master.url + "/master/frameworks").json()
    f = st["frameworks"][0]
    assert {t["executor_id"] for t in f["tasks"]} == {"pod-exec"}
    assert [e["executor_id"] for e in f["executors"]] == ["pod-exec"]
    # the executor's resources count as used on the agent
    used = wait_agents(master.url)[0]["used_resources"]
    assert abs(used["cpus"] - 0.3) < 1e-9
    fw.close()


# A third-party executor on the v1 executor API: it runs each task
# (reports RUNNING), answers every framework message with "echo:<data>"
# and ends its task when killed.
ECHO_EXECUTOR = r'''
import base64, json, os, sys, uuid, requests
url = "http://%s/api/v1/executor" % os.environ["MESOS_AGENT_ENDPOINT"]
fid = {"value": os.environ["MESOS_FRAMEWORK_ID"]}
eid = {"value": os.environ["MESOS_EXECUTOR_ID"]}
H = {"Content-Type": "application/json", "Accept": "application/json"}
def call(body):
    body.update({"framework_id": fid, "executor_id": eid})
    r = requests.post(url, headers=H, json=body)
    assert r.status_code == 202, r.text
def update(task_id, state):
    call({"type": "UPDATE", "update": {"status": {
        "task_id": task_id, "state": state, "source": "SOURCE_EXECUTOR",
        "uuid": base64.b64encode(uuid.uuid4().bytes).decode()}}})
r = requests.post(url, headers=H, stream=True, json={
    "type": "SUBSCRIBE", "framework_id": fid, "executor_id": eid,
    "subscribe": {"unacknowledged_tasks": [], "unacknowledged_updates": []}})
buf = b""
for chunk in r.iter_content(chunk_size=None):
    buf += chunk
    while b"\n" in buf:
        n, rest = buf.split(b"\n", 1)
        if len(rest) < int(n):
            break
        ev, buf = json.loads(rest[:int(n)]), rest[int(n):]
        if ev["type"] == "LAUNCH":
            update(ev["launch"]["task"]["task_id"], "TASK_RUNNING")
        elif ev["type"] == "MESSAGE":
            data = base64.b64decode(ev["message"]["data"])
            call({"type": "MESSAGE", "message": {
                "data": base64.b64encode(b"echo:" + data).decode()}})
        elif ev["type"] == "KILL":
            update(ev["kill"]["task_id"], "TASK_KILLED")
        elif ev["type"] == "SHUTDOWN":
            sys.exit(0)
'''


def test_framework_messages_reach_the_executor_and_come_back(mesos,
                                                             tmp_path):
    master, agent = mesos
    script = tmp_path / "echo_executor.py"
    script.write_text(ECHO_EXECUTOR)
    fw = subscribed(master, name="chatty")
    offer = fw.wait_offers()[0]
    executor = {"executor_id": {"value": "echo-exec"},
                "framework_id": {"value": fw.framework_id},
                "command": {"value": f"/usr/bin/python3 {script}"},
                "resources": [fw.scalar("cpus", 0.1), fw.scalar("mem", 64)]}
    task = fw.task(offer, "chat", executor=executor)
    tid = task["task_id"]["value"]
    fw.launch(offer, [task])
    fw.wait_state(tid, "TASK_RUNNING", timeout=30)

    fw.message(offer["agent_id"]["value"], "echo-exec", b"hello")
    ev = fw.wait_event("MESSAGE", timeout=20)
    assert ev["message"]["agent_id"] == offer["agent_id"]
    assert ev["message"]["executor_id"] == {"value": "echo-exec"}
    assert base64.b64decode(ev["message"]["data"]) == b"echo:hello"

    fw.kill(tid)
    fw.wait_state(tid, "TASK_KILLED", timeout=20)
    fw.shutdown("echo-exec", offer["agent_id"]["value"])
    fw.close()


def test_master_knows_a_task_ended_before_the_framework_acknowledges(mesos):
    master, agent = mesos
    fw = subscribed(master, name="slow-acker", auto_ack=False)
    offer = fw.wait_offers()[0]
    task = fw.task(offer, "quick", cmd="true")
    tid = task["task_id"]["value"]
    fw.launch(offer, [task])
    starting = fw.wait_state(tid, "TASK_STARTING")

    # the agent sends a task's updates one at a time, but tells the master
    # the latest state: the task is over and its resources are free
    def finished_on_master():
        st = requests.get(master.url + "/master/state").json()
        t = [t for f in st["frameworks"] for t in f["tasks"]
             if t["id"] == tid]
        return t and t[0]["state"] == "TASK_FINISHED" and \
            st["slaves"][0]["used_resources"]["cpus"] == 0
    wait_for(finished_on_master, 15, what="the master to know it finished")
    assert set(fw.states(tid)) == {"TASK_STARTING"}

    # acknowledged one by one, the rest arrive; the terminal one's ack
    # completes the task
    fw.acknowledge(starting)
    fw.acknowledge(fw.wait_state(tid, "TASK_RUNNING"))
    fw.acknowledge(fw.wait_state(tid, "TASK_FINISHED"))

    def completed():
        st = requests.get(master.url + "/master/state").json()
        return [t for f in st["frameworks"] for t in f["completed_tasks"]
                if t["id"] == tid]
    wait_for(completed, 10, what="the task among the completed ones")
    fw.close()
