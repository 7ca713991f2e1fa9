"""socialcredit: an executable model of China's Social Credit System on synthetic populations.

    >>> import socialcredit
    >>> res = socialcredit.run("rongcheng", population=20_000, days=90)
    >>> res.daily[["date", "mean_score", "listed"]].tail()

It never takes real personal data and never scores a real person: populations are generated
from aggregate figures only.
"""

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _version

try:
    __version__ = _version("socialcredit")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

from .engine.run import resume, run  # noqa: E402
from .errors import UserError  # noqa: E402
from .record.results import Results  # noqa: E402
from .record.store import read_results as open_results  # noqa: E402
from .scenario import Scenario, builtin_names, load  # noqa: E402

__all__ = ["Results", "Scenario", "UserError", "__version__", "builtin_names", "load",
           "open_results", "resume", "run"]
