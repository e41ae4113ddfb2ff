"""The campaign service's settings."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.unit


def test_the_campaign_service_may_keep_its_collections_on_a_server_of_its_own(
    monkeypatch,
) -> None:
    from services.campaign.settings import CampaignSettings

    monkeypatch.setenv("MONGODB_URI", "mongodb://shared:27017")
    monkeypatch.delenv("CAMPAIGN_MONGODB_URI", raising=False)
    assert CampaignSettings(_env_file=None).store_uri == "mongodb://shared:27017"
    monkeypatch.setenv("CAMPAIGN_MONGODB_URI", "mongodb://campaign:27018")
    settings = CampaignSettings(_env_file=None)
    assert settings.store_uri == "mongodb://campaign:27018"
    assert settings.mongodb_uri == "mongodb://shared:27017"
