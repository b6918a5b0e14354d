"""Proposals for mapping an unknown export: which column holds each variable, which code each label
means, which date format each date column follows.

Every proposal carries its score and its evidence, so that the template can show the user why it
was made; nothing here decides for the user (:mod:`compendium.data.mapping_template` writes the
proposals as a mapping file still to be confirmed).

A column is scored against a variable by its header (the variable's name, description, unit and
the curated Italian and English aliases of ``data/mapping_aliases.toml``, compared token by token
with weights that make a rare word such as "creatinina" count more than "data") and by its values
(dates, yes/no, labels that have a code, numbers within the dictionary's range). The scores of all
pairs go into one assignment (the Hungarian algorithm), so that an export column is proposed for
one variable at most and each variable gets the column that suits the whole export best. Date
formats are detected by :mod:`compendium.data.mapping_dates`.
"""

from __future__ import annotations

import difflib
import functools
import math
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from compendium import paths
from compendium.data.mapping_dates import DATE_FORMATS, DateProposal, date_formats, date_proposals, shaped, shown

#: a column is proposed for a variable only from this score on (0-1)
THRESHOLD = 0.45
#: below this a proposal is marked CHECK rather than PROPOSED
CONFIDENT = 0.7
MAX_LABELS = 40  # a column with more distinct values is no category, however it is written
IDENTIFIERS = ("patient_id", "center")  # never read as missing, never recoded
LANGUAGE = {"it": "Italian alias", "en": "English alias"}


# --- the alias file -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Aliases:
    names: dict[str, list[tuple[str, str]]]      # variable -> [(alias, "it" | "en")]
    labels: dict[str, dict[str, str]]            # vocabulary -> {folded label: code}
    vocabulary: dict[str, str]                   # variable -> its vocabulary
    drop_words: dict[str, frozenset[str]]        # variable -> words a label may carry beside the code
    stopwords: frozenset[str]
    abbreviations: dict[str, str]
    missing: frozenset[str]


@functools.cache
def load_aliases(path: Path = paths.MAPPING_ALIASES) -> Aliases:
    try:
        doc = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:  # a centre adding its own names may slip
        raise ValueError(f"{paths.relative(Path(path))}: not valid TOML ({err})") from None
    doc = {"columns": {}, "labels": {"flag": {}}, "stopwords": {}, "abbreviations": {}, "missing": {}, **doc}
    names = {var: [(a, lang) for lang in ("it", "en") for a in entry.get(lang, [])]
             for var, entry in doc["columns"].items()}
    vocabulary = {var: entry["labels"] for var, entry in doc["columns"].items() if "labels" in entry}
    labels = {}
    for vocab, codes in doc["labels"].items():
        folded: dict[str, str] = {}
        for code, words in codes.items():
            for word in words:
                key = fold(word)
                if folded.get(key, code) != code:
                    raise ValueError(f"{Path(path).name}: [labels.{vocab}] gives '{word}' two codes")
                folded[key] = code
        labels[vocab] = folded
    drop = {var: frozenset(fold(w) for w in rule.get("drop_words", []))
            for var, rule in doc.get("label_rules", {}).items()}
    stop = frozenset(w for words in doc["stopwords"].values() for w in words)
    return Aliases(names, labels, vocabulary, drop, stop, dict(doc["abbreviations"]),
                   frozenset(doc["missing"].get("labels", [])))


# --- text ----------------------------------------------------------------------------------------

_ORDINALS = [(r"\b(i|1a?|1st|first)\s+(linea|line)\b", "first line"),
             (r"\b(ii|2a?|2nd|seconda)\s+(linea|line)\b", "second line"),
             (r"\b(iii|3a?|3rd|terza)\s+(linea|line)\b", "third line"),
             (r"\bprima\s+linea\b", "first line")]


@functools.lru_cache(maxsize=1 << 16)
def fold(text: str) -> str:
    """Lower case, no accents, words separated by single spaces ('%' kept as 'percent')."""
    text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode().lower()
    text = re.sub(r"[^a-z0-9]+", " ", text.replace("%", " percent ")).strip()
    for pattern, replacement in _ORDINALS:  # "I linea", "1st line": the line of therapy, not a letter
        text = re.sub(pattern, replacement, text)
    return text


def compact(text: str) -> str:
    return fold(text).replace(" ", "")


def tokens(text: str, aliases: Aliases) -> tuple[str, ...]:
    out = []
    for word in fold(text).split():
        for part in aliases.abbreviations.get(word, word).split():
            if part not in aliases.stopwords:
                out.append(part)
    return tuple(out)


@functools.lru_cache(maxsize=1 << 16)
def token_similarity(a: str, b: str) -> float:
    if a == b:
        return 1.0
    if a.isdigit() or b.isdigit() or min(len(a), len(b)) < 4:
        return 0.0
    if a.startswith(b) or b.startswith(a):
        return 0.85  # "progr." for "progressione", "refratt" for "refrattario"
    matcher = difflib.SequenceMatcher(None, a, b)
    if matcher.real_quick_ratio() < 0.8 or matcher.quick_ratio() < 0.8:
        return 0.0
    ratio = matcher.ratio()
    return ratio if ratio >= 0.8 else 0.0  # "diarrea" and "diarrhoea", "refrattarieta" and "refrattario"


# --- header scores -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Target:
    text: str
    kind: str           # "name", "description", "Italian alias", "English alias"
    tokens: tuple[str, ...]
    compact: str


class HeaderScorer:
    """How well a header names a variable: 1 for an exact alias, else a weighted token F-score."""

    def __init__(self, dictionary: pd.DataFrame, aliases: Aliases):
        self.aliases = aliases
        self.targets: dict[str, list[Target]] = {}
        self.explained: dict[str, set[str]] = {}  # header words that say nothing against a variable
        self._tokens: dict[str, tuple[str, ...]] = {}
        for spec in dictionary.itertuples(index=False):
            description = re.split(r"[;(]", re.sub(r"^Optional column:\s*", "", spec.description))[0]
            texts = [(spec.name.replace("_", " "), "name"), (description, "description")]
            texts += [(a, LANGUAGE[lang]) for a, lang in aliases.names.get(spec.name, [])]
            self.targets[spec.name] = [Target(t, k, tokens(t, aliases), compact(t)) for t, k in texts]
            # its unit ("(mg/dL)") and its codes or labels ("Sesso (M/F)", "(Sì/No)")
            vocab = aliases.vocabulary.get(spec.name) or (spec.name if spec.name in aliases.labels else
                                                          "flag" if spec.type == "flag" else "")
            words = [spec.unit] + (spec.allowed.split("|") if spec.type == "category" else [])
            words += [w for w in aliases.labels.get(vocab, {}) if " " not in w]
            self.explained[spec.name] = {t for w in words if w for t in tokens(w, aliases)}
        df: dict[str, int] = {}
        for targets in self.targets.values():
            for tok in {t for target in targets for t in target.tokens}:
                df[tok] = df.get(tok, 0) + 1
        n = len(self.targets)
        self.weight = {tok: math.log(1 + n / k) for tok, k in df.items()}
        self.unknown = float(np.median(list(self.weight.values())))
        self.vocabulary = sorted(df)
        index = {tok: i for i, tok in enumerate(self.vocabulary)}
        self._indexed = {var: [(t, np.array([index[x] for x in t.tokens], dtype=int),
                                np.array([self.weight[x] for x in t.tokens])) for t in targets if t.tokens]
                         for var, targets in self.targets.items()}
        self._rows: dict[str, np.ndarray] = {}

    def _row(self, tok: str) -> np.ndarray:
        """The similarity of one header word to every word of every target."""
        if tok not in self._rows:
            self._rows[tok] = np.array([token_similarity(tok, t) for t in self.vocabulary])
        return self._rows[tok]

    def score(self, header: str, variable: str) -> tuple[float, str]:
        """(score, evidence) of ``header`` as the column of ``variable``."""
        key = compact(header)
        for target in self.targets[variable]:
            if key and key == target.compact:
                return 1.0, f"header is the {target.kind} '{target.text}'"
        if header not in self._tokens:
            self._tokens[header] = tokens(header, self.aliases)
        head = self._tokens[header]
        explained = self.explained[variable]
        rest = [h for h in head if h not in explained] or list(head)
        if not rest:
            return 0.0, ""
        rows = np.vstack([self._row(h) for h in rest])
        # a unit or code word is no evidence against a variable, but evidence for a target naming it
        every = np.vstack([self._row(h) for h in head]) if len(head) > len(rest) else rows
        w_rest = np.array([self.weight.get(h, self.unknown) for h in rest])
        best, evidence = 0.0, ""
        for target, idx, w_target in self._indexed[variable]:
            sims = rows[:, idx]
            if not sims.any():
                continue
            precision = float(w_rest @ sims.max(axis=1)) / w_rest.sum()
            recall = float(w_target @ every[:, idx].max(axis=0)) / w_target.sum()
            # below an exact match: "ISS" is the alias of iss_dx, and only a word of "R-ISS"
            f = 0.98 * 2 * precision * recall / (precision + recall)
            if f > best:
                best, evidence = f, f"header ~ {target.kind} '{target.text}'"
        return best, evidence


# --- values --------------------------------------------------------------------------------------

@dataclass
class Profile:
    """What a column's values look like, once its missing-value labels are set aside."""

    values: pd.Series                  # filled cells only
    counts: dict[str, int]
    numbers: pd.Series                 # float, NaN where a cell is not a number (decimal comma allowed)
    decimal_comma: bool
    date_formats: list[str] = field(default_factory=list)
    date_share: float = 0.0            # the largest share of values one date format reads

    @property
    def n(self) -> int:
        return len(self.values)


def profile(column: pd.Series, aliases: Aliases, keep_missing: bool = False) -> Profile:
    text = column.astype(str).str.strip()
    if not keep_missing:
        text = text[~text.str.lower().isin(aliases.missing)]
    filled = text[text != ""]
    comma = filled.str.fullmatch(r"-?\d+,\d+")
    numbers = pd.to_numeric(filled.where(~comma, filled.str.replace(",", ".", regex=False)), errors="coerce")
    decimal_comma = bool(comma.any()) and not filled.str.fullmatch(r"-?\d+\.\d+").any()
    counts = filled.value_counts(sort=False).to_dict()
    formats = date_formats(filled, numbers)
    share = 1.0 if formats else 0.0
    if not formats and len(filled):
        share = max([pd.to_datetime(filled, format=f, errors="coerce").notna().mean()
                     for f in DATE_FORMATS if shaped(filled, f, 0.5)] or [0.0])
    return Profile(filled, counts, numbers.astype(float), decimal_comma, formats, float(share))


def propose_code(label: str, variable: str, allowed: list[str], aliases: Aliases) -> tuple[str, str]:
    """(code, evidence) for one export label; ('', why not) when nothing fits."""
    if label in allowed:
        return label, "already a code"
    key = fold(label)
    by_fold = {fold(code): code for code in allowed}
    if key in by_fold:
        return by_fold[key], f"the code {by_fold[key]}, in other case or punctuation"
    name = aliases.vocabulary.get(variable) or (variable if variable in aliases.labels
                                                else "flag" if allowed == ["0", "1"] else "")
    vocab = aliases.labels.get(name, {})
    if key in vocab and vocab[key] in allowed:
        yes_no = name != "flag" and key in aliases.labels["flag"]
        note = " (a yes/no column: check what its question is)" if yes_no else ""
        return vocab[key], f"'{label}' is a label of {vocab[key]} in data/mapping_aliases.toml{note}"
    drop = aliases.drop_words.get(variable, frozenset())
    kept = " ".join(w for w in key.split() if w not in drop)
    if kept and kept != key:
        code = by_fold.get(kept) or vocab.get(kept)
        if code in allowed:
            return code, f"'{label}' read as {code} ({', '.join(w for w in key.split() if w in drop)} set aside)"
    number = re.match(r"\s*(\d+(?:[.,]\d+)?)", label)
    numeric = {float(c): c for c in allowed if re.fullmatch(r"\d+(\.\d+)?", c)}
    if number and float(number.group(1).replace(",", ".")) in numeric:
        code = numeric[float(number.group(1).replace(",", "."))]
        return code, f"the number {code} in '{label}'"
    return "", f"no code proposed: give one of {', '.join(allowed)}"


def _allowed_codes(spec) -> list[str]:
    return ["0", "1"] if spec.type == "flag" else (spec.allowed.split("|") if spec.allowed else [])


def compatibility(spec, prof: Profile, code) -> tuple[float, str]:
    """How well a column's values suit a variable (0-1), and why; 0.5 when the column is empty.

    ``code(label, variable)`` is the code proposed for a label (empty when none)."""
    if prof.n == 0:
        return 0.5, "the column is empty"
    typ = spec.type
    if typ == "date":
        if prof.date_formats:
            return 1.0, f"every value a date ({shown(prof.date_formats[0])})"
        return prof.date_share * 0.5, f"{prof.date_share:.0%} of the values read as dates in one format"
    if typ in ("category", "flag"):
        if prof.date_formats or len(prof.counts) > MAX_LABELS:
            return 0.0, "dates" if prof.date_formats else f"{len(prof.counts)} distinct values, not labels"
        coded = sum(c for v, c in prof.counts.items() if code(v, spec.name))
        share = coded / prof.n
        return share, f"{len(prof.counts)} distinct value(s), {share:.0%} of the rows given a code"
    if typ in ("number", "integer"):
        numbers = prof.numbers.to_numpy()
        good = ~np.isnan(numbers)
        if typ == "integer":
            good &= numbers == np.floor(numbers)
        if spec.allowed and "|" in spec.allowed:
            good &= np.isin(numbers, [float(a) for a in spec.allowed.split("|")])
            where = f"in {spec.allowed.replace('|', ', ')}"
        elif spec.allowed:
            lo, hi = (float(x) for x in spec.allowed.split("-"))
            good &= (numbers >= lo) & (numbers <= hi)
            where = f"from {lo:g} to {hi:g}"
        else:
            where = "numbers"
        share = float(good.mean())
        return share, f"{share:.0%} of the values {'whole numbers ' if typ == 'integer' else ''}{where}"
    if spec.name == "patient_id":
        unique = prof.values.is_unique
        return (1.0, "a different value in every row") if unique else (0.1, "values repeat across rows")
    if spec.name == "center":
        few = len(prof.counts) < max(2, prof.n / 2)
        return (1.0, f"{len(prof.counts)} distinct values, repeated") if few else (0.4, "few values repeat")
    return 0.5, "text"


def specific_labels(spec, prof: Profile, aliases: Aliases, code) -> bool:
    """Whether the column's labels point at this variable by themselves (not yes/no, not numbers)."""
    if spec.type != "category" or len(prof.counts) < 2:
        return False
    flag = aliases.labels["flag"]
    return all(fold(v) not in flag and not v.replace(".", "").isdigit() and code(v, spec.name)
               for v in prof.counts)


# --- the whole export ---------------------------------------------------------------------------

@dataclass
class ColumnProposal:
    variable: str
    column: str | None
    score: float
    evidence: str
    alternatives: list[tuple[str, float]]


@dataclass
class CodeProposal:
    label: str
    code: str
    count: int
    evidence: str


@dataclass
class Proposal:
    columns: dict[str, ColumnProposal]
    codes: dict[str, list[CodeProposal]]
    dates: dict[str, DateProposal]
    decimal: tuple[str, str] | None            # (",", evidence) when numbers use a decimal comma
    missing: list[tuple[str, int]]             # missing-value labels found, with their counts
    unused: list[str]                          # export columns proposed for no variable


def propose(export: pd.DataFrame, dictionary: pd.DataFrame, aliases: Aliases | None = None) -> Proposal:
    aliases = aliases or load_aliases()
    scorer = HeaderScorer(dictionary, aliases)
    specs = list(dictionary.itertuples(index=False))
    header = list(export.columns)
    profiles = {c: profile(export[c], aliases) for c in header}
    allowed = {spec.name: _allowed_codes(spec) for spec in specs}

    @functools.cache
    def code(label: str, variable: str) -> str:
        return propose_code(label, variable, allowed[variable], aliases)[0]
    score = np.zeros((len(specs), len(header)))
    why: dict[tuple[int, int], str] = {}
    for i, spec in enumerate(specs):
        for j, column in enumerate(header):
            name, name_why = scorer.score(column, spec.name)
            compat, compat_why = compatibility(spec, profiles[column], code)
            s = name * (0.35 + 0.65 * compat)
            evidence = f"{name_why or 'header unlike any name'} ({name:.2f}); values: {compat_why}"
            if s < THRESHOLD and compat >= 0.9 and specific_labels(spec, profiles[column], aliases, code):
                s, evidence = 0.5 * compat, f"by its values only: {compat_why}"
            score[i, j], why[i, j] = s, evidence
    rows, cols = linear_sum_assignment(np.where(score >= THRESHOLD, score, 0.0), maximize=True)
    chosen = {i: j for i, j in zip(rows, cols) if score[i, j] >= THRESHOLD}
    columns = {}
    for i, spec in enumerate(specs):
        order = [j for j in np.argsort(-score[i], kind="stable") if j != chosen.get(i)]
        alternatives = [(header[j], float(score[i, j])) for j in order[:2] if score[i, j] > 0.2]
        if i in chosen:
            j = chosen[i]
            columns[spec.name] = ColumnProposal(spec.name, header[j], float(score[i, j]), why[i, j], alternatives)
        else:
            columns[spec.name] = ColumnProposal(spec.name, None, 0.0, "no export column scored "
                                                f"{THRESHOLD} or more", alternatives)
    codes, dates, decimal_cols = {}, {}, []
    for spec in specs:
        column = columns[spec.name].column
        if column is None:
            continue
        prof = profiles[column]
        if spec.type in ("category", "flag") and spec.allowed:
            allowed = _allowed_codes(spec)
            codes[spec.name] = [CodeProposal(v, *_code(v, spec, allowed, aliases, prof.counts[v]))
                                for v in sorted(prof.counts, key=lambda v: (-prof.counts[v], v))]
        if spec.type == "date" and prof.n:
            dates[spec.name] = None  # decided below, once every column's candidates are known
        if spec.type == "number" and prof.decimal_comma:
            decimal_cols.append(column)
    dates = date_proposals({v: profiles[columns[v].column] for v in dates})
    decimal = ((",", f"decimal commas in {', '.join(repr(c) for c in decimal_cols[:3])}"
                     + (f" and {len(decimal_cols) - 3} more" if len(decimal_cols) > 3 else ""))
               if decimal_cols else None)
    missing: dict[str, int] = {}
    for var, proposal in columns.items():
        if proposal.column is not None and var not in IDENTIFIERS:
            text = export[proposal.column].astype(str).str.strip()
            for label, count in text[text.str.lower().isin(aliases.missing)].value_counts().items():
                missing[label] = missing.get(label, 0) + int(count)
    used = {p.column for p in columns.values()}
    return Proposal(columns, codes, dates, decimal, sorted(missing.items()), [c for c in header if c not in used])


def _code(label: str, spec, allowed: list[str], aliases: Aliases, count: int) -> tuple[str, int, str]:
    code, evidence = propose_code(label, spec.name, allowed, aliases)
    return code, count, evidence
