"""The Mesos agent across restarts and crashes: executors outlive the
agent, the restarted agent recovers them from its checkpoint and
re-registers with its tasks, status updates are kept until the framework
acknowledges them, an executor that died meanwhile fails its task, and an
agent that is gone makes the master declare its tasks unreachable (or
lost)."""

import os
import signal

import pytest
import requests

from harness import bin_path, wait_for
from mesos_agent_util import (agent_state, cleanup_containers, framework,
                              processes_under, registered, run, sandbox,
                              start_agent, start_master, tid)


@pytest.fixture
def cleanup(cluster):
    closers = []
    yield closers
    for c in closers:
        c()
    cleanup_containers(cluster.dir)


def task_state_on_agent(agent, task_id):
    for f in agent_state(agent)["frameworks"]:
        for e in f["executors"]:
            for t in e["tasks"]:
                if t["id"] == task_id:
                    return t["state"]
    return None


def test_restarted_agent_recovers_running_tasks_and_can_still_kill_them(
        cluster, cleanup):
    master = start_master(cluster)
    agent = start_agent(cluster, master)
    agent_id = registered(agent)
    fw = framework(master)
    cleanup.append(fw.close)
    task = run(fw, agent_id, "survivor", cmd="sleep 300")
    fw.wait_state(tid(task), "TASK_RUNNING")
    box = sandbox(agent, tid(task))
    before = processes_under(box)
    assert before, "the executor and its task run"

    agent.stop()
    assert set(before) <= set(processes_under(box)), \
        "executors outlive the agent"
    agent.start()
    assert registered(agent) == agent_id, "same agent id after recovery"
    assert task_state_on_agent(agent, tid(task)) == "TASK_RUNNING"
    assert set(before) <= set(processes_under(box))

    fw.kill(tid(task))
    fw.wait_state(tid(task), "TASK_KILLED")
    wait_for(lambda: not processes_under(box), 15,
             what="the executor and task to exit")


def test_updates_made_while_the_agent_was_down_reach_the_framework(
        cluster, cleanup):
    master = start_master(cluster)
    agent = start_agent(cluster, master)
    agent_id = registered(agent)
    fw = framework(master)
    cleanup.append(fw.close)
    task = run(fw, agent_id, "quick",
               cmd="while [ ! -e go ]; do sleep 0.05; done; echo done")
    fw.wait_state(tid(task), "TASK_RUNNING")
    box = sandbox(agent, tid(task))

    agent.kill()  # a crash, not a clean stop
    open(os.path.join(box, "go"), "w").close()
    # the task finishes while no agent runs; its executor keeps the update
    wait_for(lambda: "done" in open(os.path.join(box, "stdout")).read(), 15,
             what="the task to finish while the agent is down")
    assert "TASK_FINISHED" not in fw.states(tid(task))
    agent.start()
    registered(agent)
    fw.wait_state(tid(task), "TASK_FINISHED", timeout=30)
    wait_for(lambda: not processes_under(box), 15,
             what="the executor to exit once its update is through")


def test_unacknowledged_updates_are_resent_until_acknowledged(
        cluster, cleanup):
    master = start_master(cluster)
    agent = start_agent(cluster, master,
                        extra=("--status_update_retry_interval=1secs",))
    agent_id = registered(agent)
    fw = framework(master, auto_ack=False)
    cleanup.append(fw.close)
    task = run(fw, agent_id, "unacked", cmd="echo hi")
    starting = fw.wait_state(tid(task), "TASK_STARTING")

    # not acknowledged: the same update comes again, and nothing after it
    def resent():
        return [s for s in fw.statuses(tid(task))
                if s["uuid"] == starting["uuid"]][1:]
    wait_for(resent, 20, what="TASK_STARTING to be resent")
    assert set(fw.states(tid(task))) == {"TASK_STARTING"}

    # a crash of the agent does not lose it either
    agent.kill()
    agent.start()
    registered(agent)
    n = len(fw.statuses(tid(task)))
    wait_for(lambda: len(fw.statuses(tid(task))) > n, 20,
             what="the update resent by the restarted agent")
    assert fw.statuses(tid(task))[-1]["uuid"] == starting["uuid"]

    # acknowledged: the rest of the stream follows
    fw.acknowledge(starting)
    running = fw.wait_state(tid(task), "TASK_RUNNING")
    fw.acknowledge(running)
    finished = fw.wait_state(tid(task), "TASK_FINISHED")
    fw.acknowledge(finished)

    def completed():
        for f in agent_state(agent)["frameworks"] + \
                agent_state(agent)["completed_frameworks"]:
            for e in f["completed_executors"]:
                if e["id"] == tid(task):
                    return e
        return None
    wait_for(completed, 20, what="the executor to complete")


def test_executor_that_died_while_the_agent_was_down_fails_its_task(
        cluster, cleanup):
    master = start_master(cluster)
    agent = start_agent(cluster, master)
    agent_id = registered(agent)
    fw = framework(master)
    cleanup.append(fw.close)
    task = run(fw, agent_id, "doomed", cmd="sleep 300")
    fw.wait_state(tid(task), "TASK_RUNNING")
    box = sandbox(agent, tid(task))

    agent.stop()

    def kill_all():
        for p in processes_under(box):
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return not processes_under(box)
    wait_for(kill_all, 10, what="the container gone")
    agent.start()
    registered(agent)
    status = fw.wait_state(tid(task), "TASK_FAILED", timeout=30)
    assert status["reason"] == "REASON_EXECUTOR_TERMINATED"
    assert status["source"] == "SOURCE_AGENT"


def test_agent_gone_makes_its_tasks_unreachable_or_lost(cluster, cleanup):
    master = start_master(cluster, extra=("--agent_ping_timeout=1secs",
                                          "--max_agent_ping_timeouts=2"))
    agent = start_agent(cluster, master)
    agent_id = registered(agent)
    aware = framework(master)
    cleanup.append(aware.close)
    old = framework(master, name="not-partition-aware",
                    capabilities=("TASK_KILLING_STATE",))
    cleanup.append(old.close)
    t1 = run(aware, agent_id, "aware", cmd="sleep 300")
    aware.wait_state(tid(t1), "TASK_RUNNING")
    t2 = run(old, agent_id, "old", cmd="sleep 300")
    old.wait_state(tid(t2), "TASK_RUNNING")

    agent.kill()
    st = aware.wait_state(tid(t1), "TASK_UNREACHABLE", timeout=30)
    assert st["reason"] in ("REASON_AGENT_DISCONNECTED",
                            "REASON_AGENT_REMOVED")
    old.wait_state(tid(t2), "TASK_LOST", timeout=30)

    # the agent comes back with its tasks, which never stopped running
    agent.start()
    registered(agent)
    assert task_state_on_agent(agent, tid(t1)) == "TASK_RUNNING"
    r = requests.get(master.url + "/master/slaves").json()
    assert agent_id in [s["id"] for s in r["slaves"]]


def test_executor_that_crashes_takes_its_task_down_with_it(cluster, cleanup):
    master = start_master(cluster)
    agent = start_agent(cluster, master)
    agent_id = registered(agent)
    fw = framework(master)
    cleanup.append(fw.close)
    task = run(fw, agent_id, "orphan-to-be", cmd="sleep 300")
    fw.wait_state(tid(task), "TASK_RUNNING")
    box = sandbox(agent, tid(task))
    (container,) = requests.get(agent.url + "/containers").json()
    assert container["executor_id"] == tid(task)
    os.kill(container["status"]["executor_pid"], signal.SIGKILL)
    status = fw.wait_state(tid(task), "TASK_FAILED")
    assert status["reason"] == "REASON_EXECUTOR_TERMINATED"
    assert status["source"] == "SOURCE_AGENT"
    # nothing of the container outlives its executor
    wait_for(lambda: not processes_under(box), 10, what="the task killed")


def test_executor_that_never_subscribes_is_killed_and_its_task_fails(
        cluster, cleanup, tmp_path):
    # an executor that starts but never speaks the executor API
    launcher = tmp_path / "launcher"
    launcher.mkdir()
    fake = launcher / "mesos-executor"
    fake.write_text("#!/bin/sh\nexec sleep 300\n")
    fake.chmod(0o755)
    for prog in ("mesos-containerizer", "mesos-fetcher"):
        os.symlink(bin_path(prog), launcher / prog)
    master = start_master(cluster)
    agent = start_agent(cluster, master, extra=(
        f"--launcher_dir={launcher}", "--executor_registration_timeout=2secs",
        "--executor_shutdown_grace_period=1secs"))
    agent_id = registered(agent)
    fw = framework(master)
    cleanup.append(fw.close)

    silent = run(fw, agent_id, "silent", cmd="true")
    status = fw.wait_state(tid(silent), "TASK_FAILED", timeout=30)
    assert status["reason"] == "REASON_EXECUTOR_REGISTRATION_TIMEOUT"

    # killed before its executor ever ran it
    queued = run(fw, agent_id, "queued", cmd="true")
    wait_for(lambda: processes_under(sandbox(agent, tid(queued))), 10,
             what="the executor to start")
    fw.kill(tid(queued))
    status = fw.wait_state(tid(queued), "TASK_KILLED")
    assert status["reason"] == "REASON_TASK_KILLED_DURING_LAUNCH"
    wait_for(lambda: not processes_under(sandbox(agent, tid(queued))), 15,
             what="the silent executor to be shut down")


def test_agent_with_changed_resources_refuses_to_recover(cluster, cleanup):
    master = start_master(cluster)
    agent = start_agent(cluster, master)
    registered(agent)
    agent.stop()
    changed = cluster.start("agent-changed", [
        a.replace("cpus:4", "cpus:8") for a in agent.argv], wait=False)
    wait_for(lambda: not changed.alive(), 15, what="the agent to refuse")
    assert changed.proc.returncode != 0
    assert "Incompatible agent info detected" in changed.log()
    assert "rm -f" in changed.log()


def test_agent_follows_the_leader_named_in_the_replicated_store(
        cluster, cleanup):
    # one exhibitor member hosts the store; two masters share it; the agent
    # knows only the store, as DC/OS agents know only ZooKeeper
    from store_cluster import start_members
    (member,) = start_members(cluster, 1)
    store = f"dqlite://{member.address}/dcos"
    masters = [start_master(cluster, extra=(f"--store={store}",
                                            "--lease_ttl=2secs"))
               for _ in range(2)]
    agent = start_agent(cluster, masters[0], master_arg=store)
    agent_id = registered(agent)

    def knows_agent(master):
        """Is master leading, with our agent registered?"""
        r = requests.get(master.url + "/master/slaves", timeout=2,
                         allow_redirects=False)
        return r.status_code == 200 and agent_id in [
            s["id"] for s in r.json()["slaves"]]
    leader = wait_for(lambda: next((m for m in masters if knows_agent(m)),
                                   None), 20, what="the leader with the agent")
    assert f"the store names {leader.ip}:5050" in agent.log()

    leader.kill()
    other = next(m for m in masters if m is not leader)
    wait_for(lambda: knows_agent(other), 60,
             what="the agent to re-register with the new leader")
    assert f"the store names {other.ip}:5050" in agent.log()
