"""Chat history of the JupyterLab sidebar: one JSON file per conversation.

Files live in ``<jupyter data dir>/tinyai/history/<conversation id>.json`` (see
``jupyter --data-dir``): the directory is user-only (0700), each file too (0600), and
every write goes to a temporary file first and replaces the old one in one step, so a
crash never leaves half a file. A conversation file::

    {"id": "…", "notebook": "analysis/run.ipynb", "title": "first prompt…",
     "created": "2026-11-28T16:40:00+00:00", "updated": "…", "model": "llamacpp:…",
     "messages": [{"role": "user", "content": "…", "time": "…", "context": [{"label", "text"}]},
                  {"role": "assistant", "content": "…", "time": "…", "stats": {…}}]}

A conversation started by an inline explanation carries ``"inline": true``: it is left out
of the list (History) until it is continued in the sidebar (:meth:`HistoryStore.keep`, or a
turn sent from the sidebar), so dismissed explanations do not crowd History; one never
continued is deleted when History is listed a week after its last turn
(:data:`INLINE_KEPT_DAYS`), so what the user dismissed does not stay on disk for ever.

A damaged file (not JSON, truncated, a value of the wrong type, no ``messages``, a folder
where a file should be) is never overwritten nor deleted: it is renamed aside to
``<id>.json.damaged-<UTC time>`` in the same folder, logged, and reported in one line
(:class:`DamagedHistory`); every other conversation goes on working.

No Jupyter server imports here: the store is plain files.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from datetime import datetime, timezone
from itertools import pairwise

from ..damaged import move_aside
from ..errors import DamagedHistory
from ..prompts import user_message
from ..types import ContextPiece, Message

log = logging.getLogger(__name__)

#: what a conversation id may look like (the sidebar uses UUIDs)
ID_PATTERN = r"[A-Za-z0-9_-]{1,128}"
_ID = re.compile(ID_PATTERN + r"\Z")
TITLE_CHARS = 60


def default_root() -> str:
    from jupyter_core.paths import jupyter_data_dir

    return os.path.join(jupyter_data_dir(), "tinyai", "history")


def valid_id(cid: object) -> bool:
    return isinstance(cid, str) and bool(_ID.match(cid))


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def title_of(prompt: str) -> str:
    line = " ".join(prompt.split())
    return line if len(line) <= TITLE_CHARS else line[: TITLE_CHARS - 1] + "…"


def engine_messages(messages: list[dict]) -> list[Message]:
    """The turns as the engine keeps them: each user message with its context rendered
    into it (as :func:`prompts.user_message` does), each followed by its answer. A user
    message without an answer (a crash mid-turn) is left out."""
    turns: list[Message] = []
    for user, answer in pairwise(messages):
        if user.get("role") == "user" and answer.get("role") == "assistant":
            context = [ContextPiece(p["label"], p["text"]) for p in user.get("context") or []]
            turns += [Message("user", user_message(user["content"], context)), Message("assistant", answer["content"])]
    return turns


def problem(data: object, cid: str) -> str | None:
    """What is wrong with a loaded conversation file, or None when it can be used."""
    if not isinstance(data, dict):
        return "it is not a JSON object"
    if data.get("id") != cid:
        return "its id does not match its file name"
    for key in ("title", "created", "updated"):
        if not isinstance(data.get(key), str):
            return f"its {key!r} is not a string"
    for key in ("notebook", "model"):
        if data.get(key) is not None and not isinstance(data[key], str):
            return f"its {key!r} is not a string"
    messages = data.get("messages")
    if not isinstance(messages, list):
        return "it has no 'messages' list"
    for message in messages:
        if not (isinstance(message, dict) and message.get("role") in ("user", "assistant")
                and isinstance(message.get("content"), str)):
            return "a message is not {'role': 'user' or 'assistant', 'content': string}"
        context = message.get("context", [])
        if not (isinstance(context, list) and all(
                isinstance(p, dict) and isinstance(p.get("label"), str) and isinstance(p.get("text"), str) for p in context)):
            return "a message's 'context' is not a list of {'label', 'text'} strings"
        if not isinstance(message.get("stats", {}), dict):
            return "a message's 'stats' is not an object"
    return None


#: an inline explanation (or proposed edit) never continued in the sidebar is deleted this
#: many days after its last turn
INLINE_KEPT_DAYS = 7


def _days_since(stamp: object) -> float:
    """Days since an ISO time written by :func:`now`; 0 when it cannot be read."""
    try:
        then = datetime.fromisoformat(str(stamp))
    except ValueError:
        return 0.0
    if then.tzinfo is None:
        then = then.replace(tzinfo=timezone.utc)
    return (datetime.now(timezone.utc) - then).total_seconds() / 86400


class HistoryStore:
    """Conversations on disk. Not thread-safe: the server calls it from its event loop."""

    def __init__(self, root: str | None = None):
        self.root = root or default_root()

    # -- reading --------------------------------------------------------------------------

    def path(self, cid: str) -> str:
        if not valid_id(cid):
            raise ValueError(f"invalid conversation id {cid!r}")
        return os.path.join(self.root, cid + ".json")

    def get(self, cid: str) -> dict | None:
        """The conversation, None when there is none; a damaged file is set aside and
        :class:`DamagedHistory` raised (so it is never overwritten by the next turn)."""
        path = self.path(cid)
        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
        except FileNotFoundError:
            return None
        except IsADirectoryError:
            reason = "it is a folder, not a file"
        except UnicodeDecodeError:
            reason = "it is not UTF-8 text"
        except ValueError as exc:
            reason = f"it is not valid JSON ({exc})"
        except OSError as exc:  # not damaged as far as we know: left where it is
            raise DamagedHistory(f"The chat history file {path} cannot be read ({exc.strerror or exc}); "
                                 "it is left as it is: check its permissions.", set_aside=False) from None
        else:
            reason = problem(data, cid)
            if reason is None:
                return data
        self._set_aside(path, reason)

    def _set_aside(self, path: str, reason: str):
        """Rename a damaged file out of the way (never over another file) and raise
        :class:`DamagedHistory` with the one-line notice."""
        try:
            target = move_aside(path)
        except OSError as exc:
            log.error("TinyAI chat history %s is damaged (%s) and cannot be set aside: %s", path, reason, exc)
            raise DamagedHistory(f"The chat history file {path} is damaged ({reason}) and could not be set aside "
                                 f"({exc.strerror or exc}): move it away by hand.", set_aside=False) from None
        log.warning("TinyAI chat history %s is damaged (%s): set aside as %s", path, reason, target)
        raise DamagedHistory(f"A damaged chat history file was set aside as {target} ({reason}); "
                             "the other conversations are kept.", set_aside=True)

    def list(self, notebook: str | None = None, notices: list[str] | None = None) -> list[dict]:
        """Summaries, newest first; only ``notebook``'s when given ("" for the conversations
        started with no notebook open); inline explanations never continued in the sidebar
        are left out (and deleted after :data:`INLINE_KEPT_DAYS`). Damaged files met on the
        way are set aside; one line for each is appended to ``notices``."""
        try:
            names = os.listdir(self.root)
        except FileNotFoundError:
            return []
        found = []
        for name in names:
            if not name.endswith(".json") or not valid_id(name[:-5]):
                continue
            try:
                data = self.get(name[:-5])
            except DamagedHistory as damaged:
                if notices is not None:
                    notices.append(str(damaged))
                continue
            if data is not None and data.get("inline") and _days_since(data.get("updated")) > INLINE_KEPT_DAYS:
                try:
                    self.delete(data["id"])  # dismissed a week ago and never continued
                except DamagedHistory as damaged:
                    if notices is not None:
                        notices.append(str(damaged))
                continue
            if data is None or data.get("inline") or (
                    notebook is not None and (data.get("notebook") or "") != notebook):
                continue
            found.append(summary(data))
        found.sort(key=lambda c: c["updated"], reverse=True)
        return found

    # -- writing --------------------------------------------------------------------------

    def add_user(self, cid: str, notebook: str, prompt: str, context: list[dict], inline: bool = False,
                 **fields) -> dict:
        """Start a turn: record the user's message (creating the conversation); ``fields``
        (e.g. ``time``) are stored with it. A turn of an inline explanation (``inline``) starts
        one left out of History; a turn sent from the sidebar keeps the conversation in it."""
        data = self.get(cid) or {
            "id": cid,
            "notebook": notebook,
            "title": title_of(prompt),
            "created": now(),
            "model": None,
            "messages": [],
            **({"inline": True} if inline else {}),
        }
        if not inline:
            data.pop("inline", None)
        message: dict = {"role": "user", "content": prompt, "time": now(), **fields}
        if context:
            message["context"] = context
        data["messages"].append(message)
        self._write(data)
        return data

    def add_answer(self, cid: str, text: str, stats: dict | None, reasoning: str = "", **fields) -> None:
        """Finish a turn with the answer (partial when stopped); nothing if deleted meanwhile.
        ``reasoning`` (the model's thinking before it) is kept for display only: it is never
        part of the turns sent back to the model (:func:`engine_messages`); ``fields`` (e.g.
        ``model``, ``time``) are stored with it."""
        data = self.get(cid)
        if data is None:
            return
        message: dict = {"role": "assistant", "content": text, "time": now(), **fields}
        if reasoning:
            message["reasoning"] = reasoning
        if stats:
            message["stats"] = stats
            data["model"] = stats.get("model") or data.get("model")
        data["messages"].append(message)
        self._write(data)

    def keep(self, cid: str) -> bool:
        """An inline explanation continued in the sidebar: listed in History from now on;
        False when there is no such conversation."""
        data = self.get(cid)
        if data is None:
            return False
        if data.pop("inline", None) is not None:
            self._write(data)
        return True

    def drop_unanswered(self, cid: str) -> None:
        """Take back a user message that got no answer at all (the request failed)."""
        data = self.get(cid)
        if data is None or not data["messages"] or data["messages"][-1]["role"] != "user":
            return
        data["messages"].pop()
        if data["messages"]:
            self._write(data)
        else:
            self.delete(cid)

    def delete(self, cid: str) -> bool:
        """Delete a conversation; False when there is none. A folder where its file should
        be is set aside (:class:`DamagedHistory`, as :meth:`get` does); a file that cannot be
        deleted is left as it is, and said so (:class:`DamagedHistory`)."""
        path = self.path(cid)
        try:
            os.remove(path)
        except FileNotFoundError:
            return False
        except OSError as exc:
            if os.path.isdir(path) and not os.path.islink(path):
                self._set_aside(path, "it is a folder, not a file")
            raise DamagedHistory(f"The chat history file {path} cannot be deleted ({exc.strerror or exc}); "
                                 "it is left as it is: check its permissions.", set_aside=False) from None
        return True

    def _write(self, data: dict) -> None:
        data["updated"] = now()
        os.makedirs(self.root, mode=0o700, exist_ok=True)
        os.chmod(self.root, 0o700)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=self.root)  # 0600
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(data, f, ensure_ascii=False)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path(data["id"]))
        except BaseException:
            try:
                os.remove(tmp)
            except FileNotFoundError:
                pass
            raise


def summary(data: dict) -> dict:
    prompts = [m["content"] for m in data.get("messages", []) if m.get("role") == "user"]
    return {
        "id": data["id"],
        "notebook": data.get("notebook", ""),
        "title": data.get("title", ""),
        "created": data.get("created", ""),
        "updated": data.get("updated", ""),
        "model": data.get("model"),
        "message_count": len(data.get("messages", [])),
        # the last prompt tells apart conversations that started alike
        "last_prompt": title_of(prompts[-1]) if len(prompts) > 1 else "",
    }
