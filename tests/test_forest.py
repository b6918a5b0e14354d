"""Forest plot and curve overlay: what a reader must be able to see is drawn."""

import numpy as np
import pandas as pd

from compendium.report import forest, trials


def _texts(fig):
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def test_forest_plot_marks_the_cohort_not_reached_and_missing_results():
    e = trials.load_evidence()
    cohort = {"label": "This cohort (synthetic data)", "median": 14.0, "lcl": 10.0, "ucl": np.nan, "n": 85,
              "population_type": "lenref_first_relapse"}
    rows = trials.forest_rows(e, "pfs", [cohort])
    texts = _texts(forest.forest_plot(rows, "Median PFS (months)"))
    assert "This cohort (synthetic data)  n=85" in texts
    assert "NR" in texts  # CARTITUDE-4 and DREAMM-8 medians not reached
    assert texts.count("median not found (see evidence table)") == int((rows["kind"] == "missing").sum()) > 0
    for title in rows.loc[rows["kind"] == "header", "label"]:
        assert title in texts
    # every published median is written beside its marker, rounded to one decimal
    shown = rows[rows["kind"].isin(["trial", "secondary", "cohort"]) & rows["median"].notna()]
    assert all(f"{m:.1f}" in texts for m in shown["median"])


def test_km_overlay_draws_each_curve_and_the_published_median():
    km = pd.DataFrame({"time": [1.0, 2.0, 3.0], "surv": [0.8, 0.5, 0.2]})
    fig = forest.km_overlay([("a", km, "C0", "-"), ("b", km.assign(surv=km["surv"] ** 2), "C1", "--")],
                            marks=[("trial", 2.5, 2.0, 3.0, "C2")])
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["a", "b", "trial"]
