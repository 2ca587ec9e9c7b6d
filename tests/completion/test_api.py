"""``complete`` is part of the client API: the engine and the host client take the same
arguments, as the Client protocol says."""

import inspect

from jupyter_tinyai.engine import Engine
from jupyter_tinyai.host.client import HostClient
from jupyter_tinyai.types import Client


def test_engine_and_host_client_complete_the_same_way():
    wanted = inspect.signature(Client.complete)
    assert inspect.signature(Engine.complete) == wanted
    assert inspect.signature(HostClient.complete) == wanted
