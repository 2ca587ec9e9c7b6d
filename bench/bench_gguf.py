"""The hand-written GGUF reader vs the `gguf` package's GGUFReader, side by side in one run.

    python bench/bench_gguf.py [--repeats 20]

Prints the median time to read the bundled model's header, metadata and tensor index with
``read_gguf`` + ``tensor_index`` (their per-file caches cleared before each read) and to open
it with ``gguf.GGUFReader`` (which maps the file and builds an array for every field and
tensor), and their ratio. The goal: at least 20 times faster, or listing models slows down.
"""

from __future__ import annotations

import argparse
import statistics
import time

import gguf

from jupyter_tinyai.formats import gguf_file
from jupyter_tinyai.models import bundled_path


def median_seconds(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def ours(path: str) -> None:
    gguf_file._read_gguf.cache_clear()
    gguf_file._tensor_index.cache_clear()
    gguf_file.tensor_index(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    path = bundled_path()
    mine = median_seconds(lambda: ours(path), args.repeats)
    theirs = median_seconds(lambda: gguf.GGUFReader(path), max(3, args.repeats // 4))
    print(f"header + tensor index, bundled model ({path.rsplit('/', 1)[-1]}):")
    print(f"  jupyter_tinyai read_gguf + tensor_index  {mine * 1e3:8.1f} ms")
    print(f"  gguf.GGUFReader                          {theirs * 1e3:8.1f} ms")
    print(f"  ratio                                    {theirs / mine:8.1f}x faster")


if __name__ == "__main__":
    main()
