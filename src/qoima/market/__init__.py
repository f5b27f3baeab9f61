"""Market data the book needs: prices, FX, staleness rules (full layer: its own issue)."""
