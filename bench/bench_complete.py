"""Inline completion: replay a typing session and measure what a user waits for.

    python bench/bench_complete.py [--debounce 150] [--naive-every 10] [--segment 30]
    python bench/bench_complete.py --through-host [--pause-cap 1.0]

Replays bench/typing_session.json (a notebook and the keystrokes that write four cells of
it): after every keystroke followed by a pause of at least ``--debounce`` ms (as the editor's
debouncer would), the code around the cursor is sent for completion, with the recently edited
cells as extra context. Where the typist pauses longer than the lane's idle time, the replay
waits for the lane to go idle (what the pause gives it in real life). Prints, in one run:

  * latency from the request to the first text of the suggestion, p50 and p95
    (goal with the bundled model on 2 cores: p50 <= 150 ms)
  * prompt tokens evaluated per request, against a fresh prompt each time (naive; the same
    prompts, counted without evaluating them; goal <= 0.3 x naive), and the latency of the
    naive way on a sample of the requests
  * the latency of the same run of requests while 300-token chat answers stream, against
    idle (goal <= 2 x)

Figures come from a real model (the bundled one unless ``--model``) in this process. With
``--through-host`` the same replay goes through the background host (``HostClient.complete``,
as JupyterLab's requests do), the typist's pauses slept, and only latency and prompt tokens
are printed.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import threading
import time
from dataclasses import dataclass

from jupyter_tinyai.completion.lane import IDLE_SECONDS, CompletionLane, CompletionRequest
from jupyter_tinyai.completion.notebook import Cell, notebook_context
from jupyter_tinyai.config import load_settings
from jupyter_tinyai.engine import Engine

SESSION = os.path.join(os.path.dirname(os.path.abspath(__file__)), "typing_session.json")
CHAT_PROMPT = "Write a long story about a lighthouse keeper and a storm."
RECENT_CELLS = 3


@dataclass
class Point:
    """One request of the replay and the pause the typist makes after it."""

    request: CompletionRequest
    pause_ms: int


def replay(path: str, debounce_ms: int) -> list[Point]:
    with open(path) as handle:
        session = json.load(handle)
    language = session.get("language", "python")
    cells = [Cell(c["cell_type"], c["source"]) for c in session["cells"]]
    events = session["events"]
    recent: list[int] = []
    points = []
    for number, (index, offset, delete, insert, _gap) in enumerate(events):
        while index >= len(cells):
            cells.append(Cell("code", ""))
        source = cells[index].source
        cells[index] = Cell(cells[index].cell_type, source[:offset] + insert + source[offset + delete :])
        cursor = offset + len(insert)
        if index in recent:
            recent.remove(index)
        recent.append(index)
        pause = events[number + 1][4] if number + 1 < len(events) else 10_000
        if pause < debounce_ms:
            continue
        before, after = cells[index].source[:cursor], cells[index].source[cursor:]
        if not before.strip():
            continue
        prefix, suffix, extra = notebook_context(cells, index, before, after, language=language,
                                                 recent=recent[-RECENT_CELLS - 1 :])
        points.append(Point(CompletionRequest(prefix, suffix, tuple(extra), language=language), pause))
    return points


@dataclass
class Result:
    first_ms: float  # request to the first text (or to the end, for an empty suggestion)
    total_ms: float
    evaluated: int  # prompt tokens decoded for it
    cached: bool  # served from the cache of recent completions
    text: str


def run(lane: CompletionLane, request: CompletionRequest) -> Result:
    start = time.perf_counter()
    first, parts, stats = None, [], None
    for chunk in lane.complete(request):
        if chunk.text:
            first = first or time.perf_counter()
            parts.append(chunk.text)
        stats = chunk.stats or stats
    end = time.perf_counter()
    return Result(((first or end) - start) * 1000, (end - start) * 1000,
                  stats.prompt_tokens - stats.cached_tokens, stats.finish_reason == "cached", "".join(parts))


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))] if values else float("nan")


def replay_through(lane: CompletionLane, points: list[Point], idle: bool = True, model: bool = False) -> list[Result]:
    """Each point's request in turn; ``idle``: the typist's long pauses let the lane go idle;
    ``model``: every request asks the model (no cache, no time budget), so two runs compare."""
    results = []
    for point in points:
        if model:
            lane.recent.clear()
        request = dataclasses.replace(point.request, time_budget=60.0) if model else point.request
        results.append(run(lane, request))
        if idle and point.pause_ms >= IDLE_SECONDS * 1000:
            lane.wait_idle(60)  # the typist's pause: the lane pre-fills new context meanwhile
    return results


def replay_through_host(points: list[Point], pause_cap_s: float) -> list[Result]:
    """Each point's request through the background host (``HostClient.complete``: its socket,
    its completion lane), the typist's pauses slept (at most ``pause_cap_s``)."""
    from jupyter_tinyai.host.client import HostClient

    client = HostClient(load_settings(host="auto"))

    def through(request: CompletionRequest) -> Result:
        start = time.perf_counter()
        first, parts, stats = None, [], None
        for chunk in client.complete(request.prefix, request.suffix, extra=request.extra, language=request.language,
                                     session="bench"):
            if chunk.text:
                first = first or time.perf_counter()
                parts.append(chunk.text)
            stats = chunk.stats or stats
        end = time.perf_counter()
        return Result(((first or end) - start) * 1000, (end - start) * 1000,
                      stats.prompt_tokens - stats.cached_tokens, stats.finish_reason == "cached", "".join(parts))

    through(CompletionRequest("import numpy as np\n"))  # warm up: the host started, the model loaded
    results = []
    for point in points:
        results.append(through(point.request))
        time.sleep(min(point.pause_ms / 1000, pause_cap_s))
    return results


class Chat:
    """300-token chat answers, one after another, on the engine's main context."""

    def __init__(self, engine: Engine, max_tokens: int = 300):
        self.engine, self.max_tokens = engine, max_tokens
        self.stop = threading.Event()
        self.streaming = threading.Event()
        self.answers, self.tokens, self.seconds = 0, 0, 0.0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self.stop.is_set():
            start = time.perf_counter()
            for chunk in self.engine.chat(CHAT_PROMPT, conversation=f"bench-{self.answers}", max_tokens=self.max_tokens):
                self.streaming.set()
                if chunk.stats:
                    self.tokens += chunk.stats.generated_tokens
            self.seconds += time.perf_counter() - start
            self.answers += 1
            self.engine.reset(f"bench-{self.answers - 1}")

    def __enter__(self):
        self.thread.start()
        self.streaming.wait(300)
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.engine.cancel()
        self.thread.join(300)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--debounce", type=int, default=150, help="ms of pause after a keystroke that sends a request")
    parser.add_argument("--naive-every", type=int, default=10, help="time the naive way on every Nth request")
    parser.add_argument("--segment", type=int, default=30, help="requests replayed idle and during a chat answer")
    parser.add_argument("--model", default=None, help="completion model (default: as c.TinyAI.completion_model)")
    parser.add_argument("--session", default=SESSION)
    parser.add_argument("--through-host", action="store_true",
                        help="replay the typing session through the background host instead (latency and tokens only)")
    parser.add_argument("--pause-cap", type=float, default=1.0, help="with --through-host: longest pause slept, in s")
    args = parser.parse_args()
    if args.through_host:
        points = replay(args.session, args.debounce)
        results = replay_through_host(points, args.pause_cap)
        shown = [r for r in results if r.text]
        model_work = [r for r in shown if not r.cached]
        print(f"through the host: {len(points)} requests (debounce {args.debounce} ms, pauses slept up to {args.pause_cap} s)")
        print(f"latency to the first suggestion: p50 {percentile([r.first_ms for r in shown], .5):.0f} ms ·"
              f" p95 {percentile([r.first_ms for r in shown], .95):.0f} ms   (goal: p50 <= 150 ms; {len(shown)} suggestions)")
        print(f"  the model's: {len(model_work)}, p50 {percentile([r.first_ms for r in model_work], .5):.0f} ms ·"
              f" p95 {percentile([r.first_ms for r in model_work], .95):.0f} ms; from the cache: {len(shown) - len(model_work)}")
        print(f"prompt tokens evaluated per request: mean {statistics.mean(r.evaluated for r in results):.1f}")
        return

    settings = load_settings(host="inprocess", completion_model=args.model or None)
    engine = Engine(settings)
    engine.load(args.model)  # the chat model is the completion model: the lane shares its weights
    lane = engine.completion
    points = replay(args.session, args.debounce)
    run(lane, CompletionRequest("import numpy as np\n"))  # warm up: the context made, the vocabulary sorted
    status = lane.status()
    print(f"typing session: {len(points)} requests (debounce {args.debounce} ms) · model {status['model']} · "
          f"prompt {status['format']} · completion context {status['n_ctx']} tokens · {os.cpu_count()} CPUs")

    results = replay_through(lane, points)
    shown = [r for r in results if r.text]
    first = [r.first_ms for r in shown]
    model_work = [r for r in shown if not r.cached]
    naive_lane = CompletionLane(settings, lambda: engine._backend, reuse=False)
    naive_tokens = [len(naive_lane_prompt(naive_lane, p.request)) for p in points]
    evaluated = [r.evaluated for r in results]
    print(f"latency to the first suggestion: p50 {percentile(first, .5):.0f} ms · p95 {percentile(first, .95):.0f} ms"
          f"   (goal: p50 <= 150 ms; {len(shown)} suggestions, {len(results) - len(shown)} requests ended with none)")
    print(f"  the model's: {len(model_work)}, p50 {percentile([r.first_ms for r in model_work], .5):.0f} ms ·"
          f" p95 {percentile([r.first_ms for r in model_work], .95):.0f} ms; from the cache: {len(shown) - len(model_work)}")
    ratio = sum(evaluated) / max(1, sum(naive_tokens))
    print(f"prompt tokens evaluated per request: mean {statistics.mean(evaluated):.1f}, naive (fresh prompt) "
          f"{statistics.mean(naive_tokens):.1f}: {ratio:.3f} x naive   (goal <= 0.3)")
    print(f"  pre-filled while the typist paused: {lane.prefilled_tokens} tokens in all"
          f" ({(sum(evaluated) + lane.prefilled_tokens) / max(1, sum(naive_tokens)):.3f} x naive with them)")

    sample = points[:: args.naive_every]
    naive = [r.first_ms for r in replay_through(naive_lane, sample, idle=False) if r.text]
    same = [results[i].first_ms for i in range(0, len(points), args.naive_every) if results[i].text]
    print(f"naive, every {args.naive_every}th request ({len(sample)}): first suggestion p50 "
          f"{percentile(naive, .5):.0f} ms · p95 {percentile(naive, .95):.0f} ms;"
          f" the same requests with reuse: p50 {percentile(same, .5):.0f} ms · p95 {percentile(same, .95):.0f} ms")
    naive_lane.close()

    alone = next(c.stats for c in engine.chat(CHAT_PROMPT, conversation="bench-alone", max_tokens=300) if c.stats)
    engine.reset("bench-alone")
    start = max(1, len(points) // 2)
    segment = points[start : start + args.segment]
    lane.recent.clear()
    run(lane, points[start - 1].request)
    idle = replay_through(lane, segment, idle=False, model=True)
    lane.recent.clear()
    run(lane, points[start - 1].request)  # the same cache state as before the idle run
    with Chat(engine) as chat:
        during = replay_through(lane, segment, idle=False, model=True)
        overlapped = chat.thread.is_alive()
    idle_ms = [r.first_ms for r in idle if r.text]
    during_ms = [r.first_ms for r in during if r.text]
    idle_p50, during_p50 = percentile(idle_ms, .5), percentile(during_ms, .5)
    print(f"during 300-token chat answers ({len(segment)} requests, each asking the model; the same ones idle): "
          f"p50 {during_p50:.0f} ms vs idle {idle_p50:.0f} ms: {during_p50 / idle_p50:.2f} x   (goal <= 2)"
          + ("" if overlapped else "  [the chat ended before the last request]"))
    print(f"  p95 {percentile(during_ms, .95):.0f} ms vs {percentile(idle_ms, .95):.0f} ms;"
          f" chat meanwhile: {chat.answers} answers at {chat.tokens / max(chat.seconds, 1e-9):.1f} tokens/s"
          f" (alone: {alone.generated_tokens} tokens at {alone.generated_tokens / alone.total_s:.1f} tokens/s);"
          f" completions identical to idle: {sum(a.text == b.text for a, b in zip(idle, during))}/{len(segment)}")
    engine.completion.close()
    engine.unload()


def naive_lane_prompt(lane: CompletionLane, request: CompletionRequest) -> list[int]:
    """The tokens of a fresh prompt for ``request`` (every extra chunk in it), not evaluated."""
    return lane.prompt_tokens(request)


if __name__ == "__main__":
    main()
