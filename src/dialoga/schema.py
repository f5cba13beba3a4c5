"""Imports every capability's tables so the metadata is complete (for Alembic and tests)."""

from __future__ import annotations

from dialoga.accounts import models as accounts_models
from dialoga.audience import models as audience_models
from dialoga.channels import models as channels_models
from dialoga.contacts import models as contacts_models
from dialoga.core.db import Base
from dialoga.inbox import models as inbox_models
from dialoga.insights import models as insights_models
from dialoga.understand import models as understand_models

MODEL_MODULES = (
    accounts_models,
    audience_models,
    channels_models,
    contacts_models,
    inbox_models,
    insights_models,
    understand_models,
)
metadata = Base.metadata
