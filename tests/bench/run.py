"""`make bench`: throughput and memory of the engine, against backtesting.py.

Prints figures; asserts nothing (machines are noisy). The job: 1,000,000 one-minute
synthetic bars, sma_cross 10/30 long/short, fee 0.1 %. Medians of several runs.
First the whole command a trader types (tests/bench/end_to_end.py), then the parts.
Environment: BENCH_BARS (default 1000000), BENCH_RUNS (5), BENCH_REF_RUNS (3),
BENCH_SIZES (100000,1000000,10000000: the scaling rows).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Callable

BARS = int(os.environ.get("BENCH_BARS", "1000000"))
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
REF_RUNS = int(os.environ.get("BENCH_REF_RUNS", "3"))
SIZES = tuple(int(x) for x in os.environ.get("BENCH_SIZES", "100000,1000000,10000000").split(","))

# Room for the scale-in (1.5x the entry at most); at 1x the leverage cap would skip it.
LEVERAGE = 2.0
PARTIALS = dict(
    trailing_activation_pct=0.5, trailing_distance_pct=0.3,
    exit_targets=(0.4, 0.8), exit_sizes=(0.3, 0.3),
    scale_in_thresholds=(0.2,), scale_in_sizes=(0.5,),
)


def median_time(fn: Callable[[], object], runs: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def ours(candles, policy_kw: dict) -> tuple[float, float, object]:
    from engine.config import BacktestConfig
    from engine.gc_pause import gc_paused
    from engine.policy import ExitPolicy, Sizing
    from engine.runner import run_backtest

    config = BacktestConfig(
        strategy="sma_cross", params={"fast": 10, "slow": 30, "mode": "long_short"},
        balance=1e9, fee_pct=0.1, slippage_pct=0.0, policy=ExitPolicy(**policy_kw),
        sizing=Sizing(max_leverage=LEVERAGE),
    )
    def job():
        with gc_paused():  # as the headless CLI runs it
            return run_backtest(config, candles)

    job()  # warm-up: JIT compile / cache load
    median, result = median_time(job, RUNS)
    return median, BARS / median, result


def reference(candles) -> tuple[float, float, int]:
    """backtesting.py on the same bars in memory (the strategy of tests/bench/end_to_end.py)."""
    from backtesting import Backtest

    from tests.bench.end_to_end import REFERENCE_STRATEGY

    data = candles.rename(columns=str.capitalize)
    scope: dict[str, object] = {}
    exec(REFERENCE_STRATEGY, scope)

    def job():
        bt = Backtest(data, scope["SmaCross"], cash=1e9, commission=0.001, exclusive_orders=True, finalize_trades=True)
        return bt.run()

    median, stats = median_time(job, REF_RUNS)
    return median, BARS / median, int(stats["# Trades"])


MEMORY_JOB = """
import resource, sys
from engine.config import BacktestConfig, DataSpec
from engine.policy import ExitPolicy, Sizing
from engine.runner import run_backtest
from tests.bench.run import LEVERAGE, PARTIALS
config = BacktestConfig(strategy="sma_cross", params={"fast": 10, "slow": 30, "mode": "long_short"},
                        data=DataSpec(kind="file", path=sys.argv[1]), balance=1e9, fee_pct=0.1,
                        slippage_pct=0.0, policy=ExitPolicy(**PARTIALS), sizing=Sizing(max_leverage=LEVERAGE))
result = run_backtest(config)
try:  # VmHWM belongs to this process image; ru_maxrss can inherit the parent's peak via exec
    peak_kb = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
except (OSError, StopIteration):
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(len(result.trades), peak_kb / 1024)
"""


def csv_load_seconds(candles) -> tuple[float, float]:
    """Median seconds to load and validate the bars from a CSV file, and to validate them again."""
    from engine.data import load_candles
    from engine.data.validate import validate_candles

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "bars.csv")
        candles.to_csv(path)
        load, frame = median_time(lambda: load_candles(path), 3)
        check, _ = median_time(lambda: validate_candles(frame, "bench"), 3)
    return load, check


def peak_memory_mb(candles) -> tuple[float, int]:
    """Peak RSS of a fresh process that loads the bars from Parquet (validated) and runs
    the trailing+partials job once, as `atb-tui backtest --data bars.parquet` would."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "bars.parquet")
        candles.to_parquet(path)
        out = subprocess.run([sys.executable, "-c", MEMORY_JOB, path], capture_output=True, text=True, check=True)
    trades, mb = out.stdout.split()
    return float(mb), int(trades)


def startup_seconds() -> float | None:
    """Time to the first painted frame of the TUI, if the app exists (median of 5)."""
    try:
        from tests.bench.startup import measure_startup
    except ImportError:
        return None
    return measure_startup()


def main() -> int:
    from engine.data import synthetic_bars

    print(f"atb-tui benchmark: {BARS:,} one-minute synthetic bars, sma_cross 10/30 long/short, fee 0.1 %")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; medians of {RUNS} runs (reference: {REF_RUNS})")
    candles = synthetic_bars(BARS, seed=7)

    from tests.bench.end_to_end import report, report_scaling
    from tests.bench.store import store_figures

    t_plain, bps_plain, res_plain = ours(candles, {})
    report(BARS, RUNS, REF_RUNS, engine_only=t_plain)
    print(f"\nstoring that run's {len(res_plain.trades):,} trades and {len(res_plain.fills):,} fills "
          f"(save_backtest in-process, median of {RUNS}):")
    for label, seconds in store_figures(res_plain, RUNS).items():
        print(f"  {label:<36}{seconds:7.3f} s   (target < 0.5 s on SQLite)")
    report_scaling(SIZES)

    print("\nengine only, in-process (data already in memory, fee 0.1 %):")
    print(f"[atb-tui] plain:                  {t_plain:.3f} s  {bps_plain:,.0f} bars/s  "
          f"{len(res_plain.trades):,} trades, {len(res_plain.fills):,} fills")
    t_part, bps_part, res_part = ours(candles, PARTIALS)
    print(f"[atb-tui] trailing+2 partials+1 scale-in: {t_part:.3f} s  {bps_part:,.0f} bars/s  "
          f"{len(res_part.trades):,} trades, {len(res_part.fills):,} fills")
    print(f"          policy: {json.dumps(PARTIALS)}")

    if REF_RUNS > 0:
        try:
            t_ref, bps_ref, ref_trades = reference(candles)
        except ImportError:
            print("\nbacktesting.py is not installed (pip install -e '.[bench]'); skipping the reference")
        else:
            print(f"\n[backtesting.py] same job:       {t_ref:.3f} s  {bps_ref:,.0f} bars/s  {ref_trades:,} trades")
            print(f"ratio atb-tui / backtesting.py:  {bps_plain / bps_ref:.1f}x (plain), "
                  f"{bps_part / bps_ref:.1f}x (with trailing+partials)")

    load, check = csv_load_seconds(candles)
    print(f"\nCSV of {BARS:,} bars: load + validate {load:.2f} s, validate again {check:.2f} s (medians of 3)")
    mem, mem_trades = peak_memory_mb(candles)
    print(f"\npeak memory, fresh process loading {BARS:,} bars from Parquet + trailing/partials run "
          f"({mem_trades:,} trades): {mem:.0f} MB RSS")
    from tests.bench.replay import replay_figures

    print(f"\nreplay of {BARS:,} bars at 160x50 (Pilot; handler = the key's work, + frame = until the screen took it in):")
    for key, value in replay_figures(BARS).items():
        print(f"  {key:<44}{value:>10,.1f}")
    from tests.bench.backtest_ui import backtest_ui_figures

    print(f"\nbacktest workspace at 160x50, a {BARS:,}-bar run (Pilot; ms):")
    for key, value in backtest_ui_figures(BARS).items():
        print(f"  {key:<44}{value:>10,.1f}")
    from tests.bench.history import history_figures

    print("\nHistory at 160x50 with 10,000 stored runs (Pilot; ms, key to the frame showing the result):")
    for key, value in history_figures().items():
        print(f"  {key:<44}{value:>10,.1f}")
    from tests.bench.live import SYMBOLS, live_figures

    print(f"\nlive workspace at 160x50 (Pilot; {len(SYMBOLS)} open positions, every price moving 10 times a second):")
    for key, value in live_figures().items():
        print(f"  {key:<44}{value:>10,.1f}")
    start = startup_seconds()
    if start is not None:
        print(f"TUI startup to first painted frame: {start:.3f} s (median)")
    print("\ntargets: >= 10x backtesting.py, >= 1,000,000 bars/s with trailing+partials, < 400 MB peak;"
          " replay: keys answered < 50 ms p95, autoplay >= 30 bars/s; live: keys answered < 50 ms p95")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
