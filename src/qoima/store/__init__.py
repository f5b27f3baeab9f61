"""SQLAlchemy 2.0 persistence: tables, repositories (never commit), unit of work, Alembic."""
