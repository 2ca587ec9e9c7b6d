"""The Jupyter server extension: REST and WebSocket endpoints for the JupyterLab sidebar.

Enabled automatically by ``jupyter-config/jupyter_server_config.d/jupyter_tinyai.json``;
by hand: ``jupyter server extension enable jupyter_tinyai``. Settings of the model
(``c.TinyAI.…``) may go in ``jupyter_server_config.py`` too.
"""

from __future__ import annotations


def _load_jupyter_server_extension(serverapp) -> None:
    from .chat import ChatService
    from .edit import setup_edit_handler
    from .handlers import setup_handlers
    from .history import HistoryStore

    config = serverapp.config

    def client():
        """The shared client of this process (the host client, or an in-process engine),
        made on first use, in a worker thread."""
        from ..api import default_client
        from ..config import load_settings

        return default_client(load_settings(config=config))

    from ..config import load_settings

    store = HistoryStore()
    n_ctx = load_settings(config=config).n_ctx  # prompts far beyond it are refused at the door
    setup_handlers(serverapp.web_app, ChatService(store, client, n_ctx), client)
    setup_edit_handler(serverapp.web_app)
    serverapp.log.info("jupyter_tinyai server extension loaded; chat history in %s", store.root)
