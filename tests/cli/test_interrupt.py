"""Ctrl-C anywhere in `jupyter tinyai` ends it with status 130 and one line, never a
traceback (the model is not under test here: the interrupted parts are stand-ins)."""

from jupyter_tinyai import cli


def interrupted(*args, **kwargs):
    raise KeyboardInterrupt


def test_ctrl_c_in_any_command_is_one_line_and_status_130(monkeypatch, capsys):
    for command, name in (["status"], "cmd_status"), (["models"], "cmd_models"):
        monkeypatch.setattr(cli, name, interrupted)
        assert cli.main(command) == 130
        out, err = capsys.readouterr()
        assert err == "stopped\n" and out == ""


class Client:
    """Ctrl-C while the host starts or the model loads: before any text."""

    cancelled = False

    def chat(self, *args, **kwargs):
        yield from ()
        raise KeyboardInterrupt

    def cancel(self):
        self.cancelled = True


def test_ctrl_c_before_the_answer_began_says_so(monkeypatch, capsys):
    client = Client()
    monkeypatch.setattr(cli, "_client", lambda args: client)
    assert cli.main(["ask", "hi"]) == 130
    out, err = capsys.readouterr()
    assert client.cancelled and out == "\n"
    assert err == "[stopped before the answer began]\n"
