"""The store port (dcos-exhibitor's guard) against SQL that crashes the
dqlite member behind it: libdqlite 1.11 answers PRAGMA journal_mode=<not
wal> and PRAGMA page_size=<other> by making SQLite free a string literal.
Found while writing fuzz/guard.c; any host that can reach port 2181 could
take a master's store member down with one statement."""

import socket
import struct

from store_cluster import (STORE_PORT, dqlite_shell, put, start_members,
                           start_probe, wait_serving)


def wire_text(s):
    b = s.encode() + b"\0"
    return b + b"\0" * (-len(b) % 8)


def message(kind, body):
    return struct.pack("<IBBH", len(body) // 8, kind, 0, 0) + body


def test_sql_that_would_crash_the_member_is_refused(cluster):
    (m,) = start_members(cluster, 1)
    wait_serving([m])
    probe = start_probe(cluster, [m])
    assert put(probe, "before", "1").status_code == 201

    open_db = message(3, wire_text("dcos") + struct.pack("<Q", 0) +
                      wire_text("volatile"))
    for sql in ("PRAGMA journal_mode=delete", "PRAGMA page_size=1024"):
        exec_sql = message(8, struct.pack("<Q", 0) + wire_text(sql) +
                           b"\0" * 8)
        with socket.create_connection((m.ip, STORE_PORT), timeout=5) as s:
            s.sendall(struct.pack("<Q", 1) + open_db)
            hdr = s.recv(8)
            assert len(hdr) == 8 and hdr[4] == 4  # DB: the database is open
            s.recv(struct.unpack("<I", hdr[:4])[0] * 8)
            s.sendall(exec_sql)
            assert s.recv(64) == b""  # closed, unanswered
        assert m.daemon.alive(), m.daemon.log_tail(20)

    assert "may set journal_mode or page_size" in m.daemon.log()
    assert put(probe, "after", "2").status_code == 201
    assert dqlite_shell([m], "SELECT k FROM probe_kv ORDER BY k").split() == [
        "after", "before"]
