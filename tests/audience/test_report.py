"""The audit report: one offline HTML file, in Italian or English, that data cannot script."""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime
from typing import Any

import pytest

from dialoga.audience.report import ReportAmbassador, ReportRun, render_report
from dialoga.audience.summary import AuditSummary

GENERATED_AT = datetime(2024, 7, 1, 9, 30)
HOSTILE = "<script>alert(1)</script>"


def _summary(real: int = 832, fake: int = 168) -> AuditSummary:
    return AuditSummary(
        verdicts=Counter(passive=real, fake=fake, unknown=5),
        probability_bins=[fake if index == 19 else 0 for index in range(20)],
        by_year={"2015": Counter(passive=real), "?": Counter(fake=fake, unknown=5)},
        fake_reasons=Counter(
            {"audience.reason.network.fake": 120, "audience.reason.bio.empty": 40}
        ),
        real_reach=4800,
        rejected=1234,
    )


def _run(month: int, score: float | None) -> ReportRun:
    return ReportRun(datetime(2024, month, 1), score, {"passive": 80, "fake": 20})


def _render(
    summary: AuditSummary | None = None,
    *,
    locale: str = "en",
    title: str = "Audience audit — @brand",
    **options: Any,
) -> str:
    return render_report(
        summary or _summary(), title=title, locale=locale, generated_at=GENERATED_AT, **options
    )


def test_italian_report_has_italian_labels_and_numbers() -> None:
    page = _render(locale="it")

    assert '<html lang="it">' in page
    assert "Indice di qualità del pubblico" in page
    assert "sospetto falso" in page
    assert "segue molti, seguito da pochi" in page
    assert "4.800" in page and "1.234" in page
    assert "83,2%" in page  # 832 real of 1,000 judged
    assert "Follower analizzati" in page and "1.005" in page


def test_english_report_has_english_labels_and_numbers() -> None:
    page = _render(locale="en")

    assert '<html lang="en">' in page
    assert "Audience quality score" in page
    assert "follows many, followed by few" in page
    assert "4,800" in page and "1,234" in page and "1,005" in page
    assert "83.2%" in page
    assert "audience.report." not in page and "audience.reason." not in page


def test_text_from_data_is_escaped() -> None:
    ambassador = ReportAmbassador(HOSTILE, f"@{HOSTILE}", 1, 2, 3, None, "/contacts/1")
    page = _render(title=HOSTILE, ambassadors=[ambassador], model_note=HOSTILE)

    assert "<script" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert '<a href="/contacts/1">&lt;script&gt;' in page


@pytest.mark.parametrize("link", ["javascript:alert(1)", "JavaScript:alert(1)", "data:text/html,x"])
def test_a_link_that_is_not_a_path_or_http_is_plain_text(link: str) -> None:
    ambassador = ReportAmbassador("Anna", "@anna", 1, 2, 3, 10, link)
    page = _render(ambassadors=[ambassador])

    assert "href" not in page
    assert "<td>Anna</td>" in page


def test_ambassadors_are_ranked_with_their_links_and_counts() -> None:
    ambassadors = [
        ReportAmbassador("Anna", "@anna", 12, 3, 4800, 1500, "https://example.org/anna"),
        ReportAmbassador("Bruno", None, 1, 0, 1, None, None),
    ]
    page = _render(locale="it", ambassadors=ambassadors)

    rows = re.findall(r"<tr><td>(\d)</td><td>(.*?)</td>", page)
    assert rows == [("1", '<a href="https://example.org/anna">Anna</a>'), ("2", "Bruno")]
    assert '<td class="num">4.800</td>' in page and '<td class="num">n.d.</td>' in page


@pytest.mark.parametrize("locale", ["en", "it"])
def test_an_empty_audit_renders(locale: str) -> None:
    empty = AuditSummary(probability_bins=[])
    page = _render(empty, locale=locale, previous=AuditSummary(), history=[_run(1, None)] * 2)

    assert page.count("<svg") == 3  # verdicts, probability, history; no years to chart
    assert ("No data." if locale == "en" else "Nessun dato.") in page
    assert ("n/a" if locale == "en" else "n.d.") in page


def test_history_chart_needs_two_runs() -> None:
    one = _render(history=[_run(1, 0.61)])
    two = _render(history=[_run(1, 0.61), _run(3, 0.64)])

    assert "Quality score over time" not in one and "<polyline" not in one
    assert "Quality score over time" in two
    assert two.count("<polyline") == 1 and two.count("<circle") == 2
    assert "2024-01-01: 61.0% of 100 followers" in two


def test_change_since_the_previous_audit_is_signed() -> None:
    page = _render(previous=_summary(real=800, fake=200))  # 80.0% then, 83.2% now

    assert "Change since the previous audit" in page
    assert '<td class="num">+3.2 points</td>' in page
    assert '<td class="num">−32</td>' in page  # fakes, with a true minus
    assert '<td class="num">+32</td>' in page  # passive
    assert '<td class="num">0</td>' in page  # unknown unchanged
    assert "Change since" not in _render()


def test_italian_change_is_in_points() -> None:
    page = _render(locale="it", previous=_summary(real=840, fake=160))

    assert '<td class="num">−0,8 punti</td>' in page
    assert '<td class="num">+8</td>' in page


def test_report_is_self_contained() -> None:
    page = _render(history=[_run(1, 0.6), _run(2, 0.7)], previous=_summary())

    assert page.startswith("<!DOCTYPE html>")
    assert '<meta charset="utf-8">' in page and "<style>" in page
    assert "<script" not in page and "<link" not in page
    assert "http" not in page  # no CDN, no remote font, not even an SVG namespace
    assert all(
        re.search(r"<svg [^>]*aria-label=\"[^\"]+\"[^>]*><title>", chart)
        for chart in re.findall(r"<svg .*?</svg>", page)
    )
