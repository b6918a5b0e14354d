"""The figures seaborn is made for, in the compendium's one figure style (``plots._STYLE``, Okabe-Ito).

- :func:`baseline_distributions`: the companion of Table 1, each continuous baseline
  characteristic (age, creatinine, calcium, plasma cells, lenalidomide exposure) by response group,
  as a box over the individual patients (a strip), so that a reader sees the spread a median hides;
- :func:`adverse_events_by_grade`: Table 6 as counts of patients by event and worst grade, stacked;
- :func:`paper_against_compendium`: every claim with a number on both sides, paper on x and this run
  on y, by basis, the diagonal where they agree; the paper's quotations of other publications
  against their sources in a panel apart.

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


#: At most this many patients of a group are drawn as points; the box always summarises all of them.
STRIP_MAX = 300


def strip_sample(part: pd.DataFrame, group: str, at_most: int = STRIP_MAX, seed: int = 0) -> pd.DataFrame:
    """The points a strip plot draws: every patient of a group of at most ``at_most``, else a seeded sample
    of ``at_most`` of them (at registry scale a strip of 10^5 points is a smear and slow to draw)."""
    parts = [g if len(g) <= at_most else g.sample(at_most, random_state=seed) for _, g in part.groupby(group, sort=False)]
    return pd.concat(parts) if parts else part


def _tick(count: int, drawn: int) -> str:
    return f"n = {count}" if drawn == count else f"n = {count}\n({drawn} drawn)"


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
    # the levels in the order the labels (the specification) declare them, so that each keeps its colour
    # in every figure; levels the labels do not name after them
    declared = [str(k) for k in labels]
    code = lambda v: str(int(v)) if isinstance(v, (int, float, np.integer, np.floating)) and float(v).is_integer() else str(v)  # noqa: E731
    values = sorted(analysis[group].dropna().unique(), reverse=True)
    order = [name(v) for v in sorted(values, key=lambda v: declared.index(code(v)) if code(v) in declared else len(declared))]
    order += ["not evaluable"] if analysis[group].isna().any() else []
    palette = dict(zip(order, OKABE_ITO))
    with mpl.rc_context(_STYLE):
        fig = Figure(figsize=(width, 2.3))
        axes = fig.subplots(1, len(present), squeeze=False)[0]
        for ax, (column, title) in zip(axes, present):
            part = data[data[column].notna()]
            sns.boxplot(data=part, x="_group", y=column, order=order, hue="_group", palette=palette, ax=ax,
                        width=0.55, showfliers=False, linewidth=0.7, boxprops={"alpha": 0.35}, legend=False)
            drawn = strip_sample(part, "_group")
            state = np.random.get_state()  # seaborn jitters with numpy's global generator: fix it, then restore
            np.random.seed(0)
            sns.stripplot(data=drawn, x="_group", y=column, order=order, hue="_group", palette=palette, ax=ax,
                          size=2.2, jitter=0.18, legend=False)
            np.random.set_state(state)
            counts, shown = part["_group"].value_counts(), drawn["_group"].value_counts()
            ax.set_xticks(range(len(order)), [_tick(counts.get(g, 0), shown.get(g, 0)) for g in order], fontsize=6)
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


#: the severity ramp of the grades, light to dark (Okabe-Ito: yellow, orange, vermillion, black)
GRADE_COLOURS = (OKABE_ITO[7], OKABE_ITO[4], OKABE_ITO[1], OKABE_ITO[6])


def adverse_events_by_grade(t6: pd.DataFrame, width: float = COLUMN_WIDTH_IN) -> Figure:
    """Patients by event and worst grade, stacked, most frequent on top, each bar ending in its
    ``n (%)`` (``results/table6.csv``: grade rows ``g1``..``g5``, ``denominator`` all patients)."""
    sns = _sns()
    grades = t6[t6["row"].astype(str).str.fullmatch(r"g\d+")].copy()
    if grades.empty or grades["n"].sum() == 0:
        return nothing_to_draw("Adverse events by grade", "no adverse event in these data")
    grades["grade"] = grades["row_label"]
    order = list(dict.fromkeys(t6.loc[t6["row"] == "any"].sort_values("n", ascending=False, kind="stable")["label"]))
    grade_order = list(dict.fromkeys(grades.sort_values("row")["grade"]))
    colours = dict(zip(grade_order, GRADE_COLOURS))
    denominator = int(t6["denominator"].max())
    with mpl.rc_context(_STYLE):
        fig = Figure(figsize=(width, 0.9 + 0.19 * len(order)))
        ax = fig.subplots()
        left = pd.Series(0.0, index=order)
        for grade in grade_order:
            part = grades[grades["grade"] == grade].set_index("label")["n"].reindex(order).fillna(0)
            sns.barplot(x=part.to_numpy(), y=order, left=left.to_numpy(), color=colours.get(grade, "0.5"),
                        label=grade, ax=ax, orient="h", width=0.72, edgecolor="white", linewidth=0.4, saturation=1)
            left += part
        for y, total in enumerate(left):
            share = np.floor(100 * total / denominator + 0.5 + 1e-9) if denominator else float("nan")  # as Table 6 rounds
            ax.text(total + 0.01 * max(left.max(), 1), y, f"{int(total)} ({share:.0f}%)", va="center",
                    fontsize=6.2)
        ax.set_xlim(0, max(left.max(), 1) * 1.22)
        ax.set(xlabel=f"Patients (of {denominator})", ylabel="")
        ax.legend(title="Worst grade (CTCAE)", frameon=False, loc="lower right", fontsize=6, title_fontsize=6.5)
        ax.spines[["top", "right"]].set_visible(False)
        fig.tight_layout()
    return fig


def paper_against_compendium(table: pd.DataFrame, registry: pd.DataFrame,
                             width: float = 2 * COLUMN_WIDTH_IN) -> Figure:
    """Paper (x) against this run (y) for hazard ratios, medians and percentages, log axes, by basis;
    and, in a panel of their own, the numbers the paper quotes from other publications against the
    source's (they say nothing of this cohort), by unit.

    ``table`` is ``results/claims.csv``; constructed claims (they agree by design, or mark the paper's
    own contradictions, which the audit lists) are left out; a value of zero has no place on a log
    axis and is left out too. Every panel has its own legend, naming only what it draws.
    """
    sns = _sns()
    units = registry.set_index("claim_id")["unit"]
    data = table.assign(unit=table["claim_id"].map(units))
    data = data[(data["basis"] != "constructed") & (pd.to_numeric(data["published"], errors="coerce") > 0)
                & (pd.to_numeric(data["reproduced"], errors="coerce") > 0)].astype({"published": float,
                                                                                    "reproduced": float})
    quoted = data["basis"] == "literature"
    titles = {"HR": "Hazard ratios and 95% limits", "months": "Medians, months", "%": "Percentages"}
    panels = [(titles[u], data[~quoted & (data["unit"] == u)], "basis", "this run") for u in titles
              if (~quoted & (data["unit"] == u)).any()]
    if quoted.any():
        panels.append(("Quoted from other publications", data[quoted], "unit", "the source"))
    if not panels:
        return nothing_to_draw("Paper against compendium", "no claim with a value on both sides")
    bases = [b for b in ("calibrated", "emergent", "observed") if (data["basis"] == b).any()]
    unit_order = list(dict.fromkeys(u for u in ("months", "%", "HR") if (data.loc[quoted, "unit"] == u).any()))
    unit_order += sorted(set(data.loc[quoted, "unit"].dropna()) - set(unit_order))
    palettes = {"basis": dict(zip(bases, OKABE_ITO)), "unit": dict(zip(unit_order, OKABE_ITO[3:]))}
    ncols = 2 if len(panels) == 4 else len(panels)
    nrows = -(-len(panels) // ncols)
    with mpl.rc_context(_STYLE):
        fig = Figure(figsize=(width, 2.45 * nrows))
        axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
        for ax in axes[len(panels):]:
            ax.set_axis_off()
        for ax, (title, part, hue, ylabel) in zip(axes, panels):
            palette = {k: v for k, v in palettes[hue].items() if (part[hue] == k).any()}
            sns.scatterplot(data=part, x="published", y="reproduced", hue=hue, hue_order=list(palette),
                            palette=palette, s=14, linewidth=0, ax=ax, legend=True)
            lo = float(np.nanmin(part[["published", "reproduced"]].to_numpy())) * 0.8
            hi = float(np.nanmax(part[["published", "reproduced"]].to_numpy())) * 1.25
            ax.plot([lo, hi], [lo, hi], color="0.4", lw=0.7, ls="--", label="agreement")
            ax.set(xscale="log", yscale="log", xlim=(lo, hi), ylim=(lo, hi), title=f"{title} (n = {len(part)})",
                   xlabel="paper", ylabel=ylabel)
            plain = mpl.ticker.FuncFormatter(lambda v, _: f"{v:g}")
            for axis in (ax.xaxis, ax.yaxis):
                axis.set_major_locator(mpl.ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
                axis.set_major_formatter(plain)
                axis.set_minor_formatter(mpl.ticker.NullFormatter())
            ax.legend(frameon=False, loc="upper left", fontsize=6, title="unit" if hue == "unit" else None,
                      title_fontsize=6)
            ax.spines[["top", "right"]].set_visible(False)
        fig.tight_layout()
    return fig
