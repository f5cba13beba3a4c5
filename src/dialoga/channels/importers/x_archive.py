"""Reader of the account archive X (Twitter) hands its users: their own posts, their
direct messages, and who follows them and whom they follow.

The archive is a zip (or the folder it unzips to) of ``data/*.js`` files, each a JS
assignment ``window.YTD.<name>.part0 = [...]`` around a JSON array. Each file is loaded
whole, one at a time; its items come out in order, a malformed one as a ``Rejection``
naming the file and the item's 1-based place in its array.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Callable, Iterator
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, Literal

from dialoga.channels.base import (
    ImportFormatError,
    NormalizedAuthor,
    NormalizedMessage,
    NormalizedProfile,
    Parsed,
    Rejection,
    SourceProgress,
)
from dialoga.channels.importers.fields import (
    bounded,
    checked_text,
    iso_date,
    numeric_id,
    raw_excerpt,
    twitter_date,
)

NETWORK = "twitter"
ACCOUNT = "account.js"
MAX_ID_CHARS = 64
MAX_NAME_CHARS = 200
MAX_URL_CHARS = 2000
MAX_CONVERSATION_ID_CHARS = 300
_TWEETS = re.compile(r"tweets?(?:-part(\d+))?\.js")
_DMS = re.compile(r"direct-messages(?:-group)?(?:-part(\d+))?\.js")
_FOLLOWERS = re.compile(r"follower(?:-part(\d+))?\.js")
_FOLLOWING = re.compile(r"following(?:-part(\d+))?\.js")
_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&"))

ItemParser = Callable[[Any, str, int], Iterator[Parsed]]


class _Files:
    """The ``data/`` files of an archive, in a folder or inside a zip, by bare name."""

    def __init__(self, sizes: dict[str, int], read: Callable[[str], bytes]) -> None:
        self.sizes = sizes
        self.read = read

    def matching(self, pattern: re.Pattern[str]) -> list[str]:
        found = [(m, name) for name in self.sizes if (m := pattern.fullmatch(name))]
        return [name for m, name in sorted(found, key=lambda f: (int(f[0].group(1) or 0), f[1]))]


class XArchive:
    """Yields the messages, profiles and rejections of an X account archive."""

    def __init__(self, path: Path, brand_ids: tuple[str, ...] = ()) -> None:
        self.path = path
        self._files = open_archive(path)
        self._done = 0
        total = sum(self._files.sizes[name] for name, _ in self._plan())
        self.progress = SourceProgress(total, lambda: self._done)
        self._pending: list[Rejection] = []
        self._owner = self._find_owner(brand_ids)
        self._brand_ids = frozenset({self._owner.external_id, *brand_ids})

    def __iter__(self) -> Iterator[Parsed]:
        yield from self._pending
        for name, parse in self._plan():
            if name != ACCOUNT:
                yield from self._read(name, parse)
        self._done = self.progress.total

    def _plan(self) -> list[tuple[str, ItemParser]]:
        files = self._files
        plan: list[tuple[str, ItemParser]] = [(ACCOUNT, _skip)] if ACCOUNT in files.sizes else []
        plan += [(name, self._tweet) for name in files.matching(_TWEETS)]
        plan += [(name, self._conversation) for name in files.matching(_DMS)]
        plan += [(name, _relation("follower")) for name in files.matching(_FOLLOWERS)]
        plan += [(name, _relation("following")) for name in files.matching(_FOLLOWING)]
        return plan

    def _read(self, name: str, parse: ItemParser) -> Iterator[Parsed]:
        source = f"data/{name}"
        items = load_items(self._files.read(name), source)
        if isinstance(items, Rejection):
            yield items
        else:
            for line, item in enumerate(items, 1):
                yield from parse(item, source, line)
        self._done += self._files.sizes[name]

    def _find_owner(self, brand_ids: tuple[str, ...]) -> NormalizedAuthor:
        """The archive's account, from account.js or else the first brand id given."""
        if ACCOUNT in self._files.sizes:
            self._done += self._files.sizes[ACCOUNT]
            owner = self._account_owner()
            if owner is not None:
                return owner
            why = "its data/account.js cannot be read"
        else:
            why = "it has no data/account.js"
        numeric = [b for b in brand_ids if b.strip().isdigit()]
        if numeric:
            return NormalizedAuthor(NETWORK, numeric[0].strip(), is_brand=True)
        raise ImportFormatError(
            f"{self.path.name} does not say whose account it is ({why}): "
            "name the account's numeric id with --brand."
        )

    def _account_owner(self) -> NormalizedAuthor | None:
        items = load_items(self._files.read(ACCOUNT), f"data/{ACCOUNT}")
        if isinstance(items, Rejection):
            self._pending.append(items)
            return None
        for line, item in enumerate(items, 1):
            try:
                return parse_account(item)
            except ValueError as error:
                self._pending.append(_rejection(f"data/{ACCOUNT}", line, str(error), item))
        return None

    def _tweet(self, item: Any, source: str, line: int) -> Iterator[Parsed]:
        try:
            yield parse_tweet(item, self._owner)
        except ValueError as error:
            yield _rejection(source, line, str(error), item)

    def _conversation(self, item: Any, source: str, line: int) -> Iterator[Parsed]:
        try:
            thread_key, messages = dm_thread(item)
        except ValueError as error:
            yield _rejection(source, line, str(error), item)
            return
        for number, entry in enumerate(messages, 1):
            try:
                message = parse_dm(entry, thread_key, self._owner, self._brand_ids)
            except ValueError as error:
                yield _rejection(source, line, f"message {number}: {error}", entry)
                continue
            if message is not None:
                yield message


def open_archive(path: Path) -> _Files:
    """The archive's data files; ``ImportFormatError`` when ``path`` is not an archive."""
    try:
        files = _folder_files(path) if path.is_dir() else _zip_files(path)
    except (zipfile.BadZipFile, OSError):
        raise ImportFormatError(
            f"{path.name} is not an X archive: it is neither a folder nor a zip file."
        ) from None
    if files is None:
        raise ImportFormatError(
            f"{path.name} is not an X archive: it has no data/account.js or data/tweets.js."
        )
    return files


def _is_data(names: set[str]) -> bool:
    return ACCOUNT in names or any(_TWEETS.fullmatch(name) for name in names)


def _folder_files(path: Path) -> _Files | None:
    candidates = [path / "data", path, *(child / "data" for child in sorted(path.iterdir()))]
    for folder in candidates:
        if folder.is_dir():
            sizes = {p.name: p.stat().st_size for p in folder.iterdir() if p.is_file()}
            if _is_data(set(sizes)):
                return _Files(sizes, partial(_folder_read, folder))
    return None


def _zip_files(path: Path) -> _Files | None:
    with zipfile.ZipFile(path) as archive:
        infos = [info for info in archive.infolist() if not info.is_dir()]
    by_prefix: dict[str, dict[str, int]] = {}
    for info in infos:
        folder, _, name = info.filename.rpartition("/")
        if folder == "data" or folder.endswith("/data"):
            by_prefix.setdefault(folder + "/", {})[name] = info.file_size
    for prefix in sorted(by_prefix, key=len):
        if _is_data(set(by_prefix[prefix])):
            return _Files(by_prefix[prefix], partial(_zip_read, path, prefix))
    return None


def _folder_read(folder: Path, name: str) -> bytes:
    return (folder / name).read_bytes()


def _zip_read(path: Path, prefix: str, name: str) -> bytes:
    with zipfile.ZipFile(path) as archive:
        return archive.read(prefix + name)


def load_items(data: bytes, source: str) -> list[Any] | Rejection:
    """The JSON array of one archive file, or a rejection of the whole file."""
    text = data.decode("utf-8-sig", errors="surrogateescape")
    if not text.lstrip().startswith("["):
        text = text.partition("=")[2]
    try:
        items = json.loads(text)
    except (ValueError, RecursionError) as error:
        reason = f"the file is not a JS assignment of JSON: {error}"
        return Rejection(source, 0, reason, raw_excerpt(text))
    if not isinstance(items, list):
        return Rejection(source, 0, "the file does not hold a JSON array", raw_excerpt(text))
    return items


def parse_account(item: Any) -> NormalizedAuthor:
    """The archive's owner from an account.js item."""
    account = _object(_object(item, "the item").get("account"), "account")
    return NormalizedAuthor(
        NETWORK,
        _id(account, "accountId"),
        handle=_optional_text(account, "username", MAX_NAME_CHARS),
        display_name=_optional_text(account, "accountDisplayName", MAX_NAME_CHARS),
        is_brand=True,
    )


def parse_tweet(item: Any, owner: NormalizedAuthor) -> NormalizedMessage:
    """One of the owner's own tweets (wrapped in ``{"tweet": ...}`` or not)."""
    tweet = _object(item, "the item")
    tweet = _object(tweet["tweet"], "tweet") if "tweet" in tweet else tweet
    id_key = "id" if "id" in tweet and "id_str" not in tweet else "id_str"
    external_id = _id(tweet, id_key)
    parent = (
        _id(tweet, "in_reply_to_status_id_str") if tweet.get("in_reply_to_status_id_str") else None
    )
    text = _text(tweet, "full_text" if "full_text" in tweet else "text", empty=True)
    return NormalizedMessage(
        external_id=external_id,
        author=owner,
        created_at=_date(tweet, "created_at", twitter_date),
        text=_unescape(text),
        kind="reply" if parent else "post",
        direction="outbound",
        in_reply_to=parent,
        language=_language(tweet.get("lang")),
        url=f"https://twitter.com/{owner.handle or 'i/web'}/status/{external_id}",
    )


def dm_thread(item: Any) -> tuple[str, list[Any]]:
    """The thread key and the raw message entries of a direct-messages.js item."""
    conversation = _object(_object(item, "the item").get("dmConversation"), "dmConversation")
    messages = conversation.get("messages")
    if not isinstance(messages, list):
        raise ValueError("messages is not a list")
    conversation_id = _text(conversation, "conversationId")
    bounded(conversation_id, "conversationId", MAX_CONVERSATION_ID_CHARS)
    return "dm:" + conversation_id, messages


def parse_dm(
    entry: Any, thread_key: str, owner: NormalizedAuthor, brand_ids: frozenset[str]
) -> NormalizedMessage | None:
    """One direct message; ``None`` for the events of a conversation that are not messages."""
    event = _object(entry, "the entry")
    if "messageCreate" not in event:
        return None
    message = _object(event["messageCreate"], "messageCreate")
    sender = _id(message, "senderId")
    is_brand = sender in brand_ids
    author = NormalizedAuthor(NETWORK, sender, is_brand=is_brand)
    return NormalizedMessage(
        external_id=_id(message, "id"),
        author=owner if sender == owner.external_id else author,
        created_at=_date(message, "createdAt", iso_date),
        text=_text(message, "text", empty=True),
        kind="dm",
        direction="outbound" if is_brand else "inbound",
        thread_key=thread_key,
    )


def parse_profile(item: Any, relation: Literal["follower", "following"]) -> NormalizedProfile:
    """A follower or followed account: only its id and link are in the archive."""
    record = _object(_object(item, "the item").get(relation), relation)
    return NormalizedProfile(
        network=NETWORK,
        external_id=_id(record, "accountId"),
        relation=relation,
        profile_url=_optional_text(record, "userLink", MAX_URL_CHARS),
    )


def _relation(relation: Literal["follower", "following"]) -> ItemParser:
    def parse(item: Any, source: str, line: int) -> Iterator[Parsed]:
        try:
            yield parse_profile(item, relation)
        except ValueError as error:
            yield _rejection(source, line, str(error), item)

    return parse


def _skip(_item: Any, _source: str, _line: int) -> Iterator[Parsed]:
    return iter(())


def _object(value: Any, what: str) -> dict[str, Any]:
    if value is None:
        raise ValueError(f"{what} is missing")
    if not isinstance(value, dict):
        raise ValueError(f"{what} is not an object")
    return value


def _text(record: dict[str, Any], key: str, *, empty: bool = False) -> str:
    value = record.get(key)
    if value is None or (value == "" and not empty):
        raise ValueError(f"{key} is missing")
    if not isinstance(value, str):
        raise ValueError(f"{key} is not text")
    return checked_text(value, key)


def _optional_text(record: dict[str, Any], key: str, limit: int) -> str | None:
    value = record.get(key)
    if not isinstance(value, str) or not value:
        return None
    return bounded(checked_text(value, key), key, limit)


def _id(record: dict[str, Any], key: str) -> str:
    return bounded(numeric_id(_text(record, key), key), key, MAX_ID_CHARS)


def _date(record: dict[str, Any], key: str, parse: Callable[[str], datetime]) -> datetime:
    value = _text(record, key)
    try:
        return parse(value)
    except ValueError:
        raise ValueError(f"{key} is not a date: {value[:40]!r}") from None


def _language(value: Any) -> str | None:
    if isinstance(value, str) and len(value) == 2 and value.isascii() and value.isalpha():
        return value.lower()
    return None


def _unescape(text: str) -> str:
    """Tweets escape ``<``, ``>`` and ``&`` as HTML entities; give back the text typed."""
    for entity, character in _ENTITIES:
        text = text.replace(entity, character)
    return text


def _rejection(source: str, line: int, reason: str, item: Any) -> Rejection:
    return Rejection(source, line, reason, raw_excerpt(json.dumps(item, ensure_ascii=False)))
