"""The scenario schema: one social credit system and the society it runs on, as data.

Every entry that carries numbers names where they come from: ``source`` is an id from
SOURCES.md (S1..S21, R1..R11, P1..P4) or ``"assumed"``, and ``assumed`` lists the fields of
that entry whose values the source does not give.
"""

from __future__ import annotations

import builtins
import datetime as dt
import fnmatch
import re
import typing
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

SOURCE_IDS = (
    [f"S{i}" for i in range(1, 22)]
    + [f"R{i}" for i in range(1, 12)]
    + [f"P{i}" for i in range(1, 5)]
    + ["C"]
)
"""Ids of the facts in SOURCES.md; ``C`` is its calibration series."""

AGE_GROUPS = ("child", "adult", "elder", "firm")
"""Groups of agents: people by age (0-14, 15-59, 60+) and firms."""
AGENT = Literal["child", "adult", "elder", "firm"]
AREAS = ("administrative", "commercial", "financial", "social", "judicial", "expression")
"""Areas of life an act belongs to; `expression` (speech, posts) is what chilling and
association act on by default."""
NAME = r"^[a-z][a-z0-9_]*$"
GRADE_NAME = r"^[A-Za-z][A-Za-z0-9_+\-]*$"
MAX_LISTS = 8
MAX_GRADES = 16
MAX_DAYS = 36_500
"""The longest run, in days."""
START_MIN = dt.date(1900, 1, 1)
START_MAX = dt.date(2100, 12, 31)
"""Earliest and latest start of a scenario: even the longest run (MAX_DAYS) then stays within
the dates that every table, store and plot of a run can hold."""
DATE_MAX = dt.date(2200, 12, 31)
"""Latest date a timeline entry (rate change, rule or gate start and end) may name."""
POINTS_LIMIT = 30_000
"""Scores, caps and grade bands lie within -POINTS_LIMIT..POINTS_LIMIT."""
STEP_POINTS = 10_000
"""One act, reward or purchase moves a score by at most this many points."""
CITIZENS_LIMIT = 2_000_000_000


def _in_calendar(v: dt.date) -> dt.date:
    if not START_MIN <= v <= DATE_MAX:
        raise ValueError(f"{v} is out of range; valid: {START_MIN} to {DATE_MAX}")
    return v


Date = Annotated[dt.date, AfterValidator(_in_calendar)]
"""A date of a timeline, within the calendar a run can reach."""


_KINDS: dict = {}


def _kinds(annotation) -> set:
    """The plain types a field annotation admits (X | None, Literal, Annotated unwrapped),
    worked out once per annotation: every field of every validated scenario asks."""
    try:
        return _KINDS[annotation]
    except KeyError:
        out = _KINDS[annotation] = frozenset(_find_kinds(annotation))
        return out
    except TypeError:  # an annotation that cannot be a key
        return _find_kinds(annotation)


def _find_kinds(annotation) -> set:
    if annotation in (int, float, bool, str, dt.date, type(None)):
        return {annotation}
    if typing.get_origin(annotation) is Literal:
        return {type(a) for a in typing.get_args(annotation)}
    if typing.get_origin(annotation) in (list, builtins.list):
        return {list}
    out: set = set()
    for arg in typing.get_args(annotation):
        out |= _find_kinds(arg)
    return out


def _item_annotation(annotation):
    """The annotation of the items of a list field (None if the field is not a list)."""
    for a in [annotation, *typing.get_args(annotation)]:
        if typing.get_origin(a) in (list, builtins.list):
            return typing.get_args(a)[0]
    return None


def _wrong_kind(value, annotation) -> str:
    """Why `value` is the wrong kind of value for `annotation`, or "" if it is not.

    TOML says what kind each value is; a scenario gets no silent conversions (true read as 1,
    0 read as 1970-01-01, "5" read as 5) that could change what it means."""
    if value is None or isinstance(value, dict):
        return ""  # a missing value or a section: the section's own fields are checked
    kinds = _kinds(annotation)
    number = bool(kinds & {int, float})
    if isinstance(value, bool):
        return "give a number, not true or false" if number and bool not in kinds else ""
    if isinstance(value, (int, float)):
        if dt.date in kinds and not number:
            return "give a date as YYYY-MM-DD, not a number"
        return "give true or false, not a number" if kinds == {bool} else ""
    if isinstance(value, str):
        return f"give a number, not the text {value[:40]!r}" if number and str not in kinds \
            else ""
    if isinstance(value, list):
        item = _item_annotation(annotation)
        for v in value if item is not None else ():
            why = _wrong_kind(v, item)
            if why:
                return why
    return ""


class Strict(BaseModel):
    # inf and nan are refused everywhere: no field of a scenario has a use for them
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _same_kind(cls, value, info):
        field = cls.model_fields.get(info.field_name)
        why = _wrong_kind(value, field.annotation) if field is not None else ""
        if why:
            raise ValueError(why)
        return value


class Sourced(Strict):
    """An entry whose numbers come from a source, except the fields named in ``assumed``."""

    source: str = Field(description="Id from SOURCES.md (e.g. 'R5'), several joined by ',', "
                        "or 'assumed'.")
    assumed: list[str] = Field(default_factory=list,
                               description="Fields of this entry whose values are assumed.")

    @field_validator("source")
    @classmethod
    def _known_source(cls, v: str) -> str:
        for part in (p.strip() for p in v.split(",")):
            if part != "assumed" and part not in SOURCE_IDS:
                raise ValueError(
                    f"unknown source id {part!r}; use an id from SOURCES.md "
                    "(S1-S21, R1-R11, P1-P4, C; `socialcredit sources` lists them) or "
                    "'assumed'"
                )
        return v

    @model_validator(mode="after")
    def _assumed_fields_exist(self) -> Sourced:
        own = set(type(self).model_fields) - {"source", "assumed"}
        for name in self.assumed:
            if name not in own:
                raise ValueError(
                    f"assumed names {name!r}, which is not a field here; fields: "
                    + ", ".join(sorted(own))
                )
        return self


class AgeShares(Sourced):
    child: float = Field(ge=0, le=1, description="Share aged 0-14.")
    adult: float = Field(ge=0, le=1, description="Share aged 15-59.")
    elder: float = Field(ge=0, le=1, description="Share aged 60 and over.")

    @model_validator(mode="after")
    def _sum_to_one(self) -> AgeShares:
        total = self.child + self.adult + self.elder
        if abs(total - 1) > 1e-3:
            raise ValueError(f"age shares must sum to 1, they sum to {total:.4f}")
        return self


class Region(Sourced):
    name: str = Field(pattern=NAME)
    share: float = Field(gt=0, le=1, description="Share of the population living here.")
    type: Literal["urban", "rural"]


REGION_TABLES = ("provinces_2020",)
"""Aggregate region tables shipped with the package (data/<name>.csv: name, population)."""


class RegionsFrom(Sourced):
    """Regions built from a shipped table of region sizes, each split into towns and villages."""

    table: Literal["provinces_2020"] = Field(description="A shipped table of region sizes.")
    urban_share: float = Field(ge=0, le=1, description="Share of each region living in towns.")


class Society(Sourced):
    population: int = Field(gt=0, le=CITIZENS_LIMIT,
                            description="Real people the scenario stands for.")
    simulate: int | None = Field(default=None, gt=0, le=CITIZENS_LIMIT,
                                 description="Simulated citizens in a default run (default: "
                                 "population, one citizen per person).")
    household_size: float = Field(ge=1, le=10, description="Mean household size.")
    firms_per_1000: float = Field(
        default=0.0, ge=0, le=1000, description="Firms per 1000 people; each region gets its "
        "share as a region of firms (named <region>_firms, agents of the group 'firm'), each "
        "firm with a legal representative among the region's adults.")
    ties: int = Field(default=6, ge=0, le=64, description="Relatives, neighbours and friends "
                      "each person has: the two people beside them in id order (households "
                      "are runs of ids), then acquaintances on a ring of each region "
                      "unrelated to traits; informants, association and sabotage act along "
                      "them.")
    ages: AgeShares
    regions: list[Region] = Field(default_factory=list)
    regions_from: RegionsFrom | None = None

    @model_validator(mode="before")
    @classmethod
    def _expand_regions(cls, data):
        if isinstance(data, dict) and data.get("regions_from") and not data.get("regions"):
            spec = data["regions_from"]
            if isinstance(spec, dict) and spec.get("table") in REGION_TABLES:
                try:
                    urban = float(spec.get("urban_share", 0))
                except (TypeError, ValueError, OverflowError):
                    return data  # the field validator reports it
                if not 0 <= urban <= 1:
                    return data
                data = dict(data, regions=region_table(spec["table"], urban, spec))
        return data

    @model_validator(mode="after")
    def _regions(self) -> Society:
        if not self.regions:
            raise ValueError("give [[society.regions]] or [society.regions_from]")
        total = sum(r.share for r in self.regions)
        if abs(total - 1) > 1e-3:
            raise ValueError(f"region shares must sum to 1, they sum to {total:.4f}")
        names = [r.name for r in self.regions]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"region names repeat: {', '.join(sorted(dup))}")
        return self


class RateChange(Strict):
    """From `date` on (until the next change) an act happens at `rate`."""

    date: Date = Field(description="First day the new rate applies.")
    rate: float = Field(ge=0, le=365, description="Acts per person per year from this date.")


class Act(Sourced):
    name: str = Field(pattern=NAME)
    area: Literal[AREAS]
    valence: Literal["bad", "good"] = Field(
        description="Bad acts come more often from people with a high misconduct trait, "
        "good ones from people with a low one.")
    rate: float = Field(ge=0, le=365, description="Acts per person per year, on average.")
    spread: float = Field(ge=0, le=3, description="How unevenly people differ: the standard "
                          "deviation of the log of a person's rate multiplier (0 = everyone "
                          "alike).")
    ages: list[AGENT] = Field(
        default_factory=lambda: ["adult", "elder"], description="Age groups who commit it.")
    regions: list[str] = Field(
        default_factory=list, description="Regions where it happens, as names or patterns "
        "like 'shandong_*' (default: everywhere).")
    rate_changes: builtins.list[RateChange] = Field(
        default_factory=builtins.list, max_length=64,
        description="Timeline of the rate, piecewise constant: `rate` applies from the start "
        "of the run, and each entry's rate from its date until the next entry's date. Dates "
        "strictly increasing. In a --set or [[calibrate]] path an entry is named by its date, "
        "e.g. acts.unpaid_judgment.rate_changes.2017-01-01.rate.")

    @field_validator("rate_changes")
    @classmethod
    def _dates_in_order(cls, v: builtins.list[RateChange]) -> builtins.list[RateChange]:
        for a, b in zip(v, v[1:], strict=False):
            if b.date <= a.date:
                raise ValueError(f"rate_changes dates must be strictly increasing: {b.date} "
                                 f"comes after {a.date}")
        return v


class Channel(Sourced):
    name: str = Field(pattern=NAME)
    kind: Literal["camera", "online", "records", "informant"]
    acts: list[str] = Field(min_length=1, description="Acts this channel can see.")
    coverage_urban: float = Field(ge=0, le=1, description="Chance an act in a town is seen.")
    coverage_rural: float = Field(ge=0, le=1, description="Chance an act in a village is seen.")
    misattribution: float = Field(ge=0, le=1, description="Chance a seen act is put on the "
                                  "record of another person of the same region.")
    coverage_listed: float | None = Field(
        default=None, ge=0, le=1, description="Chance an act is seen when the actor is on a "
        "black list (e.g. more inspections of blacklisted firms); default: as for anyone.")


class Rule(Sourced):
    act: str
    points: int = Field(ge=-STEP_POINTS, le=STEP_POINTS,
                        description="Points added (negative: taken).")
    list: str | None = Field(default=None, description="List the act puts the person on.")
    max_grade: str | None = Field(
        default=None, description="After the act the score is at most the top of this grade.")
    cap: int | None = Field(
        default=None, ge=-POINTS_LIMIT, le=POINTS_LIMIT,
        description="A reward never lifts a score above this value.")
    ladder: builtins.list[Annotated[int, Field(ge=-STEP_POINTS, le=STEP_POINTS)]] = Field(
        default_factory=builtins.list, max_length=4,
        description="Points for a person's 1st, 2nd, 3rd... offence under any ladder rule in "
        "the current period (the last step repeats); replaces `points` when given.")
    regions: builtins.list[str] = Field(
        default_factory=builtins.list, description="Regions whose citizens the rule scores, "
        "as names or patterns like 'shandong_*' (a local system; default: everywhere).")
    starts: Date | None = Field(default=None, description="First day the rule applies "
                                   "(timeline; default: from the start).")
    ends: Date | None = Field(default=None, description="First day the rule no longer "
                                 "applies (default: never).")


class Points(Sourced):
    start: int = Field(ge=-POINTS_LIMIT, le=POINTS_LIMIT,
                       description="Everyone's points at the start.")
    min: int = Field(ge=-POINTS_LIMIT, le=POINTS_LIMIT)
    max: int = Field(ge=-POINTS_LIMIT, le=POINTS_LIMIT)
    ages: list[AGENT] = Field(
        default_factory=lambda: ["adult", "elder"], description="Age groups who are scored.")
    members: float = Field(
        default=1.0, ge=0, le=1, description="Share of people who join (a voluntary score); "
        "the others are never scored.")
    regions: list[str] = Field(
        default_factory=list, description="Regions whose citizens are scored, as names or "
        "patterns (default: everywhere); elsewhere people are not scored.")
    reset_days: int | None = Field(
        default=None, ge=1, le=36_500, description="Every this many days all scores return "
        "to start and ladder offences are forgotten (default: never).")

    @model_validator(mode="after")
    def _order(self) -> Points:
        if not self.min <= self.start <= self.max:
            raise ValueError(f"need min <= start <= max, got {self.min}, {self.start}, {self.max}")
        if self.max - self.min > 20_000:
            raise ValueError("the score range (max - min) may span at most 20000 points")
        return self


class Grade(Sourced):
    name: str = Field(pattern=GRADE_NAME)
    min: int = Field(ge=-POINTS_LIMIT, le=POINTS_LIMIT, description="Lowest score in the band.")
    max: int = Field(ge=-POINTS_LIMIT, le=POINTS_LIMIT, description="Highest score in the band.")

    @model_validator(mode="after")
    def _order(self) -> Grade:
        if self.min > self.max:
            raise ValueError(f"grade {self.name}: min {self.min} is above max {self.max}")
        return self


class RepairChange(Sourced):
    """A change of a list's repair rules from a date on (the scenario's timeline)."""

    date: Date
    wait_days: int | None = Field(default=None, ge=0, le=36_500,
                                  description="New waiting period, from this date on.")
    apply_per_year: float | None = Field(default=None, ge=0, le=365,
                                         description="New rate of applications.")
    success_share: float | None = Field(default=None, ge=0, le=1,
                                        description="New share of applications granted.")


class Repair(Sourced):
    """Credit repair: a listed person or firm that has complied applies to leave early."""

    enabled: bool = True
    wait_days: int = Field(ge=0, le=36_500, description="Days from listing before a person "
                           "may apply (R10: other agencies took up to 5 years in 2013).")
    apply_per_year: float = Field(ge=0, le=365, description="Rate at which a listed person, "
                                  "once the wait is over, complies and applies.")
    success_share: float = Field(ge=0, le=1, description="Share of applications granted.")
    decide_days: float = Field(default=15.0, ge=1, le=3650, description="Days from "
                               "application to decision, at the soonest.")
    capacity: float | None = Field(
        default=None, ge=0, le=1e6, description="Applications decided per day per million "
        "citizens, in the order booked, as for appeals (default: unlimited).")
    changes: list[RepairChange] = Field(
        default_factory=list, max_length=8, description="Rule changes from a date on "
        "(applications follow the rules in force on the day they are made).")

    @field_validator("changes")
    @classmethod
    def _in_order(cls, v: list[RepairChange]) -> list[RepairChange]:
        dates = [c.date for c in v]
        if dates != sorted(set(dates)):
            raise ValueError("changes must have distinct dates in increasing order")
        return v


class ListExits(Sourced):
    comply_per_year: float = Field(
        ge=0, le=365, description="Rate at which a listed person complies (repays, repairs) "
        "and is deleted.")
    comply_delay_days: int = Field(ge=0, le=365, description="Days from compliance to "
                                   "deletion.")
    appeal_share: float = Field(ge=0, le=1, description="Share of wrongful listings that an "
                                "appeal revokes (0: no appeal).")
    appeal_days: float = Field(ge=0, le=3650, description="Mean days until a successful "
                               "appeal revokes a listing.")
    appeal_capacity: float | None = Field(
        default=None, ge=0, le=1e6,
        description="Appeals decided per day per million citizens. With it, appeals are "
        "decided in the order filed, no sooner than appeal_days after filing, as capacity "
        "allows (0: never). Without it, capacity is unlimited and a successful appeal takes "
        "an exponential time with mean appeal_days.")
    restore_points: bool = Field(
        default=False, description="Complying (e.g. passing a test) also returns the score "
        "to start and forgets ladder offences.")
    extend_if_still_qualifies: bool = Field(
        default=True, description="At expiry a person still in an entry grade stays listed "
        "for another term.")
    extend_unpaid: float = Field(
        default=0.0, ge=0, le=1, description="Chance that a listing reaching the end of its "
        "term without compliance is extended, once, by extend_days (R1: by 1 to 3 years).")
    extend_days: int | None = Field(
        default=None, ge=1, le=36_500, description="Length of that extension (default: the "
        "list's duration_days).")
    repair: Repair | None = Field(default=None, description="Credit repair: early exit "
                                  "on application after complying (R10).")


SEVERITY_DAYS = {"minor": (1, 90), "general": (90, 365), "serious": (365, 1095)}
"""R10: how long a disclosure may last by severity, in days (up to 3 months; 3 months to a
year; 1 to 3 years)."""


class Audience(Sourced):
    """A medium with an audience: the list on a credit website, or names shown on LED
    screens, on TV and before films (S8)."""

    views_per_day: float = Field(ge=0, le=1e7, description="People who see one disclosed "
                                 "person a day (look-ups of the website, the screens' "
                                 "audience).")


class AppMap(Sourced):
    """A court app's map of disclosed debtors nearby (S8: within 500 m)."""

    radius_m: float = Field(default=500.0, gt=0, le=100_000)
    checks_per_day: float = Field(ge=0, le=100, description="Map look-ups a day per person "
                                  "living within the radius.")
    density_urban: float = Field(ge=0, le=100_000, description="People per square km in a "
                                 "town.")
    density_rural: float = Field(ge=0, le=100_000, description="People per square km in a "
                                 "village.")


class DialTone(Sourced):
    """A ring-back tone that announces a disclosed debtor to callers (S8)."""

    calls_per_tie_per_day: float = Field(ge=0, le=100, description="Calls from each tie a "
                                         "day.")


class Disclosure(Sourced):
    """A list made public: who sees a listed person, for how long, and what it does.

    Disclosure is counted, never displayed: no name, photo or number is made up for anyone.
    """

    enabled: bool = True
    days: int = Field(ge=1, le=36_500, description="Days a listing stays public from the day "
                      "it is made (never longer than the listing).")
    severity: Literal["minor", "general", "serious"] | None = Field(
        default=None, description="R10's class: from `limits_from`, `days` is held within "
        "its range (minor up to 90 days, general 90 to 365, serious 365 to 1095).")
    limits_from: Date | None = Field(default=None, description="First day the severity's "
                                     "limits apply to new listings (default: from the start).")
    starts: Date | None = Field(default=None, description="First day new listings are "
                                "published (timeline; default: from the start).")
    cut_share: float = Field(default=0.0, ge=0, le=1, description="Chance that each tie of a "
                             "disclosed person cuts them off.")
    comply_factor: float = Field(default=1.0, ge=0, le=100, description="Rate of compliance "
                                 "while public, as a multiple of the list's comply_per_year.")
    website: Audience | None = Field(default=None, description="The credit website (S8).")
    screens: Audience | None = Field(default=None, description="LED screens, TV, cinemas "
                                     "(S8).")
    app_map: AppMap | None = None
    dial_tone: DialTone | None = None

    @property
    def held_days(self) -> int:
        """`days` held within the severity's range (R10), as from `limits_from`."""
        if self.severity is None:
            return self.days
        lo, hi = SEVERITY_DAYS[self.severity]
        return min(max(self.days, lo), hi)

    def public_days(self, listed_on: dt.date) -> int:
        """Days a listing made on `listed_on` is public, at most (0: not published then)."""
        if self.starts is not None and listed_on < self.starts:
            return 0
        if self.severity is not None and (self.limits_from is None
                                          or listed_on >= self.limits_from):
            return self.held_days
        return self.days


class ListDef(Sourced):
    name: str = Field(pattern=NAME)
    kind: Literal["black", "red"]
    grades: list[str] = Field(default_factory=list,
                              description="Grades that put a person on the list.")
    duration_days: int = Field(ge=1, le=36_500, description="Days a listing lasts.")
    representatives: str | None = Field(
        default=None, description="List that a listed firm's legal representative is put on "
        "at the same time (e.g. barred from management posts).")
    exits: ListExits
    disclosure: Disclosure | None = Field(default=None, description="Publication of the "
                                          "list (S8) and how long it lasts (R10).")


class Gate(Sourced):
    name: str = Field(pattern=NAME)
    attempts: float = Field(ge=0, le=3650, description="Attempts per person per year.")
    deny_lists: list[str] = Field(default_factory=list, description="Lists whose members are "
                                  "denied.")
    deny_grades: list[str] = Field(default_factory=list, description="Grades that are denied.")
    perk_grades: list[str] = Field(default_factory=list,
                                   description="Grades granted with a perk.")
    perk_lists: list[str] = Field(default_factory=list,
                                  description="Lists whose members get a perk.")
    ages: list[AGENT] = Field(
        default_factory=lambda: ["adult", "elder"], description="Age groups who try.")
    children: bool = Field(
        default=False, description="Attempts are made for people's children (e.g. school "
        "places) and answered by the parent's lists and grade; denials count as "
        "children_denied. `attempts` is then per child per year.")
    listed_attempts: float = Field(
        default=1.0, ge=0, le=1000, description="Attempts by a person whom deny_lists turn "
        "away, as a multiple of `attempts` (people refused try again; R2: 108,000 blocked "
        "purchases came from 12,389 people). Applies while denials are in force.")
    deny_disclosed: bool = Field(
        default=False, description="People whose listing is public now are denied (who "
        "checks the published list turns them away).")
    starts: Date | None = Field(default=None, description="First day denials and perks "
                                   "apply (timeline; before it everyone is let through).")
    ends: Date | None = Field(default=None, description="First day denials and perks no "
                                 "longer apply.")


class Deterrence(Sourced):
    enabled: bool = True
    strength: float = Field(ge=0, le=1, description="Largest fall in an act's rate when it "
                            "is always seen and punished hard.")
    memory_days: float = Field(ge=1, le=3650, description="Days over which people judge how "
                               "often an act is seen.")
    reference_points: float = Field(gt=0, le=10_000, description="A penalty this large or "
                                    "larger deters fully.")


class Chilling(Sourced):
    """People speak less when speech is punished."""

    enabled: bool = True
    strength: float = Field(ge=0, le=1, description="Largest fall in the rate of expression "
                            "acts, reached when every one is punished.")
    memory_days: float = Field(ge=1, le=3650, description="Days over which people judge how "
                               "often speech is punished.")


class Compliance(Sourced):
    """Listed people pay up under pressure: being turned away at a gate makes some comply."""

    enabled: bool = True
    per_denial: float = Field(ge=0, le=1, description="Chance that a listed person turned away "
                              "at a gate because of a list complies that day; the listing then "
                              "ends after the list's comply_delay_days.")
class Calibrate(Sourced):
    """A value `socialcredit calibrate` may fit, with the bounds it may move between."""

    path: str = Field(description="The value, as a --set path, e.g. "
                      "acts.unpaid_judgment.rate or gates.flights.listed_attempts.")
    lower: float = Field(ge=-1e10, le=1e10, description="Smallest value the fit may choose.")
    upper: float = Field(ge=-1e10, le=1e10, description="Largest value the fit may choose.")
    log: bool = Field(default=False, description="Search on a log scale (for rates and "
                      "multipliers; needs lower > 0).")

    @model_validator(mode="after")
    def _bounds(self) -> Calibrate:
        if not self.lower < self.upper:
            raise ValueError(f"{self.path}: lower {self.lower} must be below upper "
                             f"{self.upper}")
        if self.log and self.lower <= 0:
            raise ValueError(f"{self.path}: log = true needs lower > 0, got {self.lower}")
        return self


class Attitudes(Sourced):
    """Each adult approves of the system or not; what they meet moves it (R11). The form of
    the response is assumed: every event turns an approver against the system with a chance
    of its own."""

    enabled: bool = True
    approval: float = Field(ge=0, le=1, description="Share who approve at the start (R11: "
                            "about 80% in 2019).")
    ages: list[AGENT] = Field(default_factory=lambda: ["adult", "elder"],
                              description="Age groups who hold a view.")
    after_penalty: float = Field(default=0.0, ge=0, le=1, description="Chance an approver "
                                 "stops approving when penalised.")
    after_wrongful: float = Field(default=0.0, ge=0, le=1, description="The same, when the "
                                  "penalty was for an act they did not commit.")
    after_listed: float = Field(default=0.0, ge=0, le=1, description="The same, when put on "
                                "a black list.")
    after_denial: float = Field(default=0.0, ge=0, le=1, description="The same, per denial "
                                "at a gate because of a list.")
    after_disclosed: float = Field(default=0.0, ge=0, le=1, description="The same, when "
                                   "their listing is made public.")
    after_tie: float = Field(default=0.0, ge=0, le=1, description="The same, when one of "
                             "their ties is penalised or disclosed.")
    told_per_year: float = Field(default=0.0, ge=0, le=365, description="Rate at which a "
                                 "person is told the risks of the system.")
    told_keeps: float = Field(default=1.0, ge=0, le=1, description="Share of approvers who "
                              "still approve once told (R11: 29% of 53%, 0.55).")
    regain_per_year: float = Field(default=0.0, ge=0, le=365, description="Rate at which "
                                   "someone who disapproves comes to approve again.")


class Responses(Strict):
    deterrence: Deterrence
    chilling: Chilling | None = None
    compliance: Compliance | None = None
    attitudes: Attitudes | None = None


class Association(Sourced):
    """Penalties that spread along ties, and ties cut to low scorers."""

    enabled: bool = True
    penalty_share: float = Field(ge=0, le=1, description="Share of a person's penalty for an "
                                 "act in `areas` that each of their ties also loses.")
    areas: list[Literal[AREAS]] = Field(default_factory=lambda: ["expression"],
                                        description="Areas of acts whose penalties spread.")
    cut_grades: list[str] = Field(default_factory=list, description="Grades whose holders "
                                  "their ties may cut off.")
    cut_share: float = Field(default=0.0, ge=0, le=1, description="Chance a tie of a person "
                             "in cut_grades has cut them off, so no penalty reaches it.")
    score_weight: float = Field(default=0.0, ge=0, le=1, description="Weight of the ties' "
                                "mean score in a person's score, applied every "
                                "score_every_days (0: ties' scores do not weigh).")
    score_every_days: int = Field(default=30, ge=1, le=3650)


class Informants(Sourced):
    """Citizens who report the acts of their ties, sometimes falsely, for a reward."""

    enabled: bool = True
    share: float = Field(ge=0, le=1, description="Share of citizens who inform. An informant "
                         "channel records an act only when one of the actor's ties is an "
                         "informant; its coverage is then the chance they report it.")
    false_reports_per_year: float = Field(default=0.0, ge=0, le=365, description="Reports of "
                                          "acts that never happened, per informant per year, "
                                          "each against one of their ties.")
    false_acts: list[str] = Field(default_factory=list, description="Acts a false report "
                                  "claims.")
    reward_points: int = Field(default=0, ge=0, le=10_000,
                               description="Points an informant gains per report.")


class Manipulation(Sourced):
    """Points bought on a black market and fabricated reports against an enemy."""

    enabled: bool = True
    buy_per_year: float = Field(default=0.0, ge=0, le=365, description="Purchases of points "
                                "per person per year among those in buyer_grades.")
    buy_points: int = Field(default=0, ge=0, le=10_000, description="Points one purchase "
                            "adds.")
    buyer_grades: list[str] = Field(default_factory=list, description="Grades whose holders "
                                    "buy (default: all).")
    sabotage_per_year: float = Field(default=0.0, ge=0, le=365, description="Fabricated "
                                     "reports per person per year against one of their ties.")
    sabotage_acts: list[str] = Field(default_factory=list, description="Acts a fabricated "
                                     "report claims.")


class Recording(Strict):
    cohort: int = Field(default=1000, ge=0, le=CITIZENS_LIMIT, description="Citizens whose "
                        "every score change goes into the ledger.")
    full_ledger_up_to: int = Field(default=100_000, ge=0, le=CITIZENS_LIMIT,
                                   description="Runs with at most this many citizens record "
                                   "everyone.")
    groups_every_days: int = Field(default=30, ge=0, le=36_500, description="Days between "
                                   "snapshots of grades and lists by region type and age "
                                   "group (table groups_over_time; 0: only at the end).")


class Meta(Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9\-]*$")
    title: str
    summary: str = Field(description="One line for `socialcredit scenarios`.")
    start: dt.date = Field(description=f"First day of the run, from {START_MIN} to "
                           f"{START_MAX}.")
    days: int = Field(default=365, ge=1, le=MAX_DAYS)
    sources: list[str] = Field(default_factory=list)
    targets: str | None = Field(
        default=None, pattern=NAME, description="Reported figures shipped with the package "
        "(scenario/targets/<targets>.csv) that `socialcredit calibrate` fits to by default.")

    @field_validator("sources")
    @classmethod
    def _known_sources(cls, v: list[str]) -> list[str]:
        for part in (p.strip() for x in v for p in x.replace(";", ",").split(",")):
            if part and part != "assumed" and part not in SOURCE_IDS:
                raise ValueError(f"unknown source id {part!r}; use ids from SOURCES.md "
                                 "(S1-S21, R1-R11, P1-P4, C; `socialcredit sources` lists "
                                 "them)")
        return v

    @field_validator("start")
    @classmethod
    def _start_in_range(cls, v: dt.date) -> dt.date:
        if not START_MIN <= v <= START_MAX:
            raise ValueError(f"{v} is out of range; valid: {START_MIN} to {START_MAX} (a run "
                             f"lasts up to {MAX_DAYS} days and must end on a date every "
                             "table and plot can hold)")
        return v


class Scenario(Strict):
    """One complete system and the society it runs on."""

    model_config = ConfigDict(extra="forbid", frozen=True,
                              json_schema_extra={"title": "socialcredit scenario"})

    scenario: Meta
    society: Society
    points: Points
    acts: list[Act] = Field(min_length=1)
    channels: list[Channel] = Field(min_length=1)
    rules: list[Rule] = Field(default_factory=list)
    grades: list[Grade] = Field(min_length=1, max_length=MAX_GRADES)
    lists: list[ListDef] = Field(default_factory=list, max_length=MAX_LISTS)
    gates: list[Gate] = Field(default_factory=list)
    responses: Responses
    association: Association | None = None
    informants: Informants | None = None
    manipulation: Manipulation | None = None
    recording: Recording = Recording()
    calibrate: list[Calibrate] = Field(
        default_factory=list, description="Values `socialcredit calibrate` fits to a "
        "series of reported figures, each with bounds and where the bounds come from.")

    @model_validator(mode="after")
    def _cross_references(self) -> Scenario:
        check_references(self)
        check_calibrate(self)
        return self


class ReferenceError_(ValueError):
    """A name used in one section that no other section defines."""

    def __init__(self, loc: str, msg: str):
        super().__init__(msg)
        self.loc = loc


def _unique(items: list, section: str) -> None:
    seen: set[str] = set()
    for i, it in enumerate(items):
        if it.name in seen:
            raise ReferenceError_(f"{section}[{i}].name", f"{it.name!r} is defined twice")
        seen.add(it.name)


def check_references(s: Scenario) -> None:
    """Names used across sections must exist; grade bands must tile the score range."""
    for section in ("acts", "channels", "grades", "lists", "gates"):
        _unique(getattr(s, section), section)
    acts = {a.name for a in s.acts}
    grades = [g.name for g in s.grades]
    lists = {x.name for x in s.lists}

    def need(names: list[str] | str, known, loc: str, what: str) -> None:
        """Every name (or the one name) must be in `known`."""
        for j, n in enumerate([names] if isinstance(names, str) else names):
            if n not in known:
                valid = ", ".join(sorted(known)) or "none defined"
                where = loc if isinstance(names, str) else f"{loc}[{j}]"
                raise ReferenceError_(where, f"unknown {what} {n!r}; valid: {valid}")

    for i, c in enumerate(s.channels):
        need(c.acts, acts, f"channels[{i}].acts", "act")
    seen_rules: set[str] = set()
    for i, r in enumerate(s.rules):
        need(r.act, acts, f"rules[{i}].act", "act")
        if r.act in seen_rules:
            raise ReferenceError_(f"rules[{i}].act", f"act {r.act!r} already has a rule")
        seen_rules.add(r.act)
        if r.list is not None:
            need(r.list, lists, f"rules[{i}].list", "list")
        if r.max_grade is not None:
            need(r.max_grade, grades, f"rules[{i}].max_grade", "grade")
    for i, x in enumerate(s.lists):
        need(x.grades, grades, f"lists[{i}].grades", "grade")
        if x.representatives is not None:
            need(x.representatives, lists - {x.name}, f"lists[{i}].representatives", "list")
            if s.society.firms_per_1000 <= 0:
                raise ReferenceError_(f"lists[{i}].representatives", "representatives need "
                                      "firms: set society.firms_per_1000 above 0")
    for i, g in enumerate(s.gates):
        need(g.deny_lists, lists, f"gates[{i}].deny_lists", "list")
        need(g.perk_lists, lists, f"gates[{i}].perk_lists", "list")
        need(g.deny_grades, grades, f"gates[{i}].deny_grades", "grade")
        need(g.perk_grades, grades, f"gates[{i}].perk_grades", "grade")

    if s.association is not None:
        need(s.association.cut_grades, grades, "association.cut_grades", "grade")
    if s.informants is not None:
        need(s.informants.false_acts, acts, "informants.false_acts", "act")
        if s.informants.false_reports_per_year > 0 and not s.informants.false_acts:
            raise ReferenceError_("informants.false_acts", "false reports need at least one "
                                  "act to claim; valid: " + ", ".join(sorted(acts)))
    if s.manipulation is not None:
        need(s.manipulation.buyer_grades, grades, "manipulation.buyer_grades", "grade")
        need(s.manipulation.sabotage_acts, acts, "manipulation.sabotage_acts", "act")
        if s.manipulation.sabotage_per_year > 0 and not s.manipulation.sabotage_acts:
            raise ReferenceError_("manipulation.sabotage_acts", "sabotage needs at least one "
                                  "act to claim; valid: " + ", ".join(sorted(acts)))
    regions = [r.name for r in s.society.regions]
    patterned = [(f"acts[{i}].regions", a.regions) for i, a in enumerate(s.acts)]
    patterned += [(f"rules[{i}].regions", r.regions) for i, r in enumerate(s.rules)]
    patterned += [("points.regions", s.points.regions)]
    for loc, patterns in patterned:
        for j, pat in enumerate(patterns):
            if not fnmatch.filter(regions, pat):
                shown = ", ".join(regions[:8]) + (", ..." if len(regions) > 8 else "")
                raise ReferenceError_(f"{loc}[{j}]", f"{pat!r} matches no region; regions: "
                                      f"{shown}")

    for section in ("rules", "gates"):
        for i, x in enumerate(getattr(s, section)):
            if x.starts and x.ends and x.ends <= x.starts:
                raise ReferenceError_(f"{section}[{i}].ends",
                                      f"ends {x.ends} is not after starts {x.starts}")

    bands = sorted(enumerate(s.grades), key=lambda ig: ig[1].min)
    p = s.points
    if bands[0][1].min != p.min:
        raise ReferenceError_(f"grades[{bands[0][0]}].min",
                              f"the lowest band must start at points.min = {p.min}")
    if bands[-1][1].max != p.max:
        raise ReferenceError_(f"grades[{bands[-1][0]}].max",
                              f"the highest band must end at points.max = {p.max}")
    for (_, lo), (j, hi) in zip(bands, bands[1:], strict=False):
        if hi.min <= lo.max:
            raise ReferenceError_(f"grades[{j}].min",
                                  f"band {hi.name} ({hi.min}-{hi.max}) overlaps band "
                                  f"{lo.name} ({lo.min}-{lo.max})")
        if hi.min != lo.max + 1:
            raise ReferenceError_(f"grades[{j}].min",
                                  f"gap between band {lo.name} (ends {lo.max}) and band "
                                  f"{hi.name} (starts {hi.min}); it should start at "
                                  f"{lo.max + 1}")


def region_matches(regions: list[str], patterns: list[str]) -> list[bool]:
    """Which regions a list of names or patterns picks (all when there are none)."""
    if not patterns:
        return [True] * len(regions)
    return [any(fnmatch.fnmatchcase(r, p) for p in patterns) for r in regions]
NAMED = {"acts": "name", "channels": "name", "rules": "act", "grades": "name", "lists": "name",
         "gates": "name", "regions": "name", "rate_changes": "date", "changes": "date"}
"""Sections whose entries a --set or [[calibrate]] path names by this field."""


def resolve_path(data: dict, path: str) -> tuple[object, str]:
    """The value at a dotted path of a scenario dump (model_dump(mode="json")).

    Returns (value, "") or (None, why the path does not resolve)."""
    node: object = data
    where: list[str] = []
    for part in path.strip().split("."):
        here = ".".join(where)
        if isinstance(node, builtins.list):
            if not all(isinstance(x, dict) for x in node):
                return None, f"{here} is a list of values, not of named entries"
            key = NAMED.get(where[-1] if where else "", "name")
            match = [x for x in node if str(x.get(key)) == part]
            if not match:
                valid = ", ".join(str(x.get(key)) for x in node) or "none"
                return None, f"no {here} entry named {part!r}; valid: {valid}"
            node = match[0]
        elif isinstance(node, dict):
            if part not in node:
                return None, (f"{'.'.join([*where, part])}: no such field; valid: "
                              + (", ".join(node) or "none"))
            node = node[part]
        elif node is None:
            return None, f"{here} is not set in this scenario, so it has no {part!r}"
        else:
            return None, f"{here} is a value, not a section"
        where.append(part)
    return node, ""


def check_calibrate(s: Scenario) -> None:
    """Every [[calibrate]] path names one number of the scenario, inside its bounds."""
    if not s.calibrate:
        return
    data = s.model_dump(mode="json", exclude={"calibrate"})
    seen: set[str] = set()
    for i, c in enumerate(s.calibrate):
        value, why = resolve_path(data, c.path)
        if why:
            raise ReferenceError_(f"calibrate[{i}].path", why)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ReferenceError_(f"calibrate[{i}].path",
                                  f"{c.path} is not a number, so it cannot be fitted")
        if not c.lower <= value <= c.upper:
            raise ReferenceError_(f"calibrate[{i}].path",
                                  f"{c.path} = {value} lies outside its bounds "
                                  f"[{c.lower}, {c.upper}]")
        if c.path in seen:
            raise ReferenceError_(f"calibrate[{i}].path", f"{c.path} is listed twice")
        seen.add(c.path)


def region_table(table: str, urban_share: float, spec: dict) -> list[dict]:
    """Regions from a shipped table: each row split into a town and a village part."""
    import csv
    from importlib import resources

    text = (resources.files("socialcredit.society") / "data" / f"{table}.csv").read_text()
    rows = list(csv.DictReader(text.splitlines()))
    sizes = [float(r["population_millions"]) for r in rows]
    total = sum(sizes)
    source = spec.get("source", "assumed")
    out = []
    for r, size in zip(rows, sizes, strict=True):
        key = re.sub(r"[^a-z0-9]+", "_", r["province"].lower()).strip("_")
        for kind, share in (("urban", urban_share), ("rural", 1 - urban_share)):
            if share > 0:
                out.append({"name": f"{key}_{kind}", "share": size / total * share,
                            "type": kind, "source": source})
    return out


PERSONAL_FIELDS = re.compile(
    r"(^|_)(names?|full_?name|surname|id_?(number|no|card)?|identity|passport|phone|"
    r"mobile|email|address|face|photo|gps|location|lat|lon|longitude|latitude|"
    r"citizens?|people|persons?|individuals?|records?|accounts?|hukou)($|_)",
    re.IGNORECASE,
)
"""Field names that would carry per-person records into a scenario."""
