"""The reader of Twitter v1.1 user objects: CSV, JSON Lines, JSON arrays, and bad rows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dialoga.accounts.models import Workspace
from dialoga.audience.models import FollowerProfile
from dialoga.channels.base import ImportFormatError, NormalizedProfile, Rejection
from dialoga.channels.importers.twitter_users import TwitterUsersCsv, TwitterUsersJson
from dialoga.channels.imports import ImportRequest, run_import

HEADER = (
    "id,name,screen_name,statuses_count,followers_count,friends_count,created_at,url,"
    "location,default_profile_image,profile_image_url,profile_banner_url,description,updated"
)
USER = {
    "id_str": "6253282",
    "name": "Twitter API",
    "screen_name": "TwitterAPI",
    "description": "The Real Twitter API.",
    "url": "https://t.co/8IkCzCDr19",
    "entities": {"url": {"urls": [{"expanded_url": "https://developer.twitter.com"}]}},
    "followers_count": 6133636,
    "friends_count": 12,
    "statuses_count": 3656,
    "created_at": "Wed May 23 06:01:13 +0000 2007",
    "profile_image_url_https": "https://pbs.twimg.com/profile_images/942858479592554497/BbazLO9L_normal.jpg",
    "profile_banner_url": "https://pbs.twimg.com/profile_banners/6253282/1497491515",
    "default_profile_image": False,
    "verified": True,
    "status": {"created_at": "Thu Dec 08 19:21:00 +0000 2022", "text": "hello"},
}


def _read(
    source: TwitterUsersCsv | TwitterUsersJson,
) -> tuple[list[NormalizedProfile], list[Rejection]]:
    items = list(source)
    return (
        [item for item in items if isinstance(item, NormalizedProfile)],
        [item for item in items if isinstance(item, Rejection)],
    )


def test_csv_rows_become_profiles_with_normalised_booleans(tmp_path: Path) -> None:
    path = tmp_path / "users.csv"
    path.write_text(
        HEADER + "\n"
        "1,Ann Rossi,ann_r,120,80,60,Fri Apr 06 10:58:22 +0000 2007,http://ann.example,Roma,,"
        "http://a0.twimg.com/profile_images/1/a_normal.png,https://si0.twimg.com/b/1,"
        "ciao,2015-02-14 10:54:49\n"
        "2.0,,bot12345,0,1,2001,Sat Jun 23 15:33:05 +0000 2012,,,1.0,"
        "http://a0.twimg.com/sticky/default_profile_images/default_profile_0_normal.png,,,\n",
        encoding="utf-8",
    )
    profiles, rejected = _read(TwitterUsersCsv(path))
    assert rejected == []
    ann, bot = profiles
    assert (ann.external_id, ann.handle, ann.followers_count, ann.following_count) == (
        "1",
        "ann_r",
        80,
        60,
    )
    assert ann.website == "http://ann.example" and ann.default_banner is False
    assert ann.default_avatar is False and ann.seen_at is not None
    assert ann.seen_at.isoformat() == "2015-02-14T10:54:49+00:00"
    assert bot.external_id == "2" and bot.default_avatar is True and bot.default_banner is True
    assert bot.bio is None and bot.location is None and bot.posts_count == 0


def test_a_missing_count_stays_unknown_and_bad_rows_say_line_and_reason(tmp_path: Path) -> None:
    path = tmp_path / "users.csv"
    path.write_text(
        HEADER + "\n"
        "1,A,a,,5,6,Fri Apr 06 10:58:22 +0000 2007,,,,,,,\n"
        "2,B,b,1,-4,6,Fri Apr 06 10:58:22 +0000 2007,,,,,,,\n"
        "3,C,c,1,4,6,yesterday,,,,,,,\n"
        "4,D,d,1,4\n"
        ",E,e,1,4,6,,,,,,,,\n",
        encoding="utf-8",
    )
    profiles, rejected = _read(TwitterUsersCsv(path))
    assert [p.external_id for p in profiles] == ["1"]
    assert profiles[0].posts_count is None
    assert [(r.line, r.reason.split(" ")[0]) for r in rejected] == [
        (3, "followers_count"),
        (4, "created_at:"),
        (5, "expected"),
        (6, "id"),
    ]


def test_a_csv_of_something_else_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "tweets.csv"
    path.write_text("tweet_id,text\n1,hello\n", encoding="utf-8")
    with pytest.raises(ImportFormatError, match="screen_name, followers_count, friends_count"):
        list(TwitterUsersCsv(path))


def test_json_lines_take_user_objects_and_followers_list_pages(tmp_path: Path) -> None:
    page = {"users": [dict(USER, id_str="7", screen_name="other")], "next_cursor": 0}
    path = tmp_path / "users.jsonl"
    path.write_text(
        json.dumps(USER) + "\n" + json.dumps(page) + "\n{broken\n[1]\n", encoding="utf-8"
    )
    profiles, rejected = _read(TwitterUsersJson(path))
    assert [p.handle for p in profiles] == ["TwitterAPI", "other"]
    api = profiles[0]
    assert api.website == "https://developer.twitter.com"
    assert api.verified is True and api.default_banner is False
    assert api.last_post_at is not None and api.last_post_at.year == 2022
    assert [(r.line, r.reason[:8]) for r in rejected] == [(3, "not JSON"), (4, "expected")]


def test_a_json_array_streams_item_by_item_with_lines(tmp_path: Path) -> None:
    users = [dict(USER, id_str=str(n), screen_name=f"u{n}") for n in range(300)]
    path = tmp_path / "users.json"
    path.write_text("[\n" + ",\n".join(json.dumps(u) for u in users) + "\n]\n", encoding="utf-8")
    profiles, rejected = _read(TwitterUsersJson(path))
    assert rejected == [] and [p.handle for p in profiles] == [f"u{n}" for n in range(300)]


def test_a_truncated_json_array_is_an_error_that_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "users.json"
    path.write_text("[\n" + json.dumps(USER) + ',\n{"id": 1,', encoding="utf-8")
    with pytest.raises(ImportFormatError, match="near line 3"):
        list(TwitterUsersJson(path))


def test_an_import_of_user_objects_keeps_each_snapshot_once_per_day(
    sessions: sessionmaker[Session], workspace: Workspace, tmp_path: Path
) -> None:
    path = tmp_path / "followers.jsonl"
    path.write_text(json.dumps(USER) + "\n" + json.dumps(dict(USER, updated="")) + "\n")
    request = ImportRequest(
        format="twitter-users",
        path=path,
        workspace=workspace.slug,
        channel="x",
        rejects_path=tmp_path / "rejects.jsonl",
    )

    first = run_import(sessions, request)
    again = run_import(sessions, request)

    assert (first.profiles, first.rejected, again.profiles) == (2, 0, 2)
    with sessions() as session:
        stored = session.scalars(select(FollowerProfile)).all()
    assert len(stored) == 1  # the same account, the same day: one snapshot
    (profile,) = stored
    assert (profile.network, profile.handle, profile.website) == (
        "twitter",
        "TwitterAPI",
        "https://developer.twitter.com",
    )
    assert profile.default_banner is False and profile.following_count == 12
