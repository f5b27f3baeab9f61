"""Tamper-evident audit trail: a hash chain of records and RFC 6962 Merkle checkpoints."""
