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
     ("colour = 1", "unknown setting 'colour'"), ("fee_pct = 25.0", "fee_pct must be")],
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
