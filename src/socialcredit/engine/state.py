"""The state of a run as columns: one preallocated array per field, no object per citizen.

The census counts citizens by (lists they are on, group, grade; a group is an age group or
firms, in towns or villages; the last grade slot is "not scored"): every stage that moves a
citizen between cells moves the count, so gates, daily figures and the groups over time never
pass over the population.

Hot state is one packed 6-byte record per citizen: score (int16), points lost to
misattributed acts (int16), fixed traits (uint8 flags) and list membership (uint8, one bit per
list), so a stage that visits a citizen touches one cache line. `State.score` and the others
are column views of it. Listings live in a compact log of their own, sized by how many people
are ever listed, not by the population.
"""

from __future__ import annotations

import mmap
from dataclasses import dataclass, fields

import numpy as np
from numba import njit, prange

from .plan import Plan

AGE = 0b11
FIRM = 3
"""The AGE value of a firm: firms are agents like citizens, in regions of their own."""
RURAL = 1 << 2
"""Lives in a village (a region of type rural)."""
GROUP = AGE | RURAL
"""Bits of flags that make the census group: age group (or firm) and region type, 0 to 7."""
GROUPS = 8
TRACKED = 1 << 3
EVER_LISTED = 1 << 4
OFFENCE_SHIFT = 5
OFFENCES = 0b11 << OFFENCE_SHIFT
"""Bits 5-6 of flags: offences counted by ladder rules this period (0 to 3)."""
MAX_OFFENCES = 3
UNSCORED = 1 << 7
"""Never scored: not a member of a voluntary score, or living outside the scored regions."""


@njit(inline="always", cache=True)
def is_scored(flags, scored_mask):
    """Whether a citizen with these flags is scored (age group scored, not opted out)."""
    return ((scored_mask >> (flags & AGE)) & 1) == 1 and (flags & UNSCORED) == 0

EXIT_NONE, EXIT_EXPIRED, EXIT_COMPLIED, EXIT_APPEAL, EXIT_REPAIRED = 0, 1, 2, 3, 4
EXIT_NAMES = {EXIT_NONE: "", EXIT_EXPIRED: "expired", EXIT_COMPLIED: "complied",
              EXIT_APPEAL: "appeal", EXIT_REPAIRED: "repair"}

PERSON = np.dtype([("score", "<i2"), ("wrong", "<i2"), ("flags", "u1"), ("lists", "u1")],
                  align=False)


@dataclass
class State:
    """Columns of the citizens and of the listing log, plus running counters."""

    people: np.ndarray  # PERSON[population]
    hist: np.ndarray  # int64[pmax - pmin + 1]: scored citizens per score
    census: np.ndarray  # int64[lists masks, GROUPS, grades + 1]: per (lists, group, grade)
    # listing log: every listing ever made
    log_id: np.ndarray  # int64
    log_list: np.ndarray  # int8
    log_since: np.ndarray  # int32: day listed
    log_until: np.ndarray  # int32: day the listing ends (planned, then actual)
    log_exit: np.ndarray  # int8: EXIT_* (planned while active)
    log_wrongful: np.ndarray  # bool: listed only because of misattributed acts
    log_extended: np.ndarray  # int16: times extended
    log_repair: np.ndarray  # int32: day the person applies for repair (-1: never)
    active: np.ndarray  # int64: positions in the log of listings in force
    counters: np.ndarray  # int64[4]: log size, active size, on a black list, ever listed
    appeal_booked: np.ndarray  # float64[lists]: day up to which appeal decisions are booked
    deter_seen: np.ndarray  # float64[acts, regions]: average acts recorded a day
    deter_done: np.ndarray  # float64[acts, regions]: average acts committed a day
    chill: np.ndarray  # float64[2, regions]: average expression acts recorded, committed a day
    repair_booked: np.ndarray  # float64[lists]: day up to which repair decisions are booked
    approve: np.ndarray  # uint8[(citizens + 7) // 8]: one bit per citizen, approves (R11)
    approve_n: np.ndarray  # int64[GROUPS]: approvers per census group
    day: int = 0

    @property
    def score(self) -> np.ndarray:
        """int16 view: points now."""
        return self.people["score"]

    @property
    def wrong(self) -> np.ndarray:
        """int16 view: points lost to acts the citizen did not commit."""
        return self.people["wrong"]

    @property
    def flags(self) -> np.ndarray:
        """uint8 view: age group, household start, tracked, ever listed, ladder offences."""
        return self.people["flags"]

    @property
    def lists(self) -> np.ndarray:
        """uint8 view: one bit per list the citizen is on now."""
        return self.people["lists"]

    @property
    def n_log(self) -> int:
        return int(self.counters[0])

    @property
    def n_active(self) -> int:
        return int(self.counters[1])

    def hot_bytes_per_citizen(self) -> int:
        return self.people.itemsize

    def ensure_log(self, extra: int) -> None:
        """Grow the listing log so `extra` more listings fit (doubling, off the hot path)."""
        need = self.n_log + extra
        if need <= len(self.log_id):
            return
        cap = max(need, 2 * len(self.log_id))
        for name in ("log_id", "log_list", "log_since", "log_until", "log_exit",
                     "log_wrongful", "log_extended", "log_repair", "active"):
            old = getattr(self, name)
            new = np.zeros(cap, dtype=old.dtype)
            new[: len(old)] = old
            setattr(self, name, new)

    def arrays(self) -> dict[str, np.ndarray]:
        """Every array, for checkpoints."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "day"}


HUGE_FROM = 1 << 26
"""Arrays of at least this many bytes (64 MiB) ask for 2 MiB pages."""


def zeros(n: int, dtype) -> np.ndarray:
    """A zeroed array of `n` items; a large one on transparent huge pages where the system
    offers them on request (Linux's `madvise` mode). A random visit to one citizen then costs
    one cache miss instead of a miss and a page-table walk: a country's records span
    gigabytes, far more than the 4 KiB pages the processor's address cache covers."""
    dtype = np.dtype(dtype)
    nbytes = n * dtype.itemsize
    advise = getattr(mmap, "MADV_HUGEPAGE", None)
    if nbytes < HUGE_FROM or advise is None:
        return np.zeros(n, dtype=dtype)
    buf = mmap.mmap(-1, nbytes, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    try:
        buf.madvise(advise)
    except OSError:
        pass  # huge pages off: ordinary pages, same contents
    return np.frombuffer(buf, dtype=dtype)


def allocate(plan: Plan) -> State:
    n = plan.population
    cap = max(1024, n // 50)
    return State(
        people=zeros(n, PERSON),
        hist=np.zeros(plan.pmax - plan.pmin + 1, dtype=np.int64),
        census=np.zeros((1 << len(plan.list_names), GROUPS, len(plan.grade_names) + 1),
                        dtype=np.int64),
        log_id=np.zeros(cap, dtype=np.int64),
        log_list=np.zeros(cap, dtype=np.int8),
        log_since=np.zeros(cap, dtype=np.int32),
        log_until=np.zeros(cap, dtype=np.int32),
        log_exit=np.zeros(cap, dtype=np.int8),
        log_wrongful=np.zeros(cap, dtype=np.bool_),
        log_extended=np.zeros(cap, dtype=np.int16),
        log_repair=np.zeros(cap, dtype=np.int32),
        active=np.zeros(cap, dtype=np.int64),
        counters=np.zeros(4, dtype=np.int64),
        appeal_booked=np.zeros(len(plan.list_names)),
        deter_seen=np.zeros((plan.n_acts, len(plan.region_names))),
        deter_done=np.zeros((plan.n_acts, len(plan.region_names))),
        chill=np.zeros((2, len(plan.region_names))),
        repair_booked=np.zeros(len(plan.list_names)),
        approve=zeros((plan.citizens + 7) // 8, np.uint8),
        approve_n=np.zeros(GROUPS, dtype=np.int64),
    )


@njit(parallel=True, cache=True)
def _recount(people, scored_mask, grade_of, pmin, hist_len, census_shape):
    """Histogram and census counted from the citizens' records, in parallel."""
    n = len(people)
    nb = (n + (1 << 20) - 1) >> 20
    masks, ages, slots = census_shape
    part = np.zeros((nb, masks, ages, slots), dtype=np.int64)
    hpart = np.zeros((nb, hist_len), dtype=np.int64)
    for b in prange(nb):
        for i in range(b << 20, min(n, (b + 1) << 20)):
            p = people[i]
            age = p.flags & GROUP
            if is_scored(p.flags, scored_mask):
                part[b, p.lists, age, grade_of[p.score - pmin]] += 1
                hpart[b, p.score - pmin] += 1
            else:
                part[b, p.lists, age, slots - 1] += 1
    return hpart.sum(axis=0), part.sum(axis=0)


def recount(plan: Plan, state: State) -> None:
    """Set the histogram and census from the citizens' records (one pass over everyone: at the
    start, and after a change to every score)."""
    hist, census = _recount(state.people, plan.scored_mask, plan.grade_of, plan.pmin,
                            len(state.hist), state.census.shape)
    state.hist[:] = hist
    state.census[:] = census


def layout(plan: Plan) -> dict[str, tuple[np.dtype, tuple[int, ...] | None]]:
    """Each array of the state: its dtype and shape (None: the listing log's, which grows)."""
    lists, regions = len(plan.list_names), len(plan.region_names)
    log = {"log_id": np.int64, "log_list": np.int8, "log_since": np.int32,
           "log_until": np.int32, "log_exit": np.int8, "log_wrongful": np.bool_,
           "log_extended": np.int16, "log_repair": np.int32, "active": np.int64}
    return {
        "people": (PERSON, (plan.population,)),
        "hist": (np.dtype(np.int64), (plan.pmax - plan.pmin + 1,)),
        "census": (np.dtype(np.int64), (1 << lists, GROUPS, len(plan.grade_names) + 1)),
        **{k: (np.dtype(t), None) for k, t in log.items()},
        "counters": (np.dtype(np.int64), (4,)),
        "appeal_booked": (np.dtype(np.float64), (lists,)),
        "deter_seen": (np.dtype(np.float64), (plan.n_acts, regions)),
        "deter_done": (np.dtype(np.float64), (plan.n_acts, regions)),
        "chill": (np.dtype(np.float64), (2, regions)),
        "repair_booked": (np.dtype(np.float64), (lists,)),
        "approve": (np.dtype(np.uint8), ((plan.citizens + 7) // 8,)),
        "approve_n": (np.dtype(np.int64), (GROUPS,)),
    }


@njit(parallel=True, cache=True)
def _first_bad_person(people, scored_mask, pmin, pmax, masks, firm_from):
    """The first citizen whose record no kernel may be given (-1 if none): a score out of
    range, lists beyond the scenario's, or a citizen marked a firm (or a firm a citizen)."""
    n = len(people)
    nb = (n + (1 << 20) - 1) >> 20
    bad = np.full(nb, -1, dtype=np.int64)
    for b in prange(nb):
        for i in range(b << 20, min(n, (b + 1) << 20)):
            p = people[i]
            firm = (p.flags & AGE) == FIRM
            if (p.lists >= masks or firm != (i >= firm_from)
                    or (is_scored(p.flags, scored_mask) and not pmin <= p.score <= pmax)):
                bad[b] = i
                break
    for b in range(nb):
        if bad[b] >= 0:
            return bad[b]
    return -1


@njit(cache=True)
def _first_bad_listing(log_id, log_list, log_since, log_until, log_exit, log_repair, n_log,
                       active, n_active, agents, lists, day):
    """The first listing (or active entry) that points outside the log, the agents or the
    lists, or that starts in the future (-1 if none)."""
    for k in range(n_log):
        if (not 0 <= log_id[k] < agents or not 0 <= log_list[k] < lists
                or not 0 <= log_exit[k] <= 4 or log_since[k] > day or log_since[k] < 0
                or log_until[k] < log_since[k]
                or (log_repair[k] != -1 and log_repair[k] < log_since[k])):
            return k
    seen = np.zeros(n_log, dtype=np.bool_)
    for j in range(n_active):
        k = active[j]
        if not 0 <= k < n_log or seen[k]:
            return n_log + j
        seen[k] = True
    return -1


def check(plan: Plan, state: State) -> str | None:
    """What is wrong with a state read from outside (a checkpoint), or None if a run may
    continue from it: every index a kernel follows is in range and the counts agree."""
    c = state.counters
    cap = len(state.log_id)
    if not 0 <= c[1] <= c[0] <= cap or len(state.active) != cap:
        return f"listing counters {list(c[:2])} do not fit a log of {cap}"
    if c[2] < 0 or c[3] < 0 or c[3] > plan.population:
        return f"list counters {list(c[2:])} are out of range"
    for name in ("appeal_booked", "repair_booked", "deter_seen", "deter_done", "chill"):
        v = getattr(state, name)
        if not np.isfinite(v).all() or (not name.endswith("_booked") and (v < 0).any()):
            return f"{name} holds values that are not finite and non-negative"
    i = _first_bad_person(state.people, plan.scored_mask, plan.pmin, plan.pmax,
                          1 << len(plan.list_names), plan.citizens)
    if i >= 0:
        return f"agent {i} has a record outside the scenario's ranges"
    k = _first_bad_listing(state.log_id, state.log_list, state.log_since, state.log_until,
                           state.log_exit, state.log_repair, state.n_log, state.active,
                           state.n_active,
                           plan.population, len(plan.list_names), state.day)
    if k >= 0:
        return f"listing {k} points outside the log, the agents or the lists"
    hist, census = state.hist.copy(), state.census.copy()
    recount(plan, state)
    if not (np.array_equal(hist, state.hist) and np.array_equal(census, state.census)):
        return "the score histogram or census does not match the agents' records"
    if not np.array_equal(count_approvers(state.people, state.approve), state.approve_n):
        return "the count of approvers does not match the agents' records"
    return None


@njit(parallel=True, cache=True)
def count_approvers(people, approve):
    """Approvers per census group, from the approval bits (one pass over the citizens)."""
    n = len(approve) * 8
    n = min(n, len(people))
    nb = (n + (1 << 20) - 1) >> 20
    part = np.zeros((nb, GROUPS), dtype=np.int64)
    for b in prange(nb):
        for i in range(b << 20, min(n, (b + 1) << 20)):
            if (approve[i >> 3] >> (i & 7)) & 1:
                part[b, people[i].flags & GROUP] += 1
    return part.sum(axis=0)
