"""Investment policy as code: versioned limits, one rule engine for pre- and post-trade."""
