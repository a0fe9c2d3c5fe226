"""What the HTTP fuzzer (fuzz/http_server.c) found, end to end through
libdcos-probe: request bytes a client can send that used to abort every
libdcos daemon. Each answer must be a JSON error, and the daemon lives."""

import socket

import requests

from harness import bin_path


def start_probe(cluster):
    ip = cluster.ip()
    d = cluster.start("probe", [bin_path("libdcos-probe"), f"--ip={ip}",
                                "--port=7000"],
                      health=f"http://{ip}:7000/health")
    d.url = f"http://{ip}:7000"
    d.ip = ip
    return d


def raw_request(ip, port, data):
    """Sends data as is and returns the raw answer (until the server
    closes or 5 s pass)."""
    with socket.create_connection((ip, port), timeout=5) as s:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return out
            out += chunk


def test_long_unknown_path_gets_a_404_even_when_the_message_is_cut(cluster):
    p = start_probe(cluster)
    # the 404 message quotes the path and is cut at 1 KiB: here in the
    # middle of a two-byte character, which JSON cannot carry
    r = requests.get(f"{p.url}/x" + "\u00e9" * 600)
    assert r.status_code == 404
    assert r.json()["message"].startswith("no such endpoint: /x\u00e9")
    assert p.alive()


def test_paths_and_queries_that_are_not_text_get_400(cluster):
    p = start_probe(cluster)
    for target in (b"/%FF", b"/echo/\xc3/tasks/t", b"/echo/a%00b/tasks/t",
                   b"/health?x=%FF", b"/health?x=%00", b"/health?\xff=1"):
        out = raw_request(p.ip, 7000, b"GET " + target +
                          b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert out.startswith(b"HTTP/1.1 400 "), (target, out[:60])
        assert b'{"message":"malformed ' in out
    # text is fine, percent-encoded or not
    r = requests.get(f"{p.url}/echo/caf%C3%A9/tasks/t?embed=%E2%82%AC")
    assert r.status_code == 200
    assert r.json()["id"] == "caf\u00e9" and r.json()["embed"] == ["\u20ac"]
    assert p.alive()
