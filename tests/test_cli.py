"""The ``dialoga`` command on bad ground: a new database, folders, binaries, no server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

DIALOGA = str(Path(sys.executable).parent / "dialoga")


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [DIALOGA, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def _fresh_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIALOGA_")}
    env["DIALOGA_DATA_DIR"] = str(tmp_path / "data")
    env["COLUMNS"] = "200"
    return env


def test_commands_work_on_a_database_never_migrated(tmp_path: Path) -> None:
    env = _fresh_env(tmp_path)

    created = _run(env, "workspace", "create", "acme", "--name", "ACME")

    assert created.returncode == 0, created.stderr
    assert "Workspace 'acme' created." in created.stderr
    assert (tmp_path / "data" / "dialoga.db").exists()


def test_a_folder_or_a_binary_file_is_refused_in_one_readable_sentence(tmp_path: Path) -> None:
    env = _fresh_env(tmp_path)
    _run(env, "workspace", "create", "acme")
    binary = tmp_path / "program.csv"
    binary.write_bytes(b"\x7fELF\x02\x01\x01\x00\x00\x00\xd0a\x00\x1b[31m")

    folder = _run(env, "import", "twcs", str(tmp_path), "--workspace", "acme", "--channel", "x")
    garbage = _run(env, "import", "twcs", str(binary), "--workspace", "acme", "--channel", "x")

    assert folder.returncode == 2
    assert "Error: cannot read" in folder.stderr
    assert "Traceback" not in folder.stderr
    assert garbage.returncode == 2
    assert "is not a Customer Support on Twitter CSV" in garbage.stderr
    assert "\x00" not in garbage.stderr
    assert "\x1b" not in garbage.stderr
    assert "\\x7fELF" in garbage.stderr


def test_an_unreachable_database_is_one_error_not_a_traceback(tmp_path: Path) -> None:
    env = _fresh_env(tmp_path)
    env["DIALOGA_DATABASE_URL"] = "postgresql+psycopg://nobody@127.0.0.1:9/nowhere"

    result = _run(env, "workspace", "create", "acme")

    assert result.returncode == 2
    assert "Error: cannot open the database" in result.stderr
    assert "Traceback" not in result.stderr


def test_people_members_and_tokens_from_the_command_line(tmp_path: Path) -> None:
    env = _fresh_env(tmp_path)
    env["DIALOGA_PASSWORD"] = "una-password-lunga"
    _run(env, "workspace", "create", "acme")

    user = _run(env, "user", "create", "Giulia@Example.it", "--name", "Giulia Rossi")
    member = _run(
        env, "member", "add", "giulia@example.it", "--workspace", "acme", "--role", "admin"
    )
    again = _run(env, "member", "add", "giulia@example.it", "--workspace", "acme")
    token = _run(env, "token", "create", "giulia@example.it", "--workspace", "acme")
    outsider = _run(env, "token", "create", "giulia@example.it", "--workspace", "nope")

    assert user.returncode == 0, user.stderr
    assert member.returncode == 0 and "now admin of 'acme'" in member.stderr
    assert again.returncode == 2 and "already a member" in again.stderr
    assert token.returncode == 0
    assert token.stdout.strip().startswith("dlg_") and len(token.stdout.strip()) > 40
    assert outsider.returncode == 2 and "does not exist" in outsider.stderr


def test_models_show_their_scores_and_retrain_names_what_it_learned(tmp_path: Path) -> None:
    env = _fresh_env(tmp_path)
    _run(env, "workspace", "create", "acme")

    shown = _run(env, "models", "show")
    empty = _run(env, "models", "retrain", "--workspace", "acme")
    unknown = _run(env, "models", "retrain", "--workspace", "nope")

    assert shown.returncode == 0, shown.stderr
    assert "### fast tier" in shown.stdout and "polarity_score" in shown.stdout
    assert "| baseline |" in shown.stdout
    assert empty.returncode == 0 and "No corrections in 'acme' yet" in empty.stderr
    assert unknown.returncode == 2 and "does not exist" in unknown.stderr
