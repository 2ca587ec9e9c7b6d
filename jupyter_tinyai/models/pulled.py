"""Which catalog builds are already pulled: read from the Hugging Face cache's folders only."""

from __future__ import annotations

import os


def pulled_builds() -> dict:
    """repo id (lower case) -> quantizations of its GGUF files in the Hugging Face cache
    ("4bit" for an MLX folder), e.g. {"qwen/qwen2.5-coder-1.5b-instruct-gguf": {"Q4_K_M"}}."""
    from .hub import quant_of
    from .sources import hf_cache_dir

    cache, found = hf_cache_dir(), {}
    try:
        folders = [f for f in os.listdir(cache) if f.startswith("models--")]
    except OSError:
        return found
    for folder in folders:
        repo = folder[len("models--"):].replace("--", "/", 1).lower()
        for root, _dirs, files in os.walk(os.path.join(cache, folder, "snapshots")):
            for name in files:
                if not os.path.exists(os.path.join(root, name)):  # a link to a blob that is gone
                    continue
                if name.lower().endswith(".gguf"):
                    found.setdefault(repo, set()).add(quant_of(name))
                elif name == "config.json":  # an MLX folder
                    found.setdefault(repo, set()).add("4bit")
    return found


def is_pulled(offer, builds: dict | None = None) -> bool:
    """Whether the build ``offer`` (a catalog.Offer) would fetch is in the cache."""
    builds = pulled_builds() if builds is None else builds
    return offer.quant in builds.get(offer.repo.lower(), ())
