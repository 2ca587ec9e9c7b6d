"""Edits with and without prompt-lookup decoding, measured side by side in one run.

    python bench/bench_edit.py [--repeats 3] [--threads N]

On the cells of bench/edit_cells.json (a loop to vectorize, two bugs to fix with their real
tracebacks, type hints to add, os.path to pathlib), through ``Engine.edit`` with the bundled
model, greedy: decode tokens/s without prompt lookup and with it, the ratio, the model passes
and proposed/accepted tokens, and whether the two texts are identical. Each pair of runs
starts from the same cache state (the prompt cached by a run before), and the figures are
medians of ``--repeats`` alternating runs.

Two configurations: as configured (flash attention as ``auto`` decides: off on a CPU) and
with flash attention on, both with ``prompt_lookup = "on"`` (used whatever the check says),
then what ``auto`` decides there: whether llama.cpp's batches are exact (the same text is
then guaranteed) and what a batch costs. Then the cost of one model pass by batch size,
which bounds what any speculative decoding can gain on this machine, and llama-cpp-python's
own ``Llama(draft_model=LlamaPromptLookupDecoding(num_pred_tokens=10))`` against its plain
``generate`` on the first cell, for reference.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import statistics
import time

from jupyter_tinyai.backends import prompt_lookup
from jupyter_tinyai.config import load_settings
from jupyter_tinyai.engine import Engine

CELLS = json.loads((pathlib.Path(__file__).with_name("edit_cells.json")).read_text())["cells"]


def edit(engine: Engine, cell: dict, lookup: str):
    engine.settings.prompt_lookup = lookup
    backend = engine._backend
    backend.last_lookup = None
    outcome = engine.edit(cell["code"], instruction=cell.get("instruction"), error=cell.get("error")).result
    return outcome, backend.last_lookup


def compare(engine: Engine, lookup: str, repeats: int) -> None:
    plan = engine._backend.plan
    print(f"\n## {plan.text()}, flash attention {'on' if plan.flash_attn else 'off'}; prompt_lookup = {lookup!r}")
    print(f"{'cell':16} {'tokens':>6} {'plain tok/s':>11} {'lookup tok/s':>12} {'ratio':>6} {'passes':>7} {'accepted':>13}  same text")
    total = {"tokens": 0, "plain_s": 0.0, "lookup_s": 0.0}
    for cell in CELLS:
        edit(engine, cell, lookup)  # the prompt cached: every run below starts from this state
        plain, looked = [], []
        for _ in range(repeats):
            plain.append(edit(engine, cell, "off"))
            looked.append(edit(engine, cell, lookup))
        same = all(o.answer == plain[0][0].answer for o, _ in plain + looked)
        tokens = plain[0][0].stats.generated_tokens
        plain_speed = statistics.median(o.stats.tokens_per_s for o, _ in plain)
        lookup_speed = statistics.median(o.stats.tokens_per_s for o, _ in looked)
        figures = looked[0][1]
        used = f"{figures.passes:7d} {figures.accepted:5d}/{figures.drafted:<5d}  " if figures else f"{tokens:7d} {'not used':>11}  "
        print(f"{cell['name']:16} {tokens:6d} {plain_speed:11.1f} {lookup_speed:12.1f} {lookup_speed / plain_speed:5.2f}x {used}{'yes' if same else 'NO'}")
        total["tokens"] += tokens
        total["plain_s"] += tokens / plain_speed
        total["lookup_s"] += tokens / lookup_speed
    plain_all, lookup_all = total["tokens"] / total["plain_s"], total["tokens"] / total["lookup_s"]
    print(f"{'all cells':16} {total['tokens']:6d} {plain_all:11.1f} {lookup_all:12.1f} {lookup_all / plain_all:5.2f}x")
    edit(engine, CELLS[0], "auto")
    check = engine._backend.lookup_check
    exact = f"exact up to {check.exact_to} tokens" if check.exact_to else "not exact"
    if check.inexact_from:
        exact += f", not from {check.inexact_from}"
    print(f"auto: batches {exact}; a {prompt_lookup.PROBE_BATCHES[-1]}-token pass costs {check.batch_cost:.1f} "
          f"single-token passes (pays at most {check.PAYS_AT_MOST:g}): {'used' if check.pays and check.exact_to else 'not used'} here")


def pass_costs(engine: Engine, sizes=(1, 2, 4, 8, 16), repeats: int = 10) -> None:
    """The time of one model pass by batch size (logits for every token, as verification
    needs), after a 300-token prompt: the fastest of ``repeats``."""
    llm = engine._backend._llm
    tokens = llm.tokenize("\n".join(c["code"] for c in CELLS).encode())
    prompt_lookup._cache(llm, tokens[:300])
    print("\n## one model pass (logits for every token), after 300 tokens")
    single = None
    for size in sizes:
        batch = tokens[300 : 300 + size]
        best = min(_timed(lambda batch=batch: prompt_lookup._decode(llm, batch, 300, 0)) for _ in range(repeats))
        single = single or best
        print(f"{size:3d} tokens: {best * 1000:6.1f} ms = {best / single:5.2f} single-token passes ({best / size * 1000:.1f} ms a token)")
    llm.n_tokens = 300
    llm._requires_eval = True


def _timed(work) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def edit_prompt(engine: Engine, cell: dict) -> list[int]:
    """The tokens of the prompt ``Engine.edit`` sends for ``cell``."""
    from jupyter_tinyai import edits
    from jupyter_tinyai.prompts import build

    request = edits.EditRequest(cell["code"], cell.get("instruction"), cell.get("error"))
    return engine._backend._prompt_tokens(build(edits.SYSTEM, [], request.prompt(), []))


def raw_reference(threads: int, name: str, prompt: list[int], repeats: int) -> None:
    """llama-cpp-python's own prompt lookup against its plain generate, as the design notes
    measured it (400 tokens at most, greedy, no repeat penalty)."""
    import llama_cpp
    from llama_cpp.llama_speculative import LlamaPromptLookupDecoding

    from jupyter_tinyai.models.sources import bundled_path

    print(f"\n## llama-cpp-python alone, {threads} thread(s), n_ctx 2048, on {name!r}")
    texts = set()
    for label, draft in (("plain generate", None), ("draft_model=LlamaPromptLookupDecoding(num_pred_tokens=10)", LlamaPromptLookupDecoding(num_pred_tokens=10))):
        llm = llama_cpp.Llama(bundled_path(), n_ctx=2048, n_threads=threads, n_threads_batch=threads, verbose=False, draft_model=draft)
        speeds = []
        for _ in range(repeats):
            llm.reset()
            out, first = [], None
            for token in llm.generate(prompt, temp=0.0, repeat_penalty=1.0, reset=True):
                first = first or time.perf_counter()
                if llama_cpp.llama_vocab_is_eog(llm._model.vocab, token) or len(out) >= 400:
                    break
                out.append(token)
            speeds.append((len(out) - 1) / (time.perf_counter() - first))
            texts.add(llm.detokenize(out))
        llm.close()
        print(f"{label:60} {statistics.median(speeds):6.1f} tokens/s ({len(out)} tokens)")
    print(f"same text: {'yes' if len(texts) == 1 else 'NO'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="llama.cpp threads (0: as configured)")
    args = parser.parse_args()

    engine = Engine(load_settings(host="inprocess", threads=args.threads))
    engine.load()
    print(f"{engine.model.id}, greedy, {len(CELLS)} cells, medians of {args.repeats}")
    compare(engine, "on", args.repeats)
    threads, reference = engine._backend.plan.threads, edit_prompt(engine, CELLS[0])
    engine.unload()

    engine = Engine(load_settings(host="inprocess", threads=args.threads, flash_attention="on"))
    engine.load()
    compare(engine, "on", args.repeats)
    pass_costs(engine)
    engine.unload()

    raw_reference(threads, CELLS[0]["name"], reference, args.repeats)


if __name__ == "__main__":
    main()
