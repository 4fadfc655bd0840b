"""Pages of the stored runs for a list: only the rows on screen, only the columns it shows.

With ten thousand runs, reading every Run row (config, metrics and a 400-point equity
curve as JSON each) took seconds. A list needs a page of summaries and a count, newest
first; both come from SQL here, with the filter in SQL too so the count and the pages
always agree. Everything is plain SQLAlchemy (LIKE, LOWER, REPLACE, the JSON type's
path access), which SQLite and PostgreSQL both run.
"""

from __future__ import annotations

import json
from typing import Any, Optional

from sqlalchemy import String, and_, cast, func, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ColumnElement

from engine.models import Run
from engine.run_filter import RunFilter, RunPage, RunSummary

__all__ = ["RunFilter", "RunSummary", "RunPage", "run_page", "runs_stamp"]

def _params_text() -> ColumnElement[str]:
    # The parameters as JSON text without spaces: SQLite hands back a sub-object minified,
    # PostgreSQL's json type as it was written ("a": 1, "b": 2), so spaces are dropped to
    # compare both the same way.
    return func.replace(func.coalesce(Run.config["params"].as_string(), ""), " ", "")  # type: ignore[index]


def _like_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _param_clause(params: ColumnElement[str], name: str, value: str) -> ColumnElement[bool]:
    """``name=value`` exactly: a number or a string, followed by the next key or the end."""
    key = _like_text(json.dumps(name))
    bare = _like_text(value.replace(" ", ""))
    patterns = (f'%{key}:{bare},%', f'%{key}:{bare}}}%', f'%{key}:"{bare}"%')
    return or_(*(func.lower(params).like(p.lower(), escape="\\") for p in patterns))


def _where(flt: RunFilter) -> Optional[ColumnElement[bool]]:
    kind = func.lower(cast(Run.kind, String))
    params = _params_text()
    clauses: list[ColumnElement[bool]] = []
    if flt.strategy:
        clauses.append(Run.strategy.icontains(flt.strategy, autoescape=True))  # type: ignore[attr-defined]
    if flt.symbol:
        clauses.append(Run.symbol.icontains(flt.symbol, autoescape=True))  # type: ignore[attr-defined]
    if flt.kind:
        clauses.append(kind.startswith(flt.kind.lower(), autoescape=True))
    for name, value in flt.params:
        clauses.append(_param_clause(params, name, value))
    for word in flt.words:
        clauses.append(or_(
            Run.strategy.icontains(word, autoescape=True),  # type: ignore[attr-defined]
            Run.symbol.icontains(word, autoescape=True),  # type: ignore[attr-defined]
            kind.contains(word.lower(), autoescape=True),
            params.icontains(word.replace(" ", ""), autoescape=True),
        ))
    return and_(*clauses) if clauses else None


def _summary(row: Any) -> RunSummary:
    params = row.params
    if isinstance(params, str):  # SQLite gives the JSON text; PostgreSQL's ->> too
        params = json.loads(params) if params else {}
    trades = row.trades
    return RunSummary(
        id=row.id, kind=row.kind, created_at=row.created_at, strategy=row.strategy, symbol=row.symbol or "",
        timeframe=row.timeframe or "", data_source=row.data_source or "", period_start=row.period_start,
        period_end=row.period_end, params=params or {}, parent_run_id=row.parent_run_id,
        total_return_pct=row.total_return_pct, max_drawdown_pct=row.max_drawdown_pct,
        trades=None if trades is None else int(trades),
    )


def run_page(engine: Engine, offset: int, limit: int, flt: RunFilter = RunFilter()) -> RunPage:
    """Runs ``offset:offset+limit`` of those matching ``flt``, newest first (created_at, then
    id, so runs saved within one clock tick keep a stable order), and how many match.

    An offset past the end gives the last page, so a list that shrank underneath its
    reader (deletes elsewhere) still shows something."""
    where = _where(flt)
    count = select(func.count(Run.id))  # type: ignore[arg-type]
    newest = (Run.created_at.desc(), Run.id.desc())  # type: ignore[attr-defined, union-attr]
    with engine.connect() as conn:
        total = int(conn.execute(count if where is None else count.where(where)).scalar_one())
        offset = max(0, min(offset, (total - 1) // limit * limit if total else 0))
        # The page's ids first, from the index alone; the JSON is read for those rows only.
        ids = select(Run.id).order_by(*newest).offset(offset).limit(limit)  # type: ignore[arg-type]
        if where is not None:
            ids = ids.where(where)
        page = ids.subquery()
        query = select(
            Run.id, Run.kind, Run.created_at, Run.strategy, Run.symbol, Run.timeframe, Run.data_source,  # type: ignore[arg-type]
            Run.period_start, Run.period_end, Run.parent_run_id,
            Run.config["params"].as_string().label("params"),  # type: ignore[index]
            Run.metrics["total_return_pct"].as_float().label("total_return_pct"),  # type: ignore[index]
            Run.metrics["max_drawdown_pct"].as_float().label("max_drawdown_pct"),  # type: ignore[index]
            Run.metrics["trades"].as_float().label("trades"),  # type: ignore[index]
        ).join(page, page.c.id == Run.id).order_by(*newest)
        rows = tuple(_summary(r) for r in conn.execute(query))
    return RunPage(offset, total, rows)


def runs_stamp(engine: Engine) -> tuple[int, int]:
    """How many runs there are and the newest id: changes when a run is saved or deleted,
    by this process or any other, for the price of one small query."""
    with engine.connect() as conn:
        count, newest = conn.execute(select(func.count(Run.id), func.max(Run.id))).one()  # type: ignore[arg-type]
    return int(count), int(newest or 0)
