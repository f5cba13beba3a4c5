"""The X account-archive importer, on archives built from captured-shape fixture files."""

from __future__ import annotations

import json
import shutil
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from dialoga.accounts.models import Workspace
from dialoga.audience.models import FollowerProfile
from dialoga.channels.base import (
    ImportFormatError,
    NormalizedMessage,
    NormalizedProfile,
    Parsed,
    Rejection,
)
from dialoga.channels.importers.registry import FORMATS
from dialoga.channels.importers.x_archive import XArchive
from dialoga.channels.imports import ImportRequest, ImportSummary, run_import
from dialoga.contacts.models import Identity
from dialoga.inbox.models import Conversation, Message

FIXTURES = Path(__file__).parent.parent / "fixtures" / "x_archive"
OWNER = "1046382915730821120"
GIULIA = "2244994945"
DM_GIULIA = "dm:1046382915730821120-2244994945"
DM_GROUP = "dm:1163920385734455296"
MESSAGES = 12  # 5 tweets, 5 one-to-one DMs, 2 group DMs


def build_folder(
    root: Path, files: dict[str, str] | None = None, *, skip: tuple[str, ...] = ()
) -> Path:
    """An unzipped archive: the fixture files under ``root/data``, plus or minus some."""
    data = root / "data"
    data.mkdir(parents=True)
    for fixture in sorted(FIXTURES.glob("*.js")):
        if fixture.name not in skip:
            shutil.copy(fixture, data / fixture.name)
    for name, text in (files or {}).items():
        (data / name).write_text(text, encoding="utf-8")
    (root / "Your archive.html").write_text("<html></html>", encoding="utf-8")
    return root


def build_zip(folder: Path, target: Path, top: str = "") -> Path:
    """Zip ``folder`` as X does, optionally under one top-level folder."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, top + path.relative_to(folder).as_posix())
    return target


def js(name: str, items: object) -> str:
    return f"window.YTD.{name}.part0 = {json.dumps(items, indent=2, ensure_ascii=False)}"


def parse(path: Path, brand_ids: tuple[str, ...] = ()) -> list[Parsed]:
    return list(XArchive(path, brand_ids))


def messages(items: list[Parsed]) -> dict[str, NormalizedMessage]:
    return {i.external_id: i for i in items if isinstance(i, NormalizedMessage)}


def rejections(items: list[Parsed]) -> list[Rejection]:
    return [i for i in items if isinstance(i, Rejection)]


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    return build_folder(tmp_path / "twitter-2024-05-02-a1b2c3")


def test_tweets_are_the_brands_outbound_posts_and_replies(archive: Path) -> None:
    found = messages(parse(archive))
    post = found["1050118621198921728"]
    assert (post.kind, post.direction, post.in_reply_to) == ("post", "outbound", None)
    assert post.author.external_id == OWNER
    assert post.author.is_brand and post.author.handle == "caffeaurora"
    assert post.author.display_name == "Caffè Aurora"
    assert post.created_at == datetime(2018, 10, 10, 20, 19, 24, tzinfo=UTC)
    assert post.text.endswith("via Roma 12 & in #caffè")
    assert post.language == "it"
    assert post.url == "https://twitter.com/caffeaurora/status/1050118621198921728"
    reply = found["1050122201405583360"]
    assert (reply.kind, reply.in_reply_to) == ("reply", "1050120455301963776")
    english = found["1062744410293157888"]
    assert english.language == "en" and "<before>" in english.text
    assert found["1071003124568973312"].language is None  # "und"


def test_direct_messages_are_threaded_by_conversation(archive: Path) -> None:
    dms = [m for m in messages(parse(archive)).values() if m.kind == "dm"]
    by_thread: dict[str | None, list[NormalizedMessage]] = {}
    for message in dms:
        by_thread.setdefault(message.thread_key, []).append(message)
    assert sorted(by_thread, key=str) == sorted(
        [DM_GIULIA, "dm:1046382915730821120-3312456789", DM_GROUP]
    )
    giulia = by_thread[DM_GIULIA]
    assert [m.direction for m in giulia] == ["inbound", "outbound", "inbound"]
    assert giulia[0].author.external_id == GIULIA and not giulia[0].author.is_brand
    assert giulia[1].author.is_brand and giulia[1].author.handle == "caffeaurora"
    assert giulia[0].created_at == datetime(2018, 10, 10, 21, 8, 32, 118000, tzinfo=UTC)
    group = by_thread[DM_GROUP]  # joinConversation and participantsJoin are skipped
    assert [(m.author.external_id, m.direction) for m in group] == [
        ("907812345", "inbound"),
        (OWNER, "outbound"),
    ]


def test_followers_and_following_become_bare_profiles(archive: Path) -> None:
    profiles = [i for i in parse(archive) if isinstance(i, NormalizedProfile)]
    assert [(p.relation, p.external_id) for p in profiles] == [
        ("follower", GIULIA),
        ("follower", "3312456789"),
        ("follower", "1479201838472028161"),
        ("following", GIULIA),
        ("following", "783214"),
    ]
    first = profiles[0]
    assert first.network == "twitter"
    assert first.profile_url == f"https://twitter.com/intent/user?user_id={GIULIA}"
    assert first.handle is None and first.followers_count is None and first.verified is None


@pytest.mark.parametrize("top", ["", "twitter-2024-05-02-a1b2c3/"])
def test_a_zip_reads_like_the_folder(archive: Path, tmp_path: Path, top: str) -> None:
    zipped = build_zip(archive, tmp_path / "archive.zip", top)
    from_zip, from_folder = parse(zipped), parse(archive)
    assert len(from_zip) == MESSAGES + 5
    assert from_zip == from_folder


def test_progress_counts_the_bytes_of_the_files_read(archive: Path) -> None:
    source = XArchive(archive, ())
    sizes = {p.name: p.stat().st_size for p in (archive / "data").glob("*.js")}
    assert source.progress.total == sum(sizes.values())
    iterator: Iterator[Parsed] = iter(source)
    next(iterator)  # the first tweet: account.js is read, tweets.js not finished
    assert source.progress.done == sizes["account.js"]
    list(iterator)
    assert source.progress.done == source.progress.total


def test_an_older_archive_without_the_tweet_wrapper(tmp_path: Path) -> None:
    folder = build_folder(tmp_path / "old", skip=("tweets.js",))
    shutil.copy(FIXTURES / "legacy" / "tweet.js", folder / "data" / "tweet.js")
    found = messages(parse(folder))
    assert found["1017391440382644224"].kind == "post"
    assert found["1017392290145931264"].in_reply_to == "1017392001233829890"
    assert "1050118621198921728" not in found


def test_without_account_js_the_brand_id_names_the_owner(tmp_path: Path) -> None:
    folder = build_folder(tmp_path / "a", skip=("account.js",))
    dms = messages(parse(folder, (OWNER,)))
    assert dms["1050131897472360453"].direction == "outbound"
    assert dms["1050131897472360453"].author.is_brand
    assert dms["1050130982334021636"].direction == "inbound"
    for brand_ids in [(), ("@caffeaurora",)]:  # a handle is not the id DMs name senders by
        with pytest.raises(ImportFormatError, match=r"does not say whose account it is .*--brand"):
            XArchive(folder, brand_ids)


def test_another_brand_id_makes_its_dms_outbound(archive: Path) -> None:
    dms = messages(parse(archive, ("907812345",)))
    assert dms["1163920401869877252"].direction == "outbound"
    assert dms["1163920401869877252"].author.is_brand


def test_malformed_items_are_rejected_with_file_line_and_reason(tmp_path: Path) -> None:
    tweets = [
        {
            "tweet": {
                "id_str": "11",
                "created_at": "Wed Oct 10 20:19:24 +0000 2018",
                "full_text": "ok",
            }
        },
        {"tweet": {"created_at": "Wed Oct 10 20:19:24 +0000 2018", "full_text": "senza id"}},
        {"tweet": {"id_str": "13", "created_at": "ieri sera", "full_text": "data sbagliata"}},
        "not an object",
        {"tweet": {"id_str": "15", "created_at": "Wed Oct 10 20:19:24 +0000 2018", "full_text": 7}},
    ]
    dms = [
        {
            "dmConversation": {
                "conversationId": "1-2",
                "messages": [
                    {
                        "messageCreate": {
                            "id": "21",
                            "senderId": "2",
                            "text": "ciao",
                            "createdAt": "2019-01-01",
                        }
                    },
                    {
                        "messageCreate": {
                            "id": "22",
                            "senderId": "2",
                            "text": "x",
                            "createdAt": "31/12/2019",
                        }
                    },
                ],
            }
        },
        {"dmConversation": {"messages": []}},
    ]
    folder = build_folder(
        tmp_path / "bad",
        {
            "tweets.js": js("tweets", tweets),
            "direct-messages.js": js("direct_messages", dms),
            "follower.js": 'window.YTD.follower.part0 = [ { "follower" : { ',
        },
    )
    items = parse(folder)
    found = [(r.source, r.line, r.reason) for r in rejections(items)]
    assert found == [
        ("data/tweets.js", 2, "id_str is missing"),
        ("data/tweets.js", 3, "created_at is not a date: 'ieri sera'"),
        ("data/tweets.js", 4, "the item is not an object"),
        ("data/tweets.js", 5, "full_text is not text"),
        ("data/direct-messages.js", 1, "message 2: createdAt is not a date: '31/12/2019'"),
        ("data/direct-messages.js", 2, "conversationId is missing"),
        ("data/follower.js", 0, found[-1][2]),
    ]
    assert found[-1][2].startswith("the file is not a JS assignment of JSON")
    assert json.loads(rejections(items)[1].raw)["tweet"]["full_text"] == "data sbagliata"
    assert {"11", "21"} <= set(messages(items))
    assert sum(isinstance(i, NormalizedProfile) for i in items) == 2  # following.js still read


def test_bytes_that_are_not_utf8_reject_only_their_item(tmp_path: Path) -> None:
    tweet = '{"tweet": {"id_str": "%s", "created_at": "2019-01-01T10:00:00Z", "full_text": "%s"}}'
    body = "[" + tweet % ("31", "caff\xe8 buono") + ", " + tweet % ("32", "caff\xe8") + "]"
    folder = build_folder(tmp_path / "latin1", skip=("tweets.js",))
    (folder / "data" / "tweets.js").write_bytes(
        b"window.YTD.tweets.part0 = " + body.encode("utf-8").replace(b'\xc3\xa8"}}]', b'\xe8"}}]')
    )
    items = parse(folder)
    assert messages(items)["31"].text == "caffè buono"
    assert [(r.line, r.reason) for r in rejections(items)] == [(2, "full_text is not valid UTF-8")]
    assert '"caff\\xe8"' in rejections(items)[0].raw


@pytest.mark.parametrize("kind", ["text file", "empty folder", "zip of photos"])
def test_a_path_that_is_not_an_archive_is_refused(tmp_path: Path, kind: str) -> None:
    if kind == "text file":
        path = tmp_path / "tweets.csv"
        path.write_text("tweet_id,text\n1,ciao\n", encoding="utf-8")
    elif kind == "empty folder":
        path = tmp_path / "download"
        (path / "data").mkdir(parents=True)
    else:
        path = tmp_path / "photos.zip"
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("data/tweets_media/1-a.jpg", b"\xff\xd8")
    with pytest.raises(ImportFormatError) as raised:
        XArchive(path, (OWNER,))
    message = str(raised.value)
    assert message.startswith(f"{path.name} is not an X archive: ")
    assert message.endswith(".") and message.count(". ") == 0


def test_the_format_is_registered_for_twitter() -> None:
    spec = FORMATS["x-archive"]
    assert spec.network == "twitter"
    assert spec.name == "x-archive"


def test_the_registry_opens_an_archive(archive: Path) -> None:
    source = FORMATS["x-archive"].open(archive, ("907812345",), "twitter")
    assert isinstance(source, XArchive)
    dms = messages(list(source))
    assert dms["1163920401869877252"].direction == "outbound"  # brand ids are passed on


def _import(
    sessions: sessionmaker[Session], path: Path, rejects: Path, brand_ids: tuple[str, ...] = ()
) -> ImportSummary:
    request = ImportRequest(
        format="x-archive",
        path=path,
        workspace="acme",
        channel="X Caffè Aurora",
        rejects_path=rejects,
        brand_ids=brand_ids,
        batch_size=5,
    )
    return run_import(sessions, request)


def test_import_stores_messages_conversations_and_profiles(
    sessions: sessionmaker[Session], workspace: Workspace, archive: Path, tmp_path: Path
) -> None:
    zipped = build_zip(archive, tmp_path / "archive.zip", "twitter-2024-05-02-a1b2c3/")
    summary = _import(sessions, zipped, tmp_path / "rejects.jsonl")
    assert (summary.imported, summary.already_present, summary.rejected) == (MESSAGES, 0, 0)
    assert summary.profiles == 5 and summary.rejects_path is None
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == MESSAGES
        conversations = {c.thread_key: c for c in session.scalars(select(Conversation))}
        assert len(conversations) == 7  # 4 tweet threads, 3 DM threads
        giulia = conversations["thread:" + DM_GIULIA]
        assert (giulia.kind, giulia.message_count, giulia.inbound_count) == ("dm", 3, 2)
        assert conversations["thread:" + DM_GROUP].message_count == 2
        assert conversations["1062744410293157888"].message_count == 2  # self-thread
        assert conversations["1050120455301963776"].message_count == 1  # reply to a customer
        rows = session.execute(select(Message.external_id, Message.direction))
        directions = {external_id: direction for external_id, direction in rows}
        assert directions["1050131897472360453"] == "outbound"
        assert directions["1050133601446055941"] == "inbound"
        brand = session.scalars(select(Identity).where(Identity.is_brand)).all()
        assert [(b.external_id, b.handle) for b in brand] == [(OWNER, "caffeaurora")]
        profiles = session.execute(
            select(FollowerProfile.relation, func.count()).group_by(FollowerProfile.relation)
        )
        assert {relation: count for relation, count in profiles} == {"follower": 3, "following": 2}


def test_importing_again_changes_nothing(
    sessions: sessionmaker[Session], workspace: Workspace, archive: Path, tmp_path: Path
) -> None:
    _import(sessions, archive, tmp_path / "rejects.jsonl")
    again = _import(sessions, archive, tmp_path / "rejects.jsonl")
    assert (again.imported, again.already_present, again.rejected) == (0, MESSAGES, 0)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == MESSAGES
        assert session.scalar(select(func.count()).select_from(Conversation)) == 7
        assert session.scalar(select(func.count()).select_from(FollowerProfile)) == 5


def test_import_writes_malformed_items_to_the_rejects_file(
    sessions: sessionmaker[Session], workspace: Workspace, tmp_path: Path
) -> None:
    followers = [
        {"follower": {"accountId": "41"}},
        {"follower": {"accountId": "@lucia"}},
        {"follower": {"accountId": "9" * 100}},  # longer than any id column keeps
    ]
    group = [
        {
            "dmConversation": {
                "conversationId": "1163920385734455296",
                "messages": [
                    {
                        "messageCreate": {
                            "id": "51",
                            "senderId": "907812345",
                            "text": "a\u0000b",
                            "createdAt": "2019-08-20T19:37:46.010Z",
                        }
                    },
                    {
                        "messageCreate": {
                            "id": "52",
                            "senderId": "907812345",
                            "text": "ci siamo",
                            "createdAt": "2019-08-20T19:38:46.010Z",
                        }
                    },
                ],
            }
        }
    ]
    folder = build_folder(
        tmp_path / "bad",
        {
            "follower.js": js("follower", followers),
            "following.js": "window.YTD.following.part0 = {}",
            "direct-messages-group.js": js("direct_messages_group", group),
        },
    )
    summary = _import(sessions, folder, tmp_path / "out" / "rejects.jsonl")
    assert summary.imported == MESSAGES - 1 and summary.rejected == 4
    assert summary.rejects_path == tmp_path / "out" / "rejects.jsonl"
    lines = [json.loads(line) for line in summary.rejects_path.read_text("utf-8").splitlines()]
    assert [(r["file"], r["line"], r["reason"]) for r in lines] == [
        ("data/direct-messages-group.js", 1, "message 1: text contains a NUL character"),
        ("data/follower.js", 2, "accountId must be a number, not '@lucia'"),
        ("data/follower.js", 3, "accountId is longer than 64 characters"),
        ("data/following.js", 0, "the file does not hold a JSON array"),
    ]
    assert json.loads(lines[1]["raw"]) == followers[1]
    with sessions() as session:
        stored = session.scalars(select(FollowerProfile.external_id)).all()
        assert stored == ["41"]
        assert session.scalar(select(Message.text).where(Message.external_id == "52")) == "ci siamo"
