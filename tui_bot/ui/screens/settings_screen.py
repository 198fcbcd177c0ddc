"""Edit every trading setting; the settings service validates all-or-nothing and its reasons show per field."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, ClassVar, Literal, get_args, get_origin

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Checkbox, Input, Select, Static

from tui_bot.core.settings import SettingsRejected, problems
from tui_bot.domain.numbers import plain
from tui_bot.domain.trading_settings import TradingSettings
from tui_bot.ui.format import count_of
from tui_bot.ui.screens._fields import (
    FORM_CSS,
    AnswerOnceModal,
    FieldInvalid,
    field_row,
    parse_decimal,
    show_errors,
)
from tui_bot.ui.screens.confirm import ConfirmModal
from tui_bot.ui.widgets.toggles import MarkedCheckbox

SIGNED_NUMBER = r"-?[0-9]*\.?[0-9]*"
NAME = re.compile(r"[A-Za-z_]\w*(?:[.:][A-Za-z_]\w*)*")
LABELS = {
    "paper_trading": "Paper trading",
    "auto_approve_trades": "Auto-approve trades",
    "pause_entries": "Entries paused",
    "min_confidence_threshold": "Min confidence 0–1",
    "min_rr": "Min reward:risk",
    "risk_percentage": "Risk per trade %",
    "max_loss_usd": "Max loss USD",
    "leverage": "Leverage",
    "max_concurrent_trades": "Max open trades",
    "enable_position_tightening": "Position tightening",
    "enable_sl_tightening": "SL tightening",
    "rr_tightening_steps": "Tighten at:stop R",
    "use_enhanced_position_sizing": "Enhanced sizing",
    "min_position_value_usd": "Min position USD",
    "taker_fee_rate": "Taker fee rate",
    "enable_intelligent_replacement": "Smart replacement",
    "min_score_improvement": "Min score gain 0–1",
    "use_testnet": "Use testnet (next start)",
    "orders_over_trade_ws": "Orders via trade WS",
    "run_cycles": "Run analysis cycles",
    "timeframe": "Timeframe",
    "strategies": "Strategies",
    "candle_history": "Candle history",
    "trailing_stop_mode": "Trailing stop",
    "trailing_activate_r": "Trail from R",
    "trailing_distance_r": "Trail distance R",
    "aged_position_hours": "Aged after hours",
    "aged_position_action": "Aged action",
    "phantom_timeout_hours": "Phantom timeout h",
}
PLACEHOLDERS = {"steps": "at:stop, e.g. 1:0, 2:1", "names": "names, comma-separated"}


def kind_of(name: str) -> str:
    """'bool', 'int', 'float', 'decimal', 'choice', 'names' or 'steps': how a TradingSettings field is edited."""
    annotation = TradingSettings.model_fields[name].annotation
    for kind, typ in (("bool", bool), ("int", int), ("float", float), ("decimal", Decimal)):
        if annotation is typ:
            return kind
    if get_origin(annotation) is Literal:
        return "choice"
    return "names" if get_args(annotation) == (str,) else "steps"


def choices_of(name: str) -> tuple[str, ...]:
    """The allowed values of a "choice" (Literal) field, in declaration order; () for other kinds."""
    annotation = TradingSettings.model_fields[name].annotation
    return tuple(str(a) for a in get_args(annotation)) if get_origin(annotation) is Literal else ()


def format_steps(steps: list[Any]) -> str:
    """[{at_r: 1, stop_r: 0}, {at_r: 2, stop_r: 1}] as '1:0, 2:1'."""
    return ", ".join(f"{plain(Decimal(str(s.at_r)))}:{plain(Decimal(str(s.stop_r)))}" for s in steps)


def parse_steps(text: str) -> list[dict[str, Decimal]]:
    """'1:0, 2:1' as [{'at_r': 1, 'stop_r': 0}, {'at_r': 2, 'stop_r': 1}]; blank means no steps."""
    steps = []
    for part in text.replace(";", ",").split(","):
        if not part.strip():
            continue
        at, sep, stop = part.partition(":")
        if not sep:
            raise FieldInvalid("use at:stop pairs, e.g. 1:0, 2:1")
        at_r, stop_r = parse_decimal(at, positive=False), parse_decimal(stop, positive=False)
        if at_r is None or stop_r is None:
            raise FieldInvalid("use at:stop pairs, e.g. 1:0, 2:1")
        steps.append({"at_r": at_r, "stop_r": stop_r})
    return steps


def parse_names(text: str) -> list[str]:
    """'ema_trend, my.pkg.Strategy' as ['ema_trend', 'my.pkg.Strategy']; at least one name is required."""
    names = [part.strip() for part in text.split(",") if part.strip()]
    if not names:
        raise FieldInvalid("name at least one, comma-separated")
    bad = next((n for n in names if not NAME.fullmatch(n)), None)
    if bad is not None:
        raise FieldInvalid(f"{bad!r} is not a name or dotted path")
    return names


def parse_choice(text: str, choices: tuple[str, ...]) -> str:
    """The text itself when it is one of the choices; otherwise FieldInvalid listing them."""
    value = text.strip()
    if value not in choices:
        raise FieldInvalid(f"one of {', '.join(choices)}")
    return value


def parse_value(kind: str, text: str, choices: tuple[str, ...] = ()) -> Any:
    """A field's typed value from its text; raises FieldInvalid with the reason to show."""
    if kind == "steps":
        return parse_steps(text)
    if kind == "names":
        return parse_names(text)
    if kind == "choice":
        return parse_choice(text, choices)
    value = parse_decimal(text, positive=False)
    if value is None:
        raise FieldInvalid("required")
    if kind == "int":
        if value != value.to_integral_value():
            raise FieldInvalid("must be a whole number")
        return int(value)
    return float(value) if kind == "float" else value


def _text(kind: str, value: Any) -> str:
    if kind == "steps":
        return format_steps(value)
    if kind == "names":
        return ", ".join(value)
    return plain(value) if isinstance(value, Decimal) else str(value)


def _same(kind: str, new: Any, old: Any) -> bool:
    if kind == "steps":
        return [(s["at_r"], s["stop_r"]) for s in new] == [(s.at_r, s.stop_r) for s in old]
    return bool(new == old)


def on_off(value: bool) -> str:
    return "on" if value else "off"


def by_field(errors: dict[str, str]) -> dict[str, str]:
    """The service's reasons keyed by field: 'rr_tightening_steps.1.at_r' becomes the steps field's 'step 2: …'."""
    shown: dict[str, str] = {}
    for key, why in errors.items():
        name, _, rest = key.partition(".")
        index = rest.split(".")[0]
        said = f"step {int(index) + 1}: {why}" if index.isdigit() else why
        shown[name] = f"{shown[name]}; {said}" if name in shown else said
    return shown


class SettingsScreen(AnswerOnceModal[dict[str, Any] | None]):
    """Save (Ctrl+S) sends the changed fields to `apply` when every field is valid; otherwise each invalid field shows
    its reason and nothing is applied. Esc → None (asking first when a field was edited)."""

    DEFAULT_CSS = (
        FORM_CSS
        + """
    SettingsScreen { align: center middle; }
    SettingsScreen > #dialog {
        width: 80; max-width: 100%; height: 100%; max-height: 40;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    SettingsScreen #fields { height: 1fr; }
    SettingsScreen .field-row > Label { width: 20; }
    SettingsScreen .field-row > Input { width: 16; }
    SettingsScreen #rr_tightening_steps { width: 24; }
    SettingsScreen #strategies { width: 34; }
    SettingsScreen .field-row > Checkbox, SettingsScreen .field-row > Select { width: 16; }
    SettingsScreen #info, SettingsScreen #hint { color: $text-muted; }
    """
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", show=False),
        Binding("ctrl+s", "save", "Save", show=False),
    ]

    def __init__(
        self,
        current: TradingSettings,
        apply: Callable[[dict[str, Any]], TradingSettings],
        *,
        info: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.current = current
        self.apply = apply
        self.info = dict(info or {})
        self.names = list(TradingSettings.model_fields)
        self.initial: dict[str, Any] = {}

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static("Trading settings", classes="modal-title")
            if self.info:
                yield Static(" · ".join(f"{k}: {v}" for k, v in self.info.items()), id="info", markup=False)
            yield Static("Tab moves · Ctrl+S saves · Esc cancels", id="hint")
            with VerticalScroll(id="fields"):
                for name in self.names:
                    yield field_row(LABELS.get(name, name.replace("_", " ")), self._editor(name), name)
            yield Static("", id="form-error", classes="form-error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Cancel (Esc)", id="cancel", compact=True)
                yield Button("Save (Ctrl+S)", id="save", variant="primary", compact=True)

    def _editor(self, name: str) -> Checkbox | Input | Select[str]:
        kind, value = kind_of(name), getattr(self.current, name)
        if kind == "bool":
            return MarkedCheckbox(on_off(bool(value)), value=bool(value), id=name, compact=True)
        if kind == "choice":
            options = [(choice, choice) for choice in choices_of(name)]
            return Select(options, value=str(value), allow_blank=False, id=name, compact=True)
        restrict = None if kind in PLACEHOLDERS else SIGNED_NUMBER
        return Input(
            _text(kind, value), placeholder=PLACEHOLDERS.get(kind, ""), id=name, restrict=restrict, compact=True
        )

    def _raw(self, name: str, kind: str) -> Any:
        """What the field's editor holds: a Checkbox's bool, a Select's value as text, or an Input's text."""
        if kind == "bool":
            return self.query_one(f"#{name}", Checkbox).value
        if kind == "choice":
            return str(self.query_one(f"#{name}", Select).value)
        return self.query_one(f"#{name}", Input).value

    def on_mount(self) -> None:
        self.initial = self._raws()
        self.query_one(f"#{self.names[0]}").focus()

    def _raws(self) -> dict[str, Any]:
        return {name: self._raw(name, kind_of(name)) for name in self.names}

    def edited(self) -> list[str]:
        """The fields whose editor holds something other than what the screen opened with."""
        now = self._raws()
        return [name for name in self.names if now[name] != self.initial[name]]

    def collect(self) -> tuple[dict[str, Any], dict[str, str]]:
        """The changed fields as typed values, and a reason for each field that does not parse."""
        changes: dict[str, Any] = {}
        errors: dict[str, str] = {}
        for name in self.names:
            kind = kind_of(name)
            value: Any = self._raw(name, kind)
            if kind != "bool":
                try:
                    value = parse_value(kind, value, choices_of(name))
                except FieldInvalid as err:
                    errors[name] = str(err)
                    continue
            if not _same(kind, value, getattr(self.current, name)):
                changes[name] = value
        return changes, errors

    def _show(self, errors: dict[str, str]) -> None:
        """Each field's reason beside it, and one line under the list naming every field to fix (some may be
        scrolled out of sight) and any reason that belongs to no field."""
        show_errors(self, self.names, errors)
        fields = [LABELS.get(name, name) for name in self.names if name in errors]
        general = [f"{k}: {v}" for k, v in errors.items() if k not in self.names]
        summary = f"Not saved: fix {count_of(len(fields), 'marked field')} ({', '.join(fields)})" if fields else ""
        self.query_one("#form-error", Static).update("; ".join(filter(None, [summary, *general])))
        first = next((n for n in self.names if n in errors), None)
        if first is not None:
            self.query_one(f"#{first}").focus()

    def action_save(self) -> None:
        """Apply the changes all-or-nothing; on rejection keep the screen open with every field's reason inline."""
        if self.answered:
            return
        changes, errors = self.collect()
        if errors:  # the fields that parse are checked too, so every wrong field is marked at once
            self._show({**by_field(problems(self.current, changes)), **errors})
            return
        if changes:
            try:
                self.apply(changes)
            except SettingsRejected as err:
                self._show(by_field(err.errors))
                return
            except Exception as err:  # a failed save must not take the console down
                self._show({"settings": f"not saved: {err}"})
                return
        self.answer(changes)

    def action_cancel(self) -> None:
        """Leave without saving; when a field was edited, ask first (No keeps the screen and the edits)."""
        if self.answered:
            return
        edited = self.edited()
        if not edited:
            self.answer(None)
            return
        labels = ", ".join(LABELS.get(name, name) for name in edited)
        body = f"Discard your unsaved edits ({labels})?"
        self.app.push_screen(ConfirmModal("Discard edits", body), lambda ok: self.answer(None) if ok else None)

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if event.input.id:
            self.query_one(f"#{event.input.id}-error", Static).update("")

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        """The box says its state in words too (its tick's colour alone is faint in some themes)."""
        event.stop()
        event.checkbox.label = on_off(event.value)

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        if event.select.id:
            self.query_one(f"#{event.select.id}-error", Static).update("")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.focus_next()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "save":
            self.action_save()
        else:
            self.action_cancel()
