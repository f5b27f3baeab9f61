"""Allocation: how much to hold (sizing inside the policy range), in what (composition
optimizers behind one interface, with the policy's limits as constraints), and when (the
stability gate, tranche plans and deployment backtests). Pure: no I/O, clock or environment;
cvxpy, Clarabel and HiGHS are used only inside this package.
"""
