"""Many runs of one design: replicates over seeds on worker processes or a Ray cluster, with
every daily figure's spread (`bands`)."""

from .ensemble import EnsembleResults, ensemble, open_ensemble

__all__ = ["EnsembleResults", "ensemble", "open_ensemble"]
