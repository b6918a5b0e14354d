"""Chapter 01, cleaning: from the raw export to the analysis dataset.

``setup(out_dir, spec_path, data_path, mapping_path)`` reads and validates the input (renamed and
recoded in memory by a mapping when one is given; under ``compendium run`` the frame the runner
validated is read back, :mod:`compendium.data.validated`); ``compute(source)`` applies the paper's
eligibility rules (the cohort flow), derives the endpoints and every analysis column
(:mod:`compendium.data.endpoints`) and returns a :class:`CleaningChapter`. Its ``save`` writes
``data/derived/analysis.csv`` and ``analysis.meta.json``: notebook 01, the only caller, is the
only writer of ``data/derived/``.

Claims are declared by address in the registry: the counting addresses over the analysis dataset
(``count(patient_id=*)``, ``count(next_line=1)``), ``distinct(center)`` and
``first_year``/``last_year`` of a date of the analysed patients (``first_year(daravd_start_date)``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from compendium import paths
from compendium.chapters import counting
from compendium.chapters.base import Chapter, Estimate
from compendium.data import dataset, endpoints, loading
from compendium.data import queries as data_queries
from compendium.data import mapping as mappings
from compendium.data import spec as specs
from compendium.report import claims

#: The paper's endpoints as :func:`compendium.data.endpoints.derive` computes them: all from the first
#: DaraVd dose ("calculated from the start of the induction treatment date"), in months of 30.4375 days.
ENDPOINTS = [
    ("pfs", "PFS", "first progression or death", "last follow-up"),
    ("os", "OS", "death", "last follow-up"),
    ("ttnt", "TTNT", "start of the next line (the paper counts only that)", "death or last follow-up"),
    ("pfs2", "PFS2", "progression on the next line, or death", "last follow-up"),
]
#: The columns a reader sees first, to check the coding of flags and endpoints.
SAMPLE_COLUMNS = ["patient_id", "age_years", "best_response", "vgpr_or_better", "emd_relapse", "dex_dose_group",
                  "pfs_months", "pfs_event", "os_months", "os_event"]


@dataclass(frozen=True)
class Source:
    """What notebook 01 reads: the validated input, the mapping, and where the run writes."""

    paths: paths.Paths
    raw: loading.RawData
    mapping: mappings.Mapping | None
    spec: specs.Spec
    registry: pd.DataFrame

    @property
    def synthetic(self) -> bool:
        return dataset.is_synthetic(self.raw.source, self.raw.sha256)


def setup(out_dir=None, spec_path=None, data_path=None, mapping_path=None) -> Source:
    """Notebook 01's setup line: the input named (else data/raw/'s file, else the synthetic cohort), validated."""
    pd.set_option("display.max_rows", 200)
    source = Path(data_path) if data_path else paths.default_input()
    source = source if source.is_absolute() else paths.ROOT / source
    mapping = mappings.load(mapping_path)
    run_paths = paths.Paths.for_run(out_dir)
    # under `compendium run` the input was validated once, before anything ran: read that frame back
    return Source(run_paths, loading.load_raw(source, mapping, reuse=run_paths.out), mapping,
                  specs.load(spec_path), claims.load_registry())


@dataclass
class CleaningChapter(Chapter):
    notebook = "01_cleaning"
    analysis: pd.DataFrame = field(default_factory=pd.DataFrame)   # data/derived/analysis.csv
    meta: dict = field(default_factory=dict)                        # data/derived/analysis.meta.json
    analysed_raw: pd.DataFrame = field(default_factory=pd.DataFrame)
    shown: dict[str, pd.DataFrame] = field(default_factory=dict)
    facts: dict = field(default_factory=dict)
    counts: counting.Counts | None = field(default=None, repr=False)

    def _counts(self) -> counting.Counts:
        if self.counts is None:
            self.counts = counting.Counts(self.analysis)
        return self.counts

    def resolvers(self):
        return {**self._counts().resolvers(), "distinct": self._distinct,
                "first_year": lambda column: self._year(column, "min"),
                "last_year": lambda column: self._year(column, "max")}

    def _distinct(self, column):
        if column not in self.analysis.columns:
            return Estimate(reason=f"the analysis dataset has no column {column}")
        return Estimate(int(self.analysis[column].nunique()))

    def _year(self, column, which):
        dates = self.analysed_raw[column].dropna() if column in self.analysed_raw.columns else pd.Series(dtype=object)
        if dates.empty:
            return Estimate(reason=f"no analysed patient has a {column}")
        return Estimate(getattr(dates, which)().year)

    def save(self) -> None:
        """The analysis dataset and its provenance, then the claim values."""
        dataset.write_analysis(self.analysis, self.meta, self.context.paths)
        print(f"analysis dataset: {self.analysis.shape[0]} patients x {self.analysis.shape[1]} columns")
        super().save()


def queries_sentence(ch: "CleaningChapter") -> str:
    """What the data queries say, rendered from their counts."""
    from compendium.report import narrative as nv

    f = ch.facts
    if not f["queries"]:
        return (f"No history breaks any of the {f['rules']} clinical rules: there is nothing to query. "
                "(The rules are the ones the synthetic generator obeys; notebook 00 lists them.)")
    return (f"{nv.count(f['queries'], 'data query', 'data queries')} for the data manager: "
            f"{nv.count(f['query_patients'], 'patient')} {nv.verb(f['query_patients'], 'breaks', 'break')} {f['query_rules']} of the "
            f"{f['rules']} clinical rules. A query is not an error: the file is accepted and every analysis below uses the data "
            "as recorded; each query is for the centre to confirm or correct. All of them are in "
            "`results/data_queries.csv` (patient, rule, the values involved).")


def compute(source: Source) -> CleaningChapter:
    ch = CleaningChapter(source)
    raw = source.raw
    dictionary = loading.load_dictionary()
    ch.shown["dictionary"] = dictionary_by_section(dictionary)
    flow, eligible = endpoints.cohort_flow(raw.frame)
    ch.shown["flow"] = flow
    # the clinical rules as data queries: reported for the data manager, never a reason to refuse a
    # file or to change what is analysed (compendium.data.queries)
    found = data_queries.queries(raw.frame)
    ch.tables["data_queries"] = found
    ch.shown["data_queries_by_rule"] = data_queries.by_rule(found)
    ch.facts.update(queries=len(found), query_patients=int(found["patient_id"].nunique()) if len(found) else 0,
                    query_rules=int((ch.shown["data_queries_by_rule"]["patients"] > 0).sum()),
                    rules=len(ch.shown["data_queries_by_rule"]))
    ch.analysed_raw = raw.frame[eligible].reset_index(drop=True)
    ch.analysis = endpoints.derive(ch.analysed_raw)
    ch.meta = dataset.build_meta(raw, flow, source.mapping)
    ch.shown["endpoints"] = endpoint_table(ch.analysis)
    ch.shown["sample"] = ch.analysis[[c for c in SAMPLE_COLUMNS if c in ch.analysis.columns]].head()
    start = ch.analysed_raw["daravd_start_date"].dropna()
    a = ch.analysis
    ch.facts.update(
        file=paths.relative(raw.source), rows=len(raw.frame), columns=raw.frame.shape[1], sha256=raw.sha256,
        mapping=paths.relative(source.mapping.path) if source.mapping else None, synthetic=source.synthetic,
        analysed=len(a), centres=int(a["center"].nunique()),
        first_start=start.min() if len(start) else None, last_start=start.max() if len(start) else None,
        pfs2_not_shorter=bool((a["pfs2_months"] >= a["pfs_months"] - 1e-9)[a["pfs2_months"].notna() & a["pfs_months"].notna()].all()),
        next_line=int(counting.flag(a["next_line"]).sum()))
    ch.fill_declared()
    return ch


def endpoint_table(analysis: pd.DataFrame) -> pd.DataFrame:
    """Each endpoint's event and censoring, and how many of each these data have."""
    rows = []
    for name, label, event, censored in ENDPOINTS:
        flag = pd.to_numeric(analysis[f"{name}_event"], errors="coerce")
        rows.append({"endpoint": label, "event": event, "censored_at": censored,
                     "events": int((flag == 1).sum()), "censored": int((flag == 0).sum())})
    return pd.DataFrame(rows)


def dictionary_by_section(dictionary: pd.DataFrame) -> pd.DataFrame:
    """The dictionary's columns grouped by the part of the paper each serves: ``paper_section, n, variables``."""
    return dictionary.groupby("paper_section", sort=False)["name"].agg(n="size", variables=", ".join).reset_index()


def source_paragraph(ch: CleaningChapter) -> str:
    """What was read: the file, its size and checksum, the mapping, and whether it is the synthetic cohort."""
    from compendium.report import narrative as nv

    f = ch.facts
    text = (f"`{f['file']}`: {nv.count(f['rows'], 'row')}, {f['columns']} dictionary columns, sha256 `{f['sha256'][:16]}…`"
            + (f", renamed and recoded in memory by `{f['mapping']}`" if f["mapping"] else "") + ".")
    if f["synthetic"]:
        text += ("\n**This is the synthetic cohort: not patient data** (made by `compendium.synthetic`, see "
                 "notebook 00).")
    return text


def flow_sentence(ch: CleaningChapter) -> str:
    from compendium.report import narrative as nv

    f = ch.facts
    excluded = f["rows"] - f["analysed"]
    text = (f"{nv.count(f['analysed'], 'patient')} from {nv.count(f['centres'], 'centre')} "
            f"{nv.verb(f['analysed'], 'enters', 'enter')} the analysis ("
            + nv.choose(excluded == 0, "every row of the file",
                        f"{excluded} of the file's {f['rows']} rows {nv.verb(excluded, 'is', 'are')} excluded, "
                        "as the flow above says") + ")")
    if f["first_start"] is not None:
        first, last = f"{f['first_start']:%B %Y}", f"{f['last_start']:%B %Y}"
        text += f", having started DaraVd {f'in {first}' if first == last else f'between {first} and {last}'}"
    return text + "."


def pfs2_sentence(ch: CleaningChapter) -> str:
    from compendium.report import narrative as nv

    f = ch.facts
    return (f"PFS2 ≥ PFS holds on {nv.choose(f['pfs2_not_shorter'], 'every row', 'NOT every row: check the dates')}; "
            f"{nv.share(f['next_line'], f['analysed'])} patients started a next line of therapy.")
