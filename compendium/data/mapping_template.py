"""The mapping template: every proposal of :mod:`compendium.data.mapping_propose` written as a
mapping file, each with its score and evidence as a comment, for the user to confirm.

The file is a valid mapping as written. It opens with ``[template] confirmed = false``: ``validate``
reads it (to show what the proposals give) and ``run`` refuses it until the user, having checked
every line, sets ``confirmed = true``. A proposal is never used unseen.
"""

from __future__ import annotations

import json

import pandas as pd

from compendium.data.mapping_dates import SHOWN_FORMAT
from compendium.data.mapping_propose import CONFIDENT, Proposal

ISO = "%Y-%m-%d"


def toml_string(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's, but for DEL, which TOML wants escaped)."""
    return json.dumps(str(text), ensure_ascii=False).replace("\x7f", "\\u007f")


def _comment(text: str) -> str:
    return " ".join(str(text).split())  # a header may hold a line break; a comment may not


def _mark(score: float) -> str:
    return "PROPOSED" if score >= CONFIDENT else "CHECK"


def render(proposal: Proposal, source: str, dictionary: pd.DataFrame) -> str:
    lines = [
        f"# Mapping of {_comment(source)} to data/dictionary.csv, proposed by `python -m compendium map`.",
        "#",
        "# Every entry is a proposal, with its score (0-1) and the evidence for it:",
        f"#   PROPOSED   a confident proposal (score {CONFIDENT} or more): check it all the same",
        "#   CHECK      a weak one: look at the export column before you keep it",
        "#   NO ...     nothing was proposed: fill it in (or leave it out if the export lacks it)",
        "# Correct what is wrong, then set `confirmed = true` below: until then `run` refuses this file.",
        "# `validate` reads it as it is and shows what the proposals give:",
        f"#   python -m compendium validate {_comment(source)} --mapping THIS_FILE",
        f"# {_tally(proposal)}",
        "", "[template]", "confirmed = false", "",
        "[columns]", "# dictionary variable = \"export column\"",
    ]
    specs = {s.name: s for s in dictionary.itertuples(index=False)}
    for var, spec in specs.items():
        p = proposal.columns[var]
        need = "required" if spec.nullable == "no" else "optional"
        allowed = f"; {spec.allowed.replace('|', ', ')}" if spec.type in ("category", "flag") and spec.allowed else ""
        lines.append(f"# {var}: {_comment(spec.description)} ({need}, {spec.type}{allowed})")
        others = "; next: " + ", ".join(f"{_comment(c)!r} {s:.2f}" for c, s in p.alternatives) if p.alternatives else ""
        if p.column is None:
            lines.append(f"# {var} = \"\"   # NO COLUMN PROPOSED ({need}){others}")
        else:
            lines.append(f"{var} = {toml_string(p.column)}   # {_mark(p.score)} {p.score:.2f}: "
                         f"{_comment(p.evidence)}{others}")
    if proposal.unused:
        lines.append("# export columns proposed for no variable: "
                     + ", ".join(repr(_comment(c)) for c in proposal.unused))
    lines.append("")
    lines += _values(proposal, specs)
    lines += _dates(proposal)
    if proposal.decimal:
        lines += ["[numbers]", f"decimal = \",\"   # PROPOSED: {_comment(proposal.decimal[1])}", ""]
    if proposal.missing:
        found = ", ".join(f"{_comment(v)!r} in {n} cell(s)" for v, n in proposal.missing)
        lines += ["[missing]   # read as an empty cell in every column but patient_id and center",
                  f"values = [{', '.join(toml_string(v) for v, _ in proposal.missing)}]   # PROPOSED: {found}", ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def _tally(proposal: Proposal) -> str:
    found = [p for p in proposal.columns.values() if p.column is not None]
    weak = sum(p.score < CONFIDENT for p in found)
    return (f"{len(found)} of {len(proposal.columns)} variables have a proposed column ({len(found) - weak} "
            f"PROPOSED, {weak} CHECK); {len(proposal.columns) - len(found)} without one.")


def _values(proposal: Proposal, specs: dict) -> list[str]:
    lines = []
    for var, codes in proposal.codes.items():
        column = _comment(proposal.columns[var].column)
        allowed = ", ".join(["0", "1"] if specs[var].type == "flag" else specs[var].allowed.split("|"))
        if all(c.label == c.code for c in codes):
            lines += [f"# [values.{var}]: every value of {column!r} is already a code ({allowed})", ""]
            continue
        lines.append(f"[values.{var}]   # column {column!r}; allowed: {allowed}")
        for c in codes:
            if not c.code:
                mark = "NO CODE PROPOSED"
            elif c.label == c.code:
                mark = "already a code"
            else:
                mark = "CHECK" if "check" in c.evidence else "PROPOSED"
            evidence = "" if mark in ("already a code", "NO CODE PROPOSED") else f": {_comment(c.evidence)}"
            hint = f": give one of {allowed}" if not c.code else ""
            lines.append(f"{toml_string(c.label)} = {toml_string(c.code)}   # {mark}{evidence}{hint} "
                         f"({c.count} row{'s' if c.count != 1 else ''})")
        lines.append("")
    return lines


def _dates(proposal: Proposal) -> list[str]:
    chosen = {var: d.format for var, d in proposal.dates.items() if d.format}
    if not proposal.dates:
        return ["[dates]", f"format = {toml_string(ISO)}   # no date column was proposed", ""]
    counts = pd.Series(list(chosen.values()), dtype=object).value_counts() if chosen else pd.Series(dtype=int)
    main = counts.index[0] if len(counts) else ISO
    shown = SHOWN_FORMAT.get(main, main)
    lines = ["[dates]",
             f"format = {toml_string(main)}   # PROPOSED: {shown}, the format of "
             f"{counts.iloc[0] if len(counts) else 0} of the {len(proposal.dates)} date columns"]
    for var, d in proposal.dates.items():
        mark = "NO FORMAT PROPOSED" if not d.format else ("CHECK" if d.evidence.startswith("ambiguous") else "fits")
        lines.append(f"# {var} ({_comment(proposal.columns[var].column)!r}): {mark}: {_comment(d.evidence)}")
    odd = {var: fmt for var, fmt in chosen.items() if fmt != main}
    if odd:
        lines += ["", "[dates.columns]   # date columns in another format"]
        lines += [f"{var} = {toml_string(fmt)}   # PROPOSED: {SHOWN_FORMAT.get(fmt, fmt)}" for var, fmt in odd.items()]
    return lines + [""]
