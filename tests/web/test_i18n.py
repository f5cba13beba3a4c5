"""Italian and English through one catalog: same keys in both, every key the templates
use exists, and pages come in the reader's language."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from dialoga.accounts.actions import do_add_member, do_create_user
from dialoga.accounts.models import Workspace
from dialoga.core.db import transaction
from dialoga.core.i18n import best_locale, catalog, translate
from dialoga.web.routes.auth import REFUSALS

from .conftest import PASSWORD, sign_in

TEMPLATES = Path(__file__).parents[2] / "src" / "dialoga" / "web" / "templates"
ROUTES = Path(__file__).parents[2] / "src" / "dialoga" / "web" / "routes"
KEY = re.compile(r"""\bt\(\s*["']([a-z_.]+)["']""")


def test_both_languages_have_the_same_keys_and_no_empty_text() -> None:
    assert catalog("it").keys() == catalog("en").keys()
    assert all(text.strip() for text in [*catalog("it").values(), *catalog("en").values()])


def test_every_key_the_templates_and_routes_use_is_in_the_catalog() -> None:
    sources = [*TEMPLATES.glob("*.html"), *ROUTES.glob("*.py")]
    used = {key for path in sources for key in KEY.findall(path.read_text(encoding="utf-8"))}
    used |= set(REFUSALS.values())

    assert used, "the templates use the catalog"
    assert used <= catalog("en").keys()


def test_translation_falls_back_and_fills_placeholders() -> None:
    assert translate("it", "home.channels") == "Canali"
    assert translate("fr", "home.channels") == "Canali"  # unknown language: the default
    assert translate("en", "no.such.key") == "no.such.key"
    assert best_locale("fr-FR,en-GB;q=0.8,it;q=0.5") == "en"
    assert best_locale(None) == "it"


def test_pages_come_in_the_browser_language_then_in_the_member_language(
    sessions: sessionmaker[Session], workspace: Workspace, client: TestClient
) -> None:
    with transaction(sessions) as session:
        user = do_create_user(session, "jane@example.com", "Jane", PASSWORD, actor="t", locale="en")
        do_add_member(session, workspace.id, user.id, "agent", actor="t")

    italian = client.get("/signin", headers={"Accept-Language": "it-IT,it;q=0.9"}).text
    english = client.get("/signin", headers={"Accept-Language": "en-US"}).text
    sign_in(client, "jane@example.com")
    home = client.get("/", headers={"Accept-Language": "it"}).text

    assert "Accedi" in italian and 'lang="it"' in italian
    assert "Sign in" in english and 'lang="en"' in english
    assert "Awaiting reply" in home and "Sign out" in home and 'lang="en"' in home
