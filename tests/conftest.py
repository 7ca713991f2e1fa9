"""Shared by every test file: the kernels are compiled once per session, not once per worker
(tests/compiled.py), and each worker runs its kernels in one thread."""

from __future__ import annotations

import os

import pytest

from compiled import kernels_ready, start, tidy


@pytest.fixture(autouse=True)
def _one_kernel_thread_per_process():
    """As many processes as cores: each runs its kernels in one thread (tests that compare
    thread counts still ask for two). Parallel kernels whose threads wait for a core another
    process holds run many times slower."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        import numba

        numba.set_num_threads(1)
    yield


def pytest_collection_modifyitems(items):
    """The files marked `before_kernels` first (pyproject.toml keeps pytest-xdist from
    reordering files): a worker runs them while another compiles the kernels."""
    items.sort(key=lambda item: not item.get_closest_marker("before_kernels"))


def pytest_runtest_setup(item):
    """Before any fixture of a test that runs the engine: the kernels, compiled once. (Not at
    session start: the tests are handed out only once every worker has collected them.)"""
    start()
    if not item.get_closest_marker("before_kernels"):
        kernels_ready()


def pytest_sessionfinish():
    tidy()
