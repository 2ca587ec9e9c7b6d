"""The typing session bench_complete.py replays: a notebook and the keystrokes that write it.

    python bench/typing_session.py          # writes bench/typing_session.json again

The keystrokes are synthesised, not recorded from a person: a typing model writes the new
cells character by character with the pauses people make (longer at word and line ends, a
think now and then, a typo corrected with Backspace), as an editor with auto-indent receives
them (a new line starts at the indentation of the line before, one level deeper after a
``:``). It is seeded, and its output is stored, so every run replays the same keystrokes.

Format of the JSON: ``cells`` is the notebook before typing; ``events`` are
``[cell, offset, delete, insert, gap_ms]``: in cell ``cell`` at character ``offset``, delete
``delete`` characters and insert ``insert``; ``gap_ms`` is the time since the keystroke before.
"""

from __future__ import annotations

import json
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
PATH = os.path.join(HERE, "typing_session.json")

EXISTING = [
    ("markdown", "# Monthly sales\n\nLoad the sales export, clean it, and look at revenue by region."),
    ("code", "import numpy as np\nimport pandas as pd\nimport matplotlib.pyplot as plt\n\n"
             "sales = pd.read_csv(\"sales_2023.csv\", parse_dates=[\"date\"])\nsales.head()"),
    ("markdown", "## Cleaning\n\nDrop the test orders and fill missing prices with the product median."),
    ("code", "def clean(frame):\n    frame = frame[frame[\"order_id\"] > 0].copy()\n"
             "    medians = frame.groupby(\"product\")[\"price\"].transform(\"median\")\n"
             "    frame[\"price\"] = frame[\"price\"].fillna(medians)\n"
             "    frame[\"revenue\"] = frame[\"price\"] * frame[\"quantity\"]\n    return frame\n\n\n"
             "sales = clean(sales)\nsales.describe()"),
    ("markdown", "## Revenue by region"),
]

#: what the session types: (cell to type into: an index, or "new" for a new code cell at the end, text)
TYPED = [
    ("new", "by_region = sales.groupby(\"region\")[\"revenue\"].sum().sort_values()\n"
            "by_region.plot(kind=\"barh\")\nplt.title(\"Revenue by region\")\nplt.show()"),
    ("new", "def monthly(frame, column=\"revenue\"):\n    \"\"\"Total of a column per month.\"\"\"\n"
            "    return frame.set_index(\"date\")[column].resample(\"M\").sum()\n\n\n"
            "totals = monthly(sales)\nfor month, total in totals.items():\n"
            "    print(month.strftime(\"%Y-%m\"), round(total, 2))"),
    (3, "\n\n\ndef outliers(frame, column, k=3.0):\n    z = (frame[column] - frame[column].mean()) / frame[column].std()\n"
        "    return frame[np.abs(z) > k]"),
    ("new", "big = outliers(sales, \"revenue\")\nprint(len(big), \"orders are outliers\")\n"
            "share = big[\"revenue\"].sum() / sales[\"revenue\"].sum()\nprint(f\"{share:.1%} of revenue\")"),
]


def _gap(rng: random.Random, char: str, previous: str) -> int:
    if previous == "\n":
        return int(rng.uniform(700, 2200))  # reading the line, thinking of the next
    if char in " .(,[" or previous in " .(,[":
        return int(rng.uniform(180, 450))
    return int(rng.uniform(90, 220))


def _indent(source: str, offset: int) -> str:
    line = source[: offset].rsplit("\n", 1)[-1]
    indent = line[: len(line) - len(line.lstrip())]
    return indent + "    " if line.rstrip().endswith(":") else indent


def session(seed: int = 11) -> dict:
    rng = random.Random(seed)
    cells = [{"cell_type": kind, "source": source} for kind, source in EXISTING]
    sources = [source for _, source in EXISTING]
    events = []
    for target, text in TYPED:
        if target == "new":
            cells_index = len(sources)
            sources.append("")
            events.append([cells_index, 0, 0, "", 2500])  # a new cell: no character, a pause
        else:
            cells_index = target
        offset = len(sources[cells_index])

        def type_(delete: int, insert: str, gap: int, cells_index: int = cells_index) -> None:
            nonlocal offset
            events.append([cells_index, offset - delete, delete, insert, gap])
            source = sources[cells_index]
            sources[cells_index] = source[: offset - delete] + insert + source[offset:]
            offset += len(insert) - delete

        for number, line in enumerate(text.split("\n")):
            if number:
                type_(0, "\n" + _indent(sources[cells_index], offset), _gap(rng, "\n", ""))
                auto = len(sources[cells_index][:offset].rsplit("\n", 1)[-1])  # the indentation typed for us
                wanted = len(line) - len(line.lstrip()) if line.strip() else 0
                while auto > wanted:  # Backspace in the indentation removes one level
                    step = min(4, auto - wanted)
                    type_(step, "", int(rng.uniform(150, 300)))
                    auto -= step
                if wanted > auto:
                    type_(0, " " * (wanted - auto), int(rng.uniform(150, 300)))
                line = line.lstrip()
            previous = "\n"
            for char in line:
                if char.isalpha() and rng.random() < 0.02:  # a typo, seen and corrected
                    wrong = rng.choice("asdfghjkl")
                    type_(0, wrong, _gap(rng, wrong, previous))
                    type_(1, "", int(rng.uniform(250, 500)))
                gap = _gap(rng, char, previous)
                if rng.random() < 0.03:
                    gap += int(rng.uniform(1500, 4000))  # a think
                type_(0, char, gap)
                previous = char
    return {"language": "python", "cells": cells, "events": events,
            "note": "synthesised by bench/typing_session.py (seeded typing model), not a recording"}


if __name__ == "__main__":
    with open(PATH, "w") as handle:
        json.dump(session(), handle, indent=0)
        handle.write("\n")
    print(f"wrote {PATH}")
