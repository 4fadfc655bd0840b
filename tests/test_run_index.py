"""engine.run_index: pages of run summaries, their count and the filter, in SQL.

Each test runs on SQLite and on PostgreSQL (``db_url``, tests/pg_server.py): the
filter's SQL (LIKE, LOWER, REPLACE, JSON path access) must mean the same on both.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable, Iterator

import pytest
from sqlalchemy import event
from sqlmodel import Session

from engine.db_url import normalise_db_url
from engine.models import Run, RunKind
from engine.run_index import RunFilter, run_page, runs_stamp
from engine.store import delete_run, open_db
from tests.run_seed import run_spec, seed_runs


@pytest.fixture
def database(db_url: str) -> Iterator[Any]:
    engine = open_db(normalise_db_url(db_url))
    yield engine
    engine.dispose()


def _ids(engine: Any, flt: RunFilter = RunFilter(), limit: int = 1000) -> list[int]:
    return [r.id for r in run_page(engine, 0, limit, flt).rows]


def _expected(ids: list[int], test: Callable[[dict[str, Any]], bool]) -> list[int]:
    """Seeded ids, newest first, whose :func:`run_spec` passes ``test``."""
    return [run_id for i, run_id in reversed(list(enumerate(ids))) if test(run_spec(i))]


def _add(engine: Any, **fields: Any) -> int:
    fields.setdefault("kind", RunKind.BACKTEST)
    fields.setdefault("created_at", datetime(2025, 6, 1, tzinfo=timezone.utc))
    with Session(engine) as session:
        run = Run(**fields)
        session.add(run)
        session.commit()
        assert run.id is not None
        return run.id


def test_pages_are_newest_first_with_the_count(database) -> None:
    ids = seed_runs(database, 130, points=5)
    pages = [run_page(database, offset, 50) for offset in (0, 50, 100)]
    assert [p.total for p in pages] == [130] * 3 and [p.offset for p in pages] == [0, 50, 100]
    assert [len(p.rows) for p in pages] == [50, 50, 30]
    assert [r.id for p in pages for r in p.rows] == ids[::-1]
    beyond = run_page(database, 500, 50)  # past the end (runs deleted meanwhile): the last page
    assert beyond.offset == 100 and [r.id for r in beyond.rows] == ids[29::-1]


def test_runs_saved_in_the_same_instant_keep_a_stable_order(database) -> None:
    same = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)
    first, second = _add(database, strategy="a", created_at=same), _add(database, strategy="b", created_at=same)
    older = _add(database, strategy="c", created_at=datetime(2025, 5, 1, tzinfo=timezone.utc))
    assert _ids(database) == [second, first, older]
    assert [r.id for r in run_page(database, 1, 1).rows] == [first]


def test_a_summary_has_what_the_list_shows_and_no_more(database) -> None:
    run_id = _add(
        database, strategy="sma_cross", symbol="BTC/USDT", timeframe="1h", data_source="sample",
        config={"params": {"fast": 7, "mode": "long_short"}, "balance": 1000.0},
        metrics={"total_return_pct": -12.5, "max_drawdown_pct": -30.25, "trades": 42},
        equity_curve=[1.0] * 400, kind=RunKind.REPLAY,
    )
    statements: list[str] = []
    event.listen(database, "before_cursor_execute", lambda *a: statements.append(a[2]))
    summary = run_page(database, 0, 10).rows[0]
    assert summary.id == run_id and summary.kind is RunKind.REPLAY
    assert (summary.strategy, summary.symbol, summary.timeframe) == ("sma_cross", "BTC/USDT", "1h")
    assert summary.params == {"fast": 7, "mode": "long_short"}
    assert (summary.total_return_pct, summary.max_drawdown_pct, summary.trades) == (-12.5, -30.25, 42)
    assert statements and not any("equity_curve" in s for s in statements)  # 400 points a run, never read


def test_a_run_without_metrics_or_parameters(database) -> None:
    _add(database, strategy="hold")
    summary = run_page(database, 0, 10).rows[0]
    assert summary.params == {} and summary.total_return_pct is None and summary.trades is None


def test_filter_by_strategy_symbol_and_kind(database) -> None:
    ids = seed_runs(database, 120, points=5)
    assert _ids(database, RunFilter(strategy="RSI")) == _expected(ids, lambda r: r["strategy"] == "rsi_reversion")
    assert _ids(database, RunFilter(symbol="eth/")) == _expected(ids, lambda r: r["symbol"] == "ETH/USDT")
    assert _ids(database, RunFilter(kind="rep")) == _expected(ids, lambda r: r["kind"] == "REPLAY")
    both = RunFilter(strategy="sma", symbol="sol")
    page = run_page(database, 0, 5, both)
    expected = _expected(ids, lambda r: r["strategy"] == "sma_cross" and r["symbol"] == "SOL/USDT")
    assert page.total == len(expected) and [r.id for r in page.rows] == expected[:5]


def test_filter_by_parameter_values(database) -> None:
    ids = seed_runs(database, 120, points=5)
    assert _ids(database, RunFilter.parse("fast=9")) == _expected(ids, lambda r: r["params"].get("fast") == 9)
    assert _ids(database, RunFilter.parse("fast=1")) == []  # 13 and 17 are not 1
    pair = RunFilter.parse("fast=9 slow=33")
    assert _ids(database, pair) == _expected(ids, lambda r: r["params"] == {"fast": 9, "slow": 33})
    text = _add(database, strategy="x", config={"params": {"mode": "long_short", "k": 2}})
    assert _ids(database, RunFilter.parse("MODE=long_short")) == [text]
    assert _ids(database, RunFilter.parse("mode=long")) == []


def test_free_words_each_match_somewhere(database) -> None:
    ids = seed_runs(database, 120, points=5)
    assert _ids(database, RunFilter.parse("ETH replay")) == _expected(
        ids, lambda r: r["symbol"] == "ETH/USDT" and r["kind"] == "REPLAY")
    assert _ids(database, RunFilter.parse("period")) == _expected(ids, lambda r: "period" in r["params"])
    assert _ids(database, RunFilter.parse("nothing-like-this")) == []


def test_like_wildcards_in_the_filter_are_plain_text(database) -> None:
    underscore = _add(database, strategy="sma_cross")
    _add(database, strategy="smaxcross")
    percent = _add(database, strategy="up%down")
    _add(database, strategy="updown")
    assert _ids(database, RunFilter.parse("sma_")) == [underscore]
    assert _ids(database, RunFilter(strategy="p%d")) == [percent]


def test_the_stamp_moves_when_a_run_is_saved_or_deleted(database) -> None:
    assert runs_stamp(database) == (0, 0)
    a = _add(database, strategy="a")
    b = _add(database, strategy="b")
    assert runs_stamp(database) == (2, b)
    delete_run(database, a)
    assert runs_stamp(database) == (1, b)


@pytest.mark.parametrize(("text", "expected"), [
    ("", RunFilter()),
    ("sma btc", RunFilter(words=("sma", "btc"))),
    ("Strategy:sma symbol:BTC/USDT kind:replay", RunFilter(strategy="sma", symbol="BTC/USDT", kind="replay")),
    ("fast=10 slow=30", RunFilter(params=(("fast", "10"), ("slow", "30")))),
    ('"moving average" x', RunFilter(words=("moving average", "x"))),
    ('symbol:"BTC', RunFilter(symbol="BTC")),  # a quote not closed yet, while typing
    ("strategy: =5 a=", RunFilter(words=("=5", "a="))),  # half-typed parts: nothing or words
    ("price:10", RunFilter(words=("price:10",))),  # not a field: a word
])
def test_filter_text(text: str, expected: RunFilter) -> None:
    assert RunFilter.parse(text) == expected
    assert bool(RunFilter.parse(text)) is (expected != RunFilter())
