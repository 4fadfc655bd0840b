"""A second run on an unchanged CSV reads the parsed candles back instead of parsing;
an edited file is parsed (and validated) again; a broken cache is never trusted."""

from __future__ import annotations

import os

import pandas as pd
import pytest

from engine.data import loader, parsed_cache, synthetic_bars
from engine.data.loader import load_candles
from engine.errors import DataError


@pytest.fixture
def csv(tmp_path, monkeypatch):
    monkeypatch.setenv("ATB_TUI_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(parsed_cache, "MIN_BYTES", 0)
    path = tmp_path / "bars.csv"
    synthetic_bars(500, seed=3).to_csv(path)
    return path


def _no_parsing(monkeypatch) -> None:
    def refuse(*_args, **_kw):
        raise AssertionError("the CSV was parsed again")

    monkeypatch.setattr(loader, "_load_csv", refuse)
    monkeypatch.setattr(loader, "_read_csv", refuse)


def test_a_second_load_is_read_from_the_cache_and_equal(csv, monkeypatch) -> None:
    first = load_candles(csv)
    assert list((csv.parent / "cache" / "parsed-csv").glob("*.npy"))
    _no_parsing(monkeypatch)
    second = load_candles(csv)
    pd.testing.assert_frame_equal(first, second)
    assert second.attrs == first.attrs


def test_an_edited_file_is_parsed_and_validated_again(csv, monkeypatch) -> None:
    load_candles(csv)
    text = csv.read_text().splitlines()
    text[5] = text[5].split(",")[0] + ",1,1,1,oops,1"  # same length class, new content
    csv.write_text("\n".join(text) + "\n")
    with pytest.raises(DataError, match="line 6"):
        load_candles(csv)


def test_a_touched_file_of_the_same_size_is_not_trusted(csv, monkeypatch) -> None:
    frame = load_candles(csv)
    stat = csv.stat()
    os.utime(csv, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    calls = []
    real = loader._load_csv
    monkeypatch.setattr(loader, "_load_csv", lambda *a: calls.append(a) or real(*a))
    pd.testing.assert_frame_equal(load_candles(csv), frame)
    assert len(calls) == 1


def test_a_broken_entry_is_ignored_and_replaced(csv) -> None:
    frame = load_candles(csv)
    (entry,) = (csv.parent / "cache" / "parsed-csv").glob("*.npy")
    entry.write_bytes(entry.read_bytes()[:200])
    pd.testing.assert_frame_equal(load_candles(csv), frame)
    assert entry.stat().st_size > 200  # written again


def test_small_files_and_a_switched_off_cache_write_nothing(csv, monkeypatch) -> None:
    monkeypatch.setattr(parsed_cache, "MIN_BYTES", csv.stat().st_size + 1)
    load_candles(csv)
    monkeypatch.setattr(parsed_cache, "MIN_BYTES", 0)
    monkeypatch.setenv("ATB_TUI_CSV_CACHE", "0")
    load_candles(csv)
    assert not (csv.parent / "cache" / "parsed-csv").exists()


def test_an_unwritable_cache_does_not_fail_the_load(csv, monkeypatch) -> None:
    blocker = csv.parent / "cache"
    blocker.write_text("a file where the cache folder would go")
    assert len(load_candles(csv)) == 500


def test_the_oldest_entries_go_when_the_cache_is_full(csv, monkeypatch, tmp_path) -> None:
    load_candles(csv)
    (entry,) = (tmp_path / "cache" / "parsed-csv").glob("*.npy")
    monkeypatch.setattr(parsed_cache, "MAX_BYTES", entry.stat().st_size)
    os.utime(entry, (1, 1))  # the oldest
    other = tmp_path / "other.csv"
    synthetic_bars(500, seed=4).to_csv(other)
    load_candles(other)
    remaining = list((tmp_path / "cache" / "parsed-csv").glob("*.npy"))
    assert len(remaining) == 1 and remaining[0] != entry
