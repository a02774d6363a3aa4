"""The statement PDF carries the provider's brand: its name and its logo (issue 21)."""

from __future__ import annotations

import io

import pdfplumber
import pytest
import time_machine
from PIL import Image

from tenants.services.brand import provider_brand_image_set, provider_brand_set
from tests.portal.statements_world import NOW, bill

pytestmark = pytest.mark.django_db


def test_statement_pdf_shows_the_brand_name_and_logo(client, world):
    with time_machine.travel(NOW, tick=False):
        bill(world.provider_a, [world.customer_a1], adjust_november=False)
        scope = world.scope(world.alice, world.provider_a)
        provider_brand_set(scope=scope, display_name="Alpha Cloud Mining")
        logo = io.BytesIO()
        Image.new("RGB", (300, 80), (20, 80, 40)).save(logo, format="PNG")
        provider_brand_image_set(scope=scope, kind="logo", data=logo.getvalue())
        client.force_login(world.carol)
        pdf = client.get("/c/alpha/carol-mining/statements/2026-10/pdf/")
    assert pdf.status_code == 200
    with pdfplumber.open(io.BytesIO(pdf.content)) as document:
        first = document.pages[0]
        assert "Alpha Cloud Mining — statement" in first.extract_text()
        assert len(first.images) == 1
