"""Shared table plumbing: theme-coloured cells and a DataTable that reconciles keyed rows in place."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from rich.style import Style
from rich.text import Text
from textual.geometry import Region
from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist, ColumnKey, RowKey

TONE_CLASSES: dict[str, str] = {
    "up": "live-table--pnl-up",
    "down": "live-table--pnl-down",
    "warn": "live-table--warn",
    "muted": "live-table--muted",
}


class ToneCell:
    """A cell whose colour is resolved from the owning table's component classes at render time.

    Rich text in a cell cannot read CSS variables, so the cell asks the table for the style of its
    tone when drawn; a theme switch re-renders it in the new theme's colours.
    """

    __slots__ = ("owner", "text", "tone")

    def __init__(self, text: str, tone: str, owner: LiveTable) -> None:
        self.text = text
        self.tone = tone
        self.owner = owner

    def __rich__(self) -> Text:
        return Text(self.text, style=self.owner.tone_style(self.tone), end="")

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"ToneCell({self.text!r}, {self.tone!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ToneCell):
            return (self.text, self.tone) == (other.text, other.tone)
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.text, self.tone))


def cell_text(cell: object) -> str:
    """The plain text of a table cell (str, Text or ToneCell)."""
    if isinstance(cell, Text):
        return cell.plain
    return str(cell)


WHOLE_REPAINT_FROM = 6
"""Lines of a table waiting for the next frame from which the table is repainted whole instead."""


class LiveTable(DataTable[Any]):
    """A row-cursor DataTable whose rows are keyed and updated cell by cell, never rebuilt.

    Subclasses declare COLUMNS as (key, label) pairs and feed `set_row` / `prune`; the cursor stays
    on the same row key across additions and removals. A subclass may add only some of its COLUMNS (by width):
    cells of a column not shown are not drawn.
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = set(TONE_CLASSES.values())
    COLUMNS: ClassVar[tuple[tuple[str, str], ...]] = ()

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, name=name, id=id, classes=classes)

    def on_mount(self) -> None:
        """Add the columns once the table is attached to an app."""
        self.ensure_columns()

    def ensure_columns(self) -> None:
        """Add the declared columns once (needs the app, so not in __init__)."""
        if not self.columns:
            for key, label in self.COLUMNS:
                self.add_column(label, key=key)

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        """Measure new rows as DataTable does; if a column widened, draw every line again: a row drawn between its
        add_row and this (idle-time) measure is cached at the old widths under a key the widths are not part of."""
        before = [column.content_width for column in self.columns.values()]
        super()._update_dimensions(new_rows)
        if before != [column.content_width for column in self.columns.values()]:
            self._clear_caches()
            self.refresh()

    def tone_style(self, tone: str) -> Style:
        """The Rich style of a tone, taken from the stylesheet (empty before mount or for '')."""
        name = TONE_CLASSES.get(tone)
        if name is None or not self.is_attached:
            return Style.null()
        return self.get_component_rich_style(name, partial=True, default=Style.null())

    def toned(self, text: str, tone: str) -> ToneCell | str:
        """A cell coloured by tone ('' gives a plain string)."""
        return ToneCell(text, tone, self) if tone else text

    @property
    def selected_key(self) -> str | None:
        """Key of the row under the cursor, or None when the table is empty."""
        if self.row_count == 0:
            return None
        try:
            row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        except CellDoesNotExist:
            return None
        return row_key.value

    def has_row(self, key: str) -> bool:
        """True when a row with this key is shown."""
        return RowKey(key) in self.rows

    def cell(self, key: str, column: str) -> str:
        """Plain text of one cell (for callers and tests)."""
        return cell_text(self.get_cell(key, column))

    def row_texts(self, key: str) -> dict[str, str]:
        """Plain text of a row by column key."""
        return {
            column: cell_text(value)
            for column, value in zip((str(k.value) for k in self.columns), self.get_row(key), strict=False)
        }

    def keys(self) -> list[str]:
        """Row keys in display order."""
        return [str(row.key.value) for row in self.ordered_rows]

    def set_row(self, key: str, values: Mapping[str, object]) -> bool:
        """Add the row, or update only the cells whose value changed; True when the row is new."""
        if RowKey(key) not in self.rows:
            self.add_row(*(values.get(str(column.value), "") for column in self.columns), key=key)
            return True
        changed = {c: v for c, v in values.items() if c in self.columns and self.get_cell(key, c) != v}
        wider = [c for c, v in changed.items() if self._grows(c, v)]
        for column in wider:
            self.update_cell(key, column, changed.pop(column), update_width=True)
        if changed:
            self._put_cells(key, changed)
        return False

    def _put_cells(self, key: str, changed: Mapping[str, object]) -> None:
        """Store changed values and repaint only those cells, if their row is on screen (DataTable.update_cell repaints
        the whole table, so every mark sent the full table to the terminal, and its cell-region lookup rebuilds the row
        order on every call; a whole line re-sent every unchanged column, most of a wide row)."""
        row_key = RowKey(key)
        cells = self._data[row_key]
        for column, value in changed.items():
            cells[ColumnKey(column)] = value
        self._update_count += 1  # part of the rendered lines' cache key: the row's line is drawn afresh
        y = self.get_row_index(key) + (self.header_height if self.show_header else 0)  # live rows are 1 line high
        line = Region(0, y, max(self.size.width, self.virtual_size.width), 1)
        if not self.window_region.overlaps(line):
            return
        if len({region.y for region in self._repaint_regions}) >= WHOLE_REPAINT_FROM:
            self.refresh()  # many lines in one frame: one repaint of the table costs less than each line's
        else:
            self.refresh(*(span.translate(-self.scroll_offset) for span in self._cell_spans(y, changed)))

    def _cell_spans(self, y: int, changed: Mapping[str, object]) -> list[Region]:
        """Regions of line y covering the changed columns, adjacent columns joined into one."""
        spans: list[Region] = []
        x, joined = self._row_label_column_width, False
        for column in self.ordered_columns:
            width = column.get_render_width(self)
            if column.key.value in changed:
                if joined:
                    last = spans.pop()
                    spans.append(Region(last.x, y, last.width + width, 1))
                else:
                    spans.append(Region(x, y, width, 1))
            joined = column.key.value in changed
            x += width
        return spans

    def _grows(self, column: str, value: object) -> bool:
        """Whether a new value is wider than its auto-width column (only then pay for a re-measure)."""
        col = self.columns.get(column)  # type: ignore[call-overload]
        return col is not None and col.auto_width and len(cell_text(value)) > col.content_width

    def prune(self, keep: Iterable[str]) -> list[str]:
        """Remove rows whose key is not in keep; returns the removed keys."""
        wanted = set(keep)
        gone = [str(k.value) for k in self.rows if k.value not in wanted]
        for key in gone:
            self.remove_row(key)
        return gone

    def restore_cursor(self, key: str | None) -> None:
        """Put the cursor back on the row with key (if it is still there) without jumping the view."""
        if key is None or RowKey(key) not in self.rows:
            return
        index = self.get_row_index(key)
        if index != self.cursor_row:
            self.move_cursor(row=index, scroll=False)
