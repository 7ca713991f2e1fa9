"""Social ties without a stored graph. A person's first two ties are the people on either side
of them in id order: households are runs of consecutive ids, so these are family, or next
door. The others are acquaintances: each region's people sit on a ring in an order given by a
keyed permutation (unrelated to traits), and a person's acquaintances are their nearest
neighbours on it. Ties are mutual, cost a few multiplications to find, and need no memory, so
1.41 billion people need no stored graph. Who informs is a pure function of the seed and the
id as well.
"""

from __future__ import annotations

from numba import njit

from ..engine.random import key2, permute, uniform, unpermute


@njit(inline="always", cache=True)
def tie(local, d, n, bits, key):
    """The d-th tie of the citizen at `local` in a region of n: for d = 0 and 1 the people
    before and after them in id order (family or next door), then neighbours on the region's
    ring of acquaintance (d = 2 and 3 the nearest, 4 and 5 the next...)."""
    if n < 2:
        return local
    if d < 2:
        return (local + (1 if d == 0 else n - 1)) % n
    d -= 2
    rank = unpermute(local, n, bits, key)
    off = d // 2 + 1
    if d & 1:
        off = -off
    return permute((rank + off) % n, n, bits, key)


@njit(inline="always", cache=True)
def informs(informant_key, cid, share):
    """Whether citizen `cid` is an informant (a pure function of the seed and the id)."""
    return uniform(key2(informant_key, cid), 0) < share


@njit(inline="always", cache=True)
def cut_by_disclosure(key, a, b, share):
    """Whether the tie between agents a and b is cut when one of them is disclosed (decided
    once per pair, the same from either side)."""
    lo, hi = min(a, b), max(a, b)
    return share > 0 and uniform(key2(key, lo), hi) < share
