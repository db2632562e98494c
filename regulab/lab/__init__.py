"""The lab: does a model overfit, and which technique fixes it, with error bars.

- :func:`diagnose`: a verdict from learning curves (one run or several seeds), its evidence and
  what to try.
- :func:`study`: every variant of a model trained over several seeds (variants that share an
  architecture as one stacked model), with intervals and paired comparisons against the baseline.
- :func:`sweep`: one strength over a range, with the validation curve and the one-standard-error
  choice.
- :func:`fit_variants`: the stacked training behind both.
- :func:`sparsity`: which weights L1 set to zero.
"""
from regulab.lab._diagnose import Diagnosis, diagnose
from regulab.lab._result import StudyResult
from regulab.lab._sparsity import SparsityReport, sparsity
from regulab.lab._study import study
from regulab.lab._sweep import SweepResult, sweep
from regulab.training._variants import fit_variants

__all__ = ["diagnose", "Diagnosis", "study", "StudyResult", "sweep", "SweepResult", "sparsity", "SparsityReport",
           "fit_variants"]
