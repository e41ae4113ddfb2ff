"""A service whose collections may live on a database server of their own reads
``<SERVICE>_MONGODB_URI`` first and falls back to ``MONGODB_URI``."""

from __future__ import annotations

from typing import Any

import pytest

from services.campaign.settings import CampaignSettings
from services.delivery.settings import DeliverySettings

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("settings_class", "variable"),
    [(DeliverySettings, "DELIVERY_MONGODB_URI"), (CampaignSettings, "CAMPAIGN_MONGODB_URI")],
)
def test_a_service_may_keep_its_collections_on_a_server_of_its_own(
    monkeypatch: pytest.MonkeyPatch, settings_class: type[Any], variable: str
) -> None:
    monkeypatch.setenv("MONGODB_URI", "mongodb://shared:27017")
    monkeypatch.delenv(variable, raising=False)
    assert settings_class(_env_file=None).store_uri == "mongodb://shared:27017"
    monkeypatch.setenv(variable, "mongodb://own:27018")
    settings = settings_class(_env_file=None)
    assert settings.store_uri == "mongodb://own:27018"
    assert settings.mongodb_uri == "mongodb://shared:27017"
