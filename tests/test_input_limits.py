"""rueckenlotse.input_limits on its own: the JSON shape without parsing, whole small files, JSON Lines, the
frame and counts of a Parquet file. The commands that use them: tests/test_cli_hostile_input.py."""

from __future__ import annotations

import json
import struct
import time
from pathlib import Path

import pytest

from rueckenlotse.input_limits import (
    MAX_FILE_BYTES,
    MAX_JSON_ITEMS,
    MAX_NESTING_DEPTH,
    MAX_PARQUET_FOOTER_BYTES,
    InputRejected,
    check_json,
    check_parquet_file,
    check_parquet_shape,
    json_shape,
    jsonl_lines,
    read_text_file,
)


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("{}", 1),
        ('{"a": [1, {"b": []}]}', 4),
        ('"[[[[[["', 0),  # brackets inside a string do not count
        ('["\\"[[[", ["\\\\"]]', 2),  # nor behind escaped quotes; an escaped backslash ends its escape
        ('{"x": "\u2028[[", "y": [[]]}', 3),
        ("42", 0),
        ("]]]", 0),
        ("[" * 100_000, 100_000),
    ],
)
def test_the_depth_is_counted_outside_strings(text: str, depth: int) -> None:
    assert json_shape(text)[0] == depth


def test_the_items_are_counted_outside_strings() -> None:
    assert json_shape('{"a": [1, 2, 3], "b": "x,y,z"}')[1] == 3
    assert json_shape(json.dumps({"regions": [1] * 20_000}))[1] == 19_999


def test_check_json_takes_what_is_real_and_refuses_more() -> None:
    check_json("[" * MAX_NESTING_DEPTH + "]" * MAX_NESTING_DEPTH)
    check_json(json.dumps(list(range(MAX_JSON_ITEMS))))
    with pytest.raises(InputRejected) as deep:
        check_json("[" * (MAX_NESTING_DEPTH + 1) + "]" * (MAX_NESTING_DEPTH + 1))
    assert deep.value.code == "input_too_deep" and "64" in deep.value.message("de")
    with pytest.raises(InputRejected) as many:
        check_json(json.dumps(list(range(MAX_JSON_ITEMS + 1))))
    assert many.value.code == "input_too_many_items"


def test_the_shape_of_ten_mebibytes_is_quick() -> None:
    worst = "[]," * (MAX_FILE_BYTES // 3)  # every character a bracket or a comma
    started = time.perf_counter()
    json_shape(worst)
    assert time.perf_counter() - started < 5  # ~1 s on a slow machine; a Python loop takes ~10 s


def test_a_small_file_is_read_and_a_utf8_bom_dropped(tmp_path: Path) -> None:
    path = tmp_path / "fall.json"
    path.write_bytes(b'\xef\xbb\xbf{"age": 40}')
    assert read_text_file(path) == '{"age": 40}'


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "input_empty"),
        (b" \n\t\n", "input_empty"),
        ('{"age": 40}'.encode("utf-16"), "input_not_utf8"),
        ('{"age": 40}'.encode("utf-16-be"), "input_not_utf8"),  # no BOM: the NUL bytes tell
        (b'{"age": \xff}', "input_not_utf8"),
        (bytes(range(256)), "input_not_utf8"),
    ],
    ids=["empty", "blank", "utf16", "utf16-no-bom", "latin1", "binary"],
)
def test_files_that_are_no_utf8_text_are_refused(tmp_path: Path, content: bytes, code: str) -> None:
    path = tmp_path / "fall.json"
    path.write_bytes(content)
    with pytest.raises(InputRejected) as caught:
        read_text_file(path)
    assert caught.value.code == code and str(path) in caught.value.message("en")


def test_a_large_file_is_refused_by_its_size_unread(tmp_path: Path) -> None:
    path = tmp_path / "gross.json"
    with path.open("wb") as f:
        f.truncate(MAX_FILE_BYTES + 1)  # sparse: nothing to read, only the size speaks
    with pytest.raises(InputRejected) as caught:
        read_text_file(path)
    assert caught.value.code == "input_too_large" and "10 MiB" in caught.value.message("de")


def test_a_device_is_read_only_up_to_the_limit() -> None:
    with pytest.raises(InputRejected) as caught:
        read_text_file(Path("/dev/zero"), limit=1024)
    assert caught.value.code == "input_too_large"


def test_json_lines_split_at_line_feeds_only() -> None:
    text = '{"note": "a\u2028b"}\r\n\n{"age": 1}\n'
    assert jsonl_lines(text, Path("x.jsonl")) == ['{"note": "a\u2028b"}', "", '{"age": 1}']
    assert jsonl_lines("{}", Path("x.jsonl")) == ["{}"]
    with pytest.raises(InputRejected) as caught:
        jsonl_lines("{}\n" * 11, Path("x.jsonl"), limit=10)
    assert caught.value.code == "input_too_many_lines"


def _parquet_frame(footer_length: int, body: bytes = b"") -> bytes:
    return b"PAR1" + body + b"\0" * max(0, footer_length) + struct.pack("<I", footer_length) + b"PAR1"


def test_a_parquet_frame_is_checked_from_its_ends(tmp_path: Path) -> None:
    path = tmp_path / "in.parquet"
    path.write_bytes(_parquet_frame(10))
    assert check_parquet_file(path) == path.stat().st_size
    for content in (b"", b"PAR1PAR1", b"PAR1" + b"\0" * 20, b"PAR1" + struct.pack("<I", 1 << 31) + b"PAR1"):
        path.write_bytes(content)
        with pytest.raises(InputRejected) as caught:
            check_parquet_file(path)
        assert caught.value.code == "parquet_not_parquet"


def test_a_parquet_footer_over_the_limit_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    path = tmp_path / "in.parquet"
    footer = MAX_PARQUET_FOOTER_BYTES + 1
    with path.open("wb") as f:
        f.write(b"PAR1")
        f.truncate(4 + footer)  # sparse
        f.seek(4 + footer)
        f.write(struct.pack("<I", footer) + b"PAR1")
    with pytest.raises(InputRejected) as caught:
        check_parquet_file(path)
    assert caught.value.code == "parquet_too_large_metadata"


def test_parquet_counts_beyond_belief_are_refused() -> None:
    path = Path("in.parquet")
    check_parquet_shape(path, size=100_000, rows=1_000_000, row_groups=1, columns=40)
    for rows, groups, columns in ((10_000_000_000, 1, 40), (10**7, 1, 40), (10, 200_000, 40), (10, 1, 5000)):
        with pytest.raises(InputRejected):
            check_parquet_shape(path, size=900, rows=rows, row_groups=groups, columns=columns)
