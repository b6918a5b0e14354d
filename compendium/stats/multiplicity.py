"""Multiplicity of the univariate screen: Holm's step-down adjustment.

The paper screens a dozen factors against PFS and OS, each at the 5% level.
With that many tests some "significant" findings are expected by chance;
Holm's (1979) method controls the family-wise error rate with no assumption
about how the tests depend on each other, and is uniformly more powerful than
Bonferroni. ``holm`` is R's ``p.adjust(p, "holm")`` (checked against it).

Holm S. A simple sequentially rejective multiple test procedure. Scand J Stat 1979;6:65-70.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from compendium.stats import estimable as ne
from compendium.stats import survival as sv


def holm(p) -> np.ndarray:
    """Holm-adjusted p-values: sorted ascending, p_(i) (m - i + 1), running maximum, capped at 1.

    Missing p-values are left missing and do not count towards m (as ``p.adjust``).
    """
    p = np.asarray(p, float)
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    m = len(ok)
    if m == 0:
        return out
    order = ok[np.argsort(p[ok], kind="stable")]
    adjusted = np.maximum.accumulate(p[order] * (m - np.arange(m)))
    out[order] = np.minimum(adjusted, 1.0)
    return out


def factor_test(df: pd.DataFrame, endpoint: str, covariate: str, reference=None) -> dict:
    """One p for a whole factor: the likelihood-ratio test of its univariate Cox model.

    For a factor with k levels this is the (k - 1)-df test R's ``anova(coxph)``
    prints; for a 0/1 flag or a continuous covariate it is the 1-df LR test.
    Keys ``endpoint, covariate, chisq, df, p, n, events, reason`` (rows of
    ``results/factor_tests.csv``). The LR test stays valid when a level has no
    events (the likelihood converges to a finite supremum), so only a model that
    cannot be fitted at all is not estimable.
    """
    refs = {} if reference is None else {covariate: reference}
    tests = sv.cox_global_tests(sv.cox_fit(df, endpoint, [covariate], refs))
    return {"endpoint": endpoint, "covariate": covariate, "chisq": tests["lr_chisq"], "df": tests["df"],
            "p": tests["lr_p"], "n": tests["n"], "events": tests["events"], "reason": tests["reason"]}


def screen(univariate: pd.DataFrame, factor_tests: pd.DataFrame, endpoints=("pfs", "os"),
           alpha: float = 0.05) -> pd.DataFrame:
    """The univariate screen as one family: one p per (endpoint, factor), Holm-adjusted together.

    A factor with one coefficient contributes its Wald p (as the paper's
    tables); a factor with several (dexamethasone) its likelihood-ratio p from
    ``factor_tests``. Columns ``endpoint, covariate, test, p, holm,
    significant_raw, significant_holm, reason``; a p that is not estimable
    (its reason carried over) does not count towards the family.
    """
    rows = []
    for endpoint in endpoints:
        uni = univariate[univariate["endpoint"] == endpoint]
        for covariate, part in uni.groupby("covariate", sort=False):
            if len(part) == 1:
                rows.append({"endpoint": endpoint, "covariate": covariate, "test": "Wald", "p": part["p"].iloc[0],
                             "reason": ne.first(part["reason"].iloc[0]) if "reason" in part else ""})
                continue
            hit = factor_tests[(factor_tests["endpoint"] == endpoint) & (factor_tests["covariate"] == covariate)]
            if len(hit) == 0:
                rows.append({"endpoint": endpoint, "covariate": covariate, "test": "LR", "p": np.nan,
                             "reason": ne.NOT_IN_RESULTS})
                continue
            rows.append({"endpoint": endpoint, "covariate": covariate, "test": f"LR ({int(hit['df'].iloc[0])} df)",
                         "p": hit["p"].iloc[0], "reason": ne.first(hit["reason"].iloc[0]) if "reason" in hit else ""})
    out = pd.DataFrame(rows, columns=["endpoint", "covariate", "test", "p", "reason"])
    out["p"] = out["p"].astype(float)
    out.loc[out["reason"] != "", "p"] = np.nan
    out["holm"] = holm(out["p"])
    out["significant_raw"] = out["p"] < alpha
    out["significant_holm"] = out["holm"] < alpha
    return out[["endpoint", "covariate", "test", "p", "holm", "significant_raw", "significant_holm", "reason"]]


#: Readable names of the screened factors, for prose.
FACTOR_LABELS = {
    "vgpr_or_better": "≥VGPR", "cr_or_better": "≥CR", "age_ge65": "age ≥65", "dex_dose_group": "dexamethasone dose",
    "emd_relapse": "EMD", "cyto_high_risk_dx": "high-risk FISH at diagnosis",
    "cyto_high_risk_relapse": "high-risk FISH at relapse", "del17p_relapse": "del17p", "pc_ge60_relapse": "plasma cells ≥60%",
    "amp1q": "amp1q", "len_exposure_months": "lenalidomide exposure", "len_dose_start_mg": "lenalidomide starting dose",
    "len_dose_pd_mg": "lenalidomide dose at progression",
}
