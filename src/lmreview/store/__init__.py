"""The persistent store: engine and sessions, migrations, audit log, users and roles."""

from lmreview.store.engine import Store, open_store

__all__ = ["Store", "open_store"]
