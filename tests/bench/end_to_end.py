"""The whole job a trader waits for, as a trader types it: load a CSV, signals, run,
store the run, print the JSON. Against a plain backtesting.py script on the same CSV.

Each figure is a fresh process timed from the parent (interpreter start-up, imports
and exit included), as `time atb-tui backtest ...` would show it. Peak memory is the
child's own maximum resident set (``wait4``). Also: how time and memory grow from
100k to 1M to 10M bars (the 10M case read from Parquet).
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

ARGS = ["backtest", "--strategy", "sma_cross", "--param", "fast=10", "--param", "slow=30",
        "--param", "mode=long_short", "--fee", "0", "--slippage", "0", "--json", "--timings"]
PHASES = ("imports", "load", "signals", "run", "metrics", "store", "output")

REFERENCE_STRATEGY = """
from backtesting import Strategy
from backtesting.lib import crossover
from backtesting.test import SMA

class SmaCross(Strategy):
    def init(self):
        self.fast = self.I(SMA, self.data.Close, 10)
        self.slow = self.I(SMA, self.data.Close, 30)

    def next(self):
        # A fixed one-unit size keeps it trading through the whole series (fees would
        # otherwise leave it too poor to buy a whole unit); the work per trade is the same.
        if crossover(self.fast, self.slow):
            self.buy(size=1)
        elif crossover(self.slow, self.fast):
            self.sell(size=1)
"""

# The plain script a backtesting.py user writes for the same job, reading the same CSV.
REFERENCE = """
import sys
import pandas as pd
from backtesting import Backtest

data = pd.read_csv(sys.argv[1], index_col=0, parse_dates=True).rename(columns=str.capitalize)
""" + REFERENCE_STRATEGY + """
stats = Backtest(data, SmaCross, cash=1e9, commission=0.0, exclusive_orders=True, finalize_trades=True).run()
print(int(stats["# Trades"]))
"""


def timed_process(cmd: list[str], env: dict[str, str], stdout_path: Optional[Path] = None) -> tuple[float, float, str]:
    """Wall seconds, peak RSS in MB and stderr of one fresh process."""
    with tempfile.TemporaryFile() as err, open(stdout_path or os.devnull, "wb") as out:
        start = time.perf_counter()
        # posix_spawn, not fork + exec: a forked copy of this (big) benchmark process would
        # count in the child's peak RSS as it was before exec.
        pid = os.posix_spawnp(cmd[0], cmd, env, file_actions=[
            (os.POSIX_SPAWN_DUP2, out.fileno(), 1), (os.POSIX_SPAWN_DUP2, err.fileno(), 2)])
        _pid, status, usage = os.wait4(pid, 0)
        wall = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        err.seek(0)
        text = err.read().decode(errors="replace")
    if code != 0:
        raise RuntimeError(f"{cmd[:3]} exited {code}: {text[-500:]}")
    return wall, usage.ru_maxrss / 1024, text


def phase_split(stderr: str) -> dict[str, float]:
    line = next(x for x in stderr.splitlines() if x.startswith("timings: "))
    return {name: float(sec) for name, sec in re.findall(r"(\w+) ([\d.]+) s", line)}


def _env(tmp: Path) -> dict[str, str]:
    return {**os.environ, "ATB_TUI_CACHE_DIR": str(tmp / "cache"), "ATB_TUI_CONFIG_DIR": str(tmp / "config"),
            "ATB_TUI_DB": f"sqlite:///{tmp / 'runs.sqlite'}"}


def ours(data: Path, env: dict[str, str], out: Optional[Path] = None) -> tuple[float, float, dict[str, float]]:
    exe = Path(sys.executable).with_name("atb-tui")
    wall, mb, err = timed_process([str(exe), *ARGS, "--data", str(data)], env, out)
    return wall, mb, phase_split(err)


def end_to_end(bars: int, runs: int, ref_runs: int) -> dict[str, object]:
    """Medians for the issue's command on a ``bars``-row CSV, ours and the reference."""
    from engine.data import synthetic_bars

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        csv = tmp / "bars_1m.csv"
        synthetic_bars(bars, seed=7).to_csv(csv)
        env = _env(tmp)
        first, _mb, first_split = ours(csv, env, tmp / "out.json")  # parses the CSV, fills the cache
        walls, splits, mbs = [], [], []
        for _ in range(runs):
            wall, mb, split = ours(csv, env, tmp / "out.json")
            walls.append(wall)
            splits.append(split)
            mbs.append(mb)
        import json

        trades = len(json.loads((tmp / "out.json").read_bytes())["trades"])
        ref = []
        ref_trades = None
        for _ in range(ref_runs):
            try:
                wall, _mb, _err = timed_process([sys.executable, "-c", REFERENCE, str(csv)], os.environ.copy())
            except RuntimeError as exc:
                if "No module named 'backtesting'" in str(exc):
                    break
                raise
            ref.append(wall)
        if ref:
            out = subprocess.run([sys.executable, "-c", REFERENCE, str(csv)], capture_output=True, text=True)
            ref_trades = int(out.stdout.strip() or 0)
    wall = statistics.median(walls)
    split = {name: statistics.median(s.get(name, 0.0) for s in splits) for name in PHASES}
    # The store runs in a child beside the output (atb_tui.forked_store): the line's total
    # is the wall clock of the phases, not their sum.
    split["start-up + exit"] = max(wall - statistics.median(s["total"] for s in splits), 0.0)
    return {
        "wall": wall, "first_wall": first, "first_load": first_split.get("load", 0.0), "split": split,
        "peak_mb": statistics.median(mbs), "trades": trades,
        "reference": statistics.median(ref) if ref else None, "reference_trades": ref_trades,
    }


def scaling(sizes: tuple[int, ...] = (100_000, 1_000_000, 10_000_000)) -> list[tuple[int, str, float, float, int]]:
    """(bars, format, wall seconds, peak MB, trades) of the whole command at each size:
    CSV below 10M (cached parse, second run), Parquet for 10M."""
    import gc
    import json

    from engine.data import synthetic_bars

    rows = []
    for bars in sizes:
        with tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            frame = synthetic_bars(bars, seed=7)
            if bars >= 10_000_000:
                data, kind = tmp / "bars.parquet", "parquet"
                frame.to_parquet(data)
            else:
                data, kind = tmp / "bars.csv", "csv"
                frame.to_csv(data)
            del frame
            gc.collect()
            env = _env(tmp)
            if kind == "csv":
                ours(data, env)  # the parse, cached for the measured run
            wall, mb, _split = ours(data, env, tmp / "out.json")
            with open(tmp / "out.json", "rb") as fh:
                trades = len(json.load(fh)["trades"])
            rows.append((bars, kind, wall, mb, trades))
    return rows


def report(bars: int, runs: int, ref_runs: int, engine_only: Optional[float] = None) -> None:
    fig = end_to_end(bars, runs, ref_runs)
    print(f"\nend to end, `atb-tui {' '.join(ARGS[:-1])} --data bars_1m.csv` ({bars:,} rows, "
          f"{fig['trades']:,} trades, stored in SQLite), fresh process each, median of {runs}:")
    print(f"  atb-tui:         {fig['wall']:.3f} s   (first run, CSV parsed: {fig['first_wall']:.3f} s, "
          f"load {fig['first_load']:.3f} s; peak {fig['peak_mb']:.0f} MB)")
    split = fig["split"]
    print("    " + ", ".join(f"{name} {seconds:.3f}" for name, seconds in split.items())
          + "  (s; the store runs in a child process alongside the output)")
    if engine_only is not None:
        print(f"    engine only (in-process, same job, no fees): {engine_only:.3f} s")
    if fig["reference"] is not None:
        ratio = fig["reference"] / fig["wall"]
        print(f"  backtesting.py:  {fig['reference']:.3f} s   ({fig['reference_trades']:,} trades; median of {ref_runs})")
        print(f"  ratio:           {ratio:.1f}x faster end to end (target >= 5x, aim 8x)")
    else:
        print("  backtesting.py is not installed (pip install -e '.[bench]'); no reference")


def report_scaling(sizes: tuple[int, ...]) -> None:
    print("\nhow the whole command grows (fresh process; CSV cached parse, 10M from Parquet):")
    base = None
    for bars, kind, wall, mb, trades in scaling(sizes):
        base = base or (bars, wall, mb)
        print(f"  {bars:>11,} bars ({kind:<7}) {wall:7.2f} s  {mb:7.0f} MB peak  {trades:>9,} trades   "
              f"per 1M bars: {wall / bars * 1e6:5.2f} s, {mb / bars * 1e6:6.0f} MB")
    print("  target: time and memory linear in bars, 10M under 3 GB peak")


if __name__ == "__main__":
    report(int(os.environ.get("BENCH_BARS", "1000000")), int(os.environ.get("BENCH_RUNS", "5")),
           int(os.environ.get("BENCH_REF_RUNS", "3")))
    report_scaling(tuple(int(x) for x in os.environ.get("BENCH_SIZES", "100000,1000000,10000000").split(",")))
