"""IPython magics: ``%%ask``, ``%ask``, ``%explain``, ``%%explain``, ``%tinyai``, and
``%fix`` / ``%%edit`` (proposed edits, :mod:`.edit`).

Load them with ``%load_ext jupyter_tinyai`` or in ``ipython_config.py``::

    c.InteractiveShellApp.extensions = ["jupyter_tinyai"]

Thin by design: parse the options, build the prompt and its context, call the client,
display the answer. Nothing heavy is imported until a model is needed.
"""

from __future__ import annotations

from IPython.core.magic import Magics, line_cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from ..options import magic_options
from .display import MessageError, answer_view, code_blocks, footer, metadata
from .options import Job, _parse, _user_errors
from .session import Session, _new_id
from .stream import Generation

FORMATS = ("markdown", "text", "code")
#: the system prompt of ``-f code`` answers (unless ``-s`` gives one): small models follow it well
CODE_SYSTEM = "You write Python code. Answer with one fenced Python code block and nothing else."


@magics_class
class TinyAIMagics(Magics):
    def __init__(self, shell, session: Session):
        super().__init__(shell)
        self.session = session

    # -- %%ask ---------------------------------------------------------------------------

    @magic_arguments()
    @magic_options("model", "temperature", "max_tokens", "seed", "system")
    @argument("-f", "--format", choices=FORMATS, default="markdown",
              help="markdown (default); text: plain text; code: show only the answer's code and offer it as the next cell (never run).")
    @argument("--new", action="store_true", help="Start a fresh conversation (by default the cells of a kernel form one).")
    @argument("--no-context", action="store_true", help="Send only the prompt: no {name} interpolation, no variable summaries.")
    @line_cell_magic
    def ask(self, line, cell=None):
        """Ask the local model; the answer streams into the output as Markdown.

        The cell body (``%%ask``) or the rest of the line (``%ask``) is the prompt.
        Successive ``%%ask`` cells in a kernel form one conversation, so follow-ups work.

        ``{name}`` sends a variable: small values inline, large ones summarised (a
        DataFrame as shape, dtypes and a few rows; an array as shape, dtype and
        statistics; a function or class as its source). ``{In[3]}``, ``{Out[3]}``,
        ``{Err}`` (last traceback) and ``{Err[3]}`` send history. ``{{`` is a literal brace.

        Examples::

            %%ask
            Why does {df} have so many NaN values in the price column?

            %ask -t 0.7 --max-tokens 100 Suggest three names for a cat.

            %%ask -f code
            Write a function that plots {df} as a histogram.

            %%ask --new -s "You are a statistician."
            Explain p-values in two sentences.

        Press Stop (or interrupt the kernel) to end an answer early; the text so far is kept.
        """
        return self._execute(self._ask_job(line, cell))

    @_user_errors
    def _ask_job(self, line: str, cell: str | None) -> Job:
        from ..context import interpolate

        args, rest = _parse(self.ask, line)
        prompt = cell if cell is not None else rest
        if cell is not None and rest.strip():
            prompt = rest.strip() + "\n" + cell
        if not prompt.strip():
            raise MessageError("write a question after %ask, or in the cell below %%ask.", "usage")
        session = self.session
        if args.new:
            session.new_conversation()
        context = []
        if not args.no_context:
            prompt, context = interpolate(prompt, self.shell.user_ns, session.history(), session.settings.context_piece_chars)
        session.last_prompt = prompt
        system = args.system if args.system is not None or args.format != "code" else CODE_SYSTEM
        return self._job(prompt, args, conversation=session.conversation, system=system, context=context, fmt=args.format)

    def _job(self, prompt, args, *, conversation, system=None, context=(), fmt="markdown", throwaway=False,
             title=None) -> Job:
        session, settings = self.session, self.session.settings
        temperature = args.temperature if args.temperature is not None else session.temperature
        max_tokens = args.max_tokens if args.max_tokens is not None else session.max_tokens
        kwargs = dict(
            conversation=conversation,
            model=session.model_for(args.model),
            system=system,
            context=list(context),
            temperature=temperature,
            max_tokens=max_tokens,
            seed=args.seed,
        )
        params = {
            "temperature": settings.temperature if temperature is None else temperature,
            "max_tokens": settings.max_tokens if max_tokens is None else max_tokens,
            "seed": settings.seed if args.seed is None else args.seed,
            "system": system if system is not None else "default",
        }
        return Job(prompt, kwargs, fmt, params, throwaway, title)

    # -- %explain ------------------------------------------------------------------------

    @magic_arguments()
    @magic_options("model", "temperature", "max_tokens", "seed")
    @argument("-e", "--error", action="store_true", help="Explain the last exception, with the code that raised it, and suggest a fix.")
    @argument("target", nargs="?", default="", help="A cell number (12 or In[12]), a name (function, class, module, variable), or Err / Err[N].")
    @line_cell_magic
    def explain(self, line, cell=None):
        """Explain code: the previous cell, a cell, an object, a cell body or an error.

        Examples::

            %explain              # the previous cell's code
            %explain 12           # In[12]
            %explain my_function  # a function, class or module (its source); other objects are summarised
            %explain --error      # the last exception (also: %explain Err, %explain Err[7])

            %%explain
            x = [i ** 2 for i in range(10) if i % 3]

        ``%%explain`` explains the cell body without running it.
        """
        return self._execute(self._explain_job(line, cell))

    @_user_errors
    def _explain_job(self, line: str, cell: str | None) -> Job:
        from IPython.utils.process import arg_split

        from ..prompts import explain_prompt, shorten
        from .explain import explain_target, explain_title

        try:
            args = self.explain.parser.parse_args(arg_split(line, posix=True))
        except Exception as error:
            raise MessageError(str(error).strip() or "bad options", "usage") from None
        rest = args.target
        max_chars = self.session.settings.context_piece_chars
        if cell is not None:
            if not cell.strip():
                raise MessageError("write the code to explain in the cell below %%explain.", "usage")
            prompt = explain_prompt(shorten(cell, max_chars))
        else:
            prompt = explain_target(rest, self.shell.user_ns, self.session.history(), args.error, max_chars)
        self.session.last_prompt = prompt
        title = explain_title(rest, args.error, cell is not None)
        return self._job(prompt, args, conversation=_new_id("explain"), throwaway=True, title=title)

    # -- running an answer -----------------------------------------------------------------

    def _generation(self, job: Job, on_start=None) -> tuple:
        if not job.throwaway:
            self.session.restore(job.kwargs["conversation"])
        view = answer_view(self.shell, job.fmt, job.title)
        return view, Generation(self.session.client, job.prompt, view, on_start=on_start, **job.kwargs)

    def _execute(self, job: Job):
        view, generation = self._generation(job)
        return self._finish(job, view, generation.run())

    async def _execute_async(self, job: Job):
        from .tidy import OutputWatch
        from .widgets import StopButton

        buttons = []

        def show_stop(generation):
            button = StopButton(generation)
            button.show()
            buttons.append(button)

        view, generation = self._generation(job, on_start=show_stop)
        watch = OutputWatch()
        try:
            with watch:
                outcome = await generation.run_async()
        finally:
            for button in buttons:
                button.remove()
        view.alone = not watch.printed  # the cell is this magic only: its answer may be its only output
        return self._finish(job, view, outcome)

    async def run_async(self, name: str, line: str, cell: str | None):
        """The async form of ``%ask`` / ``%explain`` (see :mod:`.asynccell`)."""
        jobs = {"ask": self._ask_job, "explain": self._explain_job}
        return await self._execute_async(jobs[name](line, cell))

    def _finish(self, job: Job, view, outcome):
        client = self.session.client
        spec = None
        try:
            spec = (client.status() or {}).get("model")
        except Exception:
            pass
        meta = metadata(outcome.stats, spec, job.params, job.kwargs["conversation"], outcome.notice, outcome.stopped)
        text = outcome.text
        if job.title and outcome.stats is not None and outcome.stats.finish_reason == "length":
            from .explainpanel import to_sentence_end

            text = to_sentence_end(text)  # an explanation the token limit cut ends at a sentence
        if outcome.error is not None and not outcome.text:
            view.clear()
        else:
            view.hint = self.session.first_answer_hint(outcome.stats)
            view.finish(text, footer(outcome.stats, outcome.stopped), meta)
        if job.throwaway:
            try:
                client.reset(job.kwargs["conversation"])
            except Exception:
                pass
        elif outcome.error is None:  # after a host crash, the new host's empty history is no copy
            self.session.remember(job.kwargs["conversation"])
        if outcome.error is not None:
            raise MessageError.of(outcome.error)
        if outcome.interrupted:
            raise MessageError("the answer was interrupted; the text so far is kept above." if outcome.text
                               else "the answer was interrupted before it began.", "interrupted")
        if job.fmt == "code" and not outcome.stopped:
            code = code_blocks(outcome.text)
            if code:
                self.shell.set_next_input(code, replace=False)

    # -- %tinyai ---------------------------------------------------------------------------

    @line_magic
    def tinyai(self, line):
        """Manage the local model. ``%tinyai`` alone shows a panel (model, temperature, max
        tokens, and the status of the model, following the model host live).

        Subcommands::

            %tinyai models            # the models found on this machine
            %tinyai use NAME          # use (and load) another model for %%ask and %explain
            %tinyai status            # loaded model, memory, last answer's speed
            %tinyai history           # this kernel's conversation, as sent to the model
            %tinyai reset             # forget this kernel's conversation
            %tinyai unload            # free the model's memory (loaded again on the next question)
            %tinyai config            # the settings in effect (change them with %config TinyAI.NAME = ...)
            %tinyai autoexplain on    # offer "Explain this error" under every traceback (off to stop)
            %tinyai catalog           # models to download for this machine, with fit badges
            %tinyai pull NAME         # download one (progress bar, Cancel; --quant Q8_0, --force)
        """
        from . import commands

        words = line.split()
        if not words:
            from .widgets import panel

            return self._guard(panel, self.session)
        handler = commands.COMMANDS.get(words[0])
        if handler is None:
            raise MessageError(f"unknown subcommand {words[0]!r}; the subcommands are: {', '.join(commands.COMMANDS)}.", "usage")
        return self._guard(handler, self.session, words[1:])

    @staticmethod
    @_user_errors
    def _guard(func, *args):
        return func(*args)


def _magics_of(shell) -> TinyAIMagics:
    return shell.magics_manager.registry["TinyAIMagics"]


def _post_run_cell(shell):
    def hook(result):
        magics = shell.magics_manager.registry.get("TinyAIMagics")
        if magics is None:
            return
        record = magics.session.record_error(result)
        if record is not None and magics.session.autoexplain and getattr(shell, "kernel", None) is not None:
            from .widgets import offer_explanation

            offer_explanation(magics.session, record)

    return hook


_hooks: dict = {}


def load_ipython_extension(shell) -> None:
    """Register the magics (loading twice is harmless)."""
    from . import asynccell

    if "TinyAIMagics" in shell.magics_manager.registry:
        return
    session = Session(shell)
    shell.configurables.append(session.settings)
    shell.register_magics(TinyAIMagics(shell, session))
    from .edit import EditMagics, empty_edit_body

    shell.register_magics(EditMagics(shell, session))
    shell.input_transformers_cleanup.append(empty_edit_body)
    hook = _hooks[id(shell)] = _post_run_cell(shell)
    shell.events.register("post_run_cell", hook)
    asynccell.install(shell)


def unload_ipython_extension(shell) -> None:
    from . import asynccell

    magics = shell.magics_manager.registry.pop("TinyAIMagics", None)
    if magics is None:
        return
    shell.magics_manager.registry.pop("EditMagics", None)
    for kind in ("line", "cell"):
        for name in ("ask", "explain", "tinyai", "fix", "edit"):
            shell.magics_manager.magics[kind].pop(name, None)
    if magics.session.settings in shell.configurables:
        shell.configurables.remove(magics.session.settings)
    hook = _hooks.pop(id(shell), None)
    if hook is not None:
        shell.events.unregister("post_run_cell", hook)
    from .edit import empty_edit_body

    if empty_edit_body in shell.input_transformers_cleanup:
        shell.input_transformers_cleanup.remove(empty_edit_body)
    asynccell.uninstall(shell)
