"""The figures seaborn is made for, in the compendium's one figure style (``plots._STYLE``, Okabe-Ito).

- :func:`baseline_distributions`: the companion of Table 1, each continuous baseline
  characteristic (age, creatinine, calcium, plasma cells, lenalidomide exposure) by response group,
  as a box over the individual patients (a strip), so that a reader sees the spread a median hides;
- :func:`adverse_events_by_grade`: Table 6 as counts of patients by event and grade, stacked;
- :func:`paper_against_compendium`: every claim with a number on both sides, paper on x and this run
  on y, by basis, the diagonal where they agree.

Each returns a matplotlib Figure drawn on its own axes (no pyplot state), for ``plots.render``.
"""

from __future__ import annotations

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from compendium.report.plots import _STYLE, COLUMN_WIDTH_IN, OKABE_ITO, nothing_to_draw

#: Table 1's continuous characteristics (columns of the analysis dataset) and how readers see them
BASELINE = (("age_years", "Age (years)"), ("creatinine_mg_dl", "Creatinine (mg/dL)"),
            ("calcium_mg_dl", "Calcium (mg/dL)"), ("bm_pc_pct_relapse", "Marrow plasma\ncells (%)"),
            ("len_exposure_months", "Lenalidomide\nexposure (months)"))


def _sns():
    import seaborn as sns

    return sns


def baseline_distributions(analysis: pd.DataFrame, group: str = "vgpr_or_better", labels: dict | None = None,
                           width: float = 2 * COLUMN_WIDTH_IN, legend_title: str = "Best response") -> Figure:
    """One panel per Table 1 characteristic: box and patients by ``group`` (labels: level -> name).

    The groups are named once, in a legend above the panels, in their colours; under each box its number
    of patients with that characteristic known (it differs between panels: the marrow plasma cells are
    often missing). Patients whose ``group`` is empty form a group of their own, "not evaluable"."""
    sns = _sns()
    labels = labels or {}
    present = [(c, t) for c, t in BASELINE if c in analysis.columns and analysis[c].notna().any()]
    if not present or group not in analysis.columns or analysis[group].notna().sum() == 0:
        return nothing_to_draw("Baseline characteristics by response", f"no {group} or no baseline values")

    def name(v) -> str:  # a level as the labels name it, whether they are keyed by 1, "1" or 1.0
        if pd.isna(v):
            return "not evaluable"
        code = str(int(v)) if isinstance(v, (int, float, np.integer, np.floating)) and float(v).is_integer() else str(v)
        return labels.get(v, labels.get(code, code))

    data = analysis.assign(_group=analysis[group].map(name))
    order = [name(v) for v in sorted(analysis[group].dropna().unique(), reverse=True)]
    order += ["not evaluable"] if analysis[group].isna().any() else []
    palette = dict(zip(order, OKABE_ITO))
    with mpl.rc_context(_STYLE):
        fig = Figure(figsize=(width, 2.3))
        axes = fig.subplots(1, len(present), squeeze=False)[0]
        for ax, (column, title) in zip(axes, present):
            part = data[data[column].notna()]
            sns.boxplot(data=part, x="_group", y=column, order=order, hue="_group", palette=palette, ax=ax,
                        width=0.55, fliersize=0, linewidth=0.7, boxprops={"alpha": 0.35}, legend=False)
            state = np.random.get_state()  # seaborn jitters with numpy's global generator: fix it, then restore
            np.random.seed(0)
            sns.stripplot(data=part, x="_group", y=column, order=order, hue="_group", palette=palette, ax=ax,
                          size=2.2, jitter=0.18, legend=False)
            np.random.set_state(state)
            counts = part["_group"].value_counts()
            ax.set_xticks(range(len(order)), [f"n = {counts.get(g, 0)}" for g in order], fontsize=6)
            ax.set(title=title, xlabel="", ylabel="")
            ax.title.set_fontsize(7)
            ax.spines[["top", "right"]].set_visible(False)
        fig.tight_layout(w_pad=0.6)
        handles = [mpl.patches.Patch(facecolor=mpl.colors.to_rgba(palette[g], 0.35), edgecolor=palette[g],
                                     linewidth=0.7, label=g) for g in order]
        fig.legend(handles=handles, title=legend_title, loc="lower center", bbox_to_anchor=(0.5, 0.97),
                   borderaxespad=0, ncol=len(order), frameon=False, fontsize=7, title_fontsize=7,
                   handlelength=1.4, columnspacing=1.6)
    return fig


def adverse_events_by_grade(t6: pd.DataFrame, width: float = 2 * COLUMN_WIDTH_IN) -> Figure:
    """Patients by event and highest grade, stacked (``results/table6.csv``: grade rows ``g1``..``g5``)."""
    sns = _sns()
    grades = t6[t6["row"].astype(str).str.fullmatch(r"g\d+")].copy()
    if grades.empty or grades["n"].sum() == 0:
        return nothing_to_draw("Adverse events by grade", "no adverse event in these data")
    grades["grade"] = grades["row_label"]
    order = list(dict.fromkeys(t6.loc[t6["row"] == "any"].sort_values("n", ascending=False)["label"]))
    grade_order = list(dict.fromkeys(grades.sort_values("row")["grade"]))
    colours = dict(zip(grade_order, [OKABE_ITO[5], OKABE_ITO[0], OKABE_ITO[1], OKABE_ITO[6]]))
    with mpl.rc_context(_STYLE):
        fig = Figure(figsize=(width, 0.6 + 0.2 * len(order)))
        ax = fig.subplots()
        left = pd.Series(0.0, index=order)
        for grade in grade_order:
            part = grades[grades["grade"] == grade].set_index("label")["n"].reindex(order).fillna(0)
            sns.barplot(x=part.to_numpy(), y=order, left=left.to_numpy(), color=colours.get(grade, "0.5"),
                        label=grade, ax=ax, orient="h", width=0.7)
            left += part
        ax.set(xlabel="Patients", ylabel="")
        ax.legend(title="Highest grade", frameon=False, loc="lower right", fontsize=6, title_fontsize=6.5)
        ax.spines[["top", "right"]].set_visible(False)
        fig.tight_layout()
    return fig


def paper_against_compendium(table: pd.DataFrame, registry: pd.DataFrame,
                             width: float = 2 * COLUMN_WIDTH_IN) -> Figure:
    """Paper (x) against this run (y) for hazard ratios, medians and percentages, log axes, by basis.

    ``table`` is ``results/claims.csv``; constructed claims (they agree by design) are left out.
    """
    sns = _sns()
    units = registry.set_index("claim_id")["unit"]
    data = table.assign(unit=table["claim_id"].map(units))
    data = data[(data["basis"] != "constructed") & (pd.to_numeric(data["published"], errors="coerce") > 0)
                & (pd.to_numeric(data["reproduced"], errors="coerce") > 0)]
    panels = [u for u in ("HR", "months", "%") if (data["unit"] == u).any()]
    if not panels:
        return nothing_to_draw("Paper against compendium", "no claim with a value on both sides")
    titles = {"HR": "Hazard ratios and limits", "months": "Medians (months)", "%": "Percentages"}
    bases = [b for b in ("calibrated", "emergent", "observed", "literature") if (data["basis"] == b).any()]
    palette = dict(zip(bases, OKABE_ITO))
    with mpl.rc_context(_STYLE):
        fig = Figure(figsize=(width, 2.5))
        axes = fig.subplots(1, len(panels), squeeze=False)[0]
        for ax, unit in zip(axes, panels):
            part = data[data["unit"] == unit].astype({"published": float, "reproduced": float})
            sns.scatterplot(data=part, x="published", y="reproduced", hue="basis", hue_order=bases, palette=palette,
                            s=14, linewidth=0, ax=ax, legend=ax is axes[0])
            lo = float(np.nanmin(part[["published", "reproduced"]].to_numpy())) * 0.8
            hi = float(np.nanmax(part[["published", "reproduced"]].to_numpy())) * 1.25
            ax.plot([lo, hi], [lo, hi], color="0.4", lw=0.7, ls="--")
            ax.set(xscale="log", yscale="log", xlim=(lo, hi), ylim=(lo, hi), title=titles[unit], xlabel="paper",
                   ylabel="this run")
            plain = mpl.ticker.FuncFormatter(lambda v, _: f"{v:g}")
            for axis in (ax.xaxis, ax.yaxis):
                axis.set_major_locator(mpl.ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
                axis.set_major_formatter(plain)
                axis.set_minor_formatter(mpl.ticker.NullFormatter())
            ax.spines[["top", "right"]].set_visible(False)
        if axes[0].get_legend() is not None:
            axes[0].legend(frameon=False, loc="upper left", fontsize=6)
        fig.tight_layout()
    return fig
