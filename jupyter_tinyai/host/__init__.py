"""The background host: one process per user holding the model for every client.

``client.HostClient`` offers the engine's API and starts the host on first use through
``lifecycle`` (with ``runtime``: its files, ``liveness``: is it there, ``crashes``: what
happened to it, ``installation``: whose it is); ``server`` is the host process itself,
made of ``state``, ``handler``, ``routes`` and ``compat``, and ``listeners``.
"""
