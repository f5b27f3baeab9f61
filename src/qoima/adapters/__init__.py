"""Edges that read and write the outside world: files, feeds, chains."""
