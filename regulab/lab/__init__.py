"""The lab: what regularization did to a model."""
from regulab.lab._sparsity import SparsityReport, sparsity
from regulab.training._variants import fit_variants

__all__ = ["sparsity", "SparsityReport", "fit_variants"]
