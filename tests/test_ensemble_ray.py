"""Ensembles on a real Ray cluster of two nodes on this machine: the tables are those of the
local executor, a node sized for one run never runs two at once, and a worker killed mid-run
has its replicate run again.

The cluster is socialcredit.ensembles.cluster.local_cluster: two `ray start` processes on
127.0.0.1 with a token of their own, stopped (every process they started) when the module ends,
whatever the tests did; its docstring says how it keeps clear of the pitfalls of Ray 2.60.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pytest

import socialcredit
from socialcredit.engine import memory
from socialcredit.ensembles import ensemble, open_ensemble
from socialcredit.ensembles.cluster import local_cluster

SCENARIO, POPULATION, DAYS, SEEDS = "rongcheng", 5000, 60, 6
STARTUP_S = 120  # a cold start on a loaded 2-core machine takes 5 to 15 seconds a node
KILL_AT = 30


@dataclass
class Cluster:
    address: str  # 127.0.0.1:PORT, as a user would give it
    need: int  # bytes one run needs, as the ensemble asks of Ray
    nodes: dict[str, dict]  # node id -> its resources, as the GCS reports them


@pytest.fixture(scope="module")
def cluster():
    """A head and one more node on this machine, each with 2 CPUs and memory for 1.5 runs."""
    sc, _ = socialcredit.load(SCENARIO)
    need = memory.estimate(sc, POPULATION, DAYS).total
    # The kernels compiled and cached before any Ray worker loads them (pytest-xdist compiles
    # them once for the session; alone, this is where they compile).
    socialcredit.run(SCENARIO, population=500, days=DAYS, report=False, citizens=False)
    with local_cluster(nodes=2, cpus_per_node=2, memory_per_node=int(need * 1.5),
                       timeout=STARTUP_S) as ray_cluster:
        yield Cluster(ray_cluster.address, need, ray_cluster.nodes())


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
