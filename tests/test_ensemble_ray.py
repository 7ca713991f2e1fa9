"""Ensembles on a real Ray cluster of two nodes on this machine: the tables are those of the
local executor, a node sized for one run never runs two at once, and a worker killed mid-run
has its replicate run again.

The cluster is two `ray start --block` processes (a head and a second node), each with its own
temp dir, in a session of its own so that the teardown kills exactly the processes they started
(every process in those two sessions), never another Ray on this machine. How it is set up, and why:

- Token authentication with a token made for this cluster (RAY_AUTH_MODE=token and
  RAY_AUTH_TOKEN in both nodes and in this process, set before Ray is imported here). Left to
  itself, `ray start --head` turns token authentication on whenever ~/.ray/auth_token exists
  (any earlier `ray.init()` that started a local cluster writes one), while `ray start
  --address` and `ray.init(address=...)` do not read it: the second node then never reaches
  the GCS and the driver fails with InvalidAuthToken. (RAY_AUTH_MODE=disabled everywhere works
  too, but the GCS listens on every interface, so a token keeps the cluster to this test.)
- Addresses are given as 127.0.0.1:PORT. Ray never advertises a loopback address on Linux: it
  replaces 127.0.0.1 (in --address, --node-ip-address or ray.init) with the address this
  machine would use to reach the internet, so both nodes and the driver show up under the
  machine's own address; the traffic never leaves the machine either way.
- The head takes a free GCS port (--port=0) and every other port Ray would otherwise take at a
  fixed number is free or given one, so this may run beside another Ray or another test session.
"""

from __future__ import annotations

import importlib.util
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

import socialcredit
from socialcredit.engine import memory
from socialcredit.ensembles import ensemble, open_ensemble

SCENARIO, POPULATION, DAYS, SEEDS = "rongcheng", 5000, 60, 6
STARTUP_S = 120  # a cold start on a loaded 2-core machine takes 5 to 15 seconds a node
KILL_AT = 30


@dataclass
class Cluster:
    address: str  # 127.0.0.1:PORT, as a user would give it
    need: int  # bytes one run needs, as the ensemble asks of Ray
    nodes: dict[str, dict]  # node id -> its resources, as the GCS reports them


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _temp_dir(tmp_path_factory, name: str) -> tuple[Path, bool]:
    """A temp dir for one node: under pytest's, unless that is too long for Ray's sockets
    (TEMP/<session name, up to 42 characters>/sockets/plasma_store must fit in 107 bytes), then
    one under /tmp, which the caller removes (True)."""
    path = tmp_path_factory.mktemp(name)
    if len(str(path)) <= 43:
        return path, False
    return Path(tempfile.mkdtemp(prefix=f"socialcredit-ray-{name}-", dir="/tmp")), True


def _ray_start(args: list[str], temp: Path, env: dict) -> subprocess.Popen:
    """`ray start ARGS --block` in a session of its own, killed should this process die first
    (then Ray's reaper kills the processes it started, and its workers exit with their raylet).
    """
    ray = str(Path(sys.executable).with_name("ray"))
    if not os.path.exists(ray):
        ray = shutil.which("ray") or "ray"
    argv = [ray, "start", *args, "--block", f"--temp-dir={temp}", "--disable-usage-stats",
            f"--dashboard-agent-listen-port={_free_port()}"]
    if importlib.util.find_spec("grpc") is not None:  # Ray would take port 10001
        argv.append(f"--ray-client-server-port={_free_port()}")
    die_with_parent = ("import ctypes, os, signal, sys; "
                       "ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0); "
                       "os.execv(sys.argv[1], sys.argv[1:])")
    log = open(temp / "ray-start.log", "wb")  # noqa: SIM115 - the process keeps it
    try:
        return subprocess.Popen([sys.executable, "-c", die_with_parent, *argv], env=env,
                                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    finally:
        log.close()


def _wait_started(proc: subprocess.Popen, temp: Path) -> str:
    """The GCS address a `ray start` wrote once its node was up (it writes
    TEMP/ray_current_cluster just before blocking)."""
    file = temp / "ray_current_cluster"
    deadline = time.monotonic() + STARTUP_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        if file.exists() and re.fullmatch(r"\S+:\d+", text := file.read_text().strip()):
            return text
        time.sleep(0.1)
    log = (temp / "ray-start.log").read_text(errors="replace")
    raise RuntimeError(f"`ray start` did not start a node in {STARTUP_S} s (exit code "
                       f"{proc.poll()}); its output ends:\n{log[-3000:]}")


def _stop(procs: list[subprocess.Popen]) -> None:
    """Kill, at once (no draining), every process each `ray start` started: all are in its
    session (start_new_session), though Ray puts each worker in a process group of its own."""
    import psutil  # a dependency of Ray

    sessions = {proc.pid for proc in procs}
    ours = []
    for p in psutil.process_iter():
        try:
            if os.getsid(p.pid) in sessions:
                ours.append(p)
        except (ProcessLookupError, PermissionError):
            pass
    for p in ours:
        try:
            p.kill()  # psutil checks first that the pid is still the process found
        except psutil.NoSuchProcess:
            pass
    for proc in procs:
        proc.wait(timeout=30)
    deadline = time.monotonic() + 30
    for p in ours:  # gone, or a zombie its new parent has yet to reap
        while time.monotonic() < deadline:
            try:
                if p.status() == psutil.STATUS_ZOMBIE:
                    break
            except psutil.NoSuchProcess:
                break
            time.sleep(0.05)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A head and one more node on this machine, each with 2 CPUs and memory for 1.5 runs."""
    sc, _ = socialcredit.load(SCENARIO)
    need = memory.estimate(sc, POPULATION, DAYS).total
    # The kernels compiled and cached before any Ray worker loads them (pytest-xdist compiles
    # them once for the session; alone, this is where they compile).
    socialcredit.run(SCENARIO, population=500, days=DAYS, report=False, citizens=False)

    token = secrets.token_hex(32)
    auth = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": token}
    env = {k: v for k, v in os.environ.items()
           if k not in ("RAY_ADDRESS", "RAY_AUTH_TOKEN_PATH")
           and not k.startswith("SOCIALCREDIT_KILL")}
    env.update(auth, RAY_USAGE_STATS_ENABLED="0")
    node = ["--num-cpus=2", "--num-gpus=0", f"--memory={int(need * 1.5)}",
            f"--object-store-memory={200 * 2**20}"]
    procs: list[subprocess.Popen] = []
    scratch: list[Path] = []
    with pytest.MonkeyPatch.context() as mp:
        for k, v in auth.items():
            mp.setenv(k, v)
        mp.delenv("RAY_ADDRESS", raising=False)
        mp.delenv("RAY_AUTH_TOKEN_PATH", raising=False)
        if "ray._raylet" in sys.modules:  # Ray read the mode when imported: read it again
            from ray._raylet import Config

            Config.initialize("")
        try:
            head_dir, rm = _temp_dir(tmp_path_factory, "rh")
            scratch += [head_dir] if rm else []
            procs.append(_ray_start(["--head", "--port=0", "--include-dashboard=false",
                                     "--dashboard-port=0", *node], head_dir, env))
            gcs = _wait_started(procs[0], head_dir)
            address = f"127.0.0.1:{gcs.rsplit(':', 1)[1]}"
            second_dir, rm = _temp_dir(tmp_path_factory, "rn")
            scratch += [second_dir] if rm else []
            procs.append(_ray_start([f"--address={address}", *node], second_dir, env))
            _wait_started(procs[1], second_dir)
            yield Cluster(address, need, _alive_nodes(address, 2))
        finally:
            _stop(procs)
            for path in scratch:
                shutil.rmtree(path, ignore_errors=True)


def _alive_nodes(address: str, count: int) -> dict[str, dict]:
    """The cluster's live nodes and their resources, once `count` of them have joined."""
    import ray

    ray.init(address=address, include_dashboard=False, log_to_driver=False,
             configure_logging=False)
    try:
        deadline = time.monotonic() + STARTUP_S
        while True:
            nodes = {n["NodeID"]: n["Resources"] for n in ray.nodes() if n["Alive"]}
            if len(nodes) >= count or time.monotonic() > deadline:
                return nodes
            time.sleep(0.2)
    finally:
        ray.shutdown()


@pytest.fixture(scope="module")
def local():
    """The same ensemble on local worker processes."""
    return ensemble(SCENARIO, seeds=SEEDS, population=POPULATION, days=DAYS,
                    executor="local", workers=2, threads=1)


def _on_ray(cluster: Cluster, **kw):
    return ensemble(SCENARIO, seeds=SEEDS, population=POPULATION, days=DAYS, executor="ray",
                    address=cluster.address, threads=1, **kw)


def _same_tables(a, b) -> None:
    for name in ("daily", "bands"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True,
                                      obj=name)


def _nodes(runs: pd.DataFrame) -> pd.Series:
    return runs["worker"].str.split(":").str[0]


def test_ray_gives_the_local_tables(cluster, local, tmp_path):
    res = _on_ray(cluster, out=tmp_path / "ens")
    assert list(res.runs["status"]) == ["done"] * SEEDS, res.runs["error"].tolist()
    assert list(local.runs["status"]) == ["done"] * SEEDS
    _same_tables(res, local)
    # every replicate ran on a node of this cluster (which node is Ray's choice: on a busy
    # machine the second node's workers may start too late to take any)
    assert set(_nodes(res.runs)) <= {n[:12] for n in cluster.nodes}
    assert len(cluster.nodes) == 2
    _same_tables(open_ensemble(tmp_path / "ens"), local)  # and as written


def test_a_node_sized_for_one_run_never_runs_two(cluster):
    for resources in cluster.nodes.values():
        assert resources["CPU"] == 2
        assert cluster.need <= resources["memory"] < 2 * cluster.need
    res = _on_ray(cluster)
    assert list(res.runs["status"]) == ["done"] * SEEDS
    runs = res.runs.assign(node=_nodes(res.runs))
    assert set(runs["node"]) <= {n[:12] for n in cluster.nodes}
    for node, rows in runs.groupby("node"):
        rows = rows.sort_values("started")
        overlaps = rows["started"].to_numpy()[1:] < rows["finished"].to_numpy()[:-1]
        assert not overlaps.any(), f"node {node} ran two replicates at once:\n{rows}"


def test_a_worker_killed_mid_run_is_retried(cluster, local, tmp_path):
    import ray

    killed = tmp_path / "killed"
    # The job's workers (and only theirs) get the kill switch: the first to reach day 30
    # of a run kills itself with SIGKILL, once.
    ray.init(address=cluster.address, include_dashboard=False, log_to_driver=False,
             configure_logging=False,
             runtime_env={"env_vars": {"SOCIALCREDIT_KILL_AT": f"day-{KILL_AT}",
                                       "SOCIALCREDIT_KILL_ONCE": str(killed)}})
    try:
        res = _on_ray(cluster)  # on the connection made here, so in this job
    finally:
        ray.shutdown()
    assert killed.exists(), "no worker was killed"
    assert list(res.runs["status"]) == ["done"] * SEEDS, res.runs["error"].tolist()
    _same_tables(res, local)
