"""Vocabulary shared by every package: money, reference data, findings, errors. Stdlib only."""
