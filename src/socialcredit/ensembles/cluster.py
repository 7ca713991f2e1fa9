"""A Ray cluster of several nodes on this machine: to try the ray executor without a second
machine, and to test and time it.

    >>> from socialcredit.ensembles.cluster import local_cluster
    >>> with local_cluster(nodes=2, cpus_per_node=1) as cluster:
    ...     ens = socialcredit.ensemble("rongcheng", seeds=8, population=20_000, days=365,
    ...                                 executor="ray", address=cluster.address)

Each node is a `ray start --block` process (the first the head), with a temp dir of its own,
in a session of its own, so that leaving the `with` kills exactly the processes they started
(every process in those sessions), never another Ray on this machine. How it is set up, and
why (Ray 2.60):

- Token authentication with a token made for this cluster: RAY_AUTH_MODE=token and
  RAY_AUTH_TOKEN in every node and, inside the `with`, in this process (`cluster.env` for a
  driver in another process). Left to itself, `ray start --head` turns token authentication
  on whenever ~/.ray/auth_token exists (any earlier `ray.init()` that started a local cluster
  writes one), while `ray start --address` and `ray.init(address=...)` do not read it: the
  second node then never reaches the GCS and the driver fails with InvalidAuthToken. (Without
  authentication the GCS would take jobs from anyone who can reach this machine: it listens on
  every interface.)
- The address is 127.0.0.1:PORT. Ray never advertises a loopback address on Linux: it
  replaces 127.0.0.1 with the address this machine would use to reach the internet, so every
  node and driver shows up under the machine's own address; the traffic stays on the machine.
- The head takes a free GCS port and every other port Ray would otherwise take at a fixed
  number is free or given one, so this may run beside another Ray.
- Ray's sockets live under each node's temp dir and a socket's path holds at most 107 bytes,
  so the temp dirs are made in a short folder (/tmp unless told otherwise).

Ray is imported only when a cluster starts: it is an optional extra (`socialcredit[cluster]`).
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
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..errors import UserError

AUTH = ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN")
OBJECT_STORE = 200 * 2**20
"""Bytes of each node's object store: a replicate's arguments and daily table are small, and
Ray's default (30% of the machine's memory a node) would count the machine's memory once a
node."""
TEMP_MAX = 43
"""Characters a node's temp dir may have: TEMP/<session name, up to 42>/sockets/plasma_store
must fit in a socket's 107 bytes."""


@dataclass(frozen=True)
class LocalCluster:
    """A running cluster on this machine: where a driver finds it and what lets it in."""

    address: str
    """127.0.0.1:PORT of the head's GCS, as `ensemble(executor="ray", address=...)` takes it."""
    env: dict[str, str]
    """RAY_AUTH_MODE and RAY_AUTH_TOKEN: set them in a driver's environment (this process has
    them inside the `with`)."""
    folder: Path
    """The nodes' temp dirs (node0 is the head's), with Ray's logs; removed on exit."""

    def nodes(self) -> dict[str, dict]:
        """The cluster's live nodes and their resources ("CPU", "memory", ...), by node id."""
        import ray

        connect = not ray.is_initialized()
        if connect:
            ray.init(address=self.address, include_dashboard=False, log_to_driver=False,
                     configure_logging=False)
        try:
            return {n["NodeID"]: n["Resources"] for n in ray.nodes() if n["Alive"]}
        finally:
            if connect:
                ray.shutdown()


@contextmanager
def local_cluster(nodes: int = 2, cpus_per_node: int = 1, memory_per_node: int | None = None,
                  temp_root: str | Path | None = None,
                  timeout: float = 120) -> Iterator[LocalCluster]:
    """Start `nodes` Ray nodes on this machine, each offering `cpus_per_node` CPUs and
    `memory_per_node` bytes (None: Ray's default, most of the machine's free memory, offered
    again by every node), yield where to reach them, and stop them on leaving, whatever
    happened inside.

    Ray sends a replicate only to a node with the CPUs and the memory it asks for, so a node
    of 1 CPU, or with memory for one run, runs one replicate at a time. Each node must start
    within `timeout` seconds (a cold start on a busy 2-core machine takes 5 to 15). The
    nodes' temp dirs go in a new folder under `temp_root` (default /tmp), which must be a
    short path. A UserError says when Ray is not installed or a node did not start."""
    from ..engine.run import _check_int

    ray = ray_command()
    _check_int(nodes, "nodes", 1, 64)
    _check_int(cpus_per_node, "cpus_per_node", 1, 4096)
    if memory_per_node is not None:
        _check_int(memory_per_node, "memory_per_node", 2**20, 2**60)
    folder = _folder(temp_root)
    env = dict(zip(AUTH, ("token", secrets.token_hex(32)), strict=True))
    # the nodes get neither another cluster's address or token nor this process's kill switch
    # (record/faults.py)
    node_env = {k: v for k, v in os.environ.items()
                if k not in ("RAY_ADDRESS", "RAY_AUTH_TOKEN_PATH")
                and not k.startswith("SOCIALCREDIT_KILL")}
    node_env.update(env, RAY_USAGE_STATS_ENABLED="0")
    resources = [f"--num-cpus={cpus_per_node}", "--num-gpus=0",
                 f"--object-store-memory={OBJECT_STORE}"]
    if memory_per_node is not None:
        resources.append(f"--memory={memory_per_node}")
    procs: list[subprocess.Popen] = []
    with ExitStack() as undo:  # on leaving, whatever happened: the last step first
        undo.callback(shutil.rmtree, folder, ignore_errors=True)
        undo.callback(_set_env, {k: os.environ.get(k) for k in AUTH})
        undo.callback(_stop, procs)
        _set_env(env)
        head = ["--head", "--port=0", "--include-dashboard=false", "--dashboard-port=0"]
        procs.append(_ray_start(ray, [*head, *resources], folder / "node0", node_env))
        gcs = _wait_started(procs[0], folder / "node0", timeout, "the head node")
        address = f"127.0.0.1:{gcs.rsplit(':', 1)[1]}"
        undo.callback(_disconnect, address)
        for i in range(1, nodes):
            procs.append(_ray_start(ray, [f"--address={address}", *resources],
                                    folder / f"node{i}", node_env))
        for i in range(1, nodes):
            _wait_started(procs[i], folder / f"node{i}", timeout, f"node {i}")
        yield LocalCluster(address, env, folder)


def ray_command() -> str:
    """The `ray` command of this Python's Ray; a UserError saying how to install Ray if none."""
    ray = Path(sys.executable).with_name("ray")
    found = str(ray) if ray.exists() else shutil.which("ray")
    if importlib.util.find_spec("ray") is None or found is None:
        raise UserError("a local Ray cluster needs Ray; install it with: pip install "
                        "'socialcredit[cluster]'", "local_cluster")
    return found


def _folder(temp_root: str | Path | None) -> Path:
    """A new folder for the nodes' temp dirs, short enough for Ray's socket paths."""
    root = Path(temp_root) if temp_root is not None else (
        Path("/tmp") if Path("/tmp").is_dir() else Path(tempfile.gettempdir()))
    longest = len(str(root)) + len("/socialcredit-ray-12345678") + len("/node63")
    if longest > TEMP_MAX:
        raise UserError(f"{str(root)!r} is too long a path for Ray's sockets (the nodes' temp "
                        f"dirs need at most {TEMP_MAX} characters); choose a shorter temp_root "
                        "such as /tmp", "local_cluster")
    try:
        return Path(tempfile.mkdtemp(prefix="socialcredit-ray-", dir=root))
    except OSError as e:
        raise UserError(f"cannot make a folder in {str(root)!r}: {e.strerror}",
                        "local_cluster") from None


def _set_env(values: dict[str, str | None]) -> None:
    """Set (None: remove) environment variables of this process, and have Ray, if imported,
    read its authentication mode and token again (it keeps what it read first)."""
    for k, v in values.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    if "ray._raylet" in sys.modules:
        from ray._raylet import AuthenticationTokenLoader, Config

        Config.initialize("")
        AuthenticationTokenLoader.instance().reset_cache()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ray_start(ray: str, args: list[str], temp: Path, env: dict) -> subprocess.Popen:
    """`ray start ARGS --block` in a session of its own; on Linux killed should this process
    die first (then Ray's reaper kills the processes it started, and its workers exit with
    their raylet)."""
    temp.mkdir()
    argv = [ray, "start", *args, "--block", f"--temp-dir={temp}", "--disable-usage-stats",
            f"--dashboard-agent-listen-port={_free_port()}"]
    if importlib.util.find_spec("grpc") is not None:  # Ray would take port 10001
        argv.append(f"--ray-client-server-port={_free_port()}")
    if sys.platform.startswith("linux"):
        die_with_parent = ("import ctypes, os, signal, sys; "
                           "ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0); "
                           "os.execv(sys.argv[1], sys.argv[1:])")
        argv = [sys.executable, "-c", die_with_parent, *argv]
    log = open(temp / "ray-start.log", "wb")  # noqa: SIM115 - the process keeps it
    try:
        return subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    finally:
        log.close()


def _wait_started(proc: subprocess.Popen, temp: Path, timeout: float, what: str) -> str:
    """The GCS address a `ray start` wrote once its node had joined the cluster (it writes
    TEMP/ray_current_cluster after the GCS lists the node, just before blocking)."""
    file = temp / "ray_current_cluster"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if file.exists() and re.fullmatch(r"\S+:\d+", text := file.read_text().strip()):
            return text
        time.sleep(0.1)
    code = proc.poll()
    why = (f"did not start in {timeout:g} s" if code is None
           else f"stopped with exit code {code}")
    log = (temp / "ray-start.log").read_text(errors="replace").splitlines()
    tail = " / ".join(line.strip() for line in log if line.strip())[-400:]
    raise UserError(f"{what} of the local Ray cluster {why}; its log ends: {tail or '(empty)'}",
                    "local_cluster")


def _disconnect(address: str) -> None:
    """End this process's connection to the cluster at `address`, if it has one: a driver
    whose cluster is gone waits on it."""
    ray = sys.modules.get("ray")
    if ray is None or not ray.is_initialized():
        return
    if ray.get_runtime_context().gcs_address.rsplit(":", 1)[-1] == address.rsplit(":", 1)[1]:
        ray.shutdown()


def _stop(procs: list[subprocess.Popen]) -> None:
    """Kill, at once (no draining), every process each `ray start` started: all are in its
    session (start_new_session), though Ray puts each worker in a process group of its own."""
    import psutil

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
