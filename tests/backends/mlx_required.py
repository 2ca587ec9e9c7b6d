"""MLX tests run wherever MLX can be installed: skipped only on platforms with no MLX wheel."""

import importlib.util
import platform
import sys

import pytest

MLX_PLATFORM = (sys.platform == "darwin" and platform.machine() == "arm64") or (
    sys.platform.startswith("linux") and platform.machine() in ("x86_64", "aarch64")
)


def require_mlx() -> None:
    """Skip on platforms MLX does not support; on the others a missing install fails the test."""
    if importlib.util.find_spec("mlx") and importlib.util.find_spec("mlx_lm"):
        return
    if not MLX_PLATFORM:
        pytest.skip(f"MLX has no build for {sys.platform}/{platform.machine()} (only Apple Silicon macOS and Linux x86_64/aarch64)")
    pytest.fail("mlx and mlx-lm are not installed: pip install -e '.[test]' installs mlx[cpu] and mlx-lm on Linux")
