"""The background host: one process per user holding the model for every client.

``client.HostClient`` offers the engine's API and starts the host on first use;
``lifecycle`` finds, starts and diagnoses it; ``server`` is the host process itself, made
of ``state``, ``handler``, ``routes`` and ``compat``, and ``listeners``.
"""
