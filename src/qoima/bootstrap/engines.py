"""Which compute engine runs the scale-out work: the only place that picks Dask."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from qoima.bootstrap.settings import Settings
from qoima.domain.errors import ConfigurationError
from qoima.risk.engine import ComputeEngine, NumpyEngine

ENGINES = ("numpy", "dask")


@contextmanager
def compute_engine(name: str | None = None, scheduler: str | None = None,
                   settings: Settings | None = None) -> Iterator[ComputeEngine]:
    """The engine to use for one command; a LocalCluster it started is closed afterwards.

    ``name`` and ``scheduler`` override ``QOIMA_ENGINE`` and ``QOIMA_DASK_SCHEDULER``. The
    same seed gives the same numbers on every engine.
    """
    settings = settings or Settings()
    chosen = (name or settings.engine).lower()
    address = scheduler or settings.dask_scheduler
    if chosen == "numpy":
        yield NumpyEngine()
        return
    if chosen != "dask":
        raise ConfigurationError(f"unknown engine {chosen!r}; engines: {', '.join(ENGINES)}",
                                 field="engine")
    from qoima.adapters.dask_engine import DaskEngine  # imported only when asked: slow import

    engine = DaskEngine.connect(address) if address else DaskEngine.local()
    with engine:
        yield engine
