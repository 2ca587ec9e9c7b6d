"""A broken config file is one line naming the file (and the setting), in every front end
that reads it, never a traceback."""

import os

import pytest

from jupyter_tinyai import cli
from jupyter_tinyai.config import load_settings
from jupyter_tinyai.errors import BadSetting


@pytest.fixture
def config_dir(isolated_home):
    return os.environ["JUPYTER_CONFIG_DIR"]


@pytest.mark.parametrize("name, text, says", [
    ("jupyter_tinyai_config.py", "c.TinyAI.temperature = = 5\n", "SyntaxError"),
    ("jupyter_tinyai_config.py", "c.TinyAI.model = nosuchname\n", "NameError"),
    ("jupyter_tinyai_config.json", '{"TinyAI": {"temperature": ', "JSONDecodeError"),
    ("jupyter_tinyai_config.py", 'c.TinyAI.n_ctx = "big"\n', "'n_ctx'"),
])
def test_a_broken_config_file_is_one_line_naming_it(config_dir, capsys, name, text, says):
    path = os.path.join(config_dir, name)
    with open(path, "w") as f:
        f.write(text)
    with pytest.raises(BadSetting) as info:
        load_settings()
    message = str(info.value)
    assert path in message and says in message and "\n" not in message
    assert cli.main(["status"]) == 1
    out, err = capsys.readouterr()
    assert err.startswith("error: ") and err.count("\n") == 1 and path in err
