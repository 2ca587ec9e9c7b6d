"""MLX vs llama.cpp on the same GGUF, and our MLX backend vs raw mlx-lm, side by side in one run.

    python bench/bench_mlx.py [--repeats 3] [--tokens 48]

Prints, for the bundled model: load time and decode tokens/s through the engine on each backend
(greedy, same prompt), raw ``mlx_lm.stream_generate`` on the same prompt tokens (our overhead),
and time to first token of a follow-up turn vs a first turn on MLX (prompt-cache reuse).
Runs interleaved so both backends see the same machine noise. Figures, not tests.
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid

from jupyter_tinyai.config import load_settings
from jupyter_tinyai.engine import Engine
from jupyter_tinyai.types import Message

PROMPT = "Write a long story about a lighthouse keeper and a storm."


def timed_load(backend: str) -> tuple[Engine, float]:
    start = time.perf_counter()
    engine = Engine(load_settings(host="inprocess", backend=backend, n_ctx=2048))
    engine.load()
    return engine, time.perf_counter() - start


def decode(engine: Engine, n: int) -> float:
    _, stats = engine.ask(PROMPT, conversation=uuid.uuid4().hex, max_tokens=n)
    return stats.tokens_per_s


def raw_mlx(engine: Engine, n: int) -> float:
    import mlx.core as mx
    from mlx_lm import stream_generate

    backend = engine._backend
    tokens = backend._prompt_tokens([Message("system", engine.settings.system_prompt), Message("user", PROMPT)])
    first, count = None, 0
    for _response in stream_generate(backend._model, backend._tokenizer, mx.array(tokens), max_tokens=n):
        if first is None:
            first = time.perf_counter()
        count += 1
    return (count - 1) / (time.perf_counter() - first) if count > 1 else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=48)
    args = parser.parse_args()

    mlx, mlx_load = timed_load("mlx")
    llama, llama_load = timed_load("llamacpp")
    decode(mlx, 4), decode(llama, 4), raw_mlx(mlx, 4)  # warm up
    ours_mlx, ours_llama, raw = [], [], []
    for _ in range(args.repeats):
        ours_mlx.append(decode(mlx, args.tokens))
        ours_llama.append(decode(llama, args.tokens))
        raw.append(raw_mlx(mlx, args.tokens))

    first, follow = [], []
    for _ in range(args.repeats):
        cid = uuid.uuid4().hex
        _, s1 = mlx.ask("What is the capital of France?", conversation=cid, max_tokens=8)
        _, s2 = mlx.ask("And of Germany?", conversation=cid, max_tokens=8)
        first.append(s1.ttft_s)
        follow.append(s2.ttft_s)

    med = statistics.median
    print(f"model: {mlx.model.name}  ({args.repeats} runs of {args.tokens} tokens, medians)")
    print(f"load:              mlx {mlx_load:.2f} s   llama.cpp {llama_load:.2f} s")
    print(f"decode tokens/s:   mlx {med(ours_mlx):.1f}   llama.cpp {med(ours_llama):.1f}   "
          f"ratio mlx/llama.cpp {med(ours_mlx) / med(ours_llama):.2f}")
    print(f"our mlx backend vs raw mlx_lm.stream_generate: {med(ours_mlx):.1f} vs {med(raw):.1f} tokens/s "
          f"(ratio {med(ours_mlx) / med(raw):.2f})")
    print(f"mlx first token:   first turn {med(first) * 1000:.0f} ms   follow-up {med(follow) * 1000:.0f} ms "
          f"(ratio {med(follow) / med(first):.2f})")
    mlx.unload()
    llama.unload()


if __name__ == "__main__":
    main()
