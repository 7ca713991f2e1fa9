"""Social ties without a stored graph: each region's people sit on a ring of acquaintance in
an order given by a keyed permutation (unrelated to traits), and a person's ties are their
nearest neighbours on it. Ties are mutual, cost a few multiplications to find, and need no
memory, so 1.41 billion people need no stored graph. Who informs is a pure function of the
seed and the id as well.
"""

from __future__ import annotations

from numba import njit

from ..engine.random import key2, permute, uniform, unpermute


@njit(inline="always", cache=True)
def tie(local, d, n, bits, key):
    """The d-th tie of the citizen at `local` in a region of n: neighbours on a ring of
    acquaintance, a keyed permutation of the region unrelated to traits (1st and 2nd ties are
    the nearest, 3rd and 4th the next...). Ties are mutual."""
    if n < 2:
        return local
    rank = unpermute(local, n, bits, key)
    off = d // 2 + 1
    if d & 1:
        off = -off
    return permute((rank + off) % n, n, bits, key)


@njit(inline="always", cache=True)
def informs(informant_key, cid, share):
    """Whether citizen `cid` is an informant (a pure function of the seed and the id)."""
    return uniform(key2(informant_key, cid), 0) < share
