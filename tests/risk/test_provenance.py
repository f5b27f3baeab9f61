"""Provenance: the same inputs and parameters give the same hashes, any change another."""

from __future__ import annotations

import numpy as np

from qoima.risk.provenance import Provenance, array_hash, library_versions


def test_array_hash_tracks_values_and_shape() -> None:
    data = np.arange(6, dtype=np.float64)
    assert array_hash(data) == array_hash(data.copy())
    assert array_hash(data) != array_hash(data.reshape(2, 3))
    changed = data.copy()
    changed[3] += 1e-12
    assert array_hash(data) != array_hash(changed)


def test_parameters_hash_accepts_floats_and_numpy_values() -> None:
    first = Provenance("m", "h", {"level": 0.99, "dof": np.float64(4.2),
                                  "weights": np.array([0.5, 0.5])}, seed=7)
    same = Provenance("m", "other-inputs", {"level": 0.99, "dof": 4.2, "weights": [0.5, 0.5]},
                      seed=7)
    assert first.parameters_hash == same.parameters_hash
    assert first.parameters_hash != Provenance("m", "h", {"level": 0.95}, seed=7).parameters_hash
    assert first.parameters_hash != Provenance("m", "h", first.parameters, seed=8).parameters_hash


def test_versions_name_the_numeric_libraries() -> None:
    versions = library_versions()
    assert {"qoima", "numpy", "scipy", "arch", "statsmodels"} <= set(versions)
