"""Settings: defaults < settings.toml < ATB_TUI_* environment; bad files are reported, not replaced."""

from __future__ import annotations

from pathlib import Path

import pytest

from atb_tui.settings import Settings, load_settings, save_settings
from engine.errors import InputError


def test_defaults_file_then_environment(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    assert load_settings(path, environ={}) == Settings()
    save_settings(Settings(fee_pct=0.075, theme="nord"), path)
    assert load_settings(path, environ={}).fee_pct == 0.075
    merged = load_settings(path, environ={"ATB_TUI_FEE_PCT": "0.02", "ATB_TUI_BALANCE": "500"})
    assert (merged.fee_pct, merged.balance, merged.theme) == (0.02, 500.0, "nord")


@pytest.mark.parametrize(
    "text, needle",
    [("fee_pct = ", "not valid TOML"), ('fee_pct = "lots"', "fee_pct must be a float"),
     ("colour = 1", "unknown setting 'colour'"), ("fee_pct = 25.0", "settings.toml: setting fee_pct: fee must be at least 0 % and below 10 %, got 25 %")],
)
def test_a_bad_file_is_reported_and_left_alone(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(text)
    with pytest.raises(InputError, match=needle):
        load_settings(path, environ={})
    assert path.read_text() == text


def test_a_bad_environment_override_names_the_variable_value(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="balance"):
        load_settings(tmp_path / "none.toml", environ={"ATB_TUI_BALANCE": "-5"})


def test_saving_an_invalid_value_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    with pytest.raises(InputError):
        save_settings(Settings(slippage_pct=-1), path)
    assert not path.exists()


@pytest.mark.parametrize("key, setting, value", [
    ("fee", "fee_pct", 9.995), ("fee", "fee_pct", 10.0), ("fee", "fee_pct", -0.01), ("fee", "fee_pct", 0.0),
    ("slippage", "slippage_pct", 9.999), ("slippage", "slippage_pct", 10.0),
    ("balance", "balance", 0.0), ("balance", "balance", 0.01), ("balance", "balance", float("inf")),
])
def test_one_rule_per_setting_for_the_dialog_the_file_the_form_and_the_cli(tmp_path: Path, key, setting, value) -> None:
    """Bug 3: Settings saved a fee of 9.995 %, the form refused it after a restart."""
    from atb_tui.cli import main as cli_main
    from engine.config import BacktestConfig
    from screens.backtest.fields import ACCOUNT

    said: dict[str, object] = {}
    said["settings"] = Settings(**{setting: value}).problems().get(setting)
    path = tmp_path / "settings.toml"
    path.write_text(f"{setting} = {value!r}\n")
    try:
        load_settings(path, environ={})
        said["file"] = None
    except InputError as exc:
        said["file"] = str(exc).split(": ", 2)[-1]
    field = next(spec for spec in ACCOUNT if spec.key == key)
    for name, build in (("form", lambda: field.parse(repr(value), key)),
                        ("engine", lambda: BacktestConfig(**{"balance" if key == "balance" else f"{key}_pct": value}))):
        try:
            build()
            said[name] = None
        except InputError as exc:
            said[name] = str(exc)
    assert len(set(said.values())) == 1, said
    code = cli_main(["backtest", "--strategy", "sma_cross", f"--{key}", repr(value), "--no-save", "--json"])
    assert (code == 0) == (said["form"] is None)


def test_the_default_exchange_is_checked_against_ccxt_as_the_form_checks_it() -> None:
    from screens.backtest.fields import exchange

    problem = Settings(default_exchange="binanse").problems()["default_exchange"]
    assert problem.startswith("unknown exchange 'binanse' (did you mean binance")
    with pytest.raises(InputError) as caught:
        exchange("binanse", "exchange")
    assert str(caught.value) == problem
    assert "default_exchange" not in Settings(default_exchange="kraken").problems()


def test_exchange_ids_read_without_ccxt_are_ccxt_s() -> None:
    import ccxt

    from engine.exchange_ids import known_exchanges

    assert list(known_exchanges()) == list(ccxt.exchanges)
