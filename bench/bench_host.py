"""The background host vs an in-process engine, side by side in one run.

    python bench/bench_host.py [--rounds 5] [--max-tokens 128]

Prints:
  * decode tokens/s through the host vs in-process on the same prompt (ratio; goal >= 0.97)
  * extra time to first token through the host (ms; goal <= 15)
  * a new process ("kernel restart") to its first token: model resident in the host vs a
    cold in-process load vs a cold host start
  * resident memory of host + 3 client processes vs 3 processes with their own engine

Runs in a temporary Jupyter runtime directory: it never touches the user's own host.
Figures are measured on the client side (what a kernel sees), medians of alternating runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

RUNTIME = tempfile.mkdtemp(prefix="tinyai-bench-")
os.environ["JUPYTER_RUNTIME_DIR"] = RUNTIME

import psutil

from jupyter_tinyai.config import load_settings
from jupyter_tinyai.engine import Engine
from jupyter_tinyai.host import lifecycle, runtime
from jupyter_tinyai.host.client import HostClient

PROMPT = "Write a short story about a robot who learns to paint."

FIRST_TOKEN = r"""
import sys, time
t0 = float(sys.argv[1])
from jupyter_tinyai.api import make_client
from jupyter_tinyai.config import load_settings
client = make_client(load_settings(host=sys.argv[2]))
for chunk in client.chat("What is the capital of France?", conversation="restart", max_tokens=8):
    if chunk.text:
        print(time.time() - t0, flush=True)
        break
"""

RESIDENT_CLIENT = r"""
import sys
from jupyter_tinyai.api import make_client
from jupyter_tinyai.config import load_settings
client = make_client(load_settings(host=sys.argv[1]))
client.ask("What is the capital of France?", conversation="mem", max_tokens=16)
print("ready", flush=True)
sys.stdin.readline()
"""


def timed(client, max_tokens: int, conversation: str) -> tuple[float, float, int, float, float]:
    """(time to first token, decode tokens/s after it, tokens) as the caller sees them, and
    the same two figures as the engine measured them where it runs."""
    start = time.perf_counter()
    first = last = None
    stats = None
    for chunk in client.chat(PROMPT, conversation=conversation, max_tokens=max_tokens):
        now = time.perf_counter()
        if chunk.text and first is None:
            first = now
        last = now
        stats = chunk.stats or stats
    n = stats.generated_tokens
    return first - start, (n - 1) / (last - first) if n > 1 else 0.0, n, stats.ttft_s, stats.tokens_per_s


def first_token_seconds(mode: str) -> float:
    out = subprocess.run([sys.executable, "-c", FIRST_TOKEN, repr(time.time()), mode],
                         capture_output=True, text=True, timeout=600, check=False)
    if out.returncode:
        raise SystemExit(out.stderr)
    return float(out.stdout.split()[0])


def rss(pids) -> tuple[int, int]:
    """Sum of resident set size and of proportional set size (shared pages split)."""
    total_rss = total_pss = 0
    for pid in pids:
        info = psutil.Process(pid).memory_full_info()
        total_rss += info.rss
        total_pss += getattr(info, "pss", info.rss)
    return total_rss, total_pss


def clients(mode: str, n: int = 3):
    procs = [subprocess.Popen([sys.executable, "-c", RESIDENT_CLIENT, mode], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True) for _ in range(n)]
    for p in procs:
        assert p.stdout.readline().strip() == "ready"
    return procs


def release(procs) -> None:
    for p in procs:
        p.stdin.write("\n")
        p.stdin.flush()
        p.wait(60)


def mb(n: int) -> str:
    return f"{n / 1e6:.0f} MB"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="alternating runs of each (medians are reported)")
    parser.add_argument("--max-tokens", type=int, default=128, help="tokens generated per run")
    args = parser.parse_args()

    engine = Engine(load_settings(host="inprocess"))
    engine.load()
    host = HostClient(load_settings())
    host.load()
    timed(engine, 8, "warm")
    timed(host, 8, "warm")
    runs = {"in-process": [], "host": []}
    for i in range(args.rounds):
        for name, client in (("in-process", engine), ("host", host)):
            runs[name].append(timed(client, args.max_tokens, f"bench-{i}"))
    med = {name: [statistics.median(r[k] for r in rs) for k in range(3)] for name, rs in runs.items()}
    (ttft_in, tps_in, n_in), (ttft_host, tps_host, n_host) = med["in-process"], med["host"]
    # what the transport adds, with the model's own time (which varies on a busy machine) taken out
    added = {name: statistics.median(r[0] - r[3] for r in rs) for name, rs in runs.items()}
    delivered = {name: statistics.median(r[1] / r[4] for r in rs if r[4]) for name, rs in runs.items()}
    print(f"prompt: {PROMPT!r}, {args.rounds} alternating rounds, medians; {n_in:.0f}/{n_host:.0f} tokens")
    print(f"tokens/s      in-process {tps_in:6.1f}   host {tps_host:6.1f}   ratio host/in-process {tps_host / tps_in:.3f}  (goal >= 0.97)")
    print(f"first token   in-process {ttft_in * 1000:6.1f} ms host {ttft_host * 1000:6.1f} ms extra through the host {(ttft_host - ttft_in) * 1000:+.1f} ms  (goal <= 15)")
    print(f"  the caller's view vs the engine's own figures in the same run: first token later by "
          f"{added['in-process'] * 1000:.2f} ms in-process, {added['host'] * 1000:.2f} ms through the host "
          f"(extra {(added['host'] - added['in-process']) * 1000:+.2f} ms); tokens/s delivered/generated "
          f"{delivered['in-process']:.3f} in-process, {delivered['host']:.3f} through the host")
    engine.unload()

    resident = statistics.median(first_token_seconds("auto") for _ in range(3))
    cold_inprocess = statistics.median(first_token_seconds("inprocess") for _ in range(3))
    host.shutdown()
    cold_host = first_token_seconds("auto")  # starts a host and loads the model
    print(f"new process to first token: model resident in the host {resident * 1000:.0f} ms · "
          f"cold in-process load {cold_inprocess * 1000:.0f} ms · cold host start {cold_host * 1000:.0f} ms · "
          f"ratio cold in-process/resident {cold_inprocess / resident:.1f}x")

    host_info = runtime.read_info()
    procs = clients("auto")
    host_rss, host_pss = rss([host_info["pid"]] + [p.pid for p in procs])
    release(procs)
    procs = clients("inprocess")
    own_rss, own_pss = rss([p.pid for p in procs])
    release(procs)
    print(f"memory RSS    host + 3 clients {mb(host_rss)}   3 in-process engines {mb(own_rss)}   ratio {host_rss / own_rss:.2f}")
    print(f"memory PSS    host + 3 clients {mb(host_pss)}   3 in-process engines {mb(own_pss)}   ratio {host_pss / own_pss:.2f}")
    lifecycle.stop_host()
    return 0


if __name__ == "__main__":
    sys.exit(main())
