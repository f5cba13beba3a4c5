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
from dialoga.core.i18n import LOCALES, best_locale, catalog, translate
from dialoga.inbox.personal import IDENTICAL_TO_SAVED_REPLY, NOT_ADDRESSED
from dialoga.inbox.queue import STATUSES
from dialoga.inbox.work import RESOLUTION_REASONS
from dialoga.web.routes.auth import REFUSALS
from dialoga.web.routes.inbox import SENTIMENTS, SNOOZE_HOURS

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
    # A key built in the template (``t("reason." ~ code)``) needs its family in the catalog.
    families = {key for key in used if key.endswith((".", "_"))}

    assert used, "the templates use the catalog"
    assert used - families <= catalog("en").keys()
    assert all(any(k.startswith(family) for k in catalog("en")) for family in families)


def test_every_value_a_template_names_by_code_is_translated() -> None:
    families = {
        "reason.": RESOLUTION_REASONS,
        "status.": (*STATUSES, "all"),
        "state.": STATUSES,
        "sentiment.": SENTIMENTS,
        "snooze.hours_": tuple(str(hours) for hours in SNOOZE_HOURS),
        "delivery.": ("queued", "sent", "failed"),
        "warning.": (IDENTICAL_TO_SAVED_REPLY, NOT_ADDRESSED),
        "language.": LOCALES,
    }
    for locale in LOCALES:
        missing = [
            family + value
            for family, values in families.items()
            for value in values
            if family + value not in catalog(locale)
        ]
        assert not missing, locale


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
