"""An audit as one HTML file a brand can keep, mail or print, readable offline and forever.

Everything is inline: the style sheet, and the charts, drawn here as SVG, so the file
needs no script, no font and no network. Every text that comes from data (the title,
names, handles, links) is escaped, and a link is kept only when it is a site path or an
http(s) address. Each UI string comes from the catalogs, numbers in the reader's style.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from dialoga.audience.summary import PROBABILITY_BINS, AuditSummary
from dialoga.audience.verdicts import VERDICTS
from dialoga.core.i18n import DEFAULT_LOCALE, LOCALES, number, translate

VERDICT_COLOURS = {
    "fake": "#c8463d",
    "inactive": "#e0a526",
    "engaged": "#1d7a4d",
    "passive": "#8bcfa6",
    "real": "#3d9e68",
    "unknown": "#b4bac2",
}
SAFE_LINK_PREFIXES = ("/", "http://", "https://")
MOST_REASONS = 10
CHART_WIDTH = 640
PLOT_LEFT = 48
PLOT_TOP = 16
PLOT_WIDTH = CHART_WIDTH - PLOT_LEFT - 40  # room for the last date
PLOT_HEIGHT = 180
CHART_HEIGHT = PLOT_TOP + PLOT_HEIGHT + 32
VERDICT_LABEL_WIDTH = 150
VERDICT_ROW_HEIGHT = 26
VERDICT_VALUE_WIDTH = 110  # room right of the longest bar for its count
MOST_DATE_LABELS = 6
STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; color: #1f2328; max-width: 960px;
  margin: 2rem auto; padding: 0 1rem; -webkit-print-color-adjust: exact;
  print-color-adjust: exact; }
h1 { font-size: 1.6rem; margin: 0 0 .25rem; }
h2 { font-size: 1.15rem; margin: 2rem 0 .5rem; border-bottom: 1px solid #d0d7de; }
.muted { color: #57606a; }
.figures { display: grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr));
  gap: .75rem; margin: 0; }
.figures div { border: 1px solid #d0d7de; border-radius: 6px; padding: .6rem .8rem; }
.figures dt { color: #57606a; font-size: .85rem; }
.figures dd { margin: 0; font-size: 1.5rem; font-weight: 600; }
.figures small { display: block; color: #57606a; font-size: .75rem; font-weight: 400; }
table { border-collapse: collapse; width: 100%; }
th, td { padding: .3rem .5rem; border-bottom: 1px solid #d0d7de; text-align: left; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
svg { width: 100%; height: auto; max-width: 720px; font: 12px system-ui, sans-serif; }
svg .axis { stroke: #8c959f; }
.legend { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: .4rem 1rem; }
.swatch { display: inline-block; width: .8rem; height: .8rem; margin-right: .3rem;
  vertical-align: -1px; border-radius: 2px; }
@media print {
  body { margin: 0; max-width: none; font-size: 12px; }
  section { break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
}
"""


@dataclass(frozen=True)
class ReportRun:
    """One audit in the history chart."""

    ran_at: datetime
    quality_score: float | None
    verdicts: Mapping[str, int]


@dataclass(frozen=True)
class ReportAmbassador:
    """A follower who talks with the brand; ``messages`` counts all their interactions."""

    name: str
    handle: str | None
    replies: int
    mentions: int
    messages: int
    followers: int | None
    link: str | None


def render_report(
    summary: AuditSummary,
    *,
    title: str,
    locale: str,
    generated_at: datetime,
    history: Sequence[ReportRun] = (),
    ambassadors: Sequence[ReportAmbassador] = (),
    previous: AuditSummary | None = None,
    model_note: str = "",
) -> str:
    """The whole report, one self-contained HTML document; ``history`` is oldest first."""
    locale = locale if locale in LOCALES else DEFAULT_LOCALE
    sections = [
        _key_figures(summary, locale),
        _change(summary, previous, locale) if previous is not None else "",
        _verdict_chart(summary, locale),
        _probability_chart(summary, locale),
        _year_chart(summary, locale),
        _history_chart(history, locale) if len(history) >= 2 else "",
        _reasons(summary, locale),
        _ambassadors(ambassadors, locale) if ambassadors else "",
        _section(translate(locale, "audience.report.model"), _paragraph(model_note))
        if model_note
        else "",
    ]
    return (
        f'<!DOCTYPE html>\n<html lang="{locale}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f"{_header(title, generated_at, locale)}\n<main>\n{''.join(sections)}</main>\n"
        "</body>\n</html>\n"
    )


def _escape(text: str) -> str:
    return html.escape(text, quote=True)


def _paragraph(text: str, css_class: str = "") -> str:
    attribute = f' class="{css_class}"' if css_class else ""
    return f"<p{attribute}>{_escape(text)}</p>"


def _section(heading: str, body_html: str) -> str:
    return f"<section>\n<h2>{_escape(heading)}</h2>\n{body_html}\n</section>\n"


def _header(title: str, generated_at: datetime, locale: str) -> str:
    date = generated_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    generated = translate(locale, "audience.report.generated", date=date)
    return (
        f"<header>\n<h1>{_escape(title)}</h1>\n"
        f'<p class="muted"><time datetime="{generated_at.isoformat()}">'
        f"{_escape(generated)}</time></p>\n</header>"
    )


def _share(part: float, whole: float) -> float:
    return part / whole if whole else 0.0


def _percent(locale: str, fraction: float | None, decimals: int = 1) -> str:
    if fraction is None:
        return translate(locale, "audience.report.not_available")
    shown = number(locale, fraction * 100, decimals)
    return translate(locale, "audience.report.percent", value=shown)


def _signed(locale: str, value: float, decimals: int = 0) -> str:
    """``value`` with its sign: +3.2, −12 (a true minus), 0 when it rounds to nothing."""
    rounded = round(value, decimals)
    if rounded == 0:
        return number(locale, 0, decimals)
    return ("+" if rounded > 0 else "−") + number(locale, abs(value), decimals)


def _verdict_label(locale: str, verdict: str) -> str:
    return translate(locale, f"audience.verdict.{verdict}")


def _key_figures(summary: AuditSummary, locale: str) -> str:
    figures = [
        ("audience.report.audited", number(locale, summary.total), ""),
        (
            "audience.report.quality_score",
            _percent(locale, summary.quality_score),
            "audience.report.quality_score_hint",
        ),
        (
            "audience.report.real_reach",
            number(locale, summary.real_reach),
            "audience.report.real_reach_hint",
        ),
        ("audience.report.suspected_fakes", number(locale, summary.verdicts["fake"]), ""),
        (
            "audience.report.rejected",
            number(locale, summary.rejected),
            "audience.report.rejected_hint",
        ),
    ]
    items = "".join(
        f"<div><dt>{_escape(translate(locale, label))}</dt><dd>{_escape(value)}"
        + (f"<small>{_escape(translate(locale, hint))}</small>" if hint else "")
        + "</dd></div>"
        for label, value, hint in figures
    )
    heading = translate(locale, "audience.report.key_figures")
    return _section(heading, f'<dl class="figures">{items}</dl>')


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], numeric_from: int) -> str:
    """A table of plain-text ``headers`` over cells given as HTML; columns from ``numeric_from``
    on are numbers, aligned right."""

    def cell(tag: str, index: int, content_html: str) -> str:
        css = ' class="num"' if index >= numeric_from else ""
        return f"<{tag}{css}>{content_html}</{tag}>"

    head = "".join(cell("th", index, _escape(text)) for index, text in enumerate(headers))
    body = "".join(
        "<tr>" + "".join(cell("td", index, text) for index, text in enumerate(row)) + "</tr>\n"
        for row in rows
    )
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}</tbody>\n</table>"


def _change(summary: AuditSummary, previous: AuditSummary, locale: str) -> str:
    audited = translate(locale, "audience.report.audited")
    rows = [
        _quality_change(previous.quality_score, summary.quality_score, locale),
        _count_change(audited, previous.total, summary.total, locale),
        *(
            _count_change(
                _verdict_label(locale, verdict),
                previous.verdicts[verdict],
                summary.verdicts[verdict],
                locale,
            )
            for verdict in VERDICTS
        ),
    ]
    headers = [
        translate(locale, f"audience.report.column.{column}")
        for column in ("measure", "previous", "current", "change")
    ]
    safe_rows = [[_escape(text) for text in row] for row in rows]
    return _section(translate(locale, "audience.report.change"), _table(headers, safe_rows, 1))


def _quality_change(before: float | None, after: float | None, locale: str) -> list[str]:
    """The quality score then and now, and the change in percentage points."""
    change = (
        translate(
            locale, "audience.report.points", value=_signed(locale, (after - before) * 100, 1)
        )
        if before is not None and after is not None
        else translate(locale, "audience.report.not_available")
    )
    label = translate(locale, "audience.report.quality_score")
    return [label, _percent(locale, before), _percent(locale, after), change]


def _count_change(label: str, before: int, after: int, locale: str) -> list[str]:
    return [label, number(locale, before), number(locale, after), _signed(locale, after - before)]


def _svg(label: str, height: float, body: str) -> str:
    """A chart: its ``label`` is both the title that screen readers announce and the tooltip."""
    return (
        f'<svg viewBox="0 0 {CHART_WIDTH} {height:.0f}" role="img" '
        f'aria-label="{_escape(label)}"><title>{_escape(label)}</title>{body}</svg>'
    )


def _rect(x: float, y: float, width: float, height: float, colour: str, tooltip: str) -> str:
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height:.1f}" '
        f'fill="{colour}"><title>{_escape(tooltip)}</title></rect>'
    )


def _text(x: float, y: float, text: str, anchor: str = "start") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}">{_escape(text)}</text>'


def _legend(locale: str) -> str:
    items = "".join(
        f'<li><span class="swatch" style="background:{VERDICT_COLOURS[verdict]}"></span>'
        f"{_escape(_verdict_label(locale, verdict))}</li>"
        for verdict in VERDICTS
    )
    label = translate(locale, "audience.report.legend")
    return f'<ul class="legend" aria-label="{_escape(label)}">{items}</ul>'


def _verdict_chart(summary: AuditSummary, locale: str) -> str:
    heading = translate(locale, "audience.report.verdicts")
    most = max(summary.verdicts.values(), default=0)
    bar_room = CHART_WIDTH - VERDICT_LABEL_WIDTH - VERDICT_VALUE_WIDTH
    marks = []
    for row, verdict in enumerate(VERDICTS):
        count = summary.verdicts[verdict]
        label = _verdict_label(locale, verdict)
        shown = f"{number(locale, count)} ({_percent(locale, _share(count, summary.total))})"
        top = row * VERDICT_ROW_HEIGHT + 4
        width = bar_room * _share(count, most)
        marks += [
            _text(VERDICT_LABEL_WIDTH - 8, top + 14, label, "end"),
            _rect(
                VERDICT_LABEL_WIDTH, top, width, 18, VERDICT_COLOURS[verdict], f"{label}: {shown}"
            ),
            _text(VERDICT_LABEL_WIDTH + width + 6, top + 14, shown),
        ]
    height = len(VERDICTS) * VERDICT_ROW_HEIGHT + 8
    return _section(heading, _svg(heading, height, "".join(marks)) + _legend(locale))


def _value_axis(tallest: int, locale: str) -> list[str]:
    """The baseline and the value axis of a bar chart, marked at zero and at ``tallest``."""
    bottom = PLOT_TOP + PLOT_HEIGHT
    return [
        f'<line class="axis" x1="{PLOT_LEFT}" y1="{bottom}" x2="{PLOT_LEFT + PLOT_WIDTH}" '
        f'y2="{bottom}"/>',
        f'<line class="axis" x1="{PLOT_LEFT}" y1="{PLOT_TOP}" x2="{PLOT_LEFT}" y2="{bottom}"/>',
        _text(PLOT_LEFT - 6, bottom + 4, number(locale, 0), "end"),
        _text(PLOT_LEFT - 6, PLOT_TOP + 4, number(locale, tallest), "end"),
    ]


def _probability_chart(summary: AuditSummary, locale: str) -> str:
    heading = translate(locale, "audience.report.probability")
    bins = summary.probability_bins
    tallest = max(bins, default=0)
    slot = PLOT_WIDTH / PROBABILITY_BINS
    marks = _value_axis(tallest, locale)
    for index, count in enumerate(bins):
        band = f"{index * 100 // PROBABILITY_BINS}–{(index + 1) * 100 // PROBABILITY_BINS}%"
        height = PLOT_HEIGHT * _share(count, tallest)
        x, y = PLOT_LEFT + index * slot + 1, PLOT_TOP + PLOT_HEIGHT - height
        marks.append(_rect(x, y, slot - 2, height, "#4f6d9a", f"{band}: {number(locale, count)}"))
    for tick in range(0, 101, 25):
        x = PLOT_LEFT + PLOT_WIDTH * tick / 100
        marks.append(
            _text(x, PLOT_TOP + PLOT_HEIGHT + 18, _percent(locale, tick / 100, 0), "middle")
        )
    hint = _paragraph(translate(locale, "audience.report.probability_hint"), "muted")
    return _section(heading, hint + _svg(heading, CHART_HEIGHT, "".join(marks)))


def _year_chart(summary: AuditSummary, locale: str) -> str:
    heading = translate(locale, "audience.report.by_year")
    if not summary.by_year:
        return _section(heading, _paragraph(translate(locale, "audience.report.no_data")))
    years = sorted(summary.by_year, key=lambda year: (year == "?", year))
    tallest = max(sum(counts.values()) for counts in summary.by_year.values())
    slot = PLOT_WIDTH / len(years)
    marks = _value_axis(tallest, locale)
    for index, year in enumerate(years):
        counts = summary.by_year[year]
        shown = translate(locale, "audience.report.not_available") if year == "?" else year
        centre = PLOT_LEFT + slot * (index + 0.5)
        top = PLOT_TOP + PLOT_HEIGHT * (1 - _share(sum(counts.values()), tallest))
        marks += _stacked_bar(counts, centre - slot * 0.35, slot * 0.7, tallest, shown, locale)
        marks.append(_text(centre, PLOT_TOP + PLOT_HEIGHT + 18, shown, "middle"))
        marks.append(_text(centre, top - 4, number(locale, sum(counts.values())), "middle"))
    return _section(heading, _svg(heading, CHART_HEIGHT, "".join(marks)) + _legend(locale))


def _stacked_bar(
    counts: Mapping[str, int], x: float, width: float, tallest: int, year: str, locale: str
) -> list[str]:
    """One year's bar: a segment per verdict, stacked from the baseline up."""
    segments = []
    top: float = PLOT_TOP + PLOT_HEIGHT
    for verdict in VERDICTS:
        count = counts.get(verdict, 0)
        height = PLOT_HEIGHT * _share(count, tallest)
        top -= height
        tooltip = f"{year}, {_verdict_label(locale, verdict)}: {number(locale, count)}"
        segments.append(_rect(x, top, width, height, VERDICT_COLOURS[verdict], tooltip))
    return segments


def _history_chart(history: Sequence[ReportRun], locale: str) -> str:
    """The quality score of each run on a 0–100% scale, runs evenly spaced, oldest left."""
    heading = translate(locale, "audience.report.history")
    step = PLOT_WIDTH / max(len(history) - 1, 1)
    marks = [_percent_grid(tick, locale) for tick in range(0, 101, 25)]
    labelled = _labelled_indices(len(history))
    points = []
    for index, run in enumerate(history):
        x = PLOT_LEFT + index * step
        if index in labelled:
            marks.append(_text(x, PLOT_TOP + PLOT_HEIGHT + 18, f"{run.ran_at:%Y-%m-%d}", "middle"))
        if run.quality_score is not None:
            y = PLOT_TOP + PLOT_HEIGHT * (1 - run.quality_score)
            points.append((x, y, _history_tooltip(run, locale)))
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in points)
    marks.append(f'<polyline points="{line}" fill="none" stroke="#1d7a4d" stroke-width="2"/>')
    marks += [
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="#1d7a4d"><title>{_escape(tooltip)}</title>'
        "</circle>"
        for x, y, tooltip in points
    ]
    return _section(heading, _svg(heading, CHART_HEIGHT, "".join(marks)))


def _percent_grid(tick: int, locale: str) -> str:
    y = PLOT_TOP + PLOT_HEIGHT * (1 - tick / 100)
    return (
        f'<line class="axis" x1="{PLOT_LEFT}" y1="{y:.1f}" x2="{PLOT_LEFT + PLOT_WIDTH}" '
        f'y2="{y:.1f}" stroke-dasharray="{"none" if tick == 0 else "2 4"}"/>'
        + _text(PLOT_LEFT - 6, y + 4, _percent(locale, tick / 100, 0), "end")
    )


def _labelled_indices(count: int) -> set[int]:
    """Up to MOST_DATE_LABELS runs, first and last included, evenly spread, so dates never
    overlap."""
    shown = min(count, MOST_DATE_LABELS)
    return {round(k * (count - 1) / max(shown - 1, 1)) for k in range(shown)}


def _history_tooltip(run: ReportRun, locale: str) -> str:
    return translate(
        locale,
        "audience.report.history_point",
        date=f"{run.ran_at:%Y-%m-%d}",
        score=_percent(locale, run.quality_score),
        followers=number(locale, sum(run.verdicts.values())),
    )


def _reasons(summary: AuditSummary, locale: str) -> str:
    heading = translate(locale, "audience.report.reasons")
    if not summary.fake_reasons:
        return _section(heading, _paragraph(translate(locale, "audience.report.no_fakes")))
    fakes = summary.verdicts["fake"]
    rows = [
        [
            _escape(translate(locale, f"{key}.label")),
            _escape(number(locale, count)),
            _escape(_percent(locale, _share(count, fakes))),
        ]
        for key, count in summary.fake_reasons.most_common(MOST_REASONS)
    ]
    headers = [
        translate(locale, "audience.report.column.reason"),
        translate(locale, "audience.report.suspected_fakes"),
        translate(locale, "audience.report.column.share"),
    ]
    return _section(heading, _table(headers, rows, 1))


def _ambassadors(ambassadors: Sequence[ReportAmbassador], locale: str) -> str:
    rows = [
        [
            _escape(number(locale, rank)),
            _name_html(ambassador),
            _escape(ambassador.handle or ""),
            _escape(number(locale, ambassador.replies)),
            _escape(number(locale, ambassador.mentions)),
            _escape(number(locale, ambassador.messages)),
            _escape(
                number(locale, ambassador.followers)
                if ambassador.followers is not None
                else translate(locale, "audience.report.not_available")
            ),
        ]
        for rank, ambassador in enumerate(ambassadors, start=1)
    ]
    headers = [
        translate(locale, f"audience.report.column.{column}")
        for column in ("rank", "name", "handle", "replies", "mentions", "interactions", "followers")
    ]
    hint = _paragraph(translate(locale, "audience.report.ambassadors_hint"), "muted")
    heading = translate(locale, "audience.report.ambassadors")
    return _section(heading, hint + _table(headers, rows, 3))


def _name_html(ambassador: ReportAmbassador) -> str:
    """The name, linked to the contact card only when the link is a path or an http(s) URL."""
    name = _escape(ambassador.name)
    link = ambassador.link
    if link is None or not link.lower().startswith(SAFE_LINK_PREFIXES):
        return name
    return f'<a href="{_escape(link)}">{name}</a>'
