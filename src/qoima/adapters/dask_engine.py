"""The distributed compute engine: the chunks of a risk computation on Dask.

Implements :class:`qoima.risk.engine.ComputeEngine`. Chunks carry their own random streams
(:mod:`qoima.risk.engine`), so a computation gives the same numbers here as on the in-process
NumPy engine with the same seed.

    with DaskEngine.local(n_workers=2) as engine:          # a LocalCluster on this machine
        risk = monte_carlo_risk(model, exposures, 0.99, 1_000_000, seed=7, engine=engine)
    with DaskEngine.connect("tcp://scheduler:8786") as engine:   # an existing cluster
        ...
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any, Self, TypeVar

from distributed import Client, LocalCluster

TaskT = TypeVar("TaskT")
ResultT = TypeVar("ResultT")


class DaskEngine:
    """Maps chunk functions over a ``distributed.Client``; closes what it started."""

    def __init__(self, client: Client, *, cluster: LocalCluster | None = None,
                 owns_client: bool = False) -> None:
        self.client = client
        self._cluster = cluster
        self._owns_client = owns_client

    @classmethod
    def local(cls, n_workers: int = 2, threads_per_worker: int = 1, *, processes: bool = True,
              **cluster_options: Any) -> DaskEngine:
        """Start a ``LocalCluster`` (worker processes by default; ``processes=False`` keeps
        the workers as threads in this process, quick to start for tests)."""
        # a free port for the scheduler's HTTP server: the default 8787 may be taken
        options = {"dashboard_address": ":0", **cluster_options}
        cluster = LocalCluster(n_workers=n_workers,  # type: ignore[no-untyped-call]
                               threads_per_worker=threads_per_worker, processes=processes,
                               **options)
        try:
            client = Client(cluster)  # type: ignore[no-untyped-call]
        except Exception:
            cluster.close()
            raise
        return cls(client, cluster=cluster, owns_client=True)

    @classmethod
    def connect(cls, address: str, **client_options: Any) -> DaskEngine:
        """Use the cluster whose scheduler listens at ``address`` (``tcp://host:port``)."""
        return cls(Client(address, **client_options),  # type: ignore[no-untyped-call]
                   owns_client=True)

    @property
    def name(self) -> str:
        workers = len(self.client.scheduler_info().get("workers", {}))
        return f"dask[{workers}]"

    def map(self, fn: Callable[[TaskT], ResultT], tasks: Sequence[TaskT]) -> list[ResultT]:
        """Run ``fn`` on every task on the cluster; results in task order."""
        if not tasks:
            return []
        futures = self.client.map(fn, list(tasks), pure=False)
        return list(self.client.gather(futures))  # type: ignore[no-untyped-call]

    def close(self) -> None:
        if self._owns_client:
            self.client.close()  # type: ignore[no-untyped-call]
        if self._cluster is not None:
            self._cluster.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
