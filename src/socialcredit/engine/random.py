"""Counter-based random streams.

Every draw is a pure function of (seed, stream, day, key, counter): nothing is carried from
one draw to the next, so results do not depend on thread count or block order, and two
scenarios that differ in one rule draw the same numbers everywhere else (common random
numbers). The mixer is SplitMix64's finaliser, applied to a chained key.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np
from numba import njit

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
M1 = np.uint64(0xBF58476D1CE4E5B9)
M2 = np.uint64(0x94D049BB133111EB)
S30 = np.uint64(30)
S27 = np.uint64(27)
S31 = np.uint64(31)
S11 = np.uint64(11)
INV53 = 1.0 / 9007199254740992.0


def stream_id(name: str) -> np.uint64:
    """A stable 64-bit id for a named stream."""
    return np.uint64(int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(),
                                    "little"))


@njit(inline="always", cache=True)
def mix(x):
    """SplitMix64 finaliser: a bijective, well-avalanched 64-bit hash."""
    x = (x ^ (x >> S30)) * M1
    x = (x ^ (x >> S27)) * M2
    return x ^ (x >> S31)


@njit(inline="always", cache=True)
def key2(k, a):
    """Derive a child key from a key and one integer."""
    return mix(k + GOLDEN * (np.uint64(a) + np.uint64(1)))


@njit(inline="always", cache=True)
def uniform(k, i):
    """The i-th uniform double in [0, 1) of the stream with key k."""
    return (mix(k ^ (GOLDEN * (np.uint64(i) + np.uint64(1)))) >> S11) * INV53


@njit(cache=True)
def poisson(k, i0, lam):
    """A Poisson(lam) draw from stream k, using counters i0, i0+1, ...

    Inversion for small means, Hormann's transformed rejection (PTRS) for large ones.
    """
    if lam <= 0.0:
        return 0
    if lam < 12.0:
        u = uniform(k, i0)
        p = math.exp(-lam)
        c = p
        n = 0
        while u > c:
            n += 1
            p *= lam / n
            c += p
            if n > 1000:
                break
        return n
    slam = math.sqrt(lam)
    loglam = math.log(lam)
    b = 0.931 + 2.53 * slam
    a = -0.059 + 0.02483 * b
    invalpha = 1.1239 + 1.1328 / (b - 3.4)
    vr = 0.9277 - 3.6224 / (b - 2.0)
    i = i0
    while True:
        u = uniform(k, i) - 0.5
        v = uniform(k, i + 1)
        i += 2
        us = 0.5 - abs(u)
        n = math.floor((2.0 * a / us + b) * u + lam + 0.43)
        if us >= 0.07 and v <= vr:
            return np.int64(n)
        if n < 0 or (us < 0.013 and v > us):
            continue
        if (math.log(v) + math.log(invalpha) - math.log(a / (us * us) + b)
                <= -lam + n * loglam - math.lgamma(n + 1.0)):
            return np.int64(n)


@njit(inline="always", cache=True)
def below(k, i, n):
    """A uniform integer in [0, n) from stream k, counter i."""
    return np.int64(uniform(k, i) * n)


@njit(cache=True)
def permute(x, n, half_bits, key):
    """A pseudorandom bijection of [0, n): a 4-round Feistel network with cycle walking.

    Lets a region's citizens be visited in a random order that is never stored.
    """
    mask = (np.uint64(1) << np.uint64(half_bits)) - np.uint64(1)
    hb = np.uint64(half_bits)
    y = np.uint64(x)
    nn = np.uint64(n)
    while True:
        left = y >> hb
        right = y & mask
        for r in range(4):
            f = mix(key ^ (right * GOLDEN + np.uint64(r))) & mask
            left, right = right, left ^ f
        y = (left << hb) | right
        if y < nn:
            return np.int64(y)


@njit(cache=True)
def unpermute(y, n, half_bits, key):
    """The inverse of `permute`."""
    mask = (np.uint64(1) << np.uint64(half_bits)) - np.uint64(1)
    hb = np.uint64(half_bits)
    x = np.uint64(y)
    nn = np.uint64(n)
    while True:
        left = x >> hb
        right = x & mask
        for r in range(3, -1, -1):
            f = mix(key ^ (left * GOLDEN + np.uint64(r))) & mask
            left, right = right ^ f, left
        x = (left << hb) | right
        if x < nn:
            return np.int64(x)


def half_bits_for(n: int) -> int:
    """Half the bit width of the smallest even-width power of two that holds n values."""
    bits = max(2, int(n - 1).bit_length())
    return (bits + 1) // 2


def derive(k, *parts: int) -> np.uint64:
    """Python-side key derivation: `key2` applied once per part, kept as np.uint64."""
    k = np.uint64(k)
    for p in parts:
        k = np.uint64(key2(k, p))
    return k
