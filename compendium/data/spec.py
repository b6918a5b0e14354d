"""The analysis specification: which endpoints, factors, models and table rows are analysed.

One human-readable TOML file declares what notebooks 04 and 05 fit and how their tables are
laid out (``data/spec/paper.toml`` is the paper's, and the default). A biostatistician changes
a covariate, a reference level or a model by editing a copy and passing it with
``python -m compendium run --spec FILE``; no code changes. The file is checked when it is read
(unknown keys, wrong types, rows naming factors that are not declared) and against the data
before anything runs (:func:`check_columns`), with messages that name the file and the entry.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from compendium import paths

DEFAULT = paths.DATA / "spec" / "paper.toml"
KNOWN_ENDPOINTS = ("pfs", "os", "ttnt", "pfs2")
FOLLOWUP = "followup"


class SpecError(ValueError):
    """A specification that cannot be used, with the file and the entry named."""


@dataclass(frozen=True)
class PaperRow:
    """One row of a published table and where our estimate of it comes from."""

    claim: str       # claim-id prefix in the registry, e.g. "T2_no_emd" ("" when none)
    label: str       # the paper's wording
    endpoint: str
    covariate: str
    level: str       # level as coded in our results
    invert: bool     # the table reports the other level against this one


@dataclass(frozen=True)
class Factor:
    column: str
    label: str
    reference: str | None = None
    levels: tuple[tuple[str, str], ...] = ()   # (level as coded, how readers see it)
    note: str = ""                             # what a reader must know to read its estimates

    def level_label(self, level) -> str:
        return dict(self.levels).get(str(level), f"{self.label} = {level}")


@dataclass(frozen=True)
class Figure:
    """A Kaplan-Meier figure: one endpoint, overall or by a factor."""

    id: str          # file stem under figures/
    endpoint: str
    group: str | None
    title: str
    ylabel: str
    events_table: bool = False   # cumulative events and censored under the number at risk


@dataclass(frozen=True)
class Sensitivity:
    """Sensitivity analyses of one model: without a sparse covariate, with it imputed, penalised."""

    model: str
    sparse: str | None
    imputations: int
    eligibility_days: float      # the eligibility window: time zero restarted at its end


@dataclass(frozen=True)
class ResponseTiming:
    """Guarantee-time bias of a comparison by response: landmark and time-dependent analyses."""

    factor: str                  # the response flag compared (0/1)
    first_reached: str           # months from the start to the date the level was first reached
    best_date: str               # months to the best-response date (the fallback)
    endpoints: tuple[str, ...]
    landmarks: tuple[float, ...]
    landmark: float              # the one drawn, and set against the simulation


@dataclass(frozen=True)
class Competing:
    """Competing-risks analyses (cumulative incidence, Gray's test) and by which factor."""

    group: str | None
    times: tuple[float, ...]
    horizon: float


@dataclass(frozen=True)
class Model:
    name: str
    endpoints: tuple[str, ...]
    covariates: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    id: str
    title: str
    source: str      # "univariate" or the name of a model
    endpoint: str
    rows: tuple[PaperRow, ...]


@dataclass(frozen=True)
class Spec:
    path: Path
    title: str
    km_endpoints: tuple[str, ...]
    km_groups: tuple[str, ...]
    km_group_endpoints: tuple[str, ...]
    cox_endpoints: tuple[str, ...]
    factors: tuple[Factor, ...]
    models: tuple[Model, ...]
    tables: tuple[Table, ...] = field(default=())
    figures: tuple[Figure, ...] = field(default=())
    rate_times: tuple[float, ...] = (12.0, 24.0, 36.0)
    rate_endpoints: tuple[str, ...] = ("pfs", "os", "ttnt")
    screen_endpoints: tuple[str, ...] = ("pfs", "os")
    competing: Competing | None = None
    sensitivity: Sensitivity | None = None
    response_timing: ResponseTiming | None = None
    response: "Response | None" = None     # notebook 03 (see the [response] block below)

    def factor(self, column: str) -> Factor:
        for f in self.factors:
            if f.column == column:
                return f
        return Factor(column, column)

    @property
    def references(self) -> dict[str, str]:
        return {f.column: f.reference for f in self.factors if f.reference is not None}

    @property
    def labels(self) -> dict[str, str]:
        return {f.column: f.label for f in self.factors}

    def table(self, table_id: str) -> Table:
        for t in self.tables:
            if t.id == table_id:
                return t
        raise SpecError(f"{self.path.name}: no table with id {table_id!r} (have {[t.id for t in self.tables]})")

    def model(self, name: str) -> Model:
        for m in self.models:
            if m.name == name:
                return m
        raise SpecError(f"{self.path.name}: no model named {name!r} (have {[m.name for m in self.models]})")

    def rows(self, source: str | None = None) -> list[PaperRow]:
        """Every table row (of tables fed by ``source``, when given)."""
        return [r for t in self.tables if source is None or t.source == source for r in t.rows]

    def columns(self) -> set[str]:
        """Every analysis-dataset column the specification names."""
        cols = {f.column for f in self.factors} | set(self.km_groups)
        cols |= {f.group for f in self.figures if f.group}
        cols |= {self.competing.group} if self.competing and self.competing.group else set()
        if self.response_timing:
            rt = self.response_timing
            cols |= {rt.factor, rt.first_reached, rt.best_date}
        cols |= {c for m in self.models for c in m.covariates}
        cols |= {r.covariate for t in self.tables for r in t.rows}
        cols |= self.response.columns() if self.response else set()
        return cols


def _need(entry: dict, key: str, kind, where: str):
    if key not in entry:
        raise SpecError(f"{where}: missing key {key!r}")
    value = entry[key]
    if not isinstance(value, kind):
        raise SpecError(f"{where}: {key!r} must be {getattr(kind, '__name__', kind)}, found {value!r}")
    return value


def _known(entry: dict, keys: set[str], where: str) -> None:
    unknown = sorted(set(entry) - keys)
    if unknown:
        raise SpecError(f"{where}: unknown key(s) {unknown}; expected some of {sorted(keys)}")


def _endpoints(values, where: str, allow_followup: bool = False) -> tuple[str, ...]:
    allowed = KNOWN_ENDPOINTS + ((FOLLOWUP,) if allow_followup else ())
    bad = [v for v in values if v not in allowed]
    if bad:
        raise SpecError(f"{where}: unknown endpoint(s) {bad}; expected some of {list(allowed)}")
    return tuple(values)


def read_toml(path: Path, error: type[ValueError], what: str) -> dict:
    """A user's TOML file (specification, mapping), with ``error`` naming the file when it cannot be read."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise error(f"{path}: {what} file not found") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise error(f"{path.name}: not valid TOML ({err})") from None


def load(path: str | Path | None = None) -> Spec:
    """Read and check a specification (the paper's when ``path`` is None)."""
    path = Path(path) if path else DEFAULT
    name = path.name
    doc = read_toml(path, SpecError, "specification")
    _known(doc, {"title", "survival", "factors", "models", "tables", "figures", "competing", "sensitivity",
                 "response_timing", "response"}, name)
    surv = _need(doc, "survival", dict, name)
    _known(surv, {"km_endpoints", "km_groups", "km_group_endpoints", "cox_endpoints", "rate_times",
                  "rate_endpoints", "screen_endpoints"}, f"{name} [survival]")
    factors = []
    for i, f in enumerate(_need(doc, "factors", list, name), 1):
        where = f"{name} [[factors]] #{i}"
        _known(f, {"column", "label", "reference", "levels", "note"}, where)
        ref = f.get("reference")
        levels = f.get("levels", {})
        if not isinstance(levels, dict):
            raise SpecError(f"{where}: 'levels' must be a table of level = label, found {levels!r}")
        factors.append(Factor(_need(f, "column", str, where), f.get("label", f["column"]),
                              None if ref is None else str(ref),
                              tuple((str(k), str(v)) for k, v in levels.items()), str(f.get("note", ""))))
    declared = {f.column for f in factors}
    if len(declared) != len(factors):
        raise SpecError(f"{name}: a factor is declared twice")
    models = []
    for i, m in enumerate(doc.get("models", []), 1):
        where = f"{name} [[models]] #{i}"
        _known(m, {"name", "endpoints", "covariates"}, where)
        covs = tuple(_need(m, "covariates", list, where))
        undeclared = [c for c in covs if c not in declared]
        if undeclared:
            raise SpecError(f"{where}: covariate(s) {undeclared} are not declared under [[factors]]")
        models.append(Model(_need(m, "name", str, where),
                            _endpoints(_need(m, "endpoints", list, where), where), covs))
    tables = []
    for i, t in enumerate(doc.get("tables", []), 1):
        where = f"{name} [[tables]] #{i}"
        _known(t, {"id", "title", "source", "endpoint", "rows"}, where)
        endpoint = _endpoints([_need(t, "endpoint", str, where)], where)[0]
        source = _need(t, "source", str, where)
        if source != "univariate" and source not in {m.name for m in models}:
            raise SpecError(f"{where}: source {source!r} is neither 'univariate' nor a declared model")
        rows = []
        for j, r in enumerate(_need(t, "rows", list, where), 1):
            rw = f"{where} row {j}"
            _known(r, {"claim", "label", "covariate", "level", "invert"}, rw)
            cov = _need(r, "covariate", str, rw)
            if cov not in declared:
                raise SpecError(f"{rw}: covariate {cov!r} is not declared under [[factors]]")
            rows.append(PaperRow(str(r.get("claim", "")), _need(r, "label", str, rw), endpoint, cov,
                                 str(_need(r, "level", (str, int), rw)), bool(r.get("invert", False))))
        table_id = _need(t, "id", str, where)
        _check_table_rows(where, table_id, source, endpoint, rows, models,
                          surv.get("cox_endpoints", ["pfs", "os"]))
        tables.append(Table(table_id, t.get("title", table_id), source, endpoint, tuple(rows)))
    figures = []
    for i, fg in enumerate(doc.get("figures", []), 1):
        where = f"{name} [[figures]] #{i}"
        _known(fg, {"id", "endpoint", "group", "title", "ylabel", "events_table"}, where)
        endpoint = _endpoints([_need(fg, "endpoint", str, where)], where)[0]
        group = fg.get("group")
        if group is not None and group not in declared:
            raise SpecError(f"{where}: group {group!r} is not declared under [[factors]]")
        events_table = fg.get("events_table", False)
        if not isinstance(events_table, bool):
            raise SpecError(f"{where}: 'events_table' must be true or false, found {events_table!r}")
        figures.append(Figure(_need(fg, "id", str, where), endpoint, group, str(fg.get("title", "")),
                              str(fg.get("ylabel", f"{endpoint.upper()} probability")), events_table))
    if len({f.id for f in figures}) != len(figures):
        raise SpecError(f"{name} [[figures]]: a figure id is used twice")
    competing = None
    if "competing" in doc:
        comp = _need(doc, "competing", dict, name)
        where = f"{name} [competing]"
        _known(comp, {"group", "times", "horizon"}, where)
        group = comp.get("group")
        if group is not None and group not in declared:
            raise SpecError(f"{where}: group {group!r} is not declared under [[factors]]")
        times = _times(comp.get("times", [12, 24, 36]), f"{where} times")
        horizon = _times([comp.get("horizon", times[len(times) // 2])], f"{where} horizon")[0]
        competing = Competing(group, times, horizon)
    sensitivity = _sensitivity(doc, name, models, declared)
    response_timing = _response_timing(doc, name, declared)
    undeclared_groups = [g for g in surv.get("km_groups", []) if g not in declared]
    if undeclared_groups:
        raise SpecError(f"{name} [survival] km_groups: {undeclared_groups} not declared under [[factors]]")
    return Spec(
        path=path, title=str(doc.get("title", name)),
        km_endpoints=_endpoints(surv.get("km_endpoints", list(KNOWN_ENDPOINTS) + [FOLLOWUP]),
                                f"{name} [survival] km_endpoints", allow_followup=True),
        km_groups=tuple(surv.get("km_groups", [])),
        km_group_endpoints=_endpoints(surv.get("km_group_endpoints", list(KNOWN_ENDPOINTS)),
                                      f"{name} [survival] km_group_endpoints"),
        cox_endpoints=_endpoints(surv.get("cox_endpoints", ["pfs", "os"]), f"{name} [survival] cox_endpoints"),
        factors=tuple(factors), models=tuple(models), tables=tuple(tables), figures=tuple(figures),
        rate_times=_times(surv.get("rate_times", [12, 24, 36]), f"{name} [survival] rate_times"),
        rate_endpoints=_endpoints(surv.get("rate_endpoints", ["pfs", "os", "ttnt"]),
                                  f"{name} [survival] rate_endpoints"),
        screen_endpoints=_screen(surv, name),
        competing=competing, sensitivity=sensitivity, response_timing=response_timing,
        response=parse_response(doc["response"], f"{name} [response]") if "response" in doc else None,
    )


def _check_table_rows(where, table_id, source, endpoint, rows, models, cox_endpoints) -> None:
    """A table shows what was fitted: its rows name covariates of its model, its endpoint one fitted."""
    if source == "univariate":
        if endpoint not in cox_endpoints:
            raise SpecError(f"{where} ({table_id}): endpoint {endpoint!r} has no univariate models; "
                            f"[survival] cox_endpoints is {list(cox_endpoints)}")
        return
    model = next(m for m in models if m.name == source)
    if endpoint not in model.endpoints:
        raise SpecError(f"{where} ({table_id}): endpoint {endpoint!r} is not fitted by the model {source!r} "
                        f"(its endpoints: {list(model.endpoints)})")
    for j, row in enumerate(rows, 1):
        if row.covariate not in model.covariates:
            raise SpecError(f"{where} ({table_id}) row {j}: covariate {row.covariate!r} is not a covariate of the "
                            f"model {source!r} ({list(model.covariates)}); drop the row or add it to the model")


def _screen(surv: dict, name: str) -> tuple[str, ...]:
    """The screen's endpoints: those given, which must have univariate models, or the fitted of PFS and OS."""
    cox = surv.get("cox_endpoints", ["pfs", "os"])
    if "screen_endpoints" not in surv:
        return tuple(e for e in ("pfs", "os") if e in cox)
    given = _endpoints(surv["screen_endpoints"], f"{name} [survival] screen_endpoints")
    extra = [e for e in given if e not in cox]
    if extra:
        raise SpecError(f"{name} [survival] screen_endpoints: {extra} have no univariate models; "
                        f"[survival] cox_endpoints is {list(cox)}")
    return given


def _sensitivity(doc: dict, name: str, models: list, declared: set) -> Sensitivity | None:
    if "sensitivity" not in doc:
        return None
    sens = _need(doc, "sensitivity", dict, name)
    where = f"{name} [sensitivity]"
    _known(sens, {"model", "sparse", "imputations", "eligibility_days"}, where)
    model = _need(sens, "model", str, where)
    found = [m for m in models if m.name == model]
    if not found:
        raise SpecError(f"{where}: model {model!r} is not declared under [[models]] (have {[m.name for m in models]})")
    sparse = sens.get("sparse")
    if sparse is not None and sparse not in found[0].covariates:
        raise SpecError(f"{where}: sparse {sparse!r} is not a covariate of the model {model!r} "
                        f"({list(found[0].covariates)})")
    imputations = sens.get("imputations", 50)
    if not isinstance(imputations, int) or isinstance(imputations, bool) or imputations < 2:
        raise SpecError(f"{where}: 'imputations' must be a whole number of at least 2, found {imputations!r}")
    days = _times([sens.get("eligibility_days", 42)], f"{where} eligibility_days")[0]
    return Sensitivity(model, sparse, imputations, days)


def _response_timing(doc: dict, name: str, declared: set) -> ResponseTiming | None:
    if "response_timing" not in doc:
        return None
    rt = _need(doc, "response_timing", dict, name)
    where = f"{name} [response_timing]"
    _known(rt, {"factor", "first_reached", "best_date", "endpoints", "landmarks", "landmark"}, where)
    factor = _need(rt, "factor", str, where)
    if factor not in declared:
        raise SpecError(f"{where}: factor {factor!r} is not declared under [[factors]]")
    landmarks = _times(rt.get("landmarks", [3]), f"{where} landmarks")
    landmark = _times([rt.get("landmark", landmarks[0])], f"{where} landmark")[0]
    return ResponseTiming(factor, _need(rt, "first_reached", str, where), _need(rt, "best_date", str, where),
                          _endpoints(rt.get("endpoints", ["pfs", "os"]), f"{where} endpoints"), landmarks, landmark)


def _times(values, where: str) -> tuple[float, ...]:
    if not isinstance(values, list) or not values or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 for v in values):
        raise SpecError(f"{where}: expected a list of positive numbers of months, found {values!r}")
    return tuple(float(v) for v in values)


def check_columns(spec: Spec, columns) -> None:
    """Fail, naming the columns, when the specification names columns the data lack."""
    if spec.response is not None:
        check_response_columns(spec.response, columns, f"{spec.path.name} [response]")
    missing = sorted(spec.columns() - set(columns))
    if missing:
        raise SpecError(f"{spec.path.name}: names column(s) the analysis dataset does not have: "
                        f"{', '.join(missing)} (see GUIDE section 2 / data/derived/analysis.csv for the columns)")


# ---------------------------------------------------------------------------------------------
# [response]: notebook 03's response rates and what the text relates to reaching >=VGPR.
# Kept in one block (dataclasses, parser, column check) so that it reads and merges on its own.

#: How a predictor is compared between patients who reached the outcome and those who did not.
RESPONSE_TESTS = {
    "wilcoxon": "two-sided Wilcoxon rank-sum test (R wilcox.test(exact = FALSE, correct = TRUE))",
    "fisher": "two-sided Fisher's exact test (R fisher.test)",
}


@dataclass(frozen=True)
class Predictor:
    """A factor the text relates to reaching the response outcome, and the test we use for it."""

    name: str        # how results/response_associations.csv calls it
    column: str
    test: str        # a key of RESPONSE_TESTS
    label: str       # the paper's wording
    note: str = ""   # why this test, in a sentence for readers
    by_level: bool = False   # also Fisher's exact test over every observed value (a sensitivity analysis)
    level_name: str = ""     # what its values are, for readers ("dose": "6 dose levels")
    levels: tuple[tuple[str, str], ...] = ()   # (value as coded, how readers see it): "1" = "exposed"

    def level_label(self, level) -> str:
        return dict(self.levels).get(str(level), f"with {self.column} = {level}")


@dataclass(frozen=True)
class Response:
    outcome: str                            # the 0/1 flag the predictors are related to
    rates: tuple[tuple[str, str], ...]      # (0/1 flag of the analysis dataset, how readers see it)
    predictors: tuple[Predictor, ...] = ()

    def rate_label(self, flag: str) -> str:
        return dict(self.rates).get(flag, flag)

    def predictor(self, name_or_column: str) -> Predictor | None:
        for p in self.predictors:
            if name_or_column in (p.name, p.column):
                return p
        return None

    def columns(self) -> set[str]:
        return {flag for flag, _ in self.rates} | {p.column for p in self.predictors}


def parse_response(entry, where: str) -> Response:
    """The ``[response]`` table: ``outcome``, ``rates`` (flag = label) and ``[[response.predictors]]``."""
    if not isinstance(entry, dict):
        raise SpecError(f"{where}: must be a table, found {entry!r}")
    _known(entry, {"outcome", "rates", "predictors"}, where)
    rates = _need(entry, "rates", dict, where)
    if not rates or not all(isinstance(v, str) for v in rates.values()):
        raise SpecError(f"{where}: 'rates' must be a table of flag column = label, found {rates!r}")
    outcome = _need(entry, "outcome", str, where)
    if outcome not in rates:
        raise SpecError(f"{where}: outcome {outcome!r} is not one of the rates declared in 'rates' ({sorted(rates)})")
    predictors = []
    for i, p in enumerate(entry.get("predictors", []), 1):
        pw = f"{where} predictors #{i}"
        if not isinstance(p, dict):
            raise SpecError(f"{pw}: must be a table, found {p!r}")
        _known(p, {"name", "column", "test", "label", "note", "by_level", "level_name", "levels"}, pw)
        column = _need(p, "column", str, pw)
        test = _need(p, "test", str, pw)
        if test not in RESPONSE_TESTS:
            raise SpecError(f"{pw}: test {test!r} is not known; expected one of {sorted(RESPONSE_TESTS)}")
        by_level = p.get("by_level", False)
        if not isinstance(by_level, bool):
            raise SpecError(f"{pw}: 'by_level' must be true or false, found {by_level!r}")
        levels = p.get("levels", {})
        if not isinstance(levels, dict):
            raise SpecError(f"{pw}: 'levels' must be a table of value = label, found {levels!r}")
        predictors.append(Predictor(str(p.get("name", column)), column, test, str(p.get("label", column)),
                                    str(p.get("note", "")), by_level, str(p.get("level_name", "")),
                                    tuple((str(k), str(v)) for k, v in levels.items())))
    names = [p.name for p in predictors]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise SpecError(f"{where} predictors: name(s) {twice} used twice")
    if outcome in {p.column for p in predictors}:
        raise SpecError(f"{where} predictors: column {outcome!r} is the outcome itself")
    return Response(outcome, tuple(rates.items()), tuple(predictors))


def check_response_columns(response: Response, columns, where: str) -> None:
    """Each column [response] names, checked against the analysis dataset, naming the entry and key."""
    columns = set(columns)
    for flag, _ in response.rates:
        if flag not in columns:
            raise SpecError(f"{where} rates: {flag!r} is not a column of the analysis dataset "
                            f"(see GUIDE section 2 / data/derived/analysis.csv for the columns)")
    for i, p in enumerate(response.predictors, 1):
        if p.column not in columns:
            raise SpecError(f"{where} predictors #{i} ({p.name}) column: {p.column!r} is not a column of the "
                            f"analysis dataset (see GUIDE section 2 / data/derived/analysis.csv for the columns)")
