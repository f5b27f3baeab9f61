"""Use cases: the only place that orchestrates ledger, market, portfolio and audit."""
