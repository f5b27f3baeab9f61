"""The versions of the libraries a run's numbers depend on, recorded with each run.

Read from the installed distributions, so it lives below both entry points (the CLI's
``qoima run`` and the API's runs record the same map).
"""

from __future__ import annotations

from importlib import metadata

LIBRARIES = ("qoima", "numpy", "scipy", "pandas", "arch", "statsmodels", "cvxpy", "highspy",
             "clarabel", "plotly", "reportlab", "matplotlib")


def versions() -> dict[str, str]:
    """Installed version of each of :data:`LIBRARIES` (missing ones left out)."""
    found = {}
    for name in LIBRARIES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found
