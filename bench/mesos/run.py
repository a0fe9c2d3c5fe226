#!/usr/bin/python3
"""bench/mesos/run.py: the Mesos master and agent benchmarks of issue 4,
measured against the anchors in shared/reference/performance-anchors.md.

    bench/mesos/run.py [--quick] [--only NAME ...] [--json FILE]

Each benchmark starts real daemons from build/bin on fresh loopback
addresses, measures, stops them and prints one line; the results are also
written as JSON (--json). Benchmarks:

  placements   tasks placed per second by the master against 1,000
               simulated agents (mesos-sim-agents: the real agent channel,
               no processes), measured by mesos-bench-scheduler (a v1 API
               framework): ACCEPT sent -> 202 for all of them, and to
               TASK_RUNNING for all of them
  state        GET /master/state latency and size with 10,000 running tasks
               on those agents (and /master/state-summary)
  rss          master RSS idle (no agents), with 1,000 idle agents, and
               under load (10,000 tasks)
  latency      ACCEPT -> TASK_RUNNING p50/p99 on one real local agent,
               one task at a time
  launches     real task launches per second on one real agent
               (mesos-executor processes running `sleep`)

The box is shared (2 cores): run it when it is quiet, and read the CPU
time the master used alongside the rates.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.path.join(REPO, "build", "bin")
# one /24 of loopback for the whole run, away from the test harness's
NET = "127.250.%d" % (os.getpid() % 200)


def bin_path(name):
    path = os.path.join(BIN, name)
    if not os.access(path, os.X_OK):
        sys.exit(f"bench: {path} is not built; run make first")
    return path


def http_get(url, timeout=10):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read()


def wait(fn, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            v = fn()
            if v:
                return v
        except Exception:  # noqa: BLE001 - not yet
            pass
        time.sleep(0.05)
    sys.exit(f"bench: timed out waiting for {what}")


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_secs(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Run:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="mesos-bench-")
        self.procs = []

    def start(self, name, argv, health=None):
        log = open(os.path.join(self.dir, name + ".log"), "wb")
        p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                             start_new_session=True)
        log.close()
        self.procs.append(p)
        if health:
            wait(lambda: p.poll() is None and http_get(health, 1)[0] == 200,
                 30, f"{name} to be healthy")
        return p

    def master(self, ip):
        p = self.start("master", [
            bin_path("dcos-mesos-master"), f"--ip={ip}",
            f"--work_dir={self.dir}/master", "--log_level=warning"],
            health=f"http://{ip}:5050/health")
        wait(lambda: json.loads(http_get(
            f"http://{ip}:5050/metrics/snapshot")[1])["master/elected"] == 1,
            30, "the master to lead")
        return p

    def agents_active(self, ip):
        m = json.loads(http_get(f"http://{ip}:5050/metrics/snapshot")[1])
        return int(m["master/slaves_active"])

    def stop(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass
        self.procs = []

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def bench_scheduler(ip, *args, timeout=180):
    out = subprocess.run([bin_path("mesos-bench-scheduler"),
                          f"--master=http://{ip}:5050", *args],
                         capture_output=True, text=True, timeout=timeout)
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        sys.exit(f"bench: mesos-bench-scheduler failed:\n{out.stderr[-2000:]}")
    return json.loads(lines[-1])


def sim_cluster(run, ip, agents):
    master = run.master(ip)
    run.start("sim-agents", [bin_path("mesos-sim-agents"),
                             f"--master={ip}:5052", f"--ip={NET}.2",
                             f"--agents={agents}", "--stats_every=0"])
    wait(lambda: run.agents_active(ip) == agents, 120,
         f"{agents} simulated agents to register")
    return master


def placements(args, results):
    n_agents, n_tasks = (200, 2000) if args.quick else (1000, 10000)
    run = Run()
    try:
        ip = f"{NET}.1"
        master = sim_cluster(run, ip, n_agents)
        best = None
        for per_offer in (10, 1000):
            c0 = cpu_secs(master.pid)
            r = bench_scheduler(ip, f"--tasks={n_tasks}",
                                f"--per_offer={per_offer}")
            r["master_cpu_secs"] = round(cpu_secs(master.pid) - c0, 3)
            r["per_offer"] = per_offer
            print(f"  placements: {n_tasks} tasks on {n_agents} agents, "
                  f"{per_offer}/offer: {r['placements_per_sec']:.0f} placed/s "
                  f"({r['placement_secs']}s), all running after "
                  f"{r['all_running_secs']}s ({r['running_per_sec']:.0f}/s); "
                  f"master CPU {r['master_cpu_secs']}s")
            if best is None or r["placements_per_sec"] > \
                    best["placements_per_sec"]:
                best = r
            time.sleep(2)  # the teardown's kills drain
        results["placements"] = best
    finally:
        run.cleanup()


def state(args, results):
    n_agents, n_tasks = (200, 2000) if args.quick else (1000, 10000)
    run = Run()
    try:
        ip = f"{NET}.1"
        master = sim_cluster(run, ip, n_agents)
        results["rss_kb_1000_idle_agents"] = rss_kb(master.pid)
        bench_scheduler(ip, f"--tasks={n_tasks}", "--per_offer=10",
                        "--no-teardown", "--failover_timeout=3600")
        url = f"http://{ip}:5050/master/state"
        times, size = [], 0
        for _ in range(20):
            t0 = time.monotonic()
            _, body = http_get(url, 30)
            times.append((time.monotonic() - t0) * 1000)
            size = len(body)
        doc = json.loads(body)
        tasks = sum(len(f["tasks"]) for f in doc["frameworks"])
        times.sort()
        t0 = time.monotonic()
        _, summary = http_get(f"http://{ip}:5050/master/state-summary", 30)
        st = {"tasks": tasks, "agents": len(doc["slaves"]), "bytes": size,
              "p50_ms": round(times[len(times) // 2], 1),
              "min_ms": round(times[0], 1), "max_ms": round(times[-1], 1),
              "summary_ms": round((time.monotonic() - t0) * 1000, 1),
              "summary_bytes": len(summary),
              "rss_kb_loaded": rss_kb(master.pid)}
        print(f"  state: /master/state with {tasks} tasks on {st['agents']} "
              f"agents: p50 {st['p50_ms']} ms (min {st['min_ms']}, max "
              f"{st['max_ms']}), {size / 1e6:.1f} MB; state-summary "
              f"{st['summary_ms']} ms; master RSS {st['rss_kb_loaded']} kB")
        results["state"] = st
    finally:
        run.cleanup()


def rss(args, results):
    run = Run()
    try:
        master = run.master(f"{NET}.1")
        time.sleep(1)
        results["rss_kb_idle"] = rss_kb(master.pid)
        print(f"  rss: master idle (no agents): {results['rss_kb_idle']} kB")
    finally:
        run.cleanup()


def real_agent(run, ip, agent_ip, resources):
    master = run.master(ip)
    agent = run.start("agent", [
        bin_path("dcos-mesos-slave"), f"--master={ip}:5050",
        f"--ip={agent_ip}", f"--work_dir={run.dir}/agent",
        f"--resources={resources}", "--log_level=warning"],
        health=f"http://{agent_ip}:5051/health")
    wait(lambda: run.agents_active(ip) == 1, 30, "the agent to register")
    return master, agent


def latency(args, results):
    n = 50 if args.quick else 200
    run = Run()
    try:
        ip = f"{NET}.1"
        master, agent = real_agent(run, ip, f"{NET}.3",
                                   "cpus:8;mem:8192;disk:1000")
        r = bench_scheduler(ip, f"--tasks={n}", "--sequential", "--cpus=0.01",
                            "--mem=32", "--cmd=sleep 600")
        r["agent_rss_kb"] = rss_kb(agent.pid)
        print(f"  latency: ACCEPT -> TASK_RUNNING on a real agent, {n} tasks "
              f"one at a time: p50 {r['latency_ms']['p50']} ms, p99 "
              f"{r['latency_ms']['p99']} ms; agent RSS {r['agent_rss_kb']} kB")
        results["latency"] = r
    finally:
        run.cleanup()


def launches(args, results):
    n = 200 if args.quick else 1000
    run = Run()
    try:
        ip = f"{NET}.1"
        master, agent = real_agent(run, ip, f"{NET}.4",
                                   "cpus:64;mem:262144;disk:1000")
        r = bench_scheduler(ip, f"--tasks={n}", "--per_offer=1000",
                            "--cpus=0.01", "--mem=32", "--cmd=sleep 600",
                            timeout=300)
        r["agent_rss_kb_loaded"] = rss_kb(agent.pid)
        r["master_rss_kb_loaded"] = rss_kb(master.pid)
        print(f"  launches: {n} real tasks on one agent: all running after "
              f"{r['all_running_secs']}s = {r['running_per_sec']:.0f} "
              f"launches/s; p50 {r['latency_ms']['p50']} ms; agent RSS "
              f"{r['agent_rss_kb_loaded']} kB under load")
        results["launches"] = r
    finally:
        run.cleanup()


BENCHES = {"rss": rss, "placements": placements, "state": state,
           "latency": latency, "launches": launches}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="smaller sizes (a smoke run)")
    p.add_argument("--only", action="append", choices=sorted(BENCHES))
    p.add_argument("--json", help="also write the results here")
    args = p.parse_args()
    results = {}
    print("bench/mesos:")
    for name, fn in BENCHES.items():
        if args.only and name not in args.only:
            continue
        fn(args, results)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
