"""Imports every stage's tables so that ``Base.metadata`` (and Alembic) sees them all."""

from lmreview.coding import models as coding_models
from lmreview.evidence import models as evidence_models
from lmreview.jobs import models as jobs_models
from lmreview.portfolio import models as portfolio_models
from lmreview.questionnaire import decisions as questionnaire_decisions
from lmreview.questionnaire import models as questionnaire_models
from lmreview.ratings import models as ratings_models
from lmreview.report import models as report_models
from lmreview.store import models as store_models
from lmreview.store.base import Base
from lmreview.tracking import models as tracking_models

metadata = Base.metadata

__all__ = [
    "coding_models",
    "evidence_models",
    "jobs_models",
    "metadata",
    "portfolio_models",
    "questionnaire_decisions",
    "questionnaire_models",
    "ratings_models",
    "report_models",
    "store_models",
    "tracking_models",
]
