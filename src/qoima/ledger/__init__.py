"""Double-entry journal: validation, posting, two-phase entries, reversals, balances, lots."""
