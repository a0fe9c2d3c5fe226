"""A small Mesos framework speaking the v1 scheduler HTTP API (JSON), the
way third-party frameworks do: nothing here knows the master is ours.

    fw = MesosFramework(["127.0.0.1:5050"], name="story")
    fw.subscribe()
    offer = fw.wait_offers()[0]
    task = fw.task(offer, "hello", cmd="echo hello", cpus=0.1, mem=32)
    fw.launch(offer, [task])
    fw.wait_state(task["task_id"]["value"], "TASK_FINISHED")
    fw.close()

SUBSCRIBE opens a long-lived chunked response read by a thread that
decodes the RecordIO stream (``<length>\\n<json>``, chunk boundaries
ignored) into events; every other call is a separate POST carrying the
``Mesos-Stream-Id`` and answered 202. Status updates that carry a uuid are
acknowledged automatically (unless ``auto_ack=False``), as schedulers must
for the agent to stop resending them. A 307 from a non-leading master is
followed (its Location is protocol-relative, ``//host:port/path``).

Below the framework: helpers that start real masters and agents for the
e2e tests (start_master, start_agent, leader_url, wait_agents,
cleanup_sandboxes) and EventBus, a subscriber to the master's nng event
bus through libnng.
"""

import base64
import json
import os
import signal
import threading
import time
import uuid as uuidlib

import requests

SCHEDULER = "/api/v1/scheduler"
TERMINAL = {"TASK_FINISHED", "TASK_FAILED", "TASK_KILLED", "TASK_ERROR",
            "TASK_LOST", "TASK_DROPPED", "TASK_GONE", "TASK_GONE_BY_OPERATOR"}


class CallError(AssertionError):
    """A scheduler call got an unexpected HTTP status."""

    def __init__(self, call, status, body):
        super().__init__(f"{call}: HTTP {status}: {body}")
        self.status = status
        self.body = body


def recordio_records(chunks):
    """Yields the payloads of a RecordIO byte stream, whatever the chunking."""
    buf = b""
    for chunk in chunks:
        buf += chunk
        while True:
            nl = buf.find(b"\n")
            if nl < 0:
                break
            size = int(buf[:nl])
            if len(buf) < nl + 1 + size:
                break
            yield buf[nl + 1:nl + 1 + size]
            buf = buf[nl + 1 + size:]


class MesosFramework:
    def __init__(self, masters, name="dcos-c-test", user="root", role=None,
                 roles=None, capabilities=("PARTITION_AWARE",),
                 failover_timeout=0.0, framework_id=None, auto_ack=True,
                 checkpoint=True, hostname=None, webui_url=None):
        if isinstance(masters, str):
            masters = [masters]
        self.masters = [m if m.startswith("http") else "http://" + m
                        for m in masters]
        self.leader = self.masters[0]
        self.info = {"user": user, "name": name,
                     "failover_timeout": failover_timeout,
                     "checkpoint": checkpoint,
                     "capabilities": [{"type": c} for c in capabilities]}
        if roles:
            self.info["roles"] = list(roles)
        elif role:
            self.info["role"] = role
        if hostname:
            self.info["hostname"] = hostname
        if webui_url:
            self.info["webui_url"] = webui_url
        self.framework_id = framework_id
        self.auto_ack = auto_ack
        self.stream_id = None
        self.heartbeat_interval = None
        self.events = []          # every event, in order
        self.offers = {}          # id -> offer, while valid
        self.updates = []         # statuses, in order
        self.cond = threading.Condition()
        self.reader = None
        self.response = None
        self.stream_closed = False
        self.session = requests.Session()

    # --- transport ---

    def _url(self, base, path=SCHEDULER):
        return base.rstrip("/") + path

    def _post(self, body, stream=False, headers=None, timeout=10):
        """POST to the leader, following 307s; returns the response."""
        hdrs = {"Content-Type": "application/json",
                "Accept": "application/json"}
        hdrs.update(headers or {})
        url = self._url(self.leader)
        for _ in range(5):
            r = requests.post(url, data=json.dumps(body), headers=hdrs,
                              stream=stream, timeout=timeout,
                              allow_redirects=False)
            if r.status_code != 307:
                return r
            loc = r.headers["Location"]
            r.close()
            url = ("http:" + loc) if loc.startswith("//") else loc
            self.leader = url.split(SCHEDULER)[0]
        raise AssertionError(f"too many redirects from {url}")

    def find_leader(self, timeout=30):
        """Asks the known masters for /master/redirect until one names a
        leader that answers."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            for m in self.masters:
                try:
                    r = requests.get(m + "/master/redirect", timeout=1,
                                     allow_redirects=False)
                    if r.status_code == 307:
                        leader = "http:" + r.headers["Location"]
                        requests.get(leader + "/health", timeout=1)
                        self.leader = leader
                        return leader
                    last = r.status_code
                except requests.RequestException as e:
                    last = e
            time.sleep(0.1)
        raise AssertionError(f"no leading master found: {last!r}")

    # --- subscription ---

    def subscribe(self, timeout=15, expect=200):
        """SUBSCRIBE (or re-subscribe with our framework_id); returns the
        SUBSCRIBED event. With expect != 200 returns the error response."""
        info = dict(self.info)
        body = {"type": "SUBSCRIBE", "subscribe": {"framework_info": info}}
        if self.framework_id:
            info["id"] = {"value": self.framework_id}
            body["framework_id"] = {"value": self.framework_id}
        self.close_stream()
        r = self._post(body, stream=True, timeout=(5, None))
        if r.status_code != expect:
            raise CallError("SUBSCRIBE", r.status_code, r.text)
        if expect != 200:
            return r
        self.stream_id = r.headers["Mesos-Stream-Id"]
        self.response = r
        self.stream_closed = False
        mark = len(self.events)
        self.reader = threading.Thread(target=self._read, args=(r,),
                                       daemon=True)
        self.reader.start()
        ev = self.wait_event("SUBSCRIBED", timeout=timeout, since=mark)
        self.framework_id = ev["subscribed"]["framework_id"]["value"]
        self.heartbeat_interval = ev["subscribed"].get(
            "heartbeat_interval_seconds")
        return ev

    def _read(self, r):
        try:
            for rec in recordio_records(r.iter_content(chunk_size=None)):
                self._handle(json.loads(rec))
        except Exception:  # noqa: BLE001 - the stream ended one way or another
            pass
        finally:
            with self.cond:
                if self.response is r:
                    self.stream_closed = True
                self.cond.notify_all()

    def _handle(self, ev):
        t = ev.get("type")
        ack = None
        with self.cond:
            self.events.append(ev)
            if t == "OFFERS":
                for o in ev["offers"].get("offers", []):
                    self.offers[o["id"]["value"]] = o
            elif t == "RESCIND":
                self.offers.pop(ev["rescind"]["offer_id"]["value"], None)
            elif t == "UPDATE":
                st = ev["update"]["status"]
                self.updates.append(st)
                if self.auto_ack and st.get("uuid"):
                    ack = st
            self.cond.notify_all()
        if ack is not None:
            try:
                self.acknowledge(ack)
            except Exception:  # noqa: BLE001 - the master may be failing over
                pass

    def close_stream(self):
        """Drops the subscription connection (the framework 'crashes')."""
        r, self.response = self.response, None
        if r is not None:
            try:
                r.raw._fp.fp.raw._sock.shutdown(2)  # wake the reader
            except Exception:  # noqa: BLE001
                pass
            r.close()
        if self.reader is not None:
            self.reader.join(timeout=5)
            self.reader = None

    def close(self):
        self.close_stream()
        self.session.close()

    # --- waiting ---

    def wait_for(self, fn, timeout=15, what="condition"):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                result = fn()
                if result:
                    return result
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"timed out after {timeout}s waiting for {what}; "
                        f"last events: {self.events[-5:]}")
                self.cond.wait(min(left, 0.2))

    def wait_event(self, type_, timeout=15, since=0):
        def found():
            for ev in self.events[since:]:
                if ev.get("type") == type_:
                    return ev
            return None
        return self.wait_for(found, timeout, f"a {type_} event")

    def wait_offers(self, n=1, timeout=15, pred=None):
        """Returns at least n current offers (that match pred)."""
        def enough():
            got = [o for o in self.offers.values() if pred is None or pred(o)]
            return got if len(got) >= n else None
        return self.wait_for(enough, timeout, f"{n} offer(s)")

    def statuses(self, task_id):
        with self.cond:
            return [s for s in self.updates
                    if s["task_id"]["value"] == task_id]

    def states(self, task_id):
        return [s["state"] for s in self.statuses(task_id)]

    def wait_state(self, task_id, states, timeout=30, since=0):
        """Waits for an update of task_id in one of states; returns it."""
        if isinstance(states, str):
            states = {states}

        def found():
            for s in self.updates[since:]:
                if s["task_id"]["value"] == task_id and s["state"] in states:
                    return s
            return None
        return self.wait_for(found, timeout,
                             f"task {task_id} in {sorted(states)}")

    # --- calls ---

    def call(self, type_, payload=None, expect=202):
        body = {"type": type_, "framework_id": {"value": self.framework_id}}
        if payload is not None:
            body[type_.lower()] = payload
        r = self._post(body, headers={"Mesos-Stream-Id": self.stream_id or ""})
        if expect is not None and r.status_code != expect:
            raise CallError(type_, r.status_code, r.text)
        return r

    def task(self, offer, name, cmd=None, argv=None, cpus=0.1, mem=32.0,
             disk=0.0, task_id=None, env=None, ports=None, labels=None,
             executor=None, shell=True, kill_grace=None):
        """A TaskInfo for offer: resources in the offer's role."""
        role = offer.get("allocation_info", {}).get("role")
        if role is None:
            role = next((r.get("role", "*") for r in offer["resources"]
                         if r["name"] == "cpus"), "*")
        res = [self.scalar("cpus", cpus, role), self.scalar("mem", mem, role)]
        if disk:
            res.append(self.scalar("disk", disk, role))
        if ports:
            res.append({"name": "ports", "type": "RANGES", "role": role,
                        "ranges": {"range": [{"begin": p, "end": p}
                                             for p in ports]}})
        if "allocation_info" in offer:
            for r in res:
                r["allocation_info"] = offer["allocation_info"]
        if role != "*":
            for r in res:
                r["reservations"] = [{"type": "STATIC", "role": role}]
        t = {"name": name,
             "task_id": {"value": task_id or f"{name}.{uuidlib.uuid4()}"},
             "agent_id": offer["agent_id"], "resources": res}
        if executor is not None:
            t["executor"] = executor
        else:
            command = {"shell": shell}
            if cmd is not None:
                command["value"] = cmd
            if argv is not None:
                command["arguments"] = list(argv)
                command.setdefault("value", argv[0])
            if env:
                command["environment"] = {"variables": [
                    {"name": k, "value": v} for k, v in env.items()]}
            t["command"] = command
        if labels:
            t["labels"] = {"labels": [{"key": k, "value": v}
                                      for k, v in labels.items()]}
        if kill_grace is not None:
            t["kill_policy"] = {"grace_period": {
                "nanoseconds": int(kill_grace * 1e9)}}
        return t

    @staticmethod
    def scalar(name, value, role="*"):
        return {"name": name, "type": "SCALAR", "role": role,
                "scalar": {"value": value}}

    def _ids(self, offers):
        offers = offers if isinstance(offers, list) else [offers]
        with self.cond:
            for o in offers:
                self.offers.pop(o["id"]["value"], None)
        return [o["id"] for o in offers]

    def launch(self, offers, tasks, refuse_seconds=None, expect=202):
        acc = {"offer_ids": self._ids(offers), "operations": [
            {"type": "LAUNCH", "launch": {"task_infos": list(tasks)}}]}
        if refuse_seconds is not None:
            acc["filters"] = {"refuse_seconds": refuse_seconds}
        return self.call("ACCEPT", acc, expect=expect)

    def launch_group(self, offers, executor, tasks, refuse_seconds=None):
        acc = {"offer_ids": self._ids(offers), "operations": [
            {"type": "LAUNCH_GROUP", "launch_group": {
                "executor": executor, "task_group": {"tasks": list(tasks)}}}]}
        if refuse_seconds is not None:
            acc["filters"] = {"refuse_seconds": refuse_seconds}
        return self.call("ACCEPT", acc)

    def decline(self, offers, refuse_seconds=None):
        d = {"offer_ids": self._ids(offers)}
        if refuse_seconds is not None:
            d["filters"] = {"refuse_seconds": refuse_seconds}
        return self.call("DECLINE", d)

    def revive(self, roles=None):
        return self.call("REVIVE", {"roles": list(roles)} if roles else None)

    def suppress(self, roles=None):
        return self.call("SUPPRESS", {"roles": list(roles)} if roles else None)

    def kill(self, task_id, agent_id=None, grace=None):
        k = {"task_id": {"value": task_id}}
        if agent_id:
            k["agent_id"] = {"value": agent_id}
        if grace is not None:
            k["kill_policy"] = {"grace_period": {
                "nanoseconds": int(grace * 1e9)}}
        return self.call("KILL", k)

    def shutdown(self, executor_id, agent_id):
        return self.call("SHUTDOWN", {"executor_id": {"value": executor_id},
                                      "agent_id": {"value": agent_id}})

    def acknowledge(self, status):
        return self.call("ACKNOWLEDGE", {
            "agent_id": status["agent_id"], "task_id": status["task_id"],
            "uuid": status["uuid"]})

    def reconcile(self, tasks=()):
        """Explicit with [(task_id, agent_id or None), ...]; implicit
        with no tasks."""
        items = []
        for tid, aid in tasks:
            it = {"task_id": {"value": tid}}
            if aid:
                it["agent_id"] = {"value": aid}
            items.append(it)
        return self.call("RECONCILE", {"tasks": items})

    def message(self, agent_id, executor_id, data):
        return self.call("MESSAGE", {
            "agent_id": {"value": agent_id},
            "executor_id": {"value": executor_id},
            "data": base64.b64encode(data).decode()})

    def teardown(self):
        return self.call("TEARDOWN")


# --- starting real masters and agents for the e2e tests ---

def workdir(cluster, name):
    path = os.path.join(cluster.dir, name)
    os.makedirs(path, exist_ok=True)
    return path


def start_master(cluster, name="master", ip=None, store=None, extra=(),
                 wait=True, lead=None):
    """A dcos-mesos-master on a fresh loopback address with test-speed
    timers; returns the harness Daemon with .ip and .url set. With lead
    (the default when it has a store of its own) it also waits until the
    master leads and has read its registry."""
    from harness import bin_path
    ip = ip or cluster.ip()
    store = store or "sqlite:" + cluster.path(name, "registry.db")
    argv = [bin_path("dcos-mesos-master"), f"--ip={ip}", "--port=5050",
            f"--work_dir={workdir(cluster, name)}", f"--store={store}",
            "--agent_ping_timeout=1secs", "--max_agent_ping_timeouts=5",
            "--lease_ttl=3secs", "--heartbeat_interval=2secs",
            "--allocation_interval=0.5secs", *extra]
    d = cluster.start(name, argv, health=f"http://{ip}:5050/health",
                      wait=wait)
    d.ip = ip
    d.url = f"http://{ip}:5050"
    if lead is None:
        lead = wait and store is None
    if lead:
        leader_url([d])
    return d


def start_agent(cluster, masters, name="agent", ip=None,
                resources="cpus:2;mem:1024;disk:1024;ports:[31000-31099]",
                extra=(), wait=True):
    """A real dcos-mesos-slave registered with the given masters."""
    from harness import bin_path
    if not isinstance(masters, (list, tuple)):
        masters = [masters]
    ip = ip or cluster.ip()
    argv = [bin_path("dcos-mesos-slave"),
            "--master=" + ",".join(f"{m.ip}:5050" for m in masters),
            f"--ip={ip}", "--port=5051",
            f"--work_dir={workdir(cluster, name)}",
            f"--resources={resources}",
            "--status_update_retry_interval=2secs",
            "--registration_backoff_factor=0.2secs", *extra]
    d = cluster.start(name, argv, health=f"http://{ip}:5051/health",
                      wait=wait)
    d.ip = ip
    d.url = f"http://{ip}:5051"
    return d


def sandbox_processes(directory):
    """Pids of the processes (executors, tasks) working under directory."""
    pids = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            if os.readlink(f"/proc/{pid}/cwd").startswith(directory):
                pids.append(int(pid))
        except OSError:
            pass
    return pids


def cleanup_sandboxes(directory, grace=5.0):
    """Executors outlive their agent by design, so stopping the agent does
    not end them: SIGTERM what still runs under directory (executors kill
    their tasks and clean up), then SIGKILL what is left."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in sandbox_processes(directory):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and sandbox_processes(directory):
            time.sleep(0.1)


def leader_url(masters, timeout=20):
    """The URL of the leading master, once one is elected and recovered."""
    from harness import wait_for

    def find():
        for m in masters:
            try:
                r = requests.get(m.url + "/master/redirect", timeout=1,
                                 allow_redirects=False)
            except requests.RequestException:
                continue
            if r.status_code == 307:
                url = "http:" + r.headers["Location"]
                if requests.get(url + "/master/state", timeout=2,
                                allow_redirects=False).status_code == 200:
                    return url
        return None
    return wait_for(find, timeout, what="a leading master")


def wait_agents(master_url, n=1, timeout=20, active=True):
    """Waits until the master lists n agents (active ones by default);
    returns them."""
    from harness import wait_for

    def enough():
        st = requests.get(master_url + "/master/slaves", timeout=2).json()
        got = [s for s in st["slaves"] if s["active"] or not active]
        return got if len(got) >= n else None
    return wait_for(enough, timeout, what=f"{n} registered agent(s)")


class EventBus:
    """A subscriber to the master's nng PUB event bus, through libnng with
    ctypes (the same wire a C subscriber uses): events are (topic, dict)."""

    def __init__(self, url, prefix=""):
        import ctypes
        self.ct = ctypes
        self.lib = ctypes.CDLL("libnng.so.1")

        class Sock(ctypes.Structure):
            _fields_ = [("id", ctypes.c_uint32)]
        self.sock = Sock()
        if self.lib.nng_sub0_open(ctypes.byref(self.sock)) != 0:
            raise AssertionError("nng_sub0_open failed")
        p = prefix.encode()
        self.lib.nng_socket_set(self.sock, b"sub:subscribe", p, len(p))
        self.lib.nng_socket_set_ms(self.sock, b"recv-timeout", 100)
        if self.lib.nng_dial(self.sock, url.encode(), None, 2) != 0:
            raise AssertionError(f"nng_dial {url} failed")
        self.events = []
        self.running = True
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        ct = self.ct
        while self.running:
            buf = ct.c_void_p()
            size = ct.c_size_t()
            rv = self.lib.nng_recv(self.sock, ct.byref(buf), ct.byref(size), 1)
            if rv != 0:
                continue
            data = ct.string_at(buf, size.value)
            self.lib.nng_free(buf, size)
            topic, _, body = data.partition(b"\n")
            with self.lock:
                self.events.append((topic.decode(), json.loads(body)))

    def topics(self):
        with self.lock:
            return [t for t, _ in self.events]

    def find(self, topic, pred=lambda e: True):
        with self.lock:
            return [e for t, e in self.events if t == topic and pred(e)]

    def close(self):
        self.running = False
        self.thread.join(timeout=2)
        self.lib.nng_close(self.sock)
