"""The built-in demo reserve: illustrative, modeled on the seed case, SYNTHETIC market data."""
