"""Engine vs raw llama-cpp-python, measured side by side in one run (ratios, not absolutes).

    python bench/bench_engine.py [--repeats 5] [--tokens 128]

Prints: decode tokens/s through the engine vs raw ``llama_cpp.Llama.generate`` on the same
prompt tokens and settings (greedy, same threads and context); time to first token of a
follow-up turn after 10 earlier turns vs a first turn; model load time.
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid

import llama_cpp

from jupyter_tinyai.config import load_settings
from jupyter_tinyai.engine import Engine
from jupyter_tinyai.types import Message

PROMPT = "Write a long story about a lighthouse keeper and a storm."


def raw_decode(llm: llama_cpp.Llama, tokens: list[int], n: int) -> tuple[float, int]:
    """Decode tokens/s of raw generate, timed from the first token as the engine does."""
    llm.reset()
    first = None
    count = 0
    for token in llm.generate(tokens, temp=0.0, top_k=40, top_p=0.95, repeat_penalty=1.1, reset=True):
        if first is None:
            first = time.perf_counter()
        if llama_cpp.llama_vocab_is_eog(llm._model.vocab, token):
            break
        count += 1
        llm.detokenize([token])
        if count >= n:
            break
    return (count - 1) / (time.perf_counter() - first), count


def engine_decode(engine: Engine, n: int) -> tuple[float, int]:
    _, stats = engine.ask(PROMPT, conversation=uuid.uuid4().hex, max_tokens=n)
    return stats.tokens_per_s, stats.generated_tokens


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=128)
    args = parser.parse_args()
    settings = load_settings(host="inprocess")

    start = time.perf_counter()
    engine = Engine(settings)
    spec = engine.load()
    engine_load = time.perf_counter() - start
    threads = engine._backend.plan.threads  # the same threads for the raw Llama

    start = time.perf_counter()
    raw = llama_cpp.Llama(spec.path, n_ctx=engine.status()["n_ctx"], n_threads=threads, n_threads_batch=threads, n_batch=512, verbose=False)
    raw_load = time.perf_counter() - start

    backend = engine._backend
    tokens = backend._prompt_tokens([Message("system", settings.system_prompt), Message("user", PROMPT)])

    ours, theirs = [], []
    engine_decode(engine, 8), raw_decode(raw, tokens, 8)  # warm up both
    for _ in range(args.repeats):  # interleaved, so both see the same machine noise
        rate, n_ours = engine_decode(engine, args.tokens)
        ours.append(rate)
        rate, n_raw = raw_decode(raw, tokens, args.tokens)
        theirs.append(rate)
    assert n_ours == n_raw, f"different token counts: {n_ours} vs {n_raw}"

    first_turn, follow_up = [], []
    for _ in range(args.repeats):
        _, stats = engine.ask("What is the capital of France?", conversation=uuid.uuid4().hex, max_tokens=16)
        first_turn.append(stats.ttft_s)
        conversation = uuid.uuid4().hex
        for i in range(10):
            engine.ask(f"Tell me one fact about the number {i}.", conversation=conversation, max_tokens=24)
        _, stats = engine.ask("What is the capital of France?", conversation=conversation, max_tokens=16)
        follow_up.append(stats.ttft_s)
        history_tokens = stats.prompt_tokens

    med = statistics.median
    print(f"model: {spec.id} · {engine.status()['placement']} · {args.repeats} interleaved runs · {n_ours} tokens each")
    print(f"decode tokens/s    engine {med(ours):7.1f}   raw Llama {med(theirs):7.1f}   ratio {med(ours) / med(theirs):.3f} (target >= 0.97)")
    print(f"time to 1st token  after 10 turns ({history_tokens} prompt tokens) {med(follow_up) * 1000:6.1f} ms   first turn {med(first_turn) * 1000:6.1f} ms"
          f"   ratio {med(follow_up) / med(first_turn):.2f} (target <= 1.5)")
    print(f"model load         engine {engine_load:.2f} s   raw Llama {raw_load:.2f} s   ratio {engine_load / raw_load:.2f}")
    raw.close()
    engine.unload()


if __name__ == "__main__":
    main()
