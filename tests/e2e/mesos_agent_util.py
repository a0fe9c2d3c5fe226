"""Helpers for the Mesos agent e2e tests (test_mesos_agent*.py): a real
master, real agents on fresh loopback addresses, a v1 scheduler API
framework, and cleanup of the executors and tasks a test leaves behind
(executors outlive their agent on purpose, so the harness cannot stop
them by stopping the agent)."""

import os
import signal
import time

import requests

from harness import bin_path, wait_for
from mesos_framework import MesosFramework

AGENT_RESOURCES = "cpus:4;mem:2048;disk:2048;ports:[31000-31099]"


def start_master(cluster, extra=()):
    ip = cluster.ip()
    work = os.path.join(cluster.dir, f"master-{ip}")
    os.makedirs(work, exist_ok=True)
    d = cluster.start(f"master-{ip}", [
        bin_path("dcos-mesos-master"), f"--ip={ip}", "--port=5050",
        f"--work_dir={work}", f"--store=sqlite:{work}/registry.db",
        "--allocation_interval=100ms", *extra],
        health=f"http://{ip}:5050/health")
    d.ip = ip
    d.url = f"http://{ip}:5050"
    return d


def start_agent(cluster, master, extra=(), resources=AGENT_RESOURCES,
                name=None, ip=None, work_dir=None, master_arg=None):
    ip = ip or cluster.ip()
    work_dir = work_dir or os.path.join(cluster.dir, f"agent-{ip}")
    os.makedirs(work_dir, exist_ok=True)
    d = cluster.start(name or f"agent-{ip}", [
        bin_path("dcos-mesos-slave"),
        f"--master={master_arg or master.ip + ':5050'}",
        f"--ip={ip}", "--port=5051", f"--work_dir={work_dir}",
        f"--resources={resources}", "--registration_backoff_factor=100ms",
        *extra], health=f"http://{ip}:5051/health")
    d.ip = ip
    d.url = f"http://{ip}:5051"
    d.work_dir = work_dir
    return d


def registered(agent):
    """Waits until the agent is registered; returns its id."""
    def reg():
        st = requests.get(agent.url + "/state", timeout=2).json()
        return st["id"] if st.get("registration_state") == "RUNNING" else None
    return wait_for(reg, 30, what=f"agent {agent.ip} registered")


def framework(master, **kw):
    kw.setdefault("capabilities", ("PARTITION_AWARE", "TASK_KILLING_STATE"))
    fw = MesosFramework([f"{master.ip}:5050"], **kw)
    fw.subscribe()
    return fw


def offer_on(fw, agent_id, timeout=20):
    return fw.wait_offers(pred=lambda o: o["agent_id"]["value"] == agent_id,
                          timeout=timeout)[0]


def run(fw, agent_id, name, timeout=30, **task_kw):
    """Launches one task on the agent; returns its TaskInfo."""
    offer = offer_on(fw, agent_id)
    task = fw.task(offer, name, **task_kw)
    # no filter on what is left: the next task need not wait 5s (Mesos'
    # default refuse_seconds) for the rest of the agent to be offered again
    fw.launch(offer, [task], refuse_seconds=0)
    return task


def tid(task):
    return task["task_id"]["value"]


def agent_state(agent):
    return requests.get(agent.url + "/state", timeout=5).json()


def sandbox(agent, task_id):
    """The sandbox directory of the executor that ran task_id."""
    def find():
        for f in agent_state(agent)["frameworks"] + \
                agent_state(agent)["completed_frameworks"]:
            for e in f["executors"] + f["completed_executors"]:
                if e["id"] == task_id:
                    return e["directory"]
        return None
    return wait_for(find, 15, what=f"the sandbox of {task_id}")


def read_file(agent, path, offset=0, length=None):
    params = {"path": path, "offset": offset}
    if length is not None:
        params["length"] = length
    return requests.get(agent.url + "/files/read", params=params, timeout=5)


def wait_file(agent, path, pred, timeout=15):
    def ok():
        r = read_file(agent, path)
        return r.json()["data"] if r.status_code == 200 and \
            pred(r.json()["data"]) else None
    return wait_for(ok, timeout, what=f"{path} to match")


def _environ(pid):
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            return f.read().split(b"\0")
    except OSError:
        return []


def processes_under(directory):
    """Pids of executors and tasks whose sandbox lies under directory."""
    prefix = [b"MESOS_DIRECTORY=" + directory.encode(),
              b"MESOS_SANDBOX=" + directory.encode()]
    pids = []
    for p in os.listdir("/proc"):
        if not p.isdigit() or int(p) == os.getpid():
            continue
        if any(v.startswith(pre) for v in _environ(p) for pre in prefix):
            pids.append(int(p))
    return pids


def cleanup_containers(directory, grace=5.0):
    """SIGTERM the executors left under directory (they kill their tasks
    and remove their cgroups), then SIGKILL whatever is left."""
    pids = processes_under(directory)
    for p in pids:
        try:
            os.kill(p, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and processes_under(directory):
        time.sleep(0.1)
    for p in processes_under(directory):
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass
