"""What every risk result records so its figures can be reproduced (DESIGN.md, Results)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import numpy as np
import numpy.typing as npt

from qoima import __version__
from qoima.domain.canonical import content_hash
from qoima.domain.findings import Finding

_LIBRARIES = ("numpy", "scipy", "arch", "statsmodels", "pandas")


def array_hash(*arrays: npt.ArrayLike) -> str:
    """SHA-256 over the float64 bytes and shapes of ``arrays``: equal data, equal hash."""
    digest = hashlib.sha256()
    for item in arrays:
        array = np.ascontiguousarray(np.asarray(item, dtype=np.float64))
        digest.update(repr(array.shape).encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def library_versions(names: tuple[str, ...] = _LIBRARIES) -> dict[str, str]:
    """Installed versions of the numeric libraries a result may depend on."""
    versions = {"qoima": __version__}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


_VERSIONS: dict[str, str] | None = None


def _versions() -> dict[str, str]:
    global _VERSIONS  # looked up once per process: metadata reads are slow
    if _VERSIONS is None:
        _VERSIONS = library_versions()
    return dict(_VERSIONS)


@dataclass(frozen=True, slots=True)
class Provenance:
    """Inputs' hash, parameters, seed, library versions and warnings of one computation."""

    method: str
    inputs_hash: str
    parameters: Mapping[str, Any] = field(default_factory=dict)
    seed: int | None = None
    versions: Mapping[str, str] = field(default_factory=_versions)
    warnings: tuple[Finding, ...] = ()

    @property
    def parameters_hash(self) -> str:
        return content_hash({"method": self.method, "parameters": _hashable(self.parameters),
                             "seed": self.seed})


def _hashable(value: Any) -> Any:
    """Floats (and NumPy scalars/arrays) as their shortest round-trip text: canonical JSON
    refuses floats on purpose, since money must never be one."""
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, float | np.floating):
        return repr(float(value))
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.ndarray):
        return _hashable(value.tolist())  # a 0-d array's tolist() is a scalar
    if isinstance(value, Mapping):
        return {str(k): _hashable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_hashable(v) for v in value]
    return value
