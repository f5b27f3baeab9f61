"""qoima: book of record, risk and governance for a sovereign digital-asset reserve."""

__version__ = "0.1.0"
