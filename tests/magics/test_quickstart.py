"""examples/quickstart.ipynb runs headless, as CI and a new user would run it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

pytestmark = pytest.mark.model

NOTEBOOK = Path(__file__).resolve().parents[2] / "examples" / "quickstart.ipynb"


def _stop_host():
    """The notebook uses the default client (the background host when it is part of the build)."""
    if importlib.util.find_spec("jupyter_tinyai.host.client") is None:
        return
    from jupyter_tinyai.config import load_settings
    from jupyter_tinyai.host.client import HostClient

    client = HostClient(load_settings())
    if client.host_info(start=False):
        client.shutdown()


def test_quickstart_notebook_executes(tmp_path):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    try:
        client.execute()  # raises on any error outside a "raises-exception" cell
    finally:
        _stop_host()
    outputs = {cell.source.splitlines()[0]: cell.outputs for cell in nb.cells if cell.cell_type == "code"}
    answer = outputs["%%ask"][0]
    assert answer["output_type"] == "display_data"
    assert answer["metadata"]["jupyter_tinyai"]["generated_tokens"] > 0
    assert "Paris" in answer["data"]["text/markdown"]
    assert "sales (pandas DataFrame)" in outputs["%tinyai history"][0]["text"]
    code_answer = outputs["%%ask -f code --new"][0]["data"]["text/markdown"]
    assert code_answer.startswith("```python\n")
    assert "Explain this error" in str(outputs["prices = [12.5, 9.0]"])
    assert "SmolLM2-135M-Instruct" in outputs["%tinyai models"][0]["text"]
