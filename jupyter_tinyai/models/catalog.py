"""The catalog of laptop-size models (catalog.json) and how well each fits this machine.

    from jupyter_tinyai.models import catalog
    for offer in catalog.recommend():          # every entry, with its fit badge here
        print(offer.entry.name, offer.fit.badge, offer.fit.describe())
    catalog.best(catalog.recommend(), "chat")  # the entry to pull for a role

Nothing here touches the network: sizes come from the catalog data, memory from psutil.
"""

from __future__ import annotations

import difflib
import json
import os
from dataclasses import asdict, dataclass, field
from functools import lru_cache

from .spec import human_size

ROLES = ("chat", "code", "completion")
#: the quantization pulled when none is named (the usual laptop trade-off of size and quality)
DEFAULT_QUANT = "Q4_K_M"
#: compute buffers llama.cpp allocates beside weights and KV cache (as backends/llamacpp.py estimates)
OVERHEAD_BYTES = 192 * 1024 * 1024
#: when a model's attention shape is unknown, its KV cache at 8192 tokens as a share of the weights
#: (measured on the catalog: 0.2 for Qwen2.5-1.5B up to 0.47 for Llama 3.2 3B)
UNKNOWN_KV_SHARE = 0.3
#: a model needing more than this share of the usable memory is "tight" even when it is free now
TIGHT_SHARE = 0.6


@dataclass(frozen=True)
class CatalogEntry:
    name: str  # "qwen2.5-coder-1.5b": what `jupyter tinyai pull` takes
    title: str
    roles: tuple
    repo: str  # the GGUF repo on the Hub
    quants: tuple  # preferred quantizations, the default first
    sizes: dict  # quantization -> approximate file size in bytes (offline badges)
    params: str = ""
    context: int = 0  # trained context, tokens
    kv: dict | None = None  # {"layers", "kv_heads", "head_dim"}
    license: str = ""
    mlx: str = ""  # the mlx-community build, when there is one
    fim: bool = False  # has fill-in-the-middle tokens (completion)
    reasoning: bool = False  # thinks aloud before answering

    @property
    def default_quant(self) -> str:
        return self.quants[0] if self.quants else DEFAULT_QUANT

    def size(self, quant: str | None = None) -> int:
        return int(self.sizes.get(quant or self.default_quant, 0))

    def kv_bytes_per_token(self) -> int:
        """f16 keys and values for every layer, 0 when the shape is unknown."""
        kv = self.kv or {}
        return 2 * 2 * int(kv.get("layers", 0)) * int(kv.get("kv_heads", 0)) * int(kv.get("head_dim", 0))

    def to_dict(self) -> dict:
        data = asdict(self)
        data["roles"] = list(self.roles)
        data["quants"] = list(self.quants)
        return data


def _from_json(item: dict) -> CatalogEntry:
    known = CatalogEntry.__dataclass_fields__
    data = {k: v for k, v in item.items() if k in known}
    data["roles"] = tuple(data.get("roles", ()))
    data["quants"] = tuple(data.get("quants", ()))
    return CatalogEntry(**data)


@lru_cache(maxsize=1)
def entries() -> tuple:
    """Every catalog entry, best first within each role."""
    with open(os.path.join(os.path.dirname(__file__), "catalog.json"), encoding="utf-8") as handle:
        return tuple(_from_json(item) for item in json.load(handle)["models"])


def get(name: str) -> CatalogEntry | None:
    """The entry called ``name`` (or whose GGUF or MLX repo is ``name``), any case."""
    lowered = name.strip().lower()
    for entry in entries():
        if lowered in (entry.name.lower(), entry.repo.lower(), entry.mlx.lower()):
            return entry
    return None


def close_names(name: str, n: int = 3) -> list:
    names = [e.name for e in entries()]
    return difflib.get_close_matches(name.strip().lower(), names, n=n, cutoff=0.5)


def prefer_mlx(settings=None) -> bool:
    """Offer MLX builds: on Apple Silicon with mlx-lm installed, unless the backend is llama.cpp."""
    import importlib.util

    from .. import hardware

    backend = getattr(settings, "backend", "auto") if settings is not None else "auto"
    return backend != "llamacpp" and hardware.is_apple_silicon() and importlib.util.find_spec("mlx_lm") is not None


@dataclass
class Fit:
    """Whether a model fits this machine at our context size, with the numbers."""

    badge: str  # "fits" | "tight" | "too large"
    need_bytes: int
    weights_bytes: int
    kv_bytes: int
    n_ctx: int
    available_bytes: int
    total_bytes: int
    usable_bytes: int
    kv_estimated: bool = False

    def describe(self) -> str:
        kv = f"{'~' if self.kv_estimated else ''}{human_size(self.kv_bytes)}"
        return (f"needs {human_size(self.need_bytes)} ({human_size(self.weights_bytes)} weights + {kv} "
                f"for {self.n_ctx} tokens of context); {human_size(self.available_bytes)} free of "
                f"{human_size(self.total_bytes)}")

    def to_dict(self) -> dict:
        return asdict(self)


def fit(weights_bytes: int, kv_bytes_per_token: int, n_ctx: int, budget=None, headroom_mb: int = 512) -> Fit:
    """The badge for a model of ``weights_bytes`` with a KV cache of ``n_ctx`` tokens.

    too large: more than this machine can give a model (the GPU working set on Apple Silicon,
    85% of the RAM elsewhere); tight: more than is free now (less headroom) or most of what is
    usable; fits: otherwise.
    """
    if budget is None:
        from ..memory import memory_budget

        budget = memory_budget()
    estimated = kv_bytes_per_token <= 0
    kv = int(weights_bytes * UNKNOWN_KV_SHARE * n_ctx / 8192) if estimated else kv_bytes_per_token * n_ctx
    need = weights_bytes + kv + OVERHEAD_BYTES
    usable = budget.usable_bytes
    if need > usable:
        badge = "too large"
    elif need > budget.available_bytes - headroom_mb * 1024 * 1024 or need > TIGHT_SHARE * usable:
        badge = "tight"
    else:
        badge = "fits"
    return Fit(badge, need, weights_bytes, kv, n_ctx, budget.available_bytes, budget.total_bytes, usable, estimated)


def context_for(entry_context: int, n_ctx: int) -> int:
    """The context the engine will give a model: its trained context capped by c.TinyAI.n_ctx."""
    return min(n_ctx, entry_context) if entry_context else n_ctx


@dataclass
class Offer:
    """A catalog entry as offered on this machine: what `pull` would fetch and how it fits."""

    entry: CatalogEntry
    quant: str
    size_bytes: int
    fit: Fit
    best_for: list = field(default_factory=list)  # roles this is the recommendation for
    format: str = "gguf"  # "mlx": the entry's MLX build is what pull fetches here

    @property
    def repo(self) -> str:
        return self.entry.mlx if self.format == "mlx" else self.entry.repo

    @property
    def pull_command(self) -> str:
        return f"jupyter tinyai pull {self.entry.name}"

    def to_dict(self) -> dict:
        return {
            "name": self.entry.name, "title": self.entry.title, "roles": list(self.entry.roles),
            "repo": self.repo, "format": self.format, "quant": self.quant, "size_bytes": self.size_bytes,
            "license": self.entry.license, "params": self.entry.params, "context": self.entry.context,
            "reasoning": self.entry.reasoning, "fim": self.entry.fim, "mlx": self.entry.mlx,
            "fit": self.fit.to_dict(), "best_for": list(self.best_for), "pull": self.pull_command,
        }


def recommend(settings=None, budget=None) -> list:
    """Every catalog entry with its badge on this machine; the best fitting entry of each role
    (the first in catalog order that fits) carries that role in ``best_for``."""
    if settings is None:
        from ..config import load_settings

        settings = load_settings()
    if budget is None:
        from ..memory import memory_budget

        budget = memory_budget()
    mlx = prefer_mlx(settings)
    offers = []
    for entry in entries():
        quant = entry.default_quant
        size = entry.size(quant)  # an MLX 4-bit build is about the size of the Q4_K_M file
        n_ctx = context_for(entry.context, settings.n_ctx)
        fmt = "mlx" if mlx and entry.mlx else "gguf"
        offers.append(Offer(entry, "4bit" if fmt == "mlx" else quant, size,
                            fit(size, entry.kv_bytes_per_token(), n_ctx, budget, settings.memory_headroom_mb),
                            format=fmt))
    for role in ROLES:
        pick = best(offers, role)
        if pick is not None:
            pick.best_for.append(role)
    return offers


def best(offers, role: str):
    """The offer to recommend for ``role``: the first (best) that fits, else the smallest that
    is tight, else None."""
    in_role = [o for o in offers if role in o.entry.roles]
    fitting = [o for o in in_role if o.fit.badge == "fits"]
    tight = [o for o in in_role if o.fit.badge == "tight"]
    return fitting[0] if fitting else (tight[-1] if tight else None)
