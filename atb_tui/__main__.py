from atb_tui.cli import run

run()
