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


C1 = np.uint64(0x9E3779B97F4A7C15)
C2 = np.uint64(0xD6E8FEB86659FD93)
C3 = np.uint64(0xA0761D6478BD642F)


@njit(inline="always", cache=True)
def _scramble(x, bits, key):
    """A bijection of the integers below 2**bits: three rounds of add key, multiply by an odd
    constant, xor-shift right, each invertible modulo 2**bits."""
    mask = (np.uint64(1) << np.uint64(bits)) - np.uint64(1)
    s = np.uint64(max(1, bits // 2))
    x = ((x + key) * C1) & mask
    x ^= x >> s
    x = ((x + (key >> np.uint64(21))) * C2) & mask
    x ^= x >> s
    x = ((x + (key >> np.uint64(42))) * C3) & mask
    x ^= x >> s
    return x


@njit(cache=True)
def permute(x, n, bits, key):
    """A pseudorandom bijection of [0, n) (`bits` = bit length of n - 1): a keyed scramble of
    [0, 2**bits), cycle-walked back into range (fewer than two steps on average).

    Lets a region's citizens be visited in a random order that is never stored.
    """
    y = _scramble(np.uint64(x), bits, key)
    nn = np.uint64(n)
    while y >= nn:
        y = _scramble(y, bits, key)
    return np.int64(y)


@njit(cache=True)
def _inverse_odd(c, bits):
    inv = c
    for _ in range(6):  # Newton: each step doubles the correct low bits
        inv *= np.uint64(2) - c * inv
    return inv & ((np.uint64(1) << np.uint64(bits)) - np.uint64(1))


@njit(cache=True)
def _unxorshift(y, s, bits):
    x = y
    for _ in range(bits // s + 1):
        x = y ^ (x >> s)
    return x


@njit(cache=True)
def _unscramble(y, bits, key):
    mask = (np.uint64(1) << np.uint64(bits)) - np.uint64(1)
    s = np.uint64(max(1, bits // 2))
    x = _unxorshift(y, s, bits)
    x = ((x * _inverse_odd(C3, bits)) - (key >> np.uint64(42))) & mask
    x = _unxorshift(x, s, bits)
    x = ((x * _inverse_odd(C2, bits)) - (key >> np.uint64(21))) & mask
    x = _unxorshift(x, s, bits)
    x = ((x * _inverse_odd(C1, bits)) - key) & mask
    return x


@njit(cache=True)
def unpermute(y, n, bits, key):
    """The inverse of `permute`."""
    x = _unscramble(np.uint64(y), bits, key)
    nn = np.uint64(n)
    while x >= nn:
        x = _unscramble(x, bits, key)
    return np.int64(x)


def bits_for(n: int) -> int:
    """Bit length of n - 1 (at least 1): the width `permute` works in for a domain of n."""
    return max(1, int(n - 1).bit_length())


_MASK = (1 << 64) - 1
_GOLDEN, _M1, _M2 = int(GOLDEN), int(M1), int(M2)


def derive(k, *parts: int) -> np.uint64:
    """Python-side key derivation: `key2` applied once per part, kept as np.uint64.

    The same arithmetic as `key2` on Python integers: the plan derives thousands of keys, and
    a call into a compiled function from Python costs more than the hash itself."""
    x = int(k) & _MASK
    for p in parts:
        x = (x + _GOLDEN * ((int(p) + 1) & _MASK)) & _MASK
        x = ((x ^ (x >> 30)) * _M1) & _MASK
        x = ((x ^ (x >> 27)) * _M2) & _MASK
        x ^= x >> 31
    return np.uint64(x)
