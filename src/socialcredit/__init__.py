"""socialcredit: an executable model of China's Social Credit System on synthetic populations.

    >>> import socialcredit
    >>> res = socialcredit.run("rongcheng", population=20_000, days=90)
    >>> res.daily[["date", "mean_score", "listed"]].tail()

It never takes real personal data and never scores a real person: populations are generated
from aggregate figures only.
"""

from __future__ import annotations

import importlib
import typing

from .errors import UserError

if typing.TYPE_CHECKING:
    from .engine.run import resume, run
    from .record.results import Results
    from .record.store import read_results as open_results
    from .scenario import Scenario, builtin_names, load

_LAZY = {"run": (".engine.run", "run"), "resume": (".engine.run", "resume"),
         "Results": (".record.results", "Results"),
         "open_results": (".record.store", "read_results"),
         "Scenario": (".scenario", "Scenario"), "builtin_names": (".scenario", "builtin_names"),
         "load": (".scenario", "load")}
"""Names imported when first asked for (name: module, attribute), so that importing the
package, as every command does, loads neither numba, pandas, DuckDB nor pydantic until a
command needs them."""


def __getattr__(name: str):
    """`__version__` and the names of `_LAZY`, loaded on first use and then kept."""
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            value = version("socialcredit")
        except PackageNotFoundError:  # pragma: no cover - running from a source tree
            value = "0.0.0+unknown"
    elif name in _LAZY:
        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(module, __name__), attr)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


def compare(scenario="rongcheng", other=None, sets: list[str] = (),
            seeds: int = 5, population: int | None = None, days: int | None = None,
            progress=None):
    """Two designs on the same seeds (common random numbers), as `socialcredit compare`.

    `scenario` and `other` are built-in names, TOML files or parsed scenarios
    (`socialcredit.scenario.parse`). B is `other` where it is given, else `scenario`, changed
    by `sets` (["PATH=VALUE", ...]). Returns one row per outcome: the mean of each design over the
    seeds, the mean paired difference and its 95% interval; `table.attrs["what"]` says
    which designs were compared.

        >>> socialcredit.compare("rongcheng", sets=["association.enabled=false"], seeds=3,
        ...                      population=20_000, days=90)
    """
    from .analysis.compare import compare as _compare
    from .analysis.compare import variants

    a, b, what = variants(scenario, other, list(sets))
    table = _compare(a, b, seeds, population, days, progress)
    table.attrs["what"] = what
    return table


def ensemble(scenario="rongcheng", seeds: int = 10, **options):
    """One design over many seeds, as `socialcredit ensemble`: see
    `socialcredit.ensembles.ensemble` for the options. Returns the runs, daily and bands
    tables (`.runs`, `.daily`, `.bands`, `.band(column)`).

        >>> ens = socialcredit.ensemble("rongcheng", seeds=20, population=20_000, days=365)

    Worker processes are started afresh (spawned), so a script that calls this needs the
    usual `if __name__ == "__main__":` guard around it.
    """
    from .ensembles import ensemble as _ensemble

    return _ensemble(scenario, seeds, **options)


def sensitivity(scenario="rongcheng", vary=(), **options):
    """Which values move which outcomes, as `socialcredit sensitivity`: a Morris or Sobol'
    design (SALib) over the ranges in `vary` ("PATH=LO:HI[:log]" texts, or PATH: (LO, HI)),
    every point run with the same seeds; see `socialcredit.ensembles.sensitivity` for the
    options. Returns the `sensitivity` and `design` tables (`.ranked(outcome)` ranks the
    values for one outcome).

        >>> s = socialcredit.sensitivity("rongcheng", ["acts.littering.rate=0.2:3",
        ...     "rules.littering.points=-10:-1"], population=20_000, days=180)

    Its runs go to worker processes started afresh (spawned), so a script that calls this
    needs the usual `if __name__ == "__main__":` guard around it.
    """
    from .ensembles import sensitivity as _sensitivity

    return _sensitivity(scenario, vary, **options)


def predict(calibration, until, **options):
    """A calibration's posterior draws run forward to `until`, as `socialcredit predict`:
    `calibration` is the folder `socialcredit calibrate` wrote; see
    `socialcredit.analysis.predict.predict` for the options. Returns the `predictions`
    (date, column, p5 to p95 at real scale), `reported` and `runs` tables.

        >>> p = socialcredit.predict("runs/national-calibrated", "2019-12-31", draws=50)
        >>> p.at("2019-06-30")

    Its draws run in worker processes started afresh (spawned), so a script that calls this
    needs the usual `if __name__ == "__main__":` guard around it.
    """
    from .analysis.predict import predict as _predict

    return _predict(calibration, until, **options)


def open_ensemble(folder):
    """Read an ensemble's runs, daily and bands tables back from its folder."""
    from .ensembles import open_ensemble as _open

    return _open(folder)


__all__ = ["Results", "Scenario", "UserError", "__version__", "builtin_names", "compare",
           "ensemble", "load", "open_ensemble", "open_results", "predict", "resume", "run",
           "sensitivity"]
