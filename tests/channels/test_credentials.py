"""Channel credentials at rest: sealed, never shown, readable with any configured key,
re-keyed by ``dialoga credentials rotate``."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dialoga.accounts.models import AuditLog, Workspace
from dialoga.channels.actions import do_get_or_create_channel
from dialoga.channels.credentials import credentials_of, do_rotate_credentials, do_set_credentials
from dialoga.channels.models import Channel, ChannelCredential
from dialoga.core.db import transaction
from dialoga.core.settings import Settings
from dialoga.core.vault import CredentialKeyError, Secret, Vault, new_key

TOKEN = {"access_token": "zX9-very-secret-token", "instance": "https://mastodon.social"}
DIALOGA = str(Path(sys.executable).parent / "dialoga")


def _channel(sessions: sessionmaker[Session], workspace: Workspace, name: str) -> Channel:
    with transaction(sessions) as session:
        return do_get_or_create_channel(session, workspace.id, name, "mastodon", actor="test")


def _store(sessions: sessionmaker[Session], channel: Channel, vault: Vault) -> None:
    with transaction(sessions) as session:
        do_set_credentials(session, channel, Secret(dict(TOKEN)), vault, actor="test")


def test_credentials_are_sealed_in_the_database_and_never_shown(
    sessions: sessionmaker[Session], workspace: Workspace
) -> None:
    vault = Vault([new_key().encode()])
    channel = _channel(sessions, workspace, "social")

    _store(sessions, channel, vault)

    with sessions() as session:
        sealed = session.scalar(select(ChannelCredential.sealed))
        logged = session.scalars(select(AuditLog.detail)).all()
        secret = credentials_of(session, channel, vault)
    assert sealed is not None and "zX9" not in sealed and "mastodon.social" not in sealed
    assert "zX9" not in repr(logged)
    assert secret is not None and secret.fields == TOKEN
    assert "zX9" not in repr(secret) and "zX9" not in str(secret) and "zX9" not in f"{secret}"


def test_rotation_moves_every_credential_to_the_newest_key(
    sessions: sessionmaker[Session], workspace: Workspace
) -> None:
    old, new = new_key().encode(), new_key().encode()
    channels = [_channel(sessions, workspace, f"c{n}") for n in range(3)]
    for channel in channels:
        _store(sessions, channel, Vault([old]))

    both = Vault([new, old])  # the new key first: it encrypts, both decrypt
    with transaction(sessions) as session:
        assert do_rotate_credentials(session, both) == 3

    with sessions() as session:
        only_new = Vault([new])
        read = [credentials_of(session, channel, only_new) for channel in channels]
        assert [secret.fields if secret else None for secret in read] == [TOKEN] * 3
        with pytest.raises(CredentialKeyError, match="cannot be decrypted"):
            credentials_of(session, channels[0], Vault([old]))


def test_without_configured_keys_one_is_made_once_and_kept_private(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    sealed = Vault.from_settings(settings).seal(Secret({"password": "app-pass"}))

    key_file = tmp_path / "credentials_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert Vault.from_settings(settings).open(sealed).fields == {"password": "app-pass"}
    configured = Settings(
        data_dir=tmp_path, credentials_keys=f"{new_key()}, {key_file.read_text()}"
    )
    assert Vault.from_settings(configured).open(sealed).fields == {"password": "app-pass"}


def test_the_rotate_command_says_how_many_it_re_encrypted(
    cli_env: dict[str, str], sessions: sessionmaker[Session], workspace: Workspace
) -> None:
    old, new = new_key(), new_key()
    _store(sessions, _channel(sessions, workspace, "social"), Vault([old.encode()]))
    env = {**cli_env, "DIALOGA_CREDENTIALS_KEYS": f"{new},{old}"}

    done = subprocess.run(
        [DIALOGA, "credentials", "rotate"], env=env, capture_output=True, text=True, check=False
    )

    assert done.returncode == 0, done.stderr
    assert "re-encrypted with the newest key: 1." in done.stderr
    broken = {**cli_env, "DIALOGA_CREDENTIALS_KEYS": new_key()}
    failed = subprocess.run(
        [DIALOGA, "credentials", "rotate"], env=broken, capture_output=True, text=True, check=False
    )
    assert failed.returncode == 2 and "cannot be decrypted" in failed.stderr
