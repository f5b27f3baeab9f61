"""Seized-asset custody: cases, legal status, chain of custody, screening, forks."""
