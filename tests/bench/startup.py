"""Time from launching the TUI to its first painted frame, in a fresh process.

The child is the real app (real back-ends, a throwaway database and config dir) that
exits as soon as Textual reports it ready, i.e. after the first frame. Measured from
the parent, so interpreter start-up and every import count.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

CHILD = """
import os, sys, time
from atb_tui.app import AtbApp, create_app

class FirstFrame(AtbApp):
    def on_ready(self) -> None:
        sys.__stdout__.write(f"{time.time() - float(os.environ['ATB_BENCH_T0']):.4f}\\n")
        sys.__stdout__.flush()
        self.exit()

app = create_app()
app.__class__ = FirstFrame
app.run(headless=True, size=(160, 50))
"""


def measure_startup(runs: int = 5) -> float:
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "ATB_TUI_CONFIG_DIR": tmp, "ATB_TUI_DB": f"sqlite:///{tmp}/s.sqlite"}
        env["ATB_BENCH_T0"] = repr(time.time())
        subprocess.run([sys.executable, "-c", CHILD], env=env, check=True, capture_output=True, timeout=120)  # warm caches
        for _ in range(runs):
            env["ATB_BENCH_T0"] = repr(time.time())
            out = subprocess.run([sys.executable, "-c", CHILD], env=env, check=True, capture_output=True,
                                 text=True, timeout=120)
            times.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(times)


if __name__ == "__main__":
    print(f"TUI startup to first painted frame: {measure_startup():.3f} s (median of 5)")
