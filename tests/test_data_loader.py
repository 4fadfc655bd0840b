"""Loading candle files: the shapes traders have, and one clear line for every bad file."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.data import CANDLE_COLUMNS, infer_timeframe, load_candles, validate_candles
from engine.errors import DataError, InputError

HEADER = "timestamp,open,high,low,close,volume\n"
GOOD_ROWS = [
    "2024-01-01 00:00,100,101,99,100.5,10",
    "2024-01-01 01:00,100.5,102,100,101,11",
    "2024-01-01 02:00,101,101.5,100.2,100.8,12",
    "2024-01-01 03:00,100.8,103,100.7,102.9,13",
]


def assert_canonical(df: pd.DataFrame) -> None:
    assert list(df.columns) == list(CANDLE_COLUMNS)
    assert all(dtype == np.float64 for dtype in df.dtypes)
    assert isinstance(df.index, pd.DatetimeIndex)
    assert df.index.name == "timestamp"
    assert str(df.index.tz) == "UTC"
    assert df.index.is_monotonic_increasing and df.index.is_unique


def expected_frame() -> pd.DataFrame:
    index = pd.date_range("2024-01-01", periods=4, freq="1h", tz="UTC")
    return pd.DataFrame({"open": [100, 100.5, 101, 100.8], "high": [101, 102, 101.5, 103],
                         "low": [99, 100, 100.2, 100.7], "close": [100.5, 101, 100.8, 102.9],
                         "volume": [10.0, 11, 12, 13]}, index=index)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def assert_same_candles(df: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert_canonical(df)
    assert (df.index == expected.index).all()
    np.testing.assert_array_equal(df.to_numpy(), expected[list(CANDLE_COLUMNS)].to_numpy(dtype=float))


# -- accepted shapes -------------------------------------------------------------


def test_plain_csv_loads_into_the_canonical_frame(tmp_path):
    path = write(tmp_path, "prices.csv", HEADER + "\n".join(GOOD_ROWS) + "\n")
    df = load_candles(path)
    assert_same_candles(df, expected_frame())
    assert df.index.dtype == "datetime64[ns, UTC]"
    assert df.attrs["source"] == str(path)
    assert df.attrs["timeframe"] == "1h"
    assert df.attrs["symbol"] == ""


@pytest.mark.parametrize("name", ["timestamp", "Timestamp", "DATE", "DateTime", " time ", "date"])
def test_timestamp_column_names_in_any_case(tmp_path, name):
    text = f"{name},Open,HIGH,low,Close,Volume\n" + "\n".join(GOOD_ROWS) + "\n"
    assert_same_candles(load_candles(write(tmp_path, "p.csv", text)), expected_frame())


def test_unnamed_first_column_from_pandas_to_csv(tmp_path):
    frame = expected_frame()
    frame.index.name = None
    path = tmp_path / "from_pandas.csv"
    frame.to_csv(path)  # header starts with an empty name; pandas reads it back as "Unnamed: 0"
    assert path.read_text().startswith(",open")
    assert_same_candles(load_candles(path), expected_frame())


def test_empty_header_first_column(tmp_path):
    text = " ,open,high,low,close,volume\n" + "\n".join(GOOD_ROWS) + "\n"
    assert_same_candles(load_candles(write(tmp_path, "p.csv", text)), expected_frame())


def test_iso_offsets_and_z_are_converted_to_utc(tmp_path):
    rows = ["2024-01-01T00:00:00Z,100,101,99,100.5,10",
            "2024-01-01T02:00:00+01:00,100.5,102,100,101,11",  # 01:00 UTC
            "2023-12-31T21:00:00-05:00,101,101.5,100.2,100.8,12",  # 02:00 UTC
            "2024-01-01 03:00:00,100.8,103,100.7,102.9,13"]  # naive = UTC
    assert_same_candles(load_candles(write(tmp_path, "p.csv", HEADER + "\n".join(rows))), expected_frame())


@pytest.mark.parametrize("scale", [1, 1000], ids=["epoch-seconds", "epoch-milliseconds"])
def test_epoch_timestamps_detected_by_magnitude(tmp_path, scale):
    epoch = expected_frame().index.as_unit("s").asi8
    rows = [f"{t * scale}," + row.split(",", 1)[1] for t, row in zip(epoch, GOOD_ROWS, strict=True)]
    df = load_candles(write(tmp_path, "p.csv", HEADER + "\n".join(rows)))
    assert_same_candles(df, expected_frame())


def test_gzipped_csv(tmp_path):
    path = tmp_path / "p.csv.gz"
    with gzip.open(path, "wt") as fh:
        fh.write(HEADER + "\n".join(GOOD_ROWS))
    assert_same_candles(load_candles(path), expected_frame())


def test_missing_volume_is_zero_and_extra_columns_are_ignored(tmp_path):
    text = "Date,Symbol,Open,High,Low,Close,Adj Close\n" + "\n".join(
        f"{r.split(',')[0]},BTC,{','.join(r.split(',')[1:5])},1.0" for r in GOOD_ROWS)
    df = load_candles(write(tmp_path, "p.csv", text))
    assert_canonical(df)
    assert (df["volume"] == 0.0).all()
    np.testing.assert_array_equal(df["close"], expected_frame()["close"])


def test_integer_prices_become_float64(tmp_path):
    text = HEADER + "2024-01-01,1,2,1,2,5\n2024-01-02,2,3,1,1,0\n"
    df = load_candles(write(tmp_path, "p.csv", text))
    assert_canonical(df)
    assert df.attrs["timeframe"] == "1d"


def test_semicolon_separated_spreadsheet_export_with_bom(tmp_path):
    text = "\ufeff" + HEADER.replace(",", ";") + "\n".join(r.replace(",", ";") for r in GOOD_ROWS)
    path = tmp_path / "p.csv"
    path.write_text(text, encoding="utf-8")
    assert_same_candles(load_candles(path), expected_frame())


def test_split_date_and_time_columns_are_joined(tmp_path):
    text = "Date,Time,Open,High,Low,Close,Volume\n" + "\n".join(
        r.replace(" ", ",", 1) for r in GOOD_ROWS)
    assert_same_candles(load_candles(write(tmp_path, "p.csv", text)), expected_frame())


def test_blank_lines_are_skipped(tmp_path):
    text = HEADER + GOOD_ROWS[0] + "\n\n" + "\n".join(GOOD_ROWS[1:]) + "\n\n"
    assert_same_candles(load_candles(write(tmp_path, "p.csv", text)), expected_frame())


def test_parquet_with_datetime_index(tmp_path):
    path = tmp_path / "p.parquet"
    expected_frame().rename_axis("timestamp").to_parquet(path)
    df = load_candles(path)
    assert_same_candles(df, expected_frame())
    assert df.attrs["source"] == str(path)


def test_parquet_with_unnamed_datetime_index(tmp_path):
    path = tmp_path / "p.pq"
    expected_frame().to_parquet(path)
    assert_same_candles(load_candles(path), expected_frame())


def test_parquet_naive_datetime_column_is_utc(tmp_path):
    frame = expected_frame().reset_index(names="Date")
    frame["Date"] = frame["Date"].dt.tz_localize(None)
    frame.columns = [c.upper() for c in frame.columns]
    path = tmp_path / "p.parquet"
    frame.to_parquet(path)
    assert_same_candles(load_candles(path), expected_frame())


def test_parquet_tz_aware_column_is_converted(tmp_path):
    frame = expected_frame().reset_index(names="datetime")
    frame["datetime"] = frame["datetime"].dt.tz_convert("America/New_York")
    path = tmp_path / "p.parquet"
    frame.to_parquet(path)
    assert_same_candles(load_candles(path), expected_frame())


def test_parquet_epoch_milliseconds_column(tmp_path):
    frame = expected_frame().reset_index(names="time")
    frame["time"] = frame["time"].dt.as_unit("ms").astype("int64")
    assert frame["time"].iloc[0] == 1_704_067_200_000
    path = tmp_path / "p.parquet"
    frame.to_parquet(path, index=False)
    assert_same_candles(load_candles(path), expected_frame())


# -- every bad file fails with one line: file, line/row, problem -------------------


def bad_csv(tmp_path: Path, rows: list[str], header: str = HEADER) -> Path:
    return write(tmp_path, "prices.csv", header + "\n".join(rows) + "\n")


def load_error(path: Path) -> str:
    with pytest.raises(DataError) as info:
        load_candles(path)
    message = str(info.value)
    assert "\n" not in message
    assert path.name in message
    return message


CSV_CASES = {
    # name: (row index to break (0-based data row), replacement row, expected fragment)
    "high below low": (1, "2024-01-01 01:00,100,99.5,100.2,100,1", "line 3: high 99.5 is below low 100.2"),
    "high below open": (2, "2024-01-01 02:00,105,104,100,101,1", "line 4: high 104 is below open 105"),
    "high below close": (0, "2024-01-01 00:00,100,101,99,102,1", "line 2: high 101 is below close 102"),
    "low above open": (3, "2024-01-01 03:00,100,103,100.5,102,1", "line 5: low 100.5 is above open 100"),
    "low above close": (1, "2024-01-01 01:00,101,102,100.5,100,1", "line 3: low 100.5 is above close 100"),
    "zero price": (2, "2024-01-01 02:00,0,1,0,1,1", "line 4: open 0 is not positive"),
    "negative price": (2, "2024-01-01 02:00,1,2,-1,1,1", "line 4: low -1 is not positive"),
    "negative volume": (3, "2024-01-01 03:00,100,101,99,100,-5", "line 5: volume -5 is negative"),
    "non-numeric": (1, "2024-01-01 01:00,100,abc,99,100,1", "line 3: high 'abc' is not a number"),
    "empty value": (2, "2024-01-01 02:00,100,101,99,,1", "line 4: close is missing (empty or NaN)"),
    "NaN value": (2, "2024-01-01 02:00,100,101,NaN,100,1", "line 4: low is missing (empty or NaN)"),
    "infinite value": (1, "2024-01-01 01:00,100,inf,99,100,1", "line 3: high inf is not a finite number"),
    "unparseable timestamp": (2, "2024-13-45 99:00,100,101,99,100,1",
                              "line 4: cannot parse timestamp '2024-13-45 99:00'"),
    "empty timestamp": (1, ",100,101,99,100,1", "line 3: timestamp is empty"),
    "unsorted": (2, "2023-12-31 23:00,100,101,99,100,1",
                 "line 4: timestamp 2023-12-31 23:00:00 UTC is earlier than the one before it"),
    "duplicate": (2, "2024-01-01 01:00,100,101,99,100,1",
                  "line 4: duplicate timestamp 2024-01-01 01:00:00 UTC"),
}


@pytest.mark.parametrize("case", CSV_CASES, ids=list(CSV_CASES))
def test_each_csv_problem_names_file_line_and_problem(tmp_path, case):
    row, replacement, fragment = CSV_CASES[case]
    rows = list(GOOD_ROWS)
    rows[row] = replacement
    message = load_error(bad_csv(tmp_path, rows))
    assert message.startswith("prices.csv line")
    assert fragment in message


def test_spec_example_message_exactly(tmp_path):
    rows = GOOD_ROWS + [f"2024-01-01 {h:02d}:00,100,101,99,100,1" for h in range(4, 15)]
    rows.append("2024-01-01 15:00,100,99.5,100.2,100,1")  # the 16th data row is file line 17
    assert load_error(bad_csv(tmp_path, rows)) == "prices.csv line 17: high 99.5 is below low 100.2"


def test_line_numbers_count_blank_lines(tmp_path):
    text = HEADER + GOOD_ROWS[0] + "\n\n\n" + GOOD_ROWS[1] + "\n2024-01-01 02:00,100,99,101,100,1\n"
    assert "prices.csv line 6: high 99 is below low 101" in load_error(write(tmp_path, "prices.csv", text))


def test_the_earliest_bad_row_is_reported(tmp_path):
    rows = list(GOOD_ROWS)
    rows[3] = "2024-01-01 03:00,100,1,2,100,1"        # line 5: several problems
    rows[1] = "2024-01-01 01:00,100,101,99,oops,1"    # line 3: wins, it comes first
    assert "line 3: close 'oops' is not a number" in load_error(bad_csv(tmp_path, rows))


def test_epoch_row_numbers_are_not_dates(tmp_path):
    text = ",open,high,low,close,volume\n0,1,2,1,1,1\n1,1,2,1,1,1\n"
    message = load_error(write(tmp_path, "prices.csv", text))
    assert "line 2: timestamp 0 is not a plausible epoch time" in message


def test_missing_price_column(tmp_path):
    message = load_error(bad_csv(tmp_path, GOOD_ROWS, header="timestamp,open,high,low,volume\n"))
    assert message.startswith("prices.csv line 1: missing column(s) close")


def test_missing_timestamp_column(tmp_path):
    message = load_error(bad_csv(tmp_path, GOOD_ROWS, header="when,open,high,low,close,volume\n"))
    assert message.startswith("prices.csv line 1: missing column(s) timestamp")
    assert "date, datetime or time" in message


def test_empty_file(tmp_path):
    assert load_error(write(tmp_path, "prices.csv", "")) == "prices.csv: file is empty"


def test_whitespace_only_file(tmp_path):
    assert "file is empty" in load_error(write(tmp_path, "prices.csv", "\n\n  \n"))


def test_header_only_file(tmp_path):
    assert "prices.csv: no candles" in load_error(write(tmp_path, "prices.csv", HEADER))


def test_missing_file(tmp_path):
    message = load_error(tmp_path / "nowhere.csv")
    assert message.startswith("nowhere.csv: file not found")


def test_folder_is_not_a_file(tmp_path):
    folder = tmp_path / "data.csv"
    folder.mkdir()
    assert "data.csv: is a folder" in load_error(folder)


@pytest.mark.parametrize("name", ["prices.txt", "prices.xlsx", "prices"])
def test_unsupported_extension(tmp_path, name):
    message = load_error(write(tmp_path, name, HEADER))
    assert "unsupported file" in message and ".csv" in message and ".parquet" in message
    assert ("." + name.split(".")[-1]) in message if "." in name else "without an extension" in message


def test_corrupt_parquet(tmp_path):
    path = tmp_path / "prices.parquet"
    path.write_bytes(b"PAR1 this is not really parquet PAR1")
    assert "prices.parquet: not a readable Parquet file" in load_error(path)


def test_truncated_parquet(tmp_path):
    path = tmp_path / "prices.parquet"
    expected_frame().to_parquet(path)
    path.write_bytes(path.read_bytes()[:-40])
    assert "prices.parquet: not a readable Parquet file" in load_error(path)


def test_gz_that_is_not_gzip(tmp_path):
    path = write(tmp_path, "prices.csv.gz", HEADER + GOOD_ROWS[0])
    assert "prices.csv.gz: cannot read the file" in load_error(path)


def test_binary_garbage_csv(tmp_path):
    path = tmp_path / "prices.csv"
    path.write_bytes(bytes(range(256)) * 4)
    assert "prices.csv: not a" in load_error(path)


def test_ragged_csv(tmp_path):
    text = HEADER + GOOD_ROWS[0] + "\n" + GOOD_ROWS[1] + ",1,2,3\n"
    message = load_error(write(tmp_path, "prices.csv", text))
    assert "prices.csv: not a readable CSV file" in message and "line 3" in message


PARQUET_CASES = {
    "high below low": ("high", 2, 50.0, "row 3: high 50 is below low 100.2"),
    "NaN close": ("close", 1, np.nan, "row 2: close is missing (empty or NaN)"),
    "negative volume": ("volume", 3, -1.0, "row 4: volume -1 is negative"),
}


@pytest.mark.parametrize("case", PARQUET_CASES, ids=list(PARQUET_CASES))
def test_parquet_problems_name_the_row(tmp_path, case):
    column, row, value, fragment = PARQUET_CASES[case]
    frame = expected_frame()
    frame.iloc[row, frame.columns.get_loc(column)] = value
    path = tmp_path / "prices.parquet"
    frame.to_parquet(path)
    message = load_error(path)
    assert message.startswith("prices.parquet row")
    assert fragment in message


def test_parquet_duplicate_and_missing_timestamps(tmp_path):
    frame = expected_frame().reset_index(names="timestamp")
    frame.loc[2, "timestamp"] = frame.loc[1, "timestamp"]
    path = tmp_path / "prices.parquet"
    frame.to_parquet(path)
    assert "prices.parquet row 3: duplicate timestamp" in load_error(path)
    frame.loc[2, "timestamp"] = pd.NaT
    frame.to_parquet(path)
    assert "prices.parquet row 3: timestamp is empty" in load_error(path)


def test_parquet_missing_column(tmp_path):
    path = tmp_path / "prices.parquet"
    expected_frame().drop(columns="low").to_parquet(path)
    assert load_error(path).startswith("prices.parquet: missing column(s) low")


def test_loading_bad_input_writes_nothing(tmp_path):
    rows = list(GOOD_ROWS)
    rows[2] = "2024-01-01 02:00,100,99,101,100,1"
    path = bad_csv(tmp_path, rows)
    before = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")}
    content = path.read_bytes()
    with pytest.raises(DataError):
        load_candles(path)
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")} == before
    assert path.read_bytes() == content


def test_data_error_is_an_input_error(tmp_path):
    with pytest.raises(InputError):
        load_candles(tmp_path / "missing.parquet")


# -- validate_candles on any frame ------------------------------------------------


def test_validate_accepts_good_frame_unchanged():
    frame = expected_frame()
    copy = frame.copy()
    assert validate_candles(frame, "mine") is frame
    pd.testing.assert_frame_equal(frame, copy)


@pytest.mark.parametrize("mutate, fragment", [
    (lambda f: f.drop(columns="close"), "mine: missing column(s) close"),
    (lambda f: f.reset_index(drop=True), "mine: candles need a timestamp index"),
    (lambda f: f.iloc[:0], "mine: no candles"),
    (lambda f: f.assign(open=["100", "100.5", "x", "100.8"]),
     "mine row 3 (2024-01-01 02:00:00 UTC): open 'x' is not a number"),
    (lambda f: f.iloc[[0, 2, 1, 3]],
     "mine row 3 (2024-01-01 01:00:00 UTC): timestamp 2024-01-01 01:00:00 UTC is earlier"),
    (lambda f: f.assign(low=[99, 100, 102, 100.7]),
     "mine row 3 (2024-01-01 02:00:00 UTC): high 101.5 is below low 102"),
])
def test_validate_reports_problems_on_frames(mutate, fragment):
    with pytest.raises(DataError) as info:
        validate_candles(mutate(expected_frame()), "mine")
    assert fragment in str(info.value)


def test_validate_uses_attrs_source_by_default():
    frame = expected_frame()
    frame.attrs["source"] = "my feed"
    frame.iloc[0, 0] = -1.0
    with pytest.raises(DataError, match=r"^my feed row 1 .*open -1 is not positive"):
        validate_candles(frame)


def test_validate_custom_location():
    frame = expected_frame()
    frame.iloc[2, 4] = -3.0
    with pytest.raises(DataError, match="^src candle #2: volume -3 is negative$"):
        validate_candles(frame, "src", locate=lambda i: f"candle #{i}")


# -- infer_timeframe ----------------------------------------------------------------


@pytest.mark.parametrize("freq, label", [("1min", "1m"), ("5min", "5m"), ("15s", "15s"), ("1h", "1h"),
                                         ("4h", "4h"), ("1D", "1d"), ("3D", "3d"), ("7D", "1w"), ("MS", "1M")])
def test_infer_timeframe(freq, label):
    index = pd.date_range("2024-01-01", periods=24, freq=freq, tz="UTC")
    assert infer_timeframe(index) == label
    assert infer_timeframe(pd.DataFrame(index=index)) == label


def test_infer_timeframe_uses_the_median_spacing():
    index = pd.date_range("2024-01-01", periods=100, freq="1h", tz="UTC").delete([5, 6, 7, 40])
    assert infer_timeframe(index) == "1h"


def test_infer_timeframe_unknown():
    assert infer_timeframe(pd.DatetimeIndex([], tz="UTC")) == ""
    assert infer_timeframe(pd.date_range("2024-01-01", periods=1, tz="UTC")) == ""
    assert infer_timeframe(pd.DatetimeIndex(["2024-01-01 00:00:00", "2024-01-01 00:00:00.5"])) == ""


# -- speed and round trips ------------------------------------------------------------


def test_one_million_row_csv_loads_and_validates(tmp_path):
    """Correctness at full size; how long it takes is a `make bench` figure, not a test."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    n = 1_000_000
    rng = np.random.default_rng(1)
    close = 30_000 * np.exp(np.cumsum(rng.normal(0, 0.0005, n)))
    opened = np.concatenate([[30_000.0], close[:-1]])
    stamps = pd.date_range("2022-01-01", periods=n, freq="1min", tz="UTC")
    table = pa.table({"timestamp": pa.array(stamps.strftime("%Y-%m-%dT%H:%M:%SZ")),
                      "open": opened.round(2), "high": (np.maximum(opened, close) + 1).round(2),
                      "low": (np.minimum(opened, close) - 1).round(2), "close": close.round(2),
                      "volume": rng.random(n).round(4)})
    path = tmp_path / "big.csv"
    pacsv.write_csv(table, path)
    df = load_candles(path)
    assert len(df) == n and df.attrs["timeframe"] == "1m"

    # A problem in the very last row is still found, with the right line number.
    bad = df.copy()
    bad.iloc[-1, 1] = 1.0
    with pytest.raises(DataError, match=f"row {n} .*high 1 is below"):
        validate_candles(bad, "big")


frames = st.integers(min_value=1, max_value=40).flatmap(lambda n: st.tuples(
    st.just(n),
    st.lists(st.floats(min_value=0.01, max_value=1e6, allow_nan=False), min_size=n, max_size=n),
    st.lists(st.floats(min_value=0.0, max_value=0.5), min_size=2 * n, max_size=2 * n),
    st.lists(st.floats(min_value=0.0, max_value=1e9), min_size=n, max_size=n),
    st.sampled_from(["1min", "1h", "1D"]),
))


def build(n, base, spreads, volume, freq) -> pd.DataFrame:
    base = np.array(base)
    close = base * (1 + np.array(spreads[:n]) / 10)
    high = np.maximum(base, close) * (1 + np.array(spreads[n:]))
    low = np.minimum(base, close) / (1 + np.array(spreads[n:]))
    index = pd.date_range("2021-03-04 05:06", periods=n, freq=freq, tz="UTC")
    return pd.DataFrame({"open": base, "high": high, "low": low, "close": close, "volume": volume}, index=index)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=frames, fmt=st.sampled_from(["csv", "csv.gz", "parquet"]))
def test_round_trip_preserves_every_value(tmp_path, data, fmt):
    frame = build(*data)
    path = tmp_path / f"rt.{fmt}"
    if fmt == "parquet":
        frame.rename_axis("timestamp").to_parquet(path)
    else:
        frame.rename_axis("Date").to_csv(path)
    df = load_candles(path)
    assert_canonical(df)
    assert (df.index == frame.index).all()
    np.testing.assert_array_equal(df.to_numpy(), frame.to_numpy())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=frames, where=st.integers(min_value=0), kind=st.sampled_from(["negative", "nan", "high<low"]))
def test_one_injected_problem_is_found_on_its_line(tmp_path, data, where, kind):
    frame = build(*data)
    row = where % len(frame)
    if kind == "negative":
        frame.iloc[row, 0] = -frame.iloc[row, 0]
    elif kind == "nan":
        frame.iloc[row, 3] = np.nan
    else:
        frame.iloc[row, 1] = frame.iloc[row, 2] / 2
    path = tmp_path / "inj.csv"
    frame.rename_axis("timestamp").to_csv(path)
    with pytest.raises(DataError) as info:
        load_candles(path)
    assert str(info.value).startswith(f"inj.csv line {row + 2}: ")
    assert not any(p.name != "inj.csv" for p in tmp_path.iterdir())
    os.remove(path)
