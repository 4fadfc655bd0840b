"""What the replay screen shows of the engine's state: chart frame, position panel, event log.

Pure functions of a :class:`engine.replay.Replay`, so the screen only places their
output in widgets, and tests can read the same text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.levels import EXIT, PartialExitAction
from screens.replay.chart import ChartView, Pane

if TYPE_CHECKING:  # the app's first frame must not wait for pandas
    from engine.replay import Replay


def chart_view(replay: Replay, bars: int) -> ChartView:
    """The bars up to the cursor (never one after it: that would be looking ahead), the
    cursor three quarters across a frame ``bars`` wide."""
    bt = replay.backtest
    cursor = max(replay.cursor, 0)
    bars = max(1, min(bars, bt.n))
    end = cursor + 1
    first = max(0, end - max(bars * 3 // 4, 1))
    levels: list[tuple[str, float]] = []
    pos = replay.engine.state.position
    if pos is not None and replay.cursor >= 0:
        if pos.stop_loss is not None:
            levels.append(("stop", pos.stop_loss))
        if pos.take_profit is not None:
            levels.append(("target", pos.take_profit))
        if pos.trailing_stop is not None:
            levels.append(("trail" if pos.trailing_active else "trail_idle", pos.trailing_stop))
        nxt = next_target(replay)
        if nxt is not None:
            levels.append(("next", nxt))
    marks: dict[int, list[tuple[str, bool, float]]] = {}
    for fill in reversed(replay.engine.journal.fills):  # fills are in bar order: read back to the frame
        if fill.bar < first:
            break
        if fill.bar < end:
            kind = fill.kind.value
            adds = kind in ("entry", "scale_in")
            marks.setdefault(fill.bar, []).append((kind, adds == (fill.side.value == "long"), fill.price))
    lines, pane = [], None
    for plot in replay.plots:
        window = plot.values[first:end].tolist()
        if plot.pane == "price":
            lines.append((plot.label, window))
        elif pane is None:  # one sub-panel: the chart has room for one
            pane = Pane(plot.label, window, plot.guides, plot.bounds)
    return ChartView(
        first, bt.open[first:end].tolist(), bt.high[first:end].tolist(), bt.low[first:end].tolist(),
        bt.close[first:end].tolist(), replay.cursor, levels, marks, replay.volume[first:end].tolist(), lines, pane,
    )


def next_target(replay: Replay) -> float | None:
    pos = replay.engine.state.position
    if pos is None:
        return None
    for level in replay.engine.policy_levels(pos, pos.avg_entry_price):
        if level.priority == EXIT and isinstance(level.due, PartialExitAction) and not level.due.is_take_profit:
            return level.price
    return None


def position_text(replay: Replay) -> str:
    st = replay.engine.state
    pos = st.position
    if pos is None:
        pending = st.pending
        if pending is not None and pending.decision.direction:
            side = "long" if pending.decision.direction > 0 else "short"
            return f"[b]Flat[/b]\nsignal: {side} at the next open"
        return "[b]Flat[/b]\nno position"
    price = float(replay.backtest.close[max(replay.cursor, 0)])
    upnl = pos.unrealized_pnl(price)
    basis = pos.avg_entry_price * pos.current_size
    trail = "—" if pos.trailing_stop is None else f"{pos.trailing_stop:,.2f} ({'active' if pos.trailing_active else 'armed'})"
    nxt = next_target(replay)
    return "\n".join([
        f"[b]{pos.side.value.upper()}[/b] #{pos.trade_no} since bar {pos.entry_bar}",
        f"size      {pos.current_size:.6g} of {pos.original_size:.6g}",
        f"avg entry {pos.avg_entry_price:,.2f}",
        f"unrealised {upnl:+,.2f} ({upnl / basis * 100 if basis else 0:+.2f} %)",
        f"MFE {pos.mfe_pct():.2f} %   MAE {pos.mae_pct():.2f} %",
        f"SL {_price(pos.stop_loss)}   TP {_price(pos.take_profit)}",
        f"trailing  {trail}",
        f"targets hit {pos.partial_exits_done}   scale-ins {pos.scale_ins_done} (by policy)",
        f"next target {_price(nxt)}",
    ])


def _price(value: float | None) -> str:
    return "—" if value is None else f"{value:,.2f}"


def account_text(replay: Replay) -> str:
    bt = replay.backtest
    bars = replay.cursor + 1
    st = replay.engine.state
    if bars <= 0:
        return f"balance {st.balance:,.2f}   equity {st.balance:,.2f}   drawdown 0.00 %   trades 0"
    now = st.equity(float(bt.close[replay.cursor]))
    peak = replay.peak_equity()
    return (f"balance {st.balance:,.2f}   equity {now:,.2f}   drawdown {(now / peak - 1) * 100:.2f} %   "
            f"trades {len(replay.engine.journal.trades)}")


SIGNAL = {1: "signal long", -1: "signal short", 0: "signal flat"}
# Why a fill happened, in the fewest words (the log is narrow at 80 columns).
REASONS = {"stop_loss": "stop", "trailing_stop": "trailing", "partial_target": "target", "take_profit": "take-profit",
           "time_exit": "time limit"}


def events(replay: Replay, limit: int = 200) -> list[tuple[int, str, str]]:
    """(bar, what happened, its figures) up to the cursor, newest first: the strategy's signals,
    fills with their reason, and the engine's notes (a scale-in cut by the leverage cap, say)."""
    journal = replay.engine.journal
    bt = replay.backtest
    out: list[tuple[int, str, str]] = []
    changes = bt.changes[: int(bt.changes.searchsorted(replay.cursor, side="right"))][-limit:]
    for bar in changes.tolist():
        out.append((bar, SIGNAL[int(bt.signals[bar])], "order at the next open"))
    for fill in journal.fills[-limit:]:
        reason = REASONS.get(fill.reason, fill.reason.replace("_", " "))
        what = f"{fill.kind.value.replace('_', ' ')} {fill.side.value} · {reason}"
        pnl = f" {fill.pnl:+,.2f}" if fill.kind.value in ("exit", "partial_exit") else ""
        out.append((fill.bar, what, f"{fill.qty:.4g} @ {fill.price:,.2f}{pnl}"))
    for note in journal.notes[-limit:]:
        out.append((note.bar, note.text, ""))
    # Newest first; sorting is stable, so on one bar the signal (at its close) stays above the fills.
    out.sort(key=lambda e: e[0], reverse=True)
    return out[:limit]
