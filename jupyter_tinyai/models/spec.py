"""What we know about one model before loading it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from ..units import human_size  # noqa: F401 - models' own modules and front ends import it from here


@dataclass
class ModelSpec:
    id: str  # "llamacpp:SmolLM2-135M-Instruct-Q4_1"
    name: str  # "SmolLM2-135M-Instruct-Q4_1"
    backend: str  # "llamacpp" | "mlx" | "remote"
    format: str  # "gguf" | "mlx" | "remote"
    path: str = ""  # file or folder on disk; the URL for a remote
    quantization: str = ""
    size_bytes: int = 0
    context_length: int = 0
    source: str = ""  # "bundled", "path", "model_dirs", "hf-cache", "lmstudio", "ollama", remote name
    architecture: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def remote(self) -> bool:
        return self.format == "remote"

    @property
    def warning(self) -> str:
        """Set on a listing entry that is not a model: why something was not listed, in one
        line (a bad file, a remote that is down)."""
        return str(self.extra.get("warning") or "")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ModelSpec:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


def warning_entry(message: str, path: str = "", source: str = "") -> ModelSpec:
    """A listing entry that is not a model: the one-line reason something is missing."""
    return ModelSpec(id="", name="", backend="", format="", path=path, source=source, extra={"warning": message})

