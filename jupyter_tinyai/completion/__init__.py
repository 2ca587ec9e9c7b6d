"""Code completion as you type: fill-in-the-middle prompts by model family, notebook context,
and a completion lane beside the chat that reuses its KV cache from keystroke to keystroke.

    engine = Engine()
    for chunk in engine.complete("def mean(xs):\n    return ", "\n\nprint(mean([1, 2]))\n"):
        print(chunk.text, end="")

Modules: :mod:`.formats` (prompts by model family), :mod:`.notebook` (a notebook as prefix,
suffix and extra chunks), :mod:`.budget` (fitting them to the context), :mod:`.stops` (when a
completion ends), :mod:`.memo` (recent completions, the ring of extra chunks), :mod:`.choose`
(which model completes), :mod:`.lane` (the machinery).
"""
