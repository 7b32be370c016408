"""The application factory for ``uvicorn --factory`` and ``lmreview serve --workers N``: every setting comes from
``LMREVIEW_*`` environment variables, so each worker process builds the same application.

Example: LMREVIEW_DATABASE_URL=postgresql://lmreview@db/lmreview \\
    uvicorn --factory lmreview.web.server:app_from_environment --workers 4 --proxy-headers
"""

from __future__ import annotations

from fastapi import FastAPI

from lmreview.settings import get_settings
from lmreview.web.app import create_app


def app_from_environment() -> FastAPI:
    return create_app(get_settings())
