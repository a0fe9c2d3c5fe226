#!/usr/bin/python3
"""sim_mesos: a simulated Mesos master with simulated agents, for the
Marathon benchmark "against simulated agents" (bench/marathon/run.py).

It speaks the v1 scheduler HTTP API (SUBSCRIBE with a RecordIO event
stream, ACCEPT/DECLINE/KILL/ACKNOWLEDGE/RECONCILE/REVIVE/SUPPRESS) for one
framework, offers the resources of --agents agents every --interval
seconds, and answers a LAUNCH with TASK_STARTING then TASK_RUNNING at
once, without running anything. It measures Marathon's side only; the
real master and agents are benchmarked with the real daemons.

    sim_mesos.py --port 15050 --agents 10 --cpus 64 --mem 262144
"""

import argparse
import base64
import json
import queue
import socketserver
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MASTER_ID = str(uuid.uuid4())


class Cluster:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.events = None          # queue of the subscribed framework
        self.stream_id = None
        self.framework_id = None
        self.tasks = {}             # task id -> (agent, state, resources)
        self.free = {}              # agent -> {"cpus","mem","disk","ports":set}
        self.offered = {}           # offer id -> agent
        self.filters = {}           # agent -> monotonic time offers resume
        self.suppressed = False
        self.offer_seq = 0
        self.launched = 0
        for i in range(args.agents):
            aid = f"{MASTER_ID}-S{i}"
            self.free[aid] = {"cpus": args.cpus, "mem": args.mem,
                              "disk": args.disk,
                              "ports": set(range(31000, 32001))}

    def send(self, ev):
        q = self.events
        if q is not None:
            q.put(ev)

    def agent_host(self, aid):
        n = int(aid.rsplit("S", 1)[1])
        return f"sim-agent-{n}", f"127.0.99.{n % 250 + 1}"

    def offer_round(self):
        now = time.monotonic()
        offers = []
        with self.lock:
            if self.events is None or self.suppressed:
                return
            busy = set(self.offered.values())
            for aid, free in self.free.items():
                if aid in busy or self.filters.get(aid, 0) > now:
                    continue
                if free["cpus"] < 0.001 or free["mem"] < 1:
                    continue
                self.offer_seq += 1
                oid = f"{MASTER_ID}-O{self.offer_seq}"
                self.offered[oid] = aid
                host, ip = self.agent_host(aid)
                ports = sorted(free["ports"])
                ranges = []
                for p in ports:
                    if ranges and ranges[-1]["end"] == p - 1:
                        ranges[-1]["end"] = p
                    else:
                        ranges.append({"begin": p, "end": p})
                res = [
                    {"name": "cpus", "type": "SCALAR", "role": "*",
                     "scalar": {"value": free["cpus"]}},
                    {"name": "mem", "type": "SCALAR", "role": "*",
                     "scalar": {"value": free["mem"]}},
                    {"name": "disk", "type": "SCALAR", "role": "*",
                     "scalar": {"value": free["disk"]}},
                ]
                if ranges:
                    res.append({"name": "ports", "type": "RANGES", "role": "*",
                                "ranges": {"range": ranges}})
                offers.append({
                    "id": {"value": oid},
                    "framework_id": {"value": self.framework_id},
                    "agent_id": {"value": aid}, "hostname": host,
                    "url": {"scheme": "http", "address": {
                        "hostname": host, "ip": ip, "port": 5051},
                        "path": "/slave(1)"},
                    "resources": res, "attributes": [], "executor_ids": []})
        if offers:
            self.send({"type": "OFFERS", "offers": {"offers": offers}})

    def status(self, task_id, aid, state, message=""):
        st = {"task_id": {"value": task_id}, "state": state,
              "source": "SOURCE_EXECUTOR", "timestamp": time.time(),
              "uuid": base64.b64encode(uuid.uuid4().bytes).decode(),
              "message": message}
        if aid:
            st["agent_id"] = {"value": aid}
        if state == "TASK_RUNNING" and aid:
            st["container_status"] = {"network_infos": [{"ip_addresses": [
                {"protocol": "IPv4", "ip_address": self.agent_host(aid)[1]}]}]}
        self.send({"type": "UPDATE", "update": {"status": st}})

    def release(self, task_id):
        t = self.tasks.pop(task_id, None)
        if t is None:
            return
        aid, _, res = t
        free = self.free[aid]
        free["cpus"] += res["cpus"]
        free["mem"] += res["mem"]
        free["disk"] += res["disk"]
        free["ports"] |= res["ports"]

    def accept(self, call):
        acc = call.get("accept", {})
        with self.lock:
            aids = [self.offered.pop(o["value"], None)
                    for o in acc.get("offer_ids", [])]
        aids = [a for a in aids if a]
        if not aids:
            return
        aid = aids[0]
        started = []
        with self.lock:
            for op in acc.get("operations", []):
                if op.get("type") != "LAUNCH":
                    continue
                for ti in op["launch"]["task_infos"]:
                    res = {"cpus": 0.0, "mem": 0.0, "disk": 0.0, "ports": set()}
                    for r in ti.get("resources", []):
                        if r["type"] == "SCALAR" and r["name"] in res:
                            res[r["name"]] += r["scalar"]["value"]
                        elif r["name"] == "ports":
                            for rg in r["ranges"]["range"]:
                                res["ports"] |= set(range(rg["begin"],
                                                          rg["end"] + 1))
                    free = self.free[aid]
                    free["cpus"] -= res["cpus"]
                    free["mem"] -= res["mem"]
                    free["disk"] -= res["disk"]
                    free["ports"] -= res["ports"]
                    tid = ti["task_id"]["value"]
                    self.tasks[tid] = (aid, "TASK_RUNNING", res)
                    started.append(tid)
                    self.launched += 1
        for tid in started:
            self.status(tid, aid, "TASK_STARTING")
            self.status(tid, aid, "TASK_RUNNING")

    def handle(self, call):
        t = call.get("type")
        if t == "ACCEPT":
            self.accept(call)
        elif t == "DECLINE":
            d = call.get("decline", {})
            refuse = (d.get("filters") or {}).get("refuse_seconds", 5.0)
            with self.lock:
                for o in d.get("offer_ids", []):
                    aid = self.offered.pop(o["value"], None)
                    if aid:
                        self.filters[aid] = time.monotonic() + refuse
        elif t == "KILL":
            tid = call["kill"]["task_id"]["value"]
            with self.lock:
                known = tid in self.tasks
                aid = self.tasks[tid][0] if known else None
                self.release(tid)
            self.status(tid, aid, "TASK_KILLED" if known else "TASK_UNKNOWN")
        elif t == "RECONCILE":
            tasks = call.get("reconcile", {}).get("tasks", [])
            with self.lock:
                known = dict((k, v[0]) for k, v in self.tasks.items())
            if not tasks:
                for tid, aid in known.items():
                    self.status(tid, aid, "TASK_RUNNING", "Reconciliation")
            for t in tasks:
                tid = t["task_id"]["value"]
                if tid in known:
                    self.status(tid, known[tid], "TASK_RUNNING", "Reconciliation")
                else:
                    self.status(tid, None, "TASK_UNKNOWN", "Reconciliation")
        elif t == "REVIVE":
            with self.lock:
                self.suppressed = False
                self.filters.clear()
        elif t == "SUPPRESS":
            with self.lock:
                self.suppressed = True


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_GET(self):
        c = self.server.cluster
        body = json.dumps({"launched": c.launched, "tasks": len(c.tasks)})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    def do_POST(self):
        c = self.server.cluster
        n = int(self.headers.get("Content-Length", "0"))
        try:
            call = json.loads(self.rfile.read(n) or b"{}")
        except ValueError:
            self.reply(400, b"bad JSON")
            return
        if call.get("type") == "SUBSCRIBE":
            self.subscribe(call)
            return
        c.handle(call)
        self.reply(202, b"")

    def reply(self, status, body):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def subscribe(self, call):
        c = self.server.cluster
        fi = call["subscribe"]["framework_info"]
        fid = (fi.get("id") or {}).get("value") or f"{MASTER_ID}-0001"
        q = queue.Queue()
        with c.lock:
            c.events = q
            c.framework_id = fid
            c.stream_id = str(uuid.uuid4())
            c.offered.clear()
            c.suppressed = False
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Mesos-Stream-Id", c.stream_id)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        q.put({"type": "SUBSCRIBED", "subscribed": {
            "framework_id": {"value": fid}, "heartbeat_interval_seconds": 15}})
        try:
            while c.events is q:
                try:
                    ev = q.get(timeout=15)
                except queue.Empty:
                    ev = {"type": "HEARTBEAT"}
                data = json.dumps(ev).encode()
                rec = str(len(data)).encode() + b"\n" + data
                self.wfile.write(b"%x\r\n%s\r\n" % (len(rec), rec))
                self.wfile.flush()
        except OSError:
            pass
        with c.lock:
            if c.events is q:
                c.events = None


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--ip", default="127.0.0.1")
    p.add_argument("--port", type=int, default=15050)
    p.add_argument("--agents", type=int, default=10)
    p.add_argument("--cpus", type=float, default=64)
    p.add_argument("--mem", type=float, default=262144)
    p.add_argument("--disk", type=float, default=1000000)
    p.add_argument("--interval", type=float, default=0.2,
                   help="seconds between offer rounds")
    args = p.parse_args()
    cluster = Cluster(args)
    socketserver.TCPServer.allow_reuse_address = True
    srv = ThreadingHTTPServer((args.ip, args.port), Handler)
    srv.daemon_threads = True
    srv.cluster = cluster

    def offers():
        while True:
            time.sleep(args.interval)
            cluster.offer_round()
    threading.Thread(target=offers, daemon=True).start()
    srv.serve_forever()


if __name__ == "__main__":
    main()
