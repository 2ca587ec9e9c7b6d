"""What a client's ``status()`` says, as text: the lines of ``jupyter tinyai status`` and
``%tinyai status``, and the one line of the ``%tinyai`` panel.

    print("\\n".join(status_lines(client.status())))
    status_line(client.status())   # "llamacpp:… · CPU, 7 threads · memory 98.4 MB · last answer 70.0 tokens/s"
    state_line(snapshot)           # "SmolLM2-… · CPU, 2 threads · 70.0 tokens/s" (a jupyter_tinyai.modelstate snapshot)
"""

from __future__ import annotations

from ._version import __version__
from .types import Stats
from .units import human_size


def status_lines(status: dict) -> list[str]:
    """The loaded model, where it runs, its memory, the host (when there is one) and the
    last answer's figures."""
    model = status.get("model")
    host = status.get("host") if isinstance(status.get("host"), dict) else None
    lines = []
    if model and model.get("format") == "remote":
        lines.append(f"model:    {model['id']} (on remote {model.get('source')!r}: {model.get('path')})")
        lines.append(f"backend:  remote · context {status.get('n_ctx')} tokens")
        lines.append(f"memory:   {human_size(status.get('process_rss_bytes', 0))} process (the model runs on the remote)")
    elif model:
        kind = " ".join(part for part in (model["format"], model["quantization"]) if part)
        lines.append(f"model:    {model['id']} ({kind}, {human_size(model['size_bytes'])})")
        lines.append(f"backend:  {status.get('backend')}" + (f" · {status['placement']}" if status.get("placement") else "")
                     + f" · context {status.get('n_ctx')} tokens"
                     + (f" · adapter {status['adapter']}" if status.get("adapter") else ""))
        lines.append(f"memory:   {human_size(status.get('model_memory_bytes', 0))} model"
                     f" · {human_size(status.get('process_rss_bytes', 0))} process")
    elif host is not None and host.get("responding") is False:
        lines.append("model:    unknown (the host does not answer)")
    else:
        lines.append("model:    none loaded (the first request loads the default)")
    if host is not None:
        lines.extend(host_lines(host))
    last = status.get("last")
    if last:
        lines.append("last:     " + Stats.from_dict(last).summary())
    return lines


def status_line(status: dict) -> str:
    """The same, in one line: model · where it runs · memory · the last answer's speed."""
    model = (status.get("model") or {}).get("id") or "no model loaded"
    parts = [model]
    if status.get("placement"):
        parts.append(status["placement"])
    parts.append(f"memory {human_size(status.get('model_memory_bytes') or 0)}")
    last = status.get("last")
    parts.append(f"last answer {last.get('tokens_per_s', 0):.1f} tokens/s" if last else "no answer yet")
    return " · ".join(parts)


def state_line(snap: dict) -> str:
    """The host's model in one line, from a :mod:`.modelstate` snapshot (the ``%tinyai``
    panel; the sidebar's status line says the same): "Loading X…" while X loads, else the
    model's name · where it runs · its last answer's speed (that model's only)."""
    if snap.get("loading"):
        return f"Loading {snap['loading'].get('name') or snap['loading']['id']}…"
    if snap.get("event") == "failed" and snap.get("error"):
        return f"Could not load {snap['error']}"
    model = snap.get("model")
    if not model:
        return "no model loaded (the next answer loads one)"
    parts = [model.get("name") or model["id"]]
    if snap.get("placement"):
        parts.append(snap["placement"])
    last = snap.get("last")
    if last and last.get("model") == model["id"]:
        parts.append(f"{last.get('tokens_per_s', 0):.1f} tokens/s")
    return " · ".join(parts)


def _duration(seconds) -> str:
    seconds = float(seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _timer(limit, remaining) -> str:
    if not limit:
        return "never"
    text = f"after {_duration(limit)} idle"
    return text + (f" (in {_duration(remaining)})" if remaining is not None else "")


def host_lines(host: dict) -> list[str]:
    """The lines about the background host (``status()["host"]``)."""
    if not host:
        return []
    if not host.get("running", True):
        return [
            "host:     not running (the first request starts it)",
            (f"timers:   model unloads {_timer(host.get('keep_alive_s'), None)}"
             f" · host exits {_timer(host.get('idle_exit_s'), None)}"),
        ]
    if host.get("responding") is False:  # a stopped or hung process
        problem = host.get("problem") or f"pid {host.get('pid')} is not responding"
        return [f"host:     {problem}; the next request replaces it, or restart it now: jupyter tinyai serve --stop"]
    where = host.get("socket") or "loopback TCP"
    ports = host.get("ports") or []
    return [
        f"host:     pid {host.get('pid')} · up {_duration(host.get('uptime_s', 0))} · {where}"
        + (f" · also http://127.0.0.1:{ports[0]}/v1" if ports else "")
        + (f" · version {host['version']}, not {__version__}" if host.get("version", __version__) != __version__ else ""),
        f"queue:    {'busy' if host.get('busy') else 'idle'} · {host.get('queue', 0)} waiting",
        (f"timers:   model unloads {_timer(host.get('keep_alive_s'), host.get('unload_in_s'))}"
         f" · host exits {_timer(host.get('idle_exit_s'), host.get('exit_in_s')) if not ports else 'never while serving a port'}"),
    ]
