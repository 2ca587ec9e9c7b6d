"""Every setting of jupyter_tinyai, in one ``Configurable``.

Set them in ``jupyter_tinyai_config.py`` (or ``.json``) in any Jupyter config directory
(``jupyter --paths``), in ``ipython_config.py``, or in ``jupyter_server_config.py``::

    c.TinyAI.model = "llamacpp:SmolLM2-135M-Instruct-Q4_1"
    c.TinyAI.model_dirs = ["~/models"]
    c.TinyAI.temperature = 0.2

Command-line flags of ``jupyter tinyai`` and magic options override them per call.
"""

from __future__ import annotations

import os

from traitlets import Bool, CaselessStrEnum, Dict, Float, Int, List, Unicode
from traitlets.config import Config, Configurable

DEFAULT_SYSTEM_PROMPT = (
    "You are a helpful assistant for a researcher working in a Jupyter notebook. "
    "Answer clearly and briefly. When you write code, write Python in a fenced code block."
)


class TinyAI(Configurable):
    """Settings of the local language model used by jupyter_tinyai."""

    model = Unicode(
        "",
        help="""The model to use: an id from `jupyter tinyai models`
        (e.g. 'llamacpp:SmolLM2-135M-Instruct-Q4_1'), a short unambiguous part of one,
        or a path to a GGUF file or an MLX model folder. Empty: the bundled default
        (SmolLM2-135M-Instruct).""",
    ).tag(config=True)

    models = List(
        Unicode(),
        help="""Extra model files or folders to offer (GGUF files, MLX folders), for
        models that are not in any scanned directory.""",
    ).tag(config=True)

    model_dirs = List(
        Unicode(),
        help="""Directories scanned (recursively, two levels) for GGUF files and MLX model
        folders, in addition to the Hugging Face cache, LM Studio and Ollama.""",
    ).tag(config=True)

    scan_hf_cache = Bool(
        True, help="Offer GGUF files and MLX folders already in the Hugging Face hub cache (read offline; nothing is downloaded)."
    ).tag(config=True)
    scan_lmstudio = Bool(True, help="Offer models in LM Studio's models folder.").tag(config=True)
    scan_ollama = Bool(True, help="Offer models in Ollama's model store (their GGUF blobs).").tag(config=True)

    backend = CaselessStrEnum(
        ["auto", "llamacpp", "mlx"],
        "auto",
        help="""Which local backend runs models that both could run (GGUF files): 'auto'
        picks MLX on Apple Silicon when it is installed, llama.cpp everywhere else.""",
    ).tag(config=True)

    n_ctx = Int(
        8192,
        help="""Upper bound on the context window, in tokens. The model's trained context
        is used when smaller. Larger values take more memory for the KV cache.""",
    ).tag(config=True)

    max_tokens = Int(512, help="Default maximum length of an answer, in tokens.").tag(config=True)

    temperature = Float(
        0.0,
        help="""Sampling temperature. 0 (the default) is greedy decoding: the same question
        gives the same answer, which keeps notebooks reproducible.""",
    ).tag(config=True)

    seed = Int(
        -1, help="Random seed for sampling when temperature > 0; -1 picks a new seed each time."
    ).tag(config=True)

    prompt_lookup = CaselessStrEnum(
        ["auto", "on", "off"],
        "auto",
        help="""Prompt-lookup decoding for edits and fixes on llama.cpp: the tokens that follow
        in the cell are proposed and checked in one pass. 'auto': where it pays (a pass over
        many tokens costs little more than over one, as on a GPU) and llama.cpp computes a
        batch exactly as single tokens, so the text is the same as without it (both checked
        once per model); 'on': always (where two tokens are nearly tied, the text may then
        differ); 'off': never.""",
    ).tag(config=True)

    system_prompt = Unicode(
        DEFAULT_SYSTEM_PROMPT,
        help="""The system prompt sent before every conversation. Keep it short and plain:
        small models follow short prompts best (the SmolLM2 file's built-in prompt makes
        it answer nonsense).""",
    ).tag(config=True)

    thinking = Bool(
        True,
        help="""Let models that reason before answering (Qwen3, R1 distills) do so: the reasoning
        is shown folded ("Thinking…") and never sent back to the model. False asks the chat
        template not to (its enable_thinking), where the template supports that.""",
    ).tag(config=True)

    threads = Int(
        0,
        help="""CPU threads for generation; 0 chooses: the performance cores on a hybrid CPU
        (Apple Silicon, recent Intel), else the physical cores less one, leaving a core to the
        notebook so generation does not stall when it is busy (1 to 8); at most 2 when every
        layer runs on the GPU.""",
    ).tag(config=True)

    gpu_layers = Int(
        -1,
        min=-1,
        help="""Layers llama.cpp runs on the GPU: -1 (the default) every layer when the model
        fits the GPU's free memory, else as many as fit; 0 none (CPU only); N that many.
        Ignored when the installed llama.cpp has no GPU support (see the README's GPU section).""",
    ).tag(config=True)

    flash_attention = CaselessStrEnum(
        ["auto", "on", "off"],
        "auto",
        help="""llama.cpp's flash attention: less memory for long contexts and faster on a GPU.
        'auto' turns it on when layers run on a GPU or the KV cache is quantized, off on the CPU.""",
    ).tag(config=True)

    kv_cache_type = CaselessStrEnum(
        ["f16", "q8_0", "q4_0"],
        "f16",
        help="""How llama.cpp stores the KV cache: 'f16' (exact), 'q8_0' (half the memory, answers
        barely change) or 'q4_0' (a quarter, some loss); for long contexts on small machines.
        A quantized cache needs flash attention (not 'off').""",
    ).tag(config=True)

    adapter = Unicode(
        "", help="A LoRA adapter to apply to the model: a GGUF adapter file (llama.cpp) or an mlx-lm adapter folder."
    ).tag(config=True)

    memory_headroom_mb = Int(
        512,
        help="""Memory kept free when deciding whether a model fits: a model whose estimated
        size plus this would exceed the available memory is refused before loading.""",
    ).tag(config=True)

    conversation_cache_mb = Int(
        1024,
        help="""Memory budget for saved conversation states (KV caches), so a follow-up turn
        evaluates only its new tokens. The least recently used states are dropped first.""",
    ).tag(config=True)

    context_piece_chars = Int(
        4000,
        help="Longest text sent for one piece of notebook context (a variable, a cell, a traceback) before it is truncated.",
    ).tag(config=True)

    completion_model = Unicode(
        "",
        help="""The model that completes code as you type (ghost text in JupyterLab,
        `jupyter tinyai complete`): an id, a short part of one, or a GGUF path. Empty: the
        smallest model on disk trained for fill-in-the-middle (Qwen2.5-Coder, StarCoder2,
        DeepSeek-Coder, CodeLlama), else the chat model. It runs with llama.cpp beside the chat,
        on a context of its own (sharing the weights when it is the chat model).""",
    ).tag(config=True)

    completion_n_ctx = Int(
        2048,
        min=256,
        help="""Context window of the completion lane, in tokens: the code around the cursor
        is cut to fit it. Larger gives the model more of the notebook and takes longer the
        first time a notebook is completed.""",
    ).tag(config=True)

    completion_max_tokens = Int(64, min=1, help="Longest completion, in tokens.").tag(config=True)

    completion_max_lines = Int(8, min=1, help="Longest completion, in lines of code.").tag(config=True)

    completion_time_budget = Float(
        1.0,
        help="""Seconds a completion may take from the request to its last token: generation
        stops when they are up (a shorter suggestion beats a late one).""",
    ).tag(config=True)

    host = CaselessStrEnum(
        ["auto", "inprocess"],
        "auto",
        help="""Where the model runs: 'auto' shares one background host process per user
        between every kernel, the Jupyter server and the CLI; 'inprocess' loads the model
        in the calling process (tests, embedding).""",
    ).tag(config=True)

    keep_alive = Int(
        600, help="Seconds without requests after which the host unloads the model (0: never)."
    ).tag(config=True)

    host_idle_exit = Int(
        3600, help="Seconds without requests after which the host process exits (0: never)."
    ).tag(config=True)

    host_timeout = Float(
        120.0,
        min=0.0,
        help="""Seconds a client waits for the model host to send anything (a token, progress,
        or the keep-alive a working host sends every few seconds, also while it queues,
        loads a model or reads a long prompt) before it says the host is not responding,
        naming its pid and how to restart it (0: wait forever).""",
    ).tag(config=True)

    remotes = Dict(
        help="""OpenAI-compatible inference servers to offer, by name:
        {"lab": {"url": "http://gpu-box:8080/v1", "api_key_env": "LAB_API_KEY"}}.
        Nothing is ever sent to a remote unless one of its models is chosen.""",
    ).tag(config=True)


#: threads when every layer runs on the GPU: llama.cpp's CPU threads then only look up the
#: input embeddings and wait on the GPU (llama.cpp itself once used 1 for fully offloaded
#: CUDA models); a second one keeps an op the GPU backend lacks from crawling.
GPU_THREADS = 2


def default_threads(all_layers_on_gpu: bool = False) -> int:
    """Threads for llama.cpp here: the performance cores of a hybrid CPU (the efficiency cores
    stay with the notebook), else the physical cores less one; 1 to 8; GPU_THREADS at most
    when every layer runs on the GPU."""
    from .hardware import performance_cores

    try:
        import psutil

        cores = psutil.cpu_count(logical=False) or os.cpu_count() or 1
    except Exception:  # pragma: no cover - psutil is a dependency
        cores = os.cpu_count() or 1
    performance = performance_cores()
    if performance and performance < cores:
        threads = performance
    else:
        # One core is left to the notebook, the browser and the kernel: llama.cpp's threads wait
        # for each other at every layer, so one descheduled thread stalls them all (measured on
        # 2 cores with a busy neighbour: 2 threads 1 token/s, 1 thread 40 tokens/s).
        threads = cores - 1
    threads = max(1, min(threads, 8))
    return min(threads, GPU_THREADS) if all_layers_on_gpu else threads


def _config_files() -> list[tuple[str, Config]]:
    """Each ``jupyter_tinyai_config.{json,py}`` in Jupyter's config path, lowest priority
    first, with its config; a file that cannot be read is a :class:`BadSetting` naming it."""
    from jupyter_core.paths import jupyter_config_path
    from traitlets.config.loader import JSONFileConfigLoader, PyFileConfigLoader

    from .errors import BadSetting

    found = []
    # jupyter_config_path() lists the highest priority first; load lowest first.
    for directory in reversed(jupyter_config_path()):
        for loader_cls, name in (
            (JSONFileConfigLoader, "jupyter_tinyai_config.json"),
            (PyFileConfigLoader, "jupyter_tinyai_config.py"),
        ):
            path = os.path.join(directory, name)
            if os.path.isfile(path):
                try:
                    found.append((path, loader_cls(name, path=directory).load_config()))
                except Exception as exc:  # noqa: BLE001 - whatever the file does wrong, say which file
                    why = " ".join(str(exc).split()) or "no detail"
                    raise BadSetting(f"the config file {path} cannot be read ({type(exc).__name__}: {why}): "
                                     "fix it or remove it.") from None
    return found


def file_config() -> Config:
    """The config from ``jupyter_tinyai_config.{json,py}`` in Jupyter's config path."""
    merged = Config()
    for _, config in _config_files():
        merged.merge(config)
    return merged


def _settings_of(merged: Config) -> TinyAI:
    """``TinyAI(config=merged)``; a value of the wrong type is a :class:`BadSetting` naming
    the config file that sets it (when one does)."""
    from traitlets import TraitError

    from .errors import BadSetting

    try:
        return TinyAI(config=merged)
    except TraitError as exc:
        where = "in the settings (%config TinyAI.…)"
        for path, config in _config_files():
            try:
                TinyAI(config=config)
            except TraitError:
                where = f"in the config file {path}"
                break
        raise BadSetting(f"{' '.join(str(exc).split())} It is set {where}: fix it.") from None


def load_settings(config: Config | None = None, **overrides) -> TinyAI:
    """Settings from the config files, then ``config`` (e.g. IPython's), then ``overrides``."""
    merged = file_config()
    if config is not None:
        merged.merge(config)
    settings = _settings_of(merged)
    for name, value in overrides.items():
        if value is not None:
            setattr(settings, name, value)
    return settings
