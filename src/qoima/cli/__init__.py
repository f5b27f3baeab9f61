"""The ``qoima`` command line (Typer + Rich): translates, never decides."""
