"""``dialoga classify``: every line read or turned into an error line, in order, in batches,
with bad input (empty, emoji, URLs, huge, mixed scripts, invalid UTF-8, not JSON) never
stopping the run."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dialoga.cli import app
from dialoga.understand.classify import (
    MAX_LINE_BYTES,
    bounded_lines,
    classify_lines,
    run_classify,
)
from dialoga.understand.readers import shipped_reader
from dialoga.understand.reading import SENTIMENTS, UNDETERMINED, Reader
from dialoga.understand.text import MODEL_CHARS

READING_KEYS = ["id", "language", "sentiment", "sentiment_scores", "intent", "spam"]
ERROR_KEYS = ["id", "error", "line"]
DIALOGA = str(Path(sys.executable).parent / "dialoga")


@pytest.fixture(scope="module")
def reader() -> Reader:
    return shipped_reader("fast", ("it", "en"))


def _line(item: object) -> bytes:
    return json.dumps(item).encode() + b"\n"


# (line, the output line's expected id and fields); a blank line has no output line.
BAD_INPUT: list[tuple[bytes, dict[str, Any]]] = [
    (_line({"id": 1, "text": "Grazie mille, servizio fantastico!"}), {"id": 1, "language": "it"}),
    (b"\n", {}),
    (_line({"id": "empty", "text": ""}), {"id": "empty", "language": UNDETERMINED}),
    (_line({"id": "emoji", "text": "😡😡🔥"}), {"id": "emoji", "language": UNDETERMINED}),
    (
        _line({"id": "url", "text": "https://e.com/a?b=1 www.x.it"}),
        {"id": "url", "language": "und"},
    ),
    (
        _line({"id": "big", "text": "Il pacco non è arrivato. " * 4200}),
        {"id": "big", "language": "it"},
    ),
    (_line({"id": "scripts", "text": "Привет! 你好 thanks a lot"}), {"id": "scripts"}),
    (_line({"id": "hint", "text": "ok", "lang": "IT"}), {"id": "hint", "language": "it"}),
    (b'{"id": "latin-1", "text": "caff\xe8 freddo, servizio lento"}\n', {"id": "latin-1"}),
    (_line({"id": "surrogate", "text": "bad \ud800 half"}), {"id": "surrogate"}),
    (_line({"id": 10**30, "text": "big id"}), {"id": 10**30}),
    (b"not json at all\n", {"id": None, "error": "not JSON: Expecting value at character 1"}),
    (b"[1, 2]\n", {"id": None, "error": "not a JSON object but a list"}),
    (_line({"text": "who am I"}), {"id": None, "error": "no id"}),
    (_line({"id": "no-text"}), {"id": "no-text", "error": "no text"}),
    (_line({"id": 7, "text": 42}), {"id": 7, "error": "text must be a string"}),
    (_line({"id": True, "text": "x"}), {"id": None, "error": "id must be a string or an integer"}),
    (_line({"id": 8, "text": "x", "lang": ["it"]}), {"id": 8, "error": "lang must be a string"}),
    (b"[" * 200_000 + b"]" * 200_000 + b"\n", {"id": None, "error": "nested too deeply"}),
    (b'{"id": 9, "text": "' + b"x" * MAX_LINE_BYTES + b'"}\n', {"id": None, "error": "too long"}),
    (_line({"id": "last", "text": "Thank you so much, the crew was amazing"}), {"id": "last"}),
]
EXPECTED = [expected for raw, expected in BAD_INPUT if raw.strip()]
EXPECTED_IDS = [expected["id"] for expected in EXPECTED]


@pytest.fixture
def bad_file(tmp_path: Path) -> Path:
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"".join(raw for raw, _ in BAD_INPUT).rstrip(b"\n"))  # no final newline
    return path


def test_every_line_gets_a_reading_or_an_error_line_in_input_order(
    bad_file: Path, tmp_path: Path
) -> None:
    output = tmp_path / "out.jsonl"

    result = CliRunner().invoke(
        app, ["classify", "--input", str(bad_file), "--output", str(output), "--batch-size", "4"]
    )

    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert [line["id"] for line in lines] == EXPECTED_IDS
    for number, (line, wanted) in enumerate(zip(lines, EXPECTED, strict=True), start=1):
        if "error" in wanted:
            assert list(line) == ERROR_KEYS, line
            assert wanted["error"] in line["error"]
            assert line["id"] == wanted["id"]
        else:
            assert list(line) == READING_KEYS, line
            assert line["sentiment"] in SENTIMENTS
            assert all(line[key] == value for key, value in wanted.items()), (number, line)
    assert "Read 20 lines: 11 classified, 9 errors, 2 repaired" in result.output


def test_error_lines_name_the_physical_line_of_the_file(bad_file: Path, tmp_path: Path) -> None:
    output = tmp_path / "out.jsonl"
    CliRunner().invoke(app, ["classify", "--input", str(bad_file), "--output", str(output)])

    errors = [json.loads(line) for line in output.read_text().splitlines() if '"error"' in line]

    assert errors[0] == {
        "id": None,
        "error": "not JSON: Expecting value at character 1",
        "line": 12,  # the blank second line counts
    }
    assert errors[-1]["line"] == len(BAD_INPUT) - 1


def test_scores_are_rounded_probabilities_that_sum_to_one(reader: Reader) -> None:
    texts = ["Il treno è in ritardo di nuovo", "Loved the new menu!", "", "????"]
    lines = [_line({"id": n, "text": text}) for n, text in enumerate(texts)]

    records = list(classify_lines(lines, reader))

    for record in records:
        scores = record["sentiment_scores"]
        assert list(scores) == list(SENTIMENTS)
        assert all(round(value, 4) == value and 0 <= value <= 1 for value in scores.values())
        assert sum(scores.values()) == pytest.approx(1, abs=3e-4)
        assert record["sentiment"] == max(scores, key=scores.__getitem__)
        assert 0 <= record["spam"] <= 1 and round(record["spam"], 4) == record["spam"]


def test_output_comes_batch_by_batch_before_the_input_is_read_whole(reader: Reader) -> None:
    batch_size = 5
    drawn = 0

    def endless() -> Iterator[bytes]:
        nonlocal drawn
        while True:
            drawn += 1
            if drawn > batch_size + 1:
                raise AssertionError("read past the first batch before writing it")
            yield _line({"id": drawn, "text": f"messaggio numero {drawn}"})

    records = classify_lines(endless(), reader, batch_size=batch_size)
    first = [next(records) for _ in range(batch_size)]

    assert [record["id"] for record in first] == [1, 2, 3, 4, 5]
    assert drawn == batch_size


def test_a_huge_line_is_cut_and_the_next_line_read_intact() -> None:
    stream = io.BytesIO(b"a" * 300_000 + b"\n" + b"short\n" + b"b" * 300_000)

    lines = list(bounded_lines(stream, limit=1000))

    assert [len(line) for line in lines] == [1001, 6, 1001]
    assert lines[1] == b"short\n"


def test_a_100_kb_text_costs_what_its_first_characters_cost(reader: Reader) -> None:
    long_text = "Vergogna, il peggior servizio clienti di sempre. " * 2100  # about 100 kB
    lines = [_line({"id": 1, "text": long_text}), _line({"id": 1, "text": long_text[:MODEL_CHARS]})]

    started = time.perf_counter()
    whole, prefix = classify_lines(lines, reader)
    seconds = time.perf_counter() - started

    assert whole == prefix
    assert whole["sentiment"] == "negative"
    assert seconds < 2


def test_a_byte_order_mark_does_not_spoil_the_first_line(reader: Reader) -> None:
    lines = [b"\xef\xbb\xbf" + _line({"id": 1, "text": "ciao"})]

    (record,) = classify_lines(lines, reader)

    assert record["id"] == 1
    assert "error" not in record


def test_ids_are_echoed_as_given(reader: Reader) -> None:
    lines = [_line({"id": value, "text": "ciao"}) for value in (1, "1", "", -5, "é")]

    assert [r["id"] for r in classify_lines(lines, reader)] == [1, "1", "", -5, "é"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--tier", "huge"], "unknown tier 'huge'"),
        (["--languages", "it,xx"], "unsupported languages xx"),
        (["--languages", ","], "unsupported languages (none given)"),
        (["--batch-size", "0"], "the batch size must be at least 1"),
    ],
)
def test_bad_options_are_one_clear_error(
    bad_file: Path, tmp_path: Path, options: list[str], message: str
) -> None:
    output = tmp_path / "out.jsonl"

    result = CliRunner().invoke(
        app, ["classify", "--input", str(bad_file), "--output", str(output), *options]
    )

    assert result.exit_code == 2
    assert message in result.output
    assert not output.exists()


def test_a_missing_input_or_an_output_over_the_input_is_refused(
    bad_file: Path, tmp_path: Path
) -> None:
    runner = CliRunner()
    missing = runner.invoke(
        app, ["classify", "--input", str(tmp_path / "nope"), "--output", str(tmp_path / "o")]
    )
    over = runner.invoke(app, ["classify", "--input", str(bad_file), "--output", str(bad_file)])

    assert missing.exit_code == 2
    assert "cannot read" in missing.output
    assert not (tmp_path / "o").exists()
    assert over.exit_code == 2
    assert "it would be overwritten" in over.output
    assert bad_file.read_bytes().startswith(BAD_INPUT[0][0])


def test_standard_input_and_output(reader: Reader) -> None:
    lines = b"".join([_line({"id": "a", "text": "Thanks!"}), b"{oops\n"])

    result = CliRunner().invoke(app, ["classify", "--input", "-", "--output", "-"], input=lines)

    assert result.exit_code == 0
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["id"] for r in records] == ["a", None]
    assert records[1]["line"] == 2


def test_run_classify_returns_the_counts(bad_file: Path, tmp_path: Path, reader: Reader) -> None:
    summary = run_classify(str(bad_file), str(tmp_path / "out.jsonl"), reader, batch_size=3)

    assert (summary.lines, summary.classified, summary.errors, summary.repaired) == (20, 11, 9, 2)


@pytest.mark.slow
def test_the_installed_command_streams_stdin_to_stdout(bad_file: Path) -> None:
    completed = subprocess.run(
        [DIALOGA, "classify", "--input", "-", "--output", "-", "--languages", "it,en"],
        input=bad_file.read_bytes(),
        capture_output=True,
        timeout=120,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    records = [json.loads(line) for line in completed.stdout.splitlines()]
    assert [record["id"] for record in records] == EXPECTED_IDS
    assert records[0]["sentiment"] == "positive"
    assert b"9 errors" in completed.stderr
    assert b"Traceback" not in completed.stderr
