"""A model's Markdown made safe to show as a notebook output.

JupyterLab renders a kernel's Markdown output from this session as *trusted*: raw HTML in it
is not sanitized (scripts run; ``<img>``, ``<iframe>``, ``<meta http-equiv=refresh>`` load), and
remote images load with no click, a channel for a prompt-injected answer to leak the
notebook's context. So the magics show an answer only after:

* raw HTML outside code is escaped: it shows as text;
* an image whose URL is neither ``data:`` nor relative (served by the Jupyter server) becomes a
  link, "alt (image from HOST — click to open)";
* a link to anything but http(s), ftp, mailto or tel keeps its text only.

Code is shown as written: fenced blocks are kept; inline code spans are written as ``<code>``
with every character of punctuation as an entity (so nothing in them is Markdown or HTML).
Afterwards the text holds no ``<`` that starts a tag except those ``<code>`` elements.
The labextension applies the same rules to the HTML it renders (src/components/media.ts).
"""

from __future__ import annotations

import html
import re
from urllib.parse import quote, urlsplit

__all__ = ["safe_markdown", "escape_html", "classify_url", "placeholder_label"]

LINK_SCHEMES = {"http", "https", "ftp", "mailto", "tel"}
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*):")
_MD_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")
_PUNCT = re.compile(r"[!-/:-@\[-`{-~]")
_FENCE_OPEN = re.compile(r"^( {0,3})(`{3,}(?=[^`]*$)|~{3,})(.*)$")
_PLACEHOLDER = re.compile("\ue000(\\d+)\ue001")

# the pieces of inline images and links (one level of brackets in the text)
_TEXT = r"(?:[^\[\]\\\n]|\\.|\[(?:[^\[\]\\\n]|\\.)*\])*"
_DEST = r"(<[^<>\n]*>|(?:[^\s()\\]|\\.|\((?:[^\s()\\]|\\.)*\))*)"
_LINE = r"(?:\n(?![ \t]*\n))"  # a line break, not a blank line
_TITLE = (
    r"(?:\"(?:[^\"\\\n]|\\.|" + _LINE + r")*\"|'(?:[^'\\\n]|\\.|" + _LINE + r")*'"
    r"|\((?:[^()\\\n]|\\.|" + _LINE + r")*\))"
)
_INLINE = re.compile(r"\[(" + _TEXT + r")\]\([ \t]*\n?[ \t]*" + _DEST + r"(?:[ \t]*\n?[ \t]*" + _TITLE + r")?[ \t]*\n?[ \t]*\)", re.S)
_REFERENCE = re.compile(r"\[(" + _TEXT + r")\](?:\[((?:[^\[\]\\]|\\.)*)\])?")
_DEFINITION = re.compile(
    r"^ {0,3}\[((?:[^\[\]\\\n]|\\.)+)\]:[ \t]*\n?[ \t]*(<[^<>\n]*>|\S+)"
    r"(?:(?:[ \t]+|[ \t]*\n[ \t]*)(?:\"[^\"\n]*\"|'[^'\n]*'|\([^()\n]*\)))?[ \t]*$",
    re.M,
)
_AUTOLINK = re.compile(r"<([a-zA-Z][a-zA-Z0-9+.\-]{1,31}:[^\s<>]*)>")


def escape_html(text: str) -> str:
    """Plain text (a footer, an error message) in Markdown: no tag starts in it."""
    return _TAG_START.sub("&lt;", text)


def _decoded(dest: str) -> str:
    """A link destination as the browser gets it: Markdown escapes and entities undone,
    angle brackets removed, and what the URL parser ignores (tabs, newlines, surrounding
    spaces and control characters) dropped; backslashes read as slashes, as browsers do."""
    dest = dest.strip()
    if dest.startswith("<") and dest.endswith(">"):
        dest = dest[1:-1]
    dest = html.unescape(_MD_ESCAPE.sub(r"\1", dest))
    dest = re.sub(r"[\t\n\r]", "", dest).strip("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f\x10\x11\x12"
                                                "\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f \x7f")
    return dest.replace("\\", "/")


def classify_url(dest: str) -> tuple[str, str]:
    """``(kind, url)`` of a link or image destination: kind is ``"data"``, ``"relative"`` (the
    Jupyter server's), ``"remote"`` (a scheme or ``//host``: another machine) or ``"unsafe"``
    (a scheme no link may have, e.g. javascript:)."""
    url = _decoded(dest)
    if url.startswith("//"):
        return "remote", "http:" + url
    match = _SCHEME.match(url)
    if match is None:
        return "relative", url
    scheme = match.group(1).lower()
    if scheme == "data":
        return "data", url
    return ("remote" if scheme in LINK_SCHEMES else "unsafe"), url


def placeholder_label(alt: str, url: str) -> str:
    """What a remote image shows instead: ``alt (image from HOST — click to open)``."""
    host = re.sub(r"[^\w.:\-]", "", urlsplit(url).netloc.rpartition("@")[2]) or "another site"
    what = f"image from {host} — click to open"
    return f"{alt} ({what})" if alt.strip() else what


def _encode_url(url: str) -> str:
    """A URL as a Markdown link destination: no spaces, parentheses or angle brackets."""
    return quote(url, safe="/:?#[]@!$&'*+,;=%~.-_")


def _label_key(label: str) -> str:
    return re.sub(r"\s+", " ", label.strip()).casefold()


def _code_span(content: str) -> str:
    if len(content) > 2 and content.startswith(" ") and content.endswith(" ") and content.strip():
        content = content[1:-1]
    return "<code>" + _PUNCT.sub(lambda m: f"&#{ord(m.group())};", content) + "</code>"


class _Text:
    """One run of Markdown outside fenced code blocks."""

    def __init__(self, definitions: dict):
        self.definitions = definitions
        self.kept: list[str] = []

    def keep(self, markup: str) -> str:
        """A placeholder for finished markup, put back at the end."""
        self.kept.append(markup)
        return f"\ue000{len(self.kept) - 1}\ue001"

    def code_spans(self, line: str) -> str:
        """Inline code spans of one line (only: a span over several lines is left as text)."""
        out, i = [], 0
        while i < len(line):
            ch = line[i]
            if ch == "\\" and i + 1 < len(line):
                out.append(line[i : i + 2])
                i += 2
            elif ch == "`":
                run = len(line[i:]) - len(line[i:].lstrip("`"))
                close = re.compile(r"(?<!`)" + "`" * run + r"(?!`)").search(line, i + run)
                if close is None:
                    out.append("`" * run)
                    i += run
                else:
                    out.append(self.keep(_code_span(line[i + run : close.start()])))
                    i = close.end()
            else:
                out.append(ch)
                i += 1
        return "".join(out)

    def definitions_out(self, text: str) -> str:
        """Reference definitions, rewritten with a plain destination (unsafe ones removed)."""

        def one(match: re.Match) -> str:
            kind, url = classify_url(match.group(2))
            if kind == "unsafe":
                return ""
            label = _TAG_START.sub("&lt;", match.group(1))
            return self.keep(f"[{label}]: {_encode_url(url)}")

        return _DEFINITION.sub(one, text)

    def inline(self, text: str) -> str:
        """Images, links and raw HTML of a run of text (code spans already kept)."""
        out, i = [], 0
        while i < len(text):
            ch = text[i]
            if ch == "\\" and i + 1 < len(text):
                out.append(text[i : i + 2])
                i += 2
            elif ch == "!" and text.startswith("![", i):
                piece, i = self.image(text, i + 1)
                out.append(piece)
            elif ch == "[":
                piece, i = self.link(text, i)
                out.append(piece)
            elif ch == "<":
                auto = _AUTOLINK.match(text, i)
                if auto:
                    kind, url = classify_url(auto.group(1))
                    shown = _PUNCT.sub(lambda m: f"&#{ord(m.group())};", auto.group(1))
                    out.append(self.keep(f"[{shown}]({_encode_url(url)})") if kind == "remote" else f"&lt;{shown}>")
                    i = auto.end()
                else:
                    out.append("&lt;" if _TAG_START.match(text, i) else "<")
                    i += 1
            else:
                out.append(ch)
                i += 1
        return "".join(out)

    def image(self, text: str, at: int) -> tuple[str, int]:
        """``text[at]`` is the ``[`` of ``![``: an image kept (data: or relative), or a link."""
        match = _INLINE.match(text, at)
        if match:
            alt, dest, end = match.group(1), match.group(2), match.end()
        else:
            ref = _REFERENCE.match(text, at)
            label = ref and (ref.group(2) or ref.group(1))
            dest = label and self.definitions.get(_label_key(label))
            if not dest:  # not an image here; without its "!" it is at most a link
                return "", at
            alt, end = ref.group(1), ref.end()
        kind, url = classify_url(dest)
        shown_alt = self.inline(alt)
        if kind in ("data", "relative"):
            return self.keep(f"![{shown_alt}]({_encode_url(url)})"), end
        if kind == "remote":
            return self.keep(f"[{placeholder_label(shown_alt, url)}]({_encode_url(url)})"), end
        return (f"{shown_alt} (image not shown)" if shown_alt.strip() else "(image not shown)"), end

    def link(self, text: str, at: int) -> tuple[str, int]:
        match = _INLINE.match(text, at)
        if not match:
            return "[", at + 1
        kind, url = classify_url(match.group(2))
        shown = self.inline(match.group(1))
        if kind in ("unsafe", "data"):  # javascript:, data: ... links: their text only
            return shown, match.end()
        return self.keep(f"[{shown}]({_encode_url(url)})"), match.end()

    def render(self, text: str) -> str:
        text = self.definitions_out("\n".join(self.code_spans(line) for line in text.split("\n")))
        text = self.inline(text)
        while _PLACEHOLDER.search(text):  # kept markup may hold placeholders of its own
            text = _PLACEHOLDER.sub(lambda m: self.kept[int(m.group(1))], text)
        return text


def _indent(line: str) -> int:
    width = 0
    for ch in line:
        if ch == " ":
            width += 1
        elif ch == "\t":
            width += 4 - width % 4
        else:
            break
    return width


def _blocks(text: str):
    """``(is_code, text)`` runs: fenced code blocks (as CommonMark and marked find them at the
    top level) and the Markdown between them. A fence indented by n spaces ends at a line
    indented less (where a list item around it would end)."""
    lines = text.split("\n")
    run: list[str] = []
    i = 0
    while i < len(lines):
        opened = _FENCE_OPEN.match(lines[i])
        if not opened:
            run.append(lines[i])
            i += 1
            continue
        if run:
            yield False, "\n".join(run)
            run = []
        indent, fence, info = len(opened.group(1)), opened.group(2), opened.group(3)
        if info.lstrip().startswith("{"):  # a MyST directive ({image} ...) is shown as code
            info = "text " + info.lstrip()
        block = [opened.group(1) + fence + info]
        close = re.compile(r"^ {0,3}" + re.escape(fence) + r"[`~]*[ \t]*$")
        i += 1
        while i < len(lines):
            line = lines[i]
            if indent and line.strip() and _indent(line) < indent:
                break
            block.append(line)
            i += 1
            if close.match(line):
                break
        yield True, "\n".join(block)
    if run:
        yield False, "\n".join(run)


def safe_markdown(text: str) -> str:
    """``text`` (a model's Markdown) with raw HTML escaped, remote images as links and unsafe
    links as text; code as written."""
    text = text.replace("\ue000", "").replace("\ue001", "").replace("\r\n", "\n").replace("\r", "\n")
    blocks = list(_blocks(text))
    definitions: dict = {}
    for is_code, run in blocks:
        if not is_code:
            for match in _DEFINITION.finditer(run):
                definitions.setdefault(_label_key(match.group(1)), match.group(2))
    return "\n".join(run if is_code else _Text(definitions).render(run) for is_code, run in blocks)
