"""The backtest configuration form. Every field validates as you type.

The form owns no run logic: it says what is wrong (:class:`BacktestForm.Validity`),
marks every field a problem involves (both ends of a rule between fields), and, when
asked, builds the :class:`engine.config.BacktestConfig`. Its entries can be taken
(:meth:`BacktestForm.memory`) and given back at the next start, and the fields the
settings give follow the settings until the trader types over them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, Label, Select, Static

from engine.config import BacktestConfig
from engine.errors import InputError
from engine.strategies import strategy_class, strategy_names
from engine.strategies.base import Param
from screens.backtest.fields import (
    ACCOUNT, DATA, DATA_SOURCES, EXITS, SOURCE_FIELDS, SPECS, FieldSpec, build_config, build_data, build_policy,
    build_sizing, same_entry,
)

DEFAULT_STRATEGY = "sma_cross"


def _row(spec: FieldSpec, value: str) -> Input:
    """A field is one Input whose border title is its label: half the widgets of label + input rows."""
    box = Input(value, placeholder=spec.placeholder, id="f-" + spec.key, classes="field-input")
    box.border_title = spec.label
    return box


def _param_widget(p: Param, value: Optional[str]) -> Widget:
    text = str(p.default) if value is None else value
    if p.choices is not None:
        options = [(str(c), str(c)) for c in p.choices]
        chosen = text if text in {o for o, _ in options} else str(p.default)
        return Select(options, value=chosen, allow_blank=False, id=f"p-{p.name}", classes="param-select")
    box = Input(text, placeholder=p.type.__name__, id=f"p-{p.name}", classes="field-input")
    box.border_title = p.name
    return box


def _param_rows(params: tuple[Param, ...], values: dict[str, str]) -> list[Widget]:
    """Each parameter with its help always shown: a placeholder vanishes once a value is typed."""
    rows: list[Widget] = []
    for p in params:
        parts: list[Widget] = []
        if p.choices is not None:
            parts.append(Label(p.name, classes="param-label"))
        parts.append(_param_widget(p, values.get(p.name)))
        parts.append(Static(p.help, classes="help param-help"))
        rows.append(Vertical(*parts, classes="param"))
    return rows


@dataclass(frozen=True)
class Problem:
    """One thing wrong, and every field it involves (marked red, the message under the first)."""

    message: str
    fields: tuple[str, ...] = ()
    rule: str = "form"  # names the problem when it names no field


def _problem(exc: InputError, rule: str, known: Callable[[str], Optional[str]]) -> Problem:
    """The problem, with the fields ``exc`` names as the form's widget keys."""
    return Problem(str(exc), tuple(k for k in (known(f) for f in exc.fields) if k is not None), rule)


class BacktestForm(VerticalScroll):
    @dataclass
    class Validity(Message):
        problems: dict[str, str]  # a field's key (or a rule's name) -> what is wrong, in form order

        @property
        def valid(self) -> bool:
            return not self.problems

    def __init__(self, *, defaults: Optional[dict[str, str]] = None, memory: Optional[dict[str, Any]] = None,
                 **kw: Any) -> None:
        super().__init__(**kw)
        # The text each field starts from (the settings' fee, balance ... and the specs' own).
        self.defaults = {spec.key: spec.default for spec in SPECS.values()} | (defaults or {})
        memory = memory or {}
        self._start_strategy = memory.get("strategy") if memory.get("strategy") in strategy_names() else DEFAULT_STRATEGY
        self._start_source = memory.get("source") if memory.get("source") in SOURCE_FIELDS else "sample"
        self._start_fields = {k: v for k, v in (memory.get("fields") or {}).items() if k in SPECS and isinstance(v, str)}
        self._start_params = {k: v for k, v in (memory.get("params") or {}).items() if isinstance(v, str)}
        self.problems: dict[str, str] = {}
        self._revalidate_pending = False
        self._params_for: Optional[str] = None

    def compose(self) -> ComposeResult:
        yield Label("Strategy", classes="section")
        yield Select([(n, n) for n in strategy_names()], value=self._start_strategy, allow_blank=False, id="strategy")
        yield Static("", id="strategy-help", classes="help")
        yield Vertical(id="params")
        yield Label("Data", classes="section")
        yield Select(list(DATA_SOURCES), value=self._start_source, allow_blank=False, id="source")
        with Vertical(id="data-fields"):
            for spec in DATA:
                yield self._entry(spec)
        yield Label("Account", classes="section")
        for spec in ACCOUNT:
            yield self._entry(spec)
        yield Label("Exits and scaling", classes="section")
        for spec in EXITS:
            yield self._entry(spec)

    def _entry(self, spec: FieldSpec) -> Input:
        return _row(spec, self._start_fields.get(spec.key, self.defaults[spec.key]))

    async def on_mount(self) -> None:
        await self._show_params(self._start_strategy, self._start_params)
        self._show_source(self._start_source)

    # ------------------------------------------------------------------ dynamic parts
    async def _show_params(self, name: str, values: Optional[dict[str, str]] = None) -> None:
        if name == self._params_for:
            return
        self._params_for = name
        cls = strategy_class(name)
        box = self.query_one("#params", Vertical)
        await box.remove_children()
        await box.mount_all(_param_rows(cls.params, values or {}))
        self.query_one("#strategy-help", Static).update(cls.description)
        self.revalidate()

    def _show_source(self, source: str) -> None:
        for spec in DATA:
            self._field(spec.key).display = spec.key in SOURCE_FIELDS[source]

    async def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        if event.select.id == "strategy":
            await self._show_params(str(event.value))
        elif event.select.id == "source":
            self._show_source(str(event.value))
            self.revalidate()
        else:
            self.revalidate()  # a parameter's choice

    def on_input_changed(self, event: Input.Changed) -> None:
        # Every keystroke (and every field's first value on mount) lands here: validate
        # once per refresh, not once per message.
        if not self._revalidate_pending:
            self._revalidate_pending = True
            self.call_after_refresh(self._deferred_revalidate)

    def _deferred_revalidate(self) -> None:
        self._revalidate_pending = False
        self.revalidate()

    # ------------------------------------------------------------------ reading the widgets
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

    def _param_widgets(self) -> dict[str, Widget]:
        return {str(w.id)[2:]: w for w in self.query_one("#params").query(".field-input, .param-select")}

    @staticmethod
    def _text(widget: Widget) -> str:
        return str(widget.value) if isinstance(widget, (Input, Select)) else ""

    def _collect(self) -> tuple[dict[str, Any], dict[str, str], list[Problem]]:
        values: dict[str, Any] = {}
        problems: list[Problem] = []
        shown = SOURCE_FIELDS[self.source]
        for spec in (*DATA, *ACCOUNT, *EXITS):
            text = self._field(spec.key).value
            if spec in DATA and spec.key not in shown:
                values[spec.key] = text.strip()  # another source's field: not this run's business
                continue
            try:
                values[spec.key] = spec.parse(text, spec.key)
            except InputError as exc:
                problems.append(Problem(str(exc), (spec.key,)))
        params: dict[str, str] = {}
        widgets = self._param_widgets()
        for p in strategy_class(self.strategy).params:
            widget = widgets.get(p.name)
            if widget is None:
                continue
            text = self._text(widget).strip()
            try:
                p.parse(text)
                params[p.name] = text
            except InputError as exc:
                problems.append(Problem(str(exc), (f"p-{p.name}",)))
        return values, params, problems

    def _check(self) -> tuple[dict[str, Any], dict[str, str], list[Problem]]:
        """Every field on its own, then the rules between fields, each as soon as the
        fields it needs are fine (one bad field does not hide another group's problem)."""
        values, params, problems = self._collect()
        bad = {f for problem in problems for f in problem.fields}
        names = {p.name for p in strategy_class(self.strategy).params}
        as_param: Callable[[str], Optional[str]] = lambda f: f"p-{f}" if f in names else None
        as_field: Callable[[str], Optional[str]] = lambda f: f if f in SPECS else None
        exits = tuple(spec.key for spec in EXITS)
        rules: list[tuple[str, tuple[str, ...], Callable[[], object], Callable[[str], Optional[str]]]] = [
            ("strategy", tuple(f"p-{n}" for n in names), lambda: strategy_class(self.strategy)(**params), as_param),
            ("sizing", ("size_fraction", "max_leverage", "risk_per_trade"), lambda: build_sizing(values), as_field),
            ("exits", exits, lambda: build_policy(values), as_field),
            ("data", SOURCE_FIELDS[self.source], lambda: build_data(self.source, values), as_field),
        ]
        for name, needs, rule, known in rules:
            if not bad.intersection(needs):
                try:
                    rule()
                except InputError as exc:
                    problems.append(_problem(exc, name, known))
        if not problems:
            try:
                build_config(self.strategy, params, self.source, values)
            except InputError as exc:
                problems.append(_problem(exc, "form", as_field))
        return values, params, problems

    # ------------------------------------------------------------------ validation
    def revalidate(self) -> dict[str, str]:
        _values, _params, problems = self._check()
        self._mark(problems)
        out: dict[str, str] = {}
        for problem in problems:
            key = problem.fields[0] if problem.fields else problem.rule
            while key in out:
                key += "+"
            out[key] = problem.message
        self.problems = out
        self.post_message(self.Validity(dict(out)))
        return out

    def _mark(self, problems: list[Problem]) -> None:
        first: dict[str, str] = {}
        for problem in problems:
            for key in problem.fields:
                first.setdefault(key, problem.message)
        widgets: dict[str, Widget] = {spec.key: self._field(spec.key) for spec in SPECS.values()}
        widgets |= {f"p-{name}": w for name, w in self._param_widgets().items()}
        for key, widget in widgets.items():
            # Not Input's own "-invalid", which it sets from its validators on every keystroke.
            widget.set_class(key in first, "-problem")
            if isinstance(widget, Input):
                # The message on the field itself (cut to its width); the whole list is in the box below.
                widget.border_subtitle = first.get(key)

    def build(self) -> BacktestConfig:
        _values, _params, problems = self._check()
        if problems:
            raise InputError(problems[0].message, *problems[0].fields)
        values, params, _ = self._collect()
        return build_config(self.strategy, params, self.source, values)

    # ------------------------------------------------------------------ entries in and out
    def set_value(self, key: str, value: str) -> None:
        """Fill a field by key (``fee``, ``stop_loss``, ``p-fast`` for a parameter, ...)."""
        widget = self.query_one(f"#{key}" if key.startswith("p-") else f"#f-{key}")
        if isinstance(widget, (Input, Select)):
            widget.value = value

    def memory(self) -> dict[str, Any]:
        """The entries to give back at the next start: the fields that differ from their
        defaults (so a fee left at the setting follows the setting), the parameters, the
        strategy and the data source."""
        fields = {spec.key: self._field(spec.key).value for spec in SPECS.values()}
        if fields["path"].strip():  # the next start may be from another folder
            fields["path"] = str(Path(fields["path"].strip()).expanduser().absolute())
        return {
            "strategy": self.strategy,
            "source": self.source,
            "params": {name: self._text(w) for name, w in self._param_widgets().items()},
            "fields": {k: v for k, v in fields.items() if not same_entry(v, self.defaults[k])},
        }

    def follow_defaults(self, new: dict[str, str]) -> list[str]:
        """New defaults (the settings were saved): a field still showing its old default takes
        the new one; a field the trader typed over keeps the trader's value. Returns the keys
        whose default changed and that kept the trader's value."""
        kept: list[str] = []
        for key, text in new.items():
            if same_entry(text, self.defaults[key]):
                continue  # this default did not change: nothing to follow, nothing to say
            box = self._field(key)
            if not same_entry(box.value, self.defaults[key]):
                if not same_entry(box.value, text):
                    kept.append(key)
            else:
                box.value = text
            self.defaults[key] = text
        return kept
