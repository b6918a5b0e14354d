"""Individual data reconstructed from a published Kaplan-Meier curve (Guyot et al. 2012).

Guyot P, Ades AE, Ouwens MJ, Welton NJ. Enhanced secondary analysis of survival data:
reconstructing the data from published Kaplan-Meier survival curves. BMC Med Res Methodol
2012;12:9. From digitised step coordinates of a curve and the numbers at risk printed beneath
it, the algorithm finds, interval by interval between the risk-table times, the numbers of
censored patients (spread evenly over the interval) and of events (read off the drops of the
curve) that reproduce both the curve and the next number at risk. The result is one row per
patient: a time and an event flag, which can be analysed like any data set (Kaplan-Meier, Cox).

This is a port of the authors' published algorithm as the R package IPDfromKM (``getIPD``) runs
it, with its optional inputs: the total number of events (``tot_events``: the last interval's
censoring is capped so that the events left for it fit, as ``getIPD`` does, then adjusted until the
total agrees, as in Guyot et al.'s own code), and digitised censor marks (``censor_times``: the
censored patients of an interval are placed at the marks drawn in it instead of spread evenly).
:func:`accuracy` reports what ``getIPD`` reports (RMSE of S(t) at the digitised points) and more:
the numbers-at-risk mismatch, and the reconstructed against the published median, total events and
hazard ratio. No maintained Python package does this; the R packages (IPDfromKM, reconstructKM) do.
The module is tested on simulated data with a known answer and against the published results of
KEYNOTE-189 (tests/test_guyot.py).

Input format (``data/external/curves/``), for a user who digitises a trial figure: see
``data/external/curves/README.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd


class CurveError(ValueError):
    """A digitised curve or risk table that the reconstruction cannot use; the message says why."""


def clean_clicks(time, surv) -> tuple[np.ndarray, np.ndarray]:
    """Digitised (time, S) sorted by time, made monotone (S never rises), starting at (0, 1)."""
    t, s = np.asarray(time, float), np.asarray(surv, float)
    order = np.argsort(t, kind="stable")
    t, s = t[order], np.minimum.accumulate(np.clip(s[order], 0, 1))
    if t[0] > 0 or s[0] < 1:
        t, s = np.concatenate([[0.0], t]), np.concatenate([[1.0], s])
    return t, s


def _interval_indices(t: np.ndarray, t_risk: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each risk-table interval, the first and last click inside it (0-based)."""
    lower = np.searchsorted(t, t_risk, side="left")
    upper = np.append(lower[1:] - 1, len(t) - 1)
    return lower, upper


def _censor_counts(cen_t: np.ndarray, breaks: np.ndarray) -> np.ndarray:
    """R ``hist(cen_t, breaks)$counts``: right-closed bins, the first one closed on the left."""
    idx = np.searchsorted(breaks, cen_t, side="left") - 1
    idx = np.clip(idx, 0, len(breaks) - 2)
    return np.bincount(idx, minlength=len(breaks) - 1)


def _spread(n: int, a: float, b: float, marks: np.ndarray | None = None) -> np.ndarray:
    """``n`` censoring times in (a, b): evenly spread (Guyot), or at the digitised censor marks drawn
    there, each mark taking its share of the ``n`` (a mark may stand for several patients)."""
    inside = marks[(marks > a) & (marks <= b)] if marks is not None else np.array([])
    if n > 0 and len(inside):
        inside = np.sort(inside)
        return inside[np.floor((np.arange(n) + 0.5) * len(inside) / n).astype(int)]
    return a + np.arange(1, n + 1) * (b - a) / (n + 1)


def reconstruct(time, surv, t_risk, n_risk, tot_events: int | None = None, censor_times=None) -> pd.DataFrame:
    """Reconstructed individual data ``time, event`` (one row per patient at risk at time 0).

    ``time, surv``: digitised coordinates of the curve (left ends of the steps);
    ``t_risk, n_risk``: the risk table (first time 0). Censored patients get the midpoint
    of the step they fall in, events the time of the drop, as in Guyot et al.
    ``tot_events``: the total number of events, where the publication prints it;
    ``censor_times``: digitised censor marks (times), where the figure draws them.
    """
    marks = None if censor_times is None else np.sort(np.asarray(censor_times, float))
    t, s = clean_clicks(time, surv)
    t_risk, n_risk = np.asarray(t_risk, float), np.asarray(n_risk, float).round().astype(int)
    # risk-table times after the end of the drawn curve carry no step to fit: the patients
    # still at risk there are censored at the end of the curve
    keep = t_risk <= t[-1]
    t_risk, n_risk = t_risk[keep], n_risk[keep]
    _check(t, t_risk, n_risk)
    n_risk = n_risk.copy()
    lower, upper = _interval_indices(t, t_risk)
    n_int, n_t = len(t_risk), len(t)
    n_censor = np.zeros(n_int, int)
    n_hat = np.full(n_t + 1, n_risk[0] + 1)
    cen, d, km_hat = np.zeros(n_t, int), np.zeros(n_t, int), np.ones(n_t)
    last_i = np.zeros(n_int, int)

    def events(i: int, first_interval: bool) -> int:
        n_hat[lower[i]] = n_risk[i]
        last = last_i[i]
        for k in range(lower[i], upper[i] + 1):
            if first_interval and k == lower[i]:
                d[k], km_hat[k] = 0, 1.0
            else:
                d[k] = round(n_hat[k] * (1 - s[k] / km_hat[last])) if km_hat[last] > 0 else 0
                km_hat[k] = km_hat[last] * (1 - d[k] / n_hat[k]) if n_hat[k] > 0 else km_hat[last]
            n_hat[k + 1] = n_hat[k] - d[k] - cen[k]
            if d[k] != 0:
                last = k
        return last

    for i in range(n_int - 1):
        n_censor[i] = round(n_risk[i] * s[lower[i + 1]] / s[lower[i]] - n_risk[i + 1]) if s[lower[i]] > 0 else 0
        last = last_i[i]
        for _ in range(10_000):
            if not (n_hat[lower[i + 1]] > n_risk[i + 1]
                    or (n_hat[lower[i + 1]] < n_risk[i + 1] and n_censor[i] > 0)):
                break
            if n_censor[i] <= 0:
                cen[lower[i]:upper[i] + 1] = 0
                n_censor[i] = 0
            else:
                cen_t = _spread(n_censor[i], t[lower[i]], t[lower[i + 1]], marks)
                cen[lower[i]:upper[i] + 1] = _censor_counts(cen_t, t[lower[i]:lower[i + 1] + 1])
            last = events(i, i == 0)
            n_censor[i] += n_hat[lower[i + 1]] - n_risk[i + 1]
        else:
            raise CurveError(f"reconstruction did not settle in the risk interval starting at {t_risk[i]:g}")
        if n_hat[lower[i + 1]] < n_risk[i + 1]:
            n_risk[i + 1] = n_hat[lower[i + 1]]
        last_i[i + 1] = last

    # last interval: censoring at the average rate of the earlier intervals, capped (IPDfromKM) so that
    # the events a published total leaves for it still fit
    i = n_int - 1
    events_before = int(d[: upper[n_int - 2] + 1].sum()) if n_int > 1 else 0
    left = max(tot_events - events_before, 0) if tot_events is not None else 0
    if n_int > 1:
        span = t[upper[n_int - 2]] - t[lower[0]]
        rate = n_censor[: n_int - 1].sum() * (t[upper[i]] - t[lower[i]]) / span if span > 0 else 0
        n_censor[i] = max(min(round(rate), n_risk[i] - left), 0)
    elif tot_events is not None:
        n_censor[i] = max(n_risk[i] - tot_events, 0)

    def last_interval() -> None:
        if n_censor[i] > 0 and upper[i] > lower[i]:
            cen_t = _spread(n_censor[i], t[lower[i]], t[upper[i]], marks)
            cen[lower[i]:upper[i]] = _censor_counts(cen_t, t[lower[i]:upper[i] + 1])
            cen[upper[i]] = 0
        else:
            cen[lower[i]:upper[i] + 1] = 0
        n_hat[lower[i]] = n_risk[i]
        last = last_i[i]
        for k in range(lower[i], upper[i] + 1):
            if i == 0 and k == 0:
                d[k], km_hat[k] = 0, 1.0
            else:
                d[k] = round(n_hat[k] * (1 - s[k] / km_hat[last])) if km_hat[last] > 0 else 0
                km_hat[k] = km_hat[last] * (1 - d[k] / n_hat[k]) if n_hat[k] > 0 else km_hat[last]
            n_hat[k + 1] = n_hat[k] - d[k] - cen[k]
            if n_hat[k + 1] < 0:
                n_hat[k + 1], cen[k] = 0, n_hat[k] - d[k]
            if d[k] != 0:
                last = k

    last_interval()
    if tot_events is not None:
        if n_int > 1 and events_before >= tot_events:
            # the total is already reached before the last interval: nothing more happens in it (Guyot)
            d[lower[i]:upper[i] + 1] = 0
            cen[lower[i]:upper[i] + 1] = 0
        else:
            # more censoring means fewer events: adjust until the total agrees (Guyot et al.'s code); the
            # rounding of events can make the totals alternate around the published one, so a censoring
            # count seen before ends the search at the closest total found
            seen = {}
            while True:
                total = int(d[: upper[i] + 1].sum())
                seen[n_censor[i]] = abs(total - tot_events)
                if not (total > tot_events or (total < tot_events and n_censor[i] > 0)):
                    break
                step = min(max(n_censor[i] + total - tot_events, 0), n_risk[i])
                if step in seen:
                    n_censor[i] = min(seen, key=lambda c: (seen[c], c))
                    last_interval()
                    break
                n_censor[i] = step
                last_interval()

    times, flags = [], []
    for k in range(n_t):
        times += [t[k]] * int(d[k])
        flags += [1] * int(d[k])
    for k in range(n_t - 1):
        times += [(t[k] + t[k + 1]) / 2] * int(cen[k])
        flags += [0] * int(cen[k])
    n_left = n_risk[0] - len(times)  # still at risk at the end of the curve: censored there
    times += [t[-1]] * max(n_left, 0)
    flags += [0] * max(n_left, 0)
    return pd.DataFrame({"time": times, "event": flags})


def _check(t: np.ndarray, t_risk: np.ndarray, n_risk: np.ndarray) -> None:
    if len(t_risk) == 0 or t_risk[0] != 0:
        raise CurveError("the risk table must start at time 0")
    if np.any(np.diff(t_risk) <= 0):
        raise CurveError("risk-table times must increase")
    if np.any(np.diff(n_risk) > 0) or n_risk[0] <= 0:
        raise CurveError("numbers at risk must start positive and never increase")
    lower = np.searchsorted(t, t_risk, side="left")
    if len(np.unique(lower)) < len(lower):
        empty = t_risk[np.nonzero(np.diff(lower) == 0)[0][0]]
        raise CurveError(f"no digitised point between the risk-table times {empty:g} and the next one; "
                         "digitise at least one point in every interval")


def read_curve(stem: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read ``<stem>_clicks.csv`` (time, survival) and ``<stem>_at_risk.csv`` (time, n_risk).

    Problems are reported with the file and row; see ``data/external/curves/README.md``.
    """
    stem = Path(stem)
    clicks = _read(stem.with_name(stem.name + "_clicks.csv"), ["time", "survival"])
    risk = _read(stem.with_name(stem.name + "_at_risk.csv"), ["time", "n_risk"])
    bad = clicks.index[(clicks["survival"] < 0) | (clicks["survival"] > 1)]
    if len(bad):
        raise CurveError(f"{stem.name}_clicks.csv: row {bad[0] + 2}, column survival: "
                         f"{clicks.at[bad[0], 'survival']:g}; expected a proportion between 0 and 1")
    return clicks, risk


def _read(path: Path, columns: list[str]) -> pd.DataFrame:
    if not path.exists():
        raise CurveError(f"{path.name}: file not found")
    df = pd.read_csv(path)
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise CurveError(f"{path.name}: missing columns {missing}; expected {columns}")
    for c in columns:
        values = pd.to_numeric(df[c], errors="coerce")
        if values.isna().any():
            i = int(np.flatnonzero(values.isna())[0])
            raise CurveError(f"{path.name}: row {i + 2}, column {c}: {df[c].iloc[i]!r} is not a number")
        df[c] = values
    return df[columns]


def curves_available(folder: str | Path) -> list[Path]:
    """Stems of the complete curves (clicks and risk table both present) in a folder."""
    folder = Path(folder)
    stems = [p.with_name(p.name[: -len("_clicks.csv")]) for p in sorted(folder.glob("*_clicks.csv"))]
    return [s for s in stems if s.with_name(s.name + "_at_risk.csv").exists()]


def curve_endpoint(stem: str | Path) -> str:
    """The endpoint a curve shows, from its file stem (``<trial>_<endpoint>_<arm>``)."""
    parts = Path(stem).name.lower().split("_")
    found = [p for p in parts if p in ("pfs", "os")]
    if len(found) != 1:
        raise CurveError(f"{Path(stem).name}: the file name must contain exactly one of _pfs_ or _os_ "
                         "(see data/external/curves/README.md)")
    return found[0]


#: what a publication prints beside a curve (data/external/curves/curves.csv, one row per stem)
PUBLISHED_COLUMNS = ["stem", "tot_events", "median_months", "hr", "hr_against", "source", "doi", "location"]


def read_published(folder: str | Path) -> pd.DataFrame:
    """The index of published numbers beside the digitised curves (empty when there is none)."""
    path = Path(folder) / "curves.csv"
    if not path.exists():
        return pd.DataFrame(columns=PUBLISHED_COLUMNS)
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in PUBLISHED_COLUMNS if c not in table.columns]
    if missing:
        raise CurveError(f"curves.csv: missing columns {missing}; expected {PUBLISHED_COLUMNS}")
    for col in ("tot_events", "median_months", "hr"):
        values = pd.to_numeric(table[col].replace("", None), errors="coerce")
        bad = table.index[values.isna() & table[col].ne("")]
        if len(bad):
            raise CurveError(f"curves.csv: row {bad[0] + 2}, column {col}: {table.at[bad[0], col]!r} is not a number")
        table[col] = values
    return table


def read_censor_marks(stem: str | Path) -> np.ndarray | None:
    """``<stem>_censor.csv`` (column ``time``: the digitised censor ticks), or None when not digitised."""
    path = Path(stem).with_name(Path(stem).name + "_censor.csv")
    return _read(path, ["time"])["time"].to_numpy(float) if path.exists() else None


def _surv_at(km: pd.DataFrame, times) -> np.ndarray:
    """A KM step function (``time, surv``) read at ``times`` (1 before the first step)."""
    idx = np.searchsorted(km["time"].to_numpy(float), np.asarray(times, float), side="right") - 1
    return np.where(idx >= 0, km["surv"].to_numpy(float)[np.clip(idx, 0, None)], 1.0)


def accuracy(ipd: pd.DataFrame, clicks: pd.DataFrame, risk: pd.DataFrame, tot_events=None,
             median_published=None) -> pd.DataFrame:
    """How well a reconstruction reproduces what was published: one row per measure
    (``measure, published, reconstructed, difference``). RMSE and largest absolute error of S(t) at
    the digitised points (IPDfromKM's precision: the RMSE over n - 1), the largest and total absolute
    mismatch of the numbers at risk at the risk-table times, total events and median where published."""
    from compendium.stats import survival as sv

    km = sv.km_table(ipd["time"], ipd["event"])
    t, s = clean_clicks(clicks["time"], clicks["survival"])
    err = _surv_at(km, t) - s
    at_risk = np.array([(ipd["time"] >= x).sum() for x in risk["time"]])
    gap = np.abs(at_risk - risk["n_risk"].to_numpy(float))
    rows = [("rmse_surv", 0.0, float(np.sqrt((err ** 2).sum() / max(len(err) - 1, 1)))),
            ("max_abs_error_surv", 0.0, float(np.abs(err).max())),
            ("max_n_risk_mismatch", 0.0, float(gap.max())), ("total_n_risk_mismatch", 0.0, float(gap.sum())),
            ("events", np.nan if tot_events is None else float(tot_events), float(ipd["event"].sum())),
            ("median", np.nan if median_published is None else float(median_published),
             sv.km_median(ipd["time"], ipd["event"])["median"])]
    out = pd.DataFrame(rows, columns=["measure", "published", "reconstructed"])
    return out.assign(difference=out["reconstructed"] - out["published"])


def against_cohort(stem: str | Path, cohort: pd.DataFrame, published: pd.DataFrame | None = None) -> dict:
    """A digitised trial curve, reconstructed, beside this cohort: both KM curves, the Cox HR, and the
    reconstruction's accuracy against what the publication prints (``published``: rows of curves.csv).

    The HR is this cohort against the trial's reconstructed patients (below 1: this cohort's
    hazard lower), from an unadjusted Cox model on the pooled data: a cross-study comparison.
    """
    from compendium.stats import survival as sv

    stem = Path(stem)
    endpoint = curve_endpoint(stem)
    clicks, risk = read_curve(stem)
    pub = {}
    if published is not None and len(published):
        hit = published[published["stem"] == stem.name]
        pub = hit.to_dict("records")[0] if len(hit) == 1 else {}
    tot = pub.get("tot_events")
    tot = None if tot is None or pd.isna(tot) else int(tot)
    trial = reconstruct(clicks["time"], clicks["survival"], risk["time"], risk["n_risk"], tot_events=tot,
                        censor_times=read_censor_marks(stem))
    median = pub.get("median_months")
    report = accuracy(trial, clicks, risk, tot, None if median is None or pd.isna(median) else median)
    tcol, ecol = sv.endpoint_columns(endpoint)
    ours = cohort[[tcol, ecol]].dropna().rename(columns={tcol: "time", ecol: "event"})
    pooled = pd.concat([ours.assign(cohort=1), trial.assign(cohort=0)], ignore_index=True)
    pooled = pooled.rename(columns={"time": tcol, "event": ecol})
    fit = sv.cox_fit(pooled, endpoint, ["cohort"]).table().iloc[0]
    return {"endpoint": endpoint, "name": stem.name, "trial": trial, "accuracy": report, "published": pub,
            "km_trial": sv.km_table(trial["time"], trial["event"]),
            "km_cohort": sv.km_table(ours["time"], ours["event"]),
            "hr": fit["hr"], "lcl": fit["lcl"], "ucl": fit["ucl"], "p": fit["p"]}


def hazard_ratio_accuracy(a: pd.DataFrame, b: pd.DataFrame, hr_published: float) -> dict:
    """The hazard ratio of reconstructed arm ``a`` against arm ``b`` beside the published one."""
    from compendium.stats import survival as sv

    pooled = pd.concat([a.assign(arm=1), b.assign(arm=0)], ignore_index=True)
    pooled = pooled.rename(columns={"time": "pfs_months", "event": "pfs_event"})
    hr = sv.cox_fit(pooled, "pfs", ["arm"]).table().iloc[0]["hr"]
    return {"measure": "hr", "published": float(hr_published), "reconstructed": float(hr),
            "difference": float(hr) - float(hr_published)}


# --------------------------------------------------------------------------- approximation from a summary
# Where a trial's figure cannot be digitised, its curve is approximated from the numbers its text
# publishes: the median (S = 0.5 there) and landmark rates (S(t) = rate), joined by a piecewise
# exponential (log S linear between published points, i.e. a constant hazard in each interval). It
# passes exactly through every published point and says nothing beyond the last one, so it is drawn
# only up to there and labelled as an approximation; the numbers a summary omits (limits, numbers at
# risk) are named by the caller, never filled in.


@dataclass(frozen=True)
class SummaryCurve:
    """A piecewise-exponential survival curve through published points ``(time, survival)``."""

    times: tuple      # 0 first, then the published times, increasing
    surv: tuple       # 1 first, then the published survival, decreasing
    what: tuple = ()  # what each published point is ("median", "12-month rate")

    @property
    def horizon(self) -> float:
        return float(self.times[-1])

    def survival(self, t) -> np.ndarray:
        t = np.asarray(t, float)
        log_s = np.interp(t, self.times, np.log(self.surv))
        return np.where(t <= self.horizon, np.exp(log_s), np.nan)

    def quantile(self, s) -> np.ndarray:
        """The time at which the curve reaches ``s`` (NaN below its last published point)."""
        s = np.asarray(s, float)
        t = np.interp(-np.log(s), -np.log(np.asarray(self.surv)), self.times)
        return np.where(s >= self.surv[-1], t, np.nan)

    def table(self, points: int = 200) -> pd.DataFrame:
        """``time, surv`` on a grid up to the last published point (for drawing)."""
        t = np.linspace(0, self.horizon, points)
        return pd.DataFrame({"time": t, "surv": self.survival(t)})


def from_summary(points: list[tuple[float, float, str]]) -> tuple[SummaryCurve | None, str]:
    """The approximation through ``(time, survival, what)`` points, or (None, why there is none)."""
    points = sorted((float(t), float(s), w) for t, s, w in points
                    if t is not None and s is not None and np.isfinite(t) and np.isfinite(s))
    if not points:
        return None, "no median or landmark rate published"
    t, s, what = zip(*points)
    if min(t) <= 0 or np.any(np.diff(t) <= 0) or np.any(np.diff(s) >= 0) or s[0] >= 1 or s[-1] <= 0:
        return None, "the published points do not describe a falling curve: " + ", ".join(
            f"{w} S({x:g}) = {y:g}" for x, y, w in points)
    return SummaryCurve((0.0, *t), (1.0, *s), what), ""


def pseudo_patients(curve: SummaryCurve, n: int) -> pd.DataFrame:
    """``n`` pseudo-patients whose Kaplan-Meier curve follows ``curve`` up to its last published point:
    event times at its quantiles ((i - 1/2) / n), the rest censored there. A summary tells nothing of
    censoring before that point, so this is the least it can claim: a bootstrap over these patients
    carries the sampling variation of an arm of ``n`` with that curve, not the trial's own."""
    n = int(n)
    u = 1 - (np.arange(1, n + 1) - 0.5) / n
    t = curve.quantile(u)
    event = ~np.isnan(t)
    return pd.DataFrame({"time": np.where(event, t, curve.horizon), "event": event.astype(int)})
