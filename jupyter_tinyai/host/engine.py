"""The engine inside the host: an :class:`~jupyter_tinyai.engine.Engine` that checks, before
using a remote, that the host sees its key, and runs the tests' fault hook before a model
is loaded."""

from __future__ import annotations

import os
import time

from ..engine import Engine
from ..errors import RemoteError

FAULT_ENV = "TINYAI_TEST_FAULT"  # test hook at model load: "sigill" | "sigsegv" crash; "slow-load:S" sleeps S s


def _fault_hook() -> None:
    fault = os.environ.get(FAULT_ENV, "").lower()
    if fault == "sigsegv":
        import ctypes

        ctypes.string_at(0)  # a real segmentation fault
    elif fault == "sigill":
        import signal

        os.kill(os.getpid(), signal.SIGILL)
    elif fault.startswith("slow-load:"):  # a big model read from a slow disk: a long silence
        time.sleep(float(fault.split(":", 1)[1]))


class HostEngine(Engine):
    """The engine inside the host; the test fault hook runs before a model is loaded."""

    def _ensure(self, model=None, progress=None):
        if self._backend is None:
            _fault_hook()
        return super()._ensure(model, progress)

    #: names of the remotes' key variables set where the current request's client runs
    keys_set: set = frozenset()

    def _check_choice(self, spec) -> None:
        """Keys come from the host's environment, captured when it started: a key variable
        set only where the client runs is not seen here, so say how to get it seen."""
        env = spec.extra.get("api_key_env") if spec.backend == "remote" else ""
        if env and not os.environ.get(env) and env in self.keys_set:
            raise RemoteError(
                f"the model host does not see {env} (the key of remote {spec.extra.get('remote')!r}): it reads keys "
                "from the environment it was started with, before the variable was set. Stop it with "
                "`jupyter tinyai serve --stop`; the next request starts a new one that reads it."
            )
