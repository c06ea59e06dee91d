"""socialcredit: an accountable citizen points-account registry.

The package is layered as DESIGN.md section 5 describes: a pure ``domain``, ``services`` as the
single entry for every use case, and adapters at the edge (``store``, ``files``, ``cli``, ``api``).
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
