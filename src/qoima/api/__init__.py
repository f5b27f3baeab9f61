"""The REST API (FastAPI): a thin transport over the application services.

Routers parse, call the same use cases the CLI calls, and map results; authorization is
decided by the services (``actor=``) and, for reads they do not guard, by
:mod:`qoima.api.access`. The API lives under ``/api/v1`` so a dashboard can be served by the
same application under ``/``.
"""
