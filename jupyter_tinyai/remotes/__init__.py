"""Configured remote inference servers (``c.TinyAI.remotes``): OpenAI-compatible servers such as
llama.cpp's server, Ollama, vLLM, mlx_lm.server or llama-cpp-python's server::

    c.TinyAI.remotes = {"lab": {"url": "http://gpu-box:8080/v1", "api_key_env": "LAB_API_KEY"}}

- :mod:`.config`: one entry of the configuration, its API key and the hints about it;
- :mod:`.connection`: one HTTP request, with its time limits and the errors that name the remote;
- :mod:`.endpoints`: what we ask of a server besides an answer (its models, its tokenizer).

The model registry lists a remote's models through it (``models/remote.py``), the remote
backend streams answers through it (``backends/remote.py``). Nothing is sent anywhere unless
the user configured a remote; the API key is read from the named environment variable when
a request is made and never stored on a spec, in a status, a log or an error message.
"""
