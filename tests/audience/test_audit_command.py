"""``dialoga audit``: a file of profiles in, verdicts (and a report) out, bad rows set aside."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

DIALOGA = str(Path(sys.executable).parent / "dialoga")
HEADER = "id,name,screen_name,statuses_count,followers_count,friends_count,created_at,description"
ROWS = (
    "1,Giulia Bianchi,giulia_b,5200,640,410,Fri Apr 06 10:58:22 +0000 2007,Fotografa a Torino",
    "2,marco,marco4839201,0,12,4800,Sat Jun 23 15:33:05 +0000 2012,",
    "3,Broken,broken,many,1,1,Sat Jun 23 15:33:05 +0000 2012,",
)


def _audit(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIALOGA_")}
    env["DIALOGA_DATA_DIR"] = str(tmp_path / "data")
    return subprocess.run(
        [DIALOGA, "audit", *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_verdicts_report_and_rejects_are_written(tmp_path: Path) -> None:
    profiles = tmp_path / "followers.csv"
    profiles.write_text("\n".join((HEADER, *ROWS)) + "\n", encoding="utf-8")
    output, report = tmp_path / "verdicts.csv", tmp_path / "report.html"

    done = _audit(
        tmp_path,
        str(profiles),
        "--output",
        str(output),
        "--report",
        str(report),
        "--language",
        "it",
        "--as-of",
        "2013-01-01",
    )

    assert done.returncode == 0, done.stderr
    with output.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["id", "fake_probability", "verdict", "reasons", "confidence"]
    verdicts = {row["id"]: row for row in rows}
    assert set(verdicts) == {"1", "2"}
    assert verdicts["2"]["verdict"] == "fake" and float(verdicts["2"]["fake_probability"]) > 0.5
    assert "segue 4.800 account, seguito da 12" in verdicts["2"]["reasons"]
    assert verdicts["1"]["verdict"] == "real"
    rejected = [json.loads(line) for line in (tmp_path / "verdicts.rejects.jsonl").open()]
    assert [(r["line"], r["reason"][:15]) for r in rejected] == [(4, "statuses_count ")]
    page = report.read_text(encoding="utf-8")
    assert "<svg" in page and "followers.csv" in page


def test_a_file_that_is_not_profiles_is_one_clear_error(tmp_path: Path) -> None:
    other = tmp_path / "notes.csv"
    other.write_text("title,body\nhello,world\n", encoding="utf-8")

    done = _audit(tmp_path, str(other), "--output", str(tmp_path / "out.csv"))

    assert done.returncode == 2
    assert "neither Twitter user objects" in done.stderr
    assert "Traceback" not in done.stderr


def test_generic_profile_records_are_audited_too(tmp_path: Path) -> None:
    records = tmp_path / "profiles.jsonl"
    records.write_text(
        json.dumps(
            {
                "record": "profile",
                "external_id": "u-1",
                "handle": "laura.b",
                "followers_count": 812,
                "following_count": 640,
                "posts_count": 1530,
                "default_avatar": False,
            }
        )
        + "\n"
        + json.dumps({"record": "profile", "external_id": "u-2"})
        + "\n",
        encoding="utf-8",
    )
    output = tmp_path / "out.csv"

    done = _audit(tmp_path, str(records), "--output", str(output))

    assert done.returncode == 0, done.stderr
    with output.open(encoding="utf-8") as handle:
        verdicts = {row["id"]: row for row in csv.DictReader(handle)}
    assert verdicts["u-1"]["confidence"] == "low"  # no creation date
    assert verdicts["u-2"]["verdict"] == "unknown" and verdicts["u-2"]["fake_probability"] == ""
