"""Risk measures and models on float arrays: pure functions returning frozen results.

Money is exact in the ledger; risk maths works on float64 (DESIGN.md). Every public result
carries a :class:`~qoima.risk.provenance.Provenance` so that a figure in a report can be
traced to its inputs, parameters, seed and library versions.
"""
