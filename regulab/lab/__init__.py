"""The lab: what regularization did to a model."""
from regulab.lab._sparsity import SparsityReport, sparsity

__all__ = ["sparsity", "SparsityReport"]
