"""Many runs of one design: replicates over seeds on worker processes or a Ray cluster, with
every daily figure's spread (`bands`); and sensitivity analyses, a SALib design of runs with
seeds common to all its points."""

from .ensemble import EnsembleResults, ensemble, open_ensemble
from .sensitivity import SensitivityResults, open_sensitivity, sensitivity

__all__ = ["EnsembleResults", "SensitivityResults", "ensemble", "open_ensemble",
           "open_sensitivity", "sensitivity"]
