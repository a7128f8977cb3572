"""The scoring job's progress bar: on stderr, with the rows per second."""

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import typer

from .job import Summary
from .reading import Source

OnProgress = Callable[[Source, int, Summary], None]


@contextmanager
def progress_bar() -> Iterator[OnProgress]:
    """An on_progress for `score`. The bar starts with the first chunk, once
    the input's size is known: bytes of a CSV, rows of Parquet; a query has
    a line per chunk instead."""
    started = time.perf_counter()
    bars: list = []
    state = {"shown": 0, "rows": 0}

    def rate(_: object) -> str:
        seconds = max(time.perf_counter() - started, 1e-9)
        return f"{state['rows']:,} rows, {state['rows'] / seconds:,.0f} rows/s"

    def update(source: Source, done: int, summary: Summary) -> None:
        state["rows"] = summary.rows_in
        if source.total is None:  # a query: no end to show, only the pace
            typer.echo(f"scoring: {rate(None)}", err=True)
            return
        if not bars:
            bar = typer.progressbar(
                length=max(source.total, 1),
                label="scoring",
                item_show_func=rate,
                file=sys.stderr,
            )
            bars.append(bar.__enter__())
        bars[0].update(done - state["shown"])
        state["shown"] = done

    try:
        yield update
    finally:
        if bars:
            bars[0].render_finish()
