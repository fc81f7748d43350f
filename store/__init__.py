"""SQLAlchemy models, the database handle and queries."""
from store.db import Database, now

__all__ = ["Database", "now"]
