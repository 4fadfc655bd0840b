"""The backtest configuration form. Every field validates as you type.

The form owns no run logic: it says whether it is valid (:class:`BacktestForm.Validity`)
and, when asked, builds the :class:`engine.config.BacktestConfig`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Input, Label, Select, Static

from engine.config import BacktestConfig
from engine.errors import InputError
from engine.strategies import strategy_class, strategy_names
from screens.backtest.fields import ACCOUNT, DATA, DATA_SOURCES, EXITS, FieldSpec, build_config, build_policy


def _row(spec: FieldSpec, value: Optional[str] = None, prefix: str = "f-") -> Input:
    """A field is one Input whose border title is its label: half the widgets of label + input rows."""
    box = Input(value if value is not None else spec.default, placeholder=spec.placeholder, id=prefix + spec.key,
                classes="field-input")
    box.border_title = spec.label
    return box


class BacktestForm(VerticalScroll):
    @dataclass
    class Validity(Message):
        problems: dict[str, str]

        @property
        def valid(self) -> bool:
            return not self.problems

    def __init__(self, *, defaults: Optional[dict[str, str]] = None, **kw: Any) -> None:
        super().__init__(**kw)
        self.defaults = defaults or {}
        self.problems: dict[str, str] = {}
        self._revalidate_pending = False
        self._params_for: Optional[str] = None

    def compose(self) -> ComposeResult:
        names = strategy_names()
        yield Label("Strategy", classes="section")
        yield Select([(n, n) for n in names], value="sma_cross", allow_blank=False, id="strategy")
        yield Static("", id="strategy-help", classes="help")
        yield Vertical(id="params")
        yield Label("Data", classes="section")
        yield Select(list(DATA_SOURCES), value="sample", allow_blank=False, id="source")
        with Vertical(id="data-fields"):
            for spec in DATA:
                yield _row(spec, self.defaults.get(spec.key))
        yield Label("Account", classes="section")
        for spec in ACCOUNT:
            yield _row(spec, self.defaults.get(spec.key))
        yield Label("Exits and scaling", classes="section")
        for spec in EXITS:
            yield _row(spec, self.defaults.get(spec.key))

    async def on_mount(self) -> None:
        await self._show_params("sma_cross")
        self._show_source("sample")

    # ------------------------------------------------------------------ dynamic parts
    async def _show_params(self, name: str) -> None:
        if name == self._params_for:
            return
        self._params_for = name
        cls = strategy_class(name)
        box = self.query_one("#params", Vertical)
        await box.remove_children()
        await box.mount_all([_row(FieldSpec(p.name, p.name, str(p.default), p.help), prefix="p-") for p in cls.params])
        self.query_one("#strategy-help", Static).update(cls.description)
        self.revalidate()

    def _show_source(self, source: str) -> None:
        wanted = {"sample": (), "file": ("path",), "exchange": ("exchange", "symbol", "timeframe", "since", "until")}[source]
        for spec in DATA:
            self._field(spec.key).display = spec.key in wanted

    async def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "strategy":
            await self._show_params(str(event.value))
        elif event.select.id == "source":
            self._show_source(str(event.value))
            self.revalidate()

    def on_input_changed(self, event: Input.Changed) -> None:
        # Every keystroke (and every field's first value on mount) lands here: validate
        # once per refresh, not once per message.
        if not self._revalidate_pending:
            self._revalidate_pending = True
            self.call_after_refresh(self._deferred_revalidate)

    def _deferred_revalidate(self) -> None:
        self._revalidate_pending = False
        self.revalidate()

    # ------------------------------------------------------------------ validation
    @property
    def strategy(self) -> str:
        return str(self.query_one("#strategy", Select).value)

    @property
    def source(self) -> str:
        return str(self.query_one("#source", Select).value)

    def _field(self, key: str) -> Input:
        cache = self.__dict__.setdefault("_inputs", {})
        if key not in cache:
            cache[key] = self.query_one(f"#f-{key}", Input)
        return cache[key]

    def _collect(self) -> tuple[dict[str, Any], dict[str, str], dict[str, str]]:
        values: dict[str, Any] = {}
        problems: dict[str, str] = {}
        for spec in (*ACCOUNT, *EXITS, *DATA):
            box = self._field(spec.key)
            try:
                values[spec.key] = spec.parse(box.value, spec.label)
                box.remove_class("-invalid")
            except InputError as exc:
                problems[spec.key] = str(exc)
                box.add_class("-invalid")
        params: dict[str, str] = {}
        cls = strategy_class(self.strategy)
        boxes = {box.id: box for box in self.query_one("#params").query(Input)}
        for p in cls.params:
            box = boxes.get(f"p-{p.name}")
            if box is None:
                continue
            try:
                p.parse(box.value)
                params[p.name] = box.value.strip()
                box.remove_class("-invalid")
            except InputError as exc:
                problems[f"param {p.name}"] = str(exc)
                box.add_class("-invalid")
        return values, params, problems

    def revalidate(self) -> dict[str, str]:
        values, params, problems = self._collect()
        # Cross-field checks run per group, so one bad field does not hide another group's problem.
        checks = {
            "strategy": (not any(k.startswith("param ") for k in problems),
                         lambda: strategy_class(self.strategy)(**params)),
            "exits": (not any(spec.key in problems for spec in EXITS), lambda: build_policy(values)),
        }
        for name, (ready, check) in checks.items():
            if ready:
                try:
                    check()
                except InputError as exc:
                    problems[name] = str(exc)
        if not problems:
            try:
                build_config(self.strategy, params, self.source, values)
            except InputError as exc:
                problems["form"] = str(exc)
        self.problems = problems
        self.post_message(self.Validity(dict(problems)))
        return problems

    def build(self) -> BacktestConfig:
        values, params, problems = self._collect()
        if problems:
            raise InputError(next(iter(problems.values())))
        return build_config(self.strategy, params, self.source, values)

    def set_value(self, key: str, value: str) -> None:
        """Fill a field by key (``fee``, ``stop_loss``, ``p-fast`` for a parameter, ...)."""
        box_id = f"#{key}" if key.startswith("p-") else f"#f-{key}"
        self.query_one(box_id, Input).value = value
