"""Verdicts and their reasons: the shipped model on clear cases, missing data, inactivity,
engagement, and the additive tables against the pipeline they were read from."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from dialoga.audience import train
from dialoga.audience.features import FEATURES, feature_matrix
from dialoga.audience.model import AdditiveModel, shipped_card, shipped_model
from dialoga.audience.verdicts import AuditSettings, Engagement, judge, reasons_text
from dialoga.channels.base import NormalizedProfile

NOW = datetime(2026, 12, 1, tzinfo=UTC)
REAL = NormalizedProfile(
    network="mastodon",
    external_id="https://mastodon.social/users/giulia",
    handle="giulia@mastodon.social",
    display_name="Giulia Bianchi",
    bio="Fotografa a Torino, amo la montagna e il caffè del mattino.",
    followers_count=640,
    following_count=410,
    posts_count=5200,
    account_created_at=NOW - timedelta(days=2900),
    last_post_at=NOW - timedelta(days=2),
    default_avatar=False,
    default_banner=False,
    website="https://giulia.example",
    location="Torino",
)
BOUGHT = NormalizedProfile(
    network="twitter",
    external_id="99",
    handle="marco4839201",
    display_name="marco",
    followers_count=12,
    following_count=4800,
    posts_count=0,
    account_created_at=NOW - timedelta(days=9),
    default_avatar=True,
    default_banner=True,
)


def test_a_bought_account_is_fake_with_its_numbers_in_the_reasons() -> None:
    (verdict,) = judge([BOUGHT], NOW)
    assert verdict.verdict == "fake" and verdict.fake_probability is not None
    assert verdict.fake_probability > 0.9 and verdict.confidence == "high"
    english = reasons_text(verdict, "en")
    assert "follows 4,800 accounts, followed by 12" in english
    assert "account 9 days old with 0 posts" in english
    assert "segue 4.800 account, seguito da 12" in reasons_text(verdict, "it")


def test_a_real_person_is_real_and_engagement_decides_engaged_or_passive() -> None:
    (alone,) = judge([REAL], NOW)
    assert alone.verdict == "real" and (alone.fake_probability or 1) < 0.2
    assert "5.200 post in 2.900 giorni" in reasons_text(alone, "it")
    talked = Engagement({REAL.external_id: 3})
    (engaged,) = judge([REAL], NOW, engagement=talked)
    assert engaged.verdict == "engaged"
    assert reasons_text(engaged, "en").startswith("wrote to the brand 3 times")
    (passive,) = judge([REAL], NOW, engagement=Engagement({}))
    assert passive.verdict == "passive"


def test_inactivity_needs_a_known_last_post_and_its_period_is_configurable() -> None:
    silent = replace(REAL, last_post_at=NOW - timedelta(days=400))
    unknown = replace(REAL, last_post_at=None)
    verdicts = judge([silent, unknown], NOW, AuditSettings(inactive_days=180))
    assert [v.verdict for v in verdicts] == ["inactive", "real"]
    assert "no post for 400 days" in reasons_text(verdicts[0], "en")
    (patient,) = judge([silent], NOW, AuditSettings(inactive_days=500))
    assert patient.verdict == "real"


def test_missing_fields_lower_the_confidence_instead_of_failing() -> None:
    no_dates = replace(REAL, account_created_at=None, default_avatar=None, default_banner=None)
    ids_only = NormalizedProfile(network="twitter", external_id="123")
    partial, unknown = judge([no_dates, ids_only], NOW)
    assert partial.confidence == "low" and partial.fake_probability is not None
    assert (
        "lower confidence: account creation date, profile picture, header image unknown"
        in reasons_text(partial, "en")
    )
    assert "data di creazione dell'account" in reasons_text(partial, "it")
    assert unknown.verdict == "unknown" and unknown.fake_probability is None
    assert "solo l'id" in reasons_text(unknown, "it")


def test_age_counts_from_when_the_profile_was_captured() -> None:
    captured = datetime(2015, 2, 14, tzinfo=UTC)
    old = replace(BOUGHT, account_created_at=captured - timedelta(days=9), seen_at=captured)
    (verdict,) = judge([old], NOW)
    assert "account 9 days old" in reasons_text(verdict, "en")


def test_the_tables_reproduce_the_pipeline_they_were_read_from() -> None:
    rng = np.random.default_rng(0)
    matrix, probe = _profiles_like(rng, 400), _profiles_like(rng, 50)
    labels = (matrix[:, 0] - matrix[:, 1] + 0.3 * matrix[:, 7] > 0).astype(int)
    pipeline = train.additive_pipeline().fit(matrix, labels)
    model = train.tabulate(pipeline, matrix)
    direct = pipeline.predict_proba(probe)[:, 1]
    tabled = model.probabilities(model.contributions(probe))
    assert np.abs(direct - tabled).max() < 0.01


def _profiles_like(rng: np.random.Generator, rows: int) -> np.ndarray:
    matrix = rng.normal(size=(rows, len(FEATURES)))
    for column, name in enumerate(FEATURES):
        if name in train.BINARY:
            matrix[:, column] = rng.integers(0, 2, size=rows)
    return matrix


def test_a_model_file_of_other_features_is_refused(tmp_path: object) -> None:
    model = shipped_model()
    other = AdditiveModel(("a",), model.grid[:1], model.effect[:1], 0.0, 0.5)
    path = tmp_path / "other.npz"  # type: ignore[operator]
    other.save(path)
    with pytest.raises(ValueError, match="retrain it"):
        AdditiveModel.load(path)


def test_the_card_scores_the_shipped_model_beside_its_baselines() -> None:
    scores = shipped_card()["held_out_scores"]
    shipped = scores["additive model (shipped)"]
    assert shipped["mcc"] > scores["rule: followers < 30"]["mcc"]
    assert shipped["mcc"] > scores["random forest, counts and ratio"]["mcc"]
    assert scores["table_vs_pipeline_max_difference"] < 0.01


def test_a_batch_is_scored_like_its_profiles_one_by_one() -> None:
    crowd = [replace(BOUGHT, external_id=str(n), following_count=100 * n) for n in range(1, 30)]
    together = [v.fake_probability for v in judge([*crowd, REAL], NOW)]
    alone = [judge([p], NOW)[0].fake_probability for p in [*crowd, REAL]]
    assert together == alone
    assert feature_matrix([], NOW).shape == (0, len(FEATURES))
