"""Shared fixtures for the end-to-end tests (see tests/lib/harness.py)."""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))

import harness  # noqa: E402


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


@pytest.fixture
def cluster(request, tmp_path):
    """A Cluster for this test; every daemon it started is stopped after."""
    c = harness.Cluster(tmp_path, request.node.nodeid)
    yield c
    c.stop_all()
    failed = any(getattr(request.node, "rep_" + w, None) is not None and
                 getattr(request.node, "rep_" + w).failed
                 for w in ("setup", "call"))
    if failed and c.daemons:
        dest = c.keep_logs()
        print(f"\nlogs kept in {dest}\n{c.dump_logs()}")
