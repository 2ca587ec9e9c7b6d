"""The magics' rewrite of a model's Markdown (jupyter_tinyai/magics/safe_markdown.py).

JupyterLab shows the magics' output trusted, unsanitized: what the rewrite leaves is what the
browser gets. Each hostile form of helpers/hostile_media.py is checked here; the browser test
(labextension/ui-tests/test_remote_media.py) renders the same answer in a real JupyterLab.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import mistune
import pytest
from helpers.hostile_media import ALLOWED, CASES, DOT_PNG, answer

from jupyter_tinyai.magics.safe_markdown import classify_url, safe_markdown

LEAK = "http://127.0.0.1:8123"
TAG_START = re.compile(r"<(?=[A-Za-z/!?])")


class Elements(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


def rendered(markdown: str):
    """The elements a Markdown renderer makes of it (mistune: a second parser than JupyterLab's)."""
    parser = Elements()
    parser.feed(mistune.html(markdown))
    return parser.found


def tags_outside_code(markdown: str) -> list:
    """Every `<` that starts a tag, outside fenced blocks, except our <code> elements."""
    outside = re.sub(r"^```.*?(^```[ \t]*$|\Z)", "", markdown, flags=re.S | re.M)
    return [m.start() for m in TAG_START.finditer(re.sub(r"</?code>", "", outside))]


def fills(template: str) -> str:
    return template.format(leak=LEAK, hostport=LEAK.split("://")[1], dot=DOT_PNG)


@pytest.mark.parametrize("name", sorted(CASES))
def test_no_hostile_form_reaches_the_browser(name):
    out = safe_markdown(fills(CASES[name]))
    assert tags_outside_code(out) == [], out
    for tag, attrs in rendered(out):
        if tag == "img":  # only the relative one after <base> (shown as text)
            assert classify_url(attrs.pop("src"))[0] == "relative", out
            continue
        assert tag not in ("script", "style", "iframe", "object", "embed", "link", "meta", "base", "video", "audio", "svg"), (tag, out)
        assert not {"src", "srcset", "poster", "background", "style", "onerror"} & set(attrs), (tag, attrs)
        if tag == "a":
            assert attrs["href"].startswith(("http://", "https://")), attrs


def test_remote_markdown_images_become_links_named_by_host():
    out = safe_markdown(fills(CASES["md-image"]))
    assert out == f"[chart (image from 127.0.0.1:8123 — click to open)]({LEAK}/md-image?secret=s3cr3t)"
    links = {attrs["href"] for tag, attrs in rendered(safe_markdown(answer(LEAK))) if tag == "a"}
    for name in ("md-image-title", "md-image-angle", "md-protocol-relative", "md-backslashes", "md-entity-scheme",
                 "md-reference", "md-collapsed", "md-shortcut", "md-link-wrapped-image"):
        assert f"{LEAK}/{name}" in links, name
    assert safe_markdown("![](https://evil.example/x.png)") == "[image from evil.example — click to open](https://evil.example/x.png)"


def test_data_and_relative_images_stay_images():
    for name, template in ALLOWED.items():
        images = [attrs for tag, attrs in rendered(safe_markdown(fills(template))) if tag == "img"]
        if name.startswith("md-"):
            assert len(images) == 1 and images[0]["src"] in (DOT_PNG, "missing-local.png"), name
        else:  # raw HTML is text, even a harmless image
            assert images == [], name
    assert safe_markdown("![plot](figures/plot%201.png)") == "![plot](figures/plot%201.png)"


def test_raw_html_is_shown_as_text():
    out = safe_markdown('Use <b>bold</b> or <img src=x onerror="alert(1)"> and <!-- c --> but 1 < 2 and a<b.')
    assert out == "Use &lt;b>bold&lt;/b> or &lt;img src=x onerror=\"alert(1)\"> and &lt;!-- c --> but 1 < 2 and a&lt;b."
    assert [tag for tag, _ in rendered(out)] == ["p"]


def test_code_is_shown_as_written():
    fenced = "```c\n#include <stdio.h>\nint main() { puts(\"<img src=x>\"); }\n```"
    assert safe_markdown(f"Here:\n\n{fenced}\n\nDone.") == f"Here:\n\n{fenced}\n\nDone."
    assert safe_markdown("~~~~\n<b>\n~~~~") == "~~~~\n<b>\n~~~~"
    inline = safe_markdown("Add `#include <stdio.h>` and `a*b*c` and ``x ` y``.")
    assert inline == (
        "Add <code>&#35;include &#60;stdio&#46;h&#62;</code> and <code>a&#42;b&#42;c</code> and <code>x &#96; y</code>."
    )
    text = re.sub(r"<[^>]+>", "", mistune.html(inline))
    import html

    assert html.unescape(text).strip() == "Add #include <stdio.h> and a*b*c and x ` y."
    # an unclosed fence (an answer still streaming) is code to the end, as in JupyterLab
    assert safe_markdown("```html\n<img src=x>") == "```html\n<img src=x>"


@pytest.mark.parametrize(
    "text",
    [
        # a fenced block in a list item ends where the item does: the line after is Markdown again
        "- item\n  ```\n  code\n<img src=x onerror=alert(1)>\n  ```",
        # a code span cannot hold a blank line, or cross into a heading
        "`start\n\n<img src=x onerror=alert(1)>\n\n`",
        "`a\n# <img src=x onerror=alert(1)>`",
        # a link destination holding a backtick: the span starting there is not ours to trust
        "[a](http://x`y) <img src=x onerror=alert(1)> `",
        "    ```\n<img src=x onerror=alert(1)>\n    ```",
        "> ```\n> <img src=x onerror=alert(1)>",
        "\\\\<img src=x onerror=alert(1)>",
        "![a](<x onerror=alert(1)>)",
        "[a]: <img src=x onerror=alert(1)>\n\n![b][a]",
        "```{image} http://127.0.0.1:8123/myst\n```",
    ],
)
def test_no_markdown_trick_lets_html_through(text):
    out = safe_markdown(text)
    assert tags_outside_code(out) == [], out
    for tag, attrs in rendered(out):
        assert tag in ("p", "a", "code", "pre", "ul", "li", "h1", "blockquote", "img"), out
        assert tag != "img" or (classify_url(attrs["src"])[0] == "relative" and "onerror" not in attrs), out
    assert "{image}" not in out or "```text {image}" in out  # MyST would render that directive


def test_links_keep_safe_targets_only():
    assert safe_markdown("[docs](https://docs.python.org/3/)") == "[docs](https://docs.python.org/3/)"
    assert safe_markdown("[local](data.csv) [mail](mailto:a@b.c)") == "[local](data.csv) [mail](mailto:a@b.c)"
    assert safe_markdown("[click me](javascript:alert(1))") == "click me"
    assert safe_markdown("![x](javascript:alert(1)) ![](vbscript:y)") == "x (image not shown) (image not shown)"
    assert safe_markdown("[x](java&#9;script:alert(1))") == "x"
    assert safe_markdown("[x](data:text/html,<script>alert(1)</script>)") == "x"
    assert safe_markdown("[x][bad]\n\n[bad]: javascript:alert(1)") == "[x][bad]\n\n"
    assert safe_markdown("<https://example.org/a_b>") == "[https&#58;&#47;&#47;example&#46;org&#47;a&#95;b](https://example.org/a_b)"
    assert safe_markdown("<javascript:alert(1)>") == "&lt;javascript&#58;alert&#40;1&#41;>"


def test_classify_url():
    assert classify_url("https://evil.example/x") == ("remote", "https://evil.example/x")
    assert classify_url(" //evil.example/x") == ("remote", "http://evil.example/x")
    assert classify_url("\\\\\\\\evil.example/x") == ("remote", "http://evil.example/x")  # Markdown's \\\\ is \\
    assert classify_url("\\\\evil.example/x") == ("relative", "/evil.example/x")
    assert classify_url("/\\evil.example/x") == ("remote", "http://evil.example/x")
    assert classify_url("ht\ttp://evil.example/x") == ("remote", "http://evil.example/x")
    assert classify_url("&#104;ttp://evil.example/x") == ("remote", "http://evil.example/x")
    assert classify_url("<https://evil.example/a b>") == ("remote", "https://evil.example/a b")
    assert classify_url("javascript:alert(1)")[0] == "unsafe"
    assert classify_url("DATA:image/png;base64,AAAA")[0] == "data"
    assert classify_url("figures/plot.png") == ("relative", "figures/plot.png")
    assert classify_url("/files/plot.png") == ("relative", "/files/plot.png")


def test_the_whole_hostile_answer_keeps_its_text():
    out = safe_markdown(answer(LEAK))
    for name in {**CASES, **ALLOWED}:
        assert f"{name}:" in out
    assert tags_outside_code(out) == []


def test_every_prefix_of_a_streaming_answer_is_safe():
    """While an answer streams it is shown again at each update: no prefix may load anything."""
    from jupyter_tinyai.magics.display import NotebookAnswer

    text, view = answer(LEAK), NotebookAnswer()
    for end in range(0, len(text), 7):
        markdown = view._bundle(text[:end], cursor=True)["text/markdown"]
        assert tags_outside_code(markdown) == [], markdown[-200:]
        for tag, attrs in rendered(markdown):
            assert tag != "img" or classify_url(attrs["src"])[0] in ("data", "relative"), (attrs, markdown[-200:])
