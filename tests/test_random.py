"""The random streams: pure functions of their key, with the right distributions."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit

from socialcredit.engine.random import bits_for, derive, key2, permute, poisson, uniform, unpermute


def test_uniform_is_a_pure_function_of_key_and_counter():
    k = derive(np.uint64(1), 2, 3)
    assert uniform(k, 5) == uniform(k, 5)
    assert uniform(k, 5) != uniform(k, 6)
    assert uniform(derive(np.uint64(1), 2, 4), 5) != uniform(k, 5)
    u = np.array([uniform(k, i) for i in range(20_000)])
    assert ((u >= 0) & (u < 1)).all()
    assert abs(u.mean() - 0.5) < 0.01
    assert abs(u.var() - 1 / 12) < 0.005


def test_poisson_has_the_right_mean_and_variance_small_and_large():
    for lam in (0.3, 5.0, 30.0, 4000.0):
        draws = np.array([poisson(derive(np.uint64(9), i), 0, lam) for i in range(4000)])
        assert abs(draws.mean() - lam) < 5 * np.sqrt(lam / 4000) + 1e-9
        assert abs(draws.var() / lam - 1) < 0.15
        assert (draws >= 0).all()
    assert poisson(derive(np.uint64(9), 1), 0, 0.0) == 0


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 5000), st.integers(0, 2**63 - 1))
def test_permute_is_a_bijection_and_unpermute_inverts_it(n, seed):
    key = derive(np.uint64(seed), 1)
    hb = bits_for(n)
    image = np.array([permute(x, n, hb, key) for x in range(n)])
    assert sorted(image.tolist()) == list(range(n))
    back = np.array([unpermute(y, n, hb, key) for y in image])
    assert (back == np.arange(n)).all()


@njit
def _key2_chain(k, parts):
    for p in parts:
        k = key2(k, p)
    return k


def test_derive_in_python_gives_the_compiled_key2_chain():
    rng = np.random.default_rng(3)
    for _ in range(300):
        k = np.uint64(rng.integers(0, 2**64, dtype=np.uint64))
        parts = rng.integers(0, 2**62, size=int(rng.integers(1, 4)), dtype=np.int64)
        parts[rng.random(len(parts)) < 0.3] %= 1000  # days and small indices too
        assert derive(k, *parts.tolist()) == _key2_chain(k, parts)
    assert derive(np.uint64(2**64 - 1), 0) == _key2_chain(np.uint64(2**64 - 1),
                                                          np.zeros(1, np.int64))
