"""The status lines every front end prints (jupyter tinyai status, %tinyai status, the panel)."""

from jupyter_tinyai.status import host_lines, status_line, status_lines

MODEL = {"id": "llamacpp:Qwen", "format": "gguf", "quantization": "Q4_K_M", "size_bytes": 4_700_000_000}
LAST = {"model": "llamacpp:Qwen", "prompt_tokens": 12, "generated_tokens": 30, "ttft_s": 0.05, "tokens_per_s": 41.25}


def test_status_lines_say_where_the_model_runs():
    for placement in ("Metal, 30/30 layers", "CUDA 0, 20/32 layers", "CPU, 7 threads", "MLX (Metal)", "remote lab"):
        lines = status_lines({"model": MODEL, "backend": "llamacpp", "placement": placement, "n_ctx": 8192})
        assert lines[1] == f"backend:  llamacpp · {placement} · context 8192 tokens"


def test_status_lines_end_with_the_last_answers_figures_line():
    lines = status_lines({"model": MODEL, "backend": "llamacpp", "n_ctx": 8192, "model_memory_bytes": 10**9, "last": LAST})
    assert lines[0] == "model:    llamacpp:Qwen (gguf Q4_K_M, 4.7 GB)"
    assert lines[-1] == "last:     llamacpp:Qwen · 12 prompt + 30 tokens · first token 50 ms · 41.2 tokens/s"
    assert status_lines({})[0] == "model:    none loaded (the first request loads the default)"


def test_the_host_lines_follow_the_model_lines():
    host = {"pid": 42, "uptime_s": 130, "socket": "/run/s", "queue": 2, "busy": True, "keep_alive_s": 600,
            "unload_in_s": 300, "idle_exit_s": 0}
    lines = status_lines({"host": host})
    assert lines[1:] == host_lines(host) == [
        "host:     pid 42 · up 2 min · /run/s",
        "queue:    busy · 2 waiting",
        "timers:   model unloads after 10 min idle (in 5 min) · host exits never",
    ]
    mute = {"responding": False, "pid": 42}
    assert status_lines({"host": mute})[0] == "model:    unknown (the host does not answer)"


def test_the_panel_line_is_the_status_in_one_line():
    status = {"model": MODEL, "placement": "CPU, 7 threads", "model_memory_bytes": 98_400_000, "last": LAST}
    assert status_line(status) == "llamacpp:Qwen · CPU, 7 threads · memory 98.4 MB · last answer 41.2 tokens/s"
    assert status_line({}) == "no model loaded · memory 0 B · no answer yet"
