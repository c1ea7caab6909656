"""Progress of long steps: a bar on a terminal, log lines otherwise, nothing when quiet.

Reading, joining and aggregating tens of millions of rows takes minutes; a user at a terminal
wants to see that it moves, a CI log wants a few dated lines rather than thousands of carriage
returns, and a script run with ``--quiet`` wants nothing. The mode follows the environment:

* quiet: the ``parkgeo`` logger does not emit INFO (the command line's ``--quiet`` sets it to
  WARNING) or ``enabled=False`` was passed: nothing is shown;
* terminal: standard error is a TTY: one line redrawn in place (``\\r``), at most ~10 times a
  second, with rows done, rate and an estimate of the time left when the total is known;
* otherwise (pipes, CI): an INFO log line at every tenth of the total, or every 30 s when the
  total is unknown.

No third-party dependency: the bar is a few lines of text, so ``parkgeo density`` does not
import tqdm.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from types import TracebackType
from typing import IO

__all__ = ["Progress"]

log = logging.getLogger("parkgeo")

_REDRAW_S = 0.1
_LOG_EVERY_S = 30.0
_BAR_WIDTH = 24


def _human(n: float) -> str:
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.1f}{unit}"
    return f"{n:.0f}"


def _duration(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


class Progress:
    """Report progress of a step that handles ``total`` units (rows) in increments.

    Parameters
    ----------
    description : str
        What is being done, e.g. ``"join"``; starts every line.
    total : int, optional
        Units expected; ``None`` when unknown (a CSV read in batches).
    unit : str
        Name of a unit, for the text.
    enabled : bool, optional
        Force on or off; by default on when the ``parkgeo`` logger emits INFO.
    stream : file, optional
        Where a terminal bar is drawn (default standard error).

    Examples
    --------
    >>> import io
    >>> with Progress("join", total=10, enabled=False) as bar:
    ...     bar.update(4)
    ...     bar.update(6)
    >>> bar.done
    10
    >>> out = io.StringIO()
    >>> with Progress("join", total=10, enabled=True, stream=out, terminal=True) as bar:
    ...     bar.update(10)
    >>> "join" in out.getvalue() and "100%" in out.getvalue()
    True
    """

    def __init__(
        self,
        description: str,
        *,
        total: int | None = None,
        unit: str = "rows",
        enabled: bool | None = None,
        stream: IO[str] | None = None,
        terminal: bool | None = None,
    ) -> None:
        self.description = description
        self.total = total
        self.unit = unit
        self.done = 0
        self.enabled = log.isEnabledFor(logging.INFO) if enabled is None else enabled
        self.stream = stream if stream is not None else sys.stderr
        if terminal is None:
            terminal = _is_terminal(self.stream)
        self.terminal = terminal
        self._start = time.perf_counter()
        self._last_draw = 0.0
        self._next_tenth = 1
        self._last_log = self._start
        self._drawn = False

    # -- the public side -------------------------------------------------------------------

    def update(self, n: int) -> None:
        """Add ``n`` units done."""
        self.done += int(n)
        if not self.enabled:
            return
        now = time.perf_counter()
        if self.terminal:
            if now - self._last_draw >= _REDRAW_S or self._finished():
                self._draw(now)
        else:
            self._maybe_log(now)

    def close(self) -> None:
        """Finish the line (terminal) or log the final count."""
        if not self.enabled:
            return
        now = time.perf_counter()
        if self.terminal:
            self._draw(now)
            self.stream.write("\n")
            self.stream.flush()
        else:
            log.info("%s: %s", self.description, self._text(now))

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        elif self.enabled and self.terminal and self._drawn:
            # Leave the partial bar on its own line so the error message starts clean.
            self.stream.write("\n")
            self.stream.flush()

    # -- drawing ---------------------------------------------------------------------------

    def _finished(self) -> bool:
        return self.total is not None and self.done >= self.total

    def _text(self, now: float) -> str:
        elapsed = now - self._start
        rate = self.done / elapsed if elapsed > 0 else 0.0
        parts = [f"{_human(self.done)}"]
        if self.total:
            parts[0] += f"/{_human(self.total)} {self.unit} ({100 * self.done / self.total:.0f}%)"
        else:
            parts[0] += f" {self.unit}"
        parts.append(f"{_human(rate)} {self.unit}/s")
        parts.append(f"elapsed {_duration(elapsed)}")
        if self.total and 0 < self.done < self.total and rate > 0:
            parts.append(f"left ~{_duration((self.total - self.done) / rate)}")
        return ", ".join(parts)

    def _draw(self, now: float) -> None:
        self._last_draw = now
        if self.total:
            filled = int(_BAR_WIDTH * min(1.0, self.done / self.total))
            bar = "[" + "#" * filled + "." * (_BAR_WIDTH - filled) + "] "
        else:
            bar = ""
        self.stream.write(f"\rparkgeo: {self.description} {bar}{self._text(now)}\x1b[K")
        self.stream.flush()
        self._drawn = True

    def _maybe_log(self, now: float) -> None:
        if self.total:
            if self.done * 10 < self._next_tenth * self.total or self._finished():
                return
            while self._next_tenth * self.total <= self.done * 10:
                self._next_tenth += 1
        elif now - self._last_log < _LOG_EVERY_S:
            return
        self._last_log = now
        log.info("%s: %s", self.description, self._text(now))


def _is_terminal(stream: IO[str]) -> bool:
    if os.environ.get("CI"):
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if isatty is not None else False
    except (ValueError, OSError):  # a closed stream
        return False
