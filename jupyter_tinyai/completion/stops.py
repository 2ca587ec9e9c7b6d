"""When a completion ends, and what of it is shown while it streams.

Small models do not stop by themselves: after the statement being written they go on to the
next function, a test, prose. :class:`Stopper` reads the generated text as it grows and ends
the completion at the first of:

- ``max_lines`` lines with code in them;
- a blank line after a line of code (the end of the block being written);
- a line indented less than the cursor's line (leaving the block);
- a line that repeats the first line of code after the cursor;
- a stop text (the chat prompt's closing code fence);
- the end of the line, when code follows the cursor on its line (completing inside a line),
  and without a copy of that code at its end (``print(x|)``: the model's ``)`` is dropped).

What it lets through never needs taking back: trailing spaces and newlines wait for the
next code, a new line waits until its indentation is known and it no longer matches the
code after the cursor, a completion inside a line waits for its end.

    stopper = Stopper(prefix, suffix, max_lines=4)
    for delta in generated:
        show(stopper.feed(delta))
        if stopper.done:
            break
    show(stopper.finish())
"""

from __future__ import annotations

from .formats import split_line


def _indent(line: str) -> int:
    return len(line.expandtabs(4)) - len(line.expandtabs(4).lstrip())


class Stopper:
    def __init__(self, prefix: str, suffix: str, *, max_lines: int, stop_texts: tuple = ()):
        line = split_line(prefix)[1]
        self.indent = _indent(line) if line.strip() else len(line.expandtabs(4))
        rest, _, after = suffix.partition("\n")
        #: code after the cursor on its line: complete that line only
        self.rest = rest.strip()
        self.next_line = next((text.strip() for text in after.split("\n") if text.strip()), "")
        self.max_lines = max(1, max_lines)
        self.stop_texts = stop_texts
        self.text = ""  # everything generated
        self.shown = 0  # characters of the accepted text already let through
        self.done = False
        self.reason = ""  # why it stopped: a short phrase for figures and tests

    def feed(self, delta: str) -> str:
        """What of the completion can be shown now, after ``delta``; sets :attr:`done`."""
        if self.done:
            return ""
        self.text += delta
        accepted, safe = self._decide(final=False)
        return self._let_through(accepted, safe)

    def finish(self) -> str:
        """The rest to show when generation ends (stopped, out of tokens or time)."""
        accepted, safe = self._decide(final=True)
        self.done = True
        return self._let_through(accepted, safe)

    def _let_through(self, accepted: str, safe: int) -> str:
        if safe <= self.shown:
            return ""
        out = accepted[self.shown : safe]
        self.shown = safe
        return out

    def _stop(self, reason: str) -> None:
        if not self.done:
            self.done, self.reason = True, reason

    def _decide(self, final: bool) -> tuple[str, int]:
        """(the text accepted so far, how much of it is safe to show)."""
        text = self.text
        for stop in self.stop_texts:
            at = text.find(stop)
            if at >= 0:
                text = text[:at]
                self._stop("stop text")
        if self.rest and "\n" in text:
            text = text[: text.index("\n")]
            self._stop("end of line")
        lines = text.split("\n")
        code_lines = 1 if lines[0].strip() else 0
        blank_before = False
        for number, line in enumerate(lines[1:], start=1):
            complete = number < len(lines) - 1
            if not line.strip():
                if complete and code_lines:
                    blank_before = True
                continue
            if blank_before:
                self._stop("blank line")
            elif _indent(line) < self.indent:
                self._stop("indent drop")
            elif code_lines >= self.max_lines:
                self._stop("max lines")
            elif self.next_line and line.strip() == self.next_line and (complete or final):
                self._stop("repeats the code after the cursor")
            if self.done:
                text = text[: _line_start(text, number) - 1]  # without the newline before it
                break
            code_lines += 1
        if self.done or final:
            text = text.rstrip()
            if self.rest and text.endswith(self.rest):  # the code already after the cursor
                text = text[: -len(self.rest)].rstrip()
            return text, len(text)
        return text, self._safe(text)

    def _safe(self, text: str) -> int:
        """How much of ``text`` (still growing) can be shown without taking any back."""
        if self.rest:
            return 0  # inside a line: shown once the line is done
        safe = len(text.rstrip())
        for stop in self.stop_texts:  # a stop text may be starting at the end
            for n in range(min(len(stop) - 1, safe), 0, -1):
                if text[:safe].endswith(stop[:n]):
                    safe -= n
                    break
        start = text.rfind("\n", 0, safe) + 1
        last = text[start:safe]
        if start and self.next_line and self.next_line.startswith(last.strip()):
            safe = start - 1  # the new line may be repeating the code after the cursor
        return len(text[:safe].rstrip())


def _line_start(text: str, number: int) -> int:
    at = 0
    for _ in range(number):
        at = text.index("\n", at) + 1
    return at
