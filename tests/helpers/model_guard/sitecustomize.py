"""Checks the `model` marks: with this folder on PYTHONPATH, loading the real bundled model
fails loudly in every Python process (the test process, and the hosts, kernels, servers and
CLI runs it starts), while reading its header still works. So

    PYTHONPATH=$PWD/tests/helpers/model_guard python -m pytest -m "not model"

(an absolute path: kernels and hosts start in other folders).
passes only when every test that loads the model is marked ``@pytest.mark.model``."""
import importlib.abc
import os
import sys

#: the modules that load a model file: llama.cpp's Llama, and MLX's reader of GGUF files
TARGETS = {"llama_cpp", "jupyter_tinyai.backends.mlx_gguf"}


def _bundled():
    try:
        from jupyter_tinyai.models.sources import bundled_path
        p = bundled_path()
        return os.path.realpath(p) if p else None
    except Exception:
        return None


def _check(path):
    b = _bundled()
    if path and b and os.path.realpath(str(path)) == b:
        raise RuntimeError("GUARD: this test loads the real bundled model (mark it @pytest.mark.model)")


def _patch(name, module):
    if name == "llama_cpp":
        orig = module.Llama.__init__

        def init(self, *a, **k):
            _check(k.get("model_path") or (a[0] if a else None))
            return orig(self, *a, **k)

        module.Llama.__init__ = init
    elif name == "jupyter_tinyai.backends.mlx_gguf":
        orig = module.load_model

        def load_model(path, *a, **k):
            _check(path)
            return orig(path, *a, **k)

        module.load_model = load_model


class _Loader(importlib.abc.Loader):
    def __init__(self, real, name):
        self.real, self.name = real, name

    def create_module(self, spec):
        return self.real.create_module(spec)

    def exec_module(self, module):
        self.real.exec_module(module)
        _patch(self.name, module)


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name not in TARGETS:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                spec.loader = _Loader(spec.loader, name)
                return spec
        return None


sys.meta_path.insert(0, _Finder())
