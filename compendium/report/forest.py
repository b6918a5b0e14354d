"""Forest plots of published medians beside this cohort's, grouped like with like.

Rows come from :func:`compendium.report.trials.forest_rows`: a header per population type, this
cohort's estimate(s) first in their group, then the trials. Filled markers are numbers read in
the publication itself, open markers numbers taken from a text quoting it (secondary source);
a median not reached is drawn as an arrow at the right edge, labelled NR; a result the evidence
table could not find is listed in grey, so that an empty comparison shows as empty.
"""

from __future__ import annotations

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from compendium.report.plots import _STYLE, COLUMN_WIDTH_IN, OKABE_ITO, _risk_step

COHORT, TRIAL = OKABE_ITO[1], OKABE_ITO[0]


def _fmt(x: float) -> str:
    return "NR" if not np.isfinite(x) else f"{x:.1f}"


def forest_plot(rows: pd.DataFrame, xlabel: str, xmax: float | None = None,
                width: float = COLUMN_WIDTH_IN) -> Figure:
    """One row per estimate: label and n on the left, median with 95% limits on the right."""
    rows = rows.reset_index(drop=True)
    values = rows[["median", "lcl", "ucl"]].to_numpy(float)
    xmax = xmax or float(np.nanmax(values)) * 1.1
    with mpl.rc_context(_STYLE):
        fig = Figure(figsize=(width, 0.75 + 0.16 * len(rows)))
        ax = fig.subplots()
        y = np.arange(len(rows))[::-1].astype(float)
        for yi, r in zip(y, rows.itertuples(index=False)):
            if r.kind == "header":
                ax.text(-0.02, yi, r.label, transform=ax.get_yaxis_transform(), ha="right", va="center",
                        fontsize=6.5, fontweight="bold")
                continue
            colour = COHORT if r.kind == "cohort" else (TRIAL if r.kind != "missing" else "0.45")
            n = "" if pd.isna(r.n) else f"  n={int(r.n)}"
            ax.text(-0.02, yi, f"{r.label}{n}", transform=ax.get_yaxis_transform(), ha="right", va="center",
                    fontsize=6, color=colour if r.kind in ("cohort", "missing") else "0.1")
            lo = r.lcl if np.isfinite(r.lcl) else np.nan
            hi = r.ucl if np.isfinite(r.ucl) else xmax
            if np.isfinite(lo):
                ax.plot([lo, min(hi, xmax)], [yi, yi], color=colour, lw=1)
                if not np.isfinite(r.ucl) or r.ucl > xmax:
                    ax.plot([xmax], [yi], ">", color=colour, ms=3)
            filled = r.kind in ("cohort", "trial")
            if r.kind == "missing":
                ax.text(0.5, yi, "median not found (see evidence table)", ha="left", va="center", fontsize=5.5,
                        color="0.45", style="italic")
                continue
            if r.not_reached or not np.isfinite(r.median):
                ax.plot([xmax], [yi], ">", color=colour, ms=4, mfc=colour if filled else "white")
                ax.text(xmax, yi + 0.3, "NR", ha="right", va="bottom", fontsize=5.5, color=colour)
            else:
                ax.plot([r.median], [yi], "D" if r.kind == "cohort" else "o", color=colour, ms=3.5,
                        mfc=colour if filled else "white", mew=0.9)
                ax.text(r.median, yi + 0.3, _fmt(r.median), ha="center", va="bottom", fontsize=5.5,
                        color=colour)
        ax.set(xlim=(0, xmax * 1.02), ylim=(-0.8, len(rows) - 0.2), xlabel=xlabel, yticks=[])
        ax.xaxis.grid(True, color="0.9", lw=0.5)
        ax.set_axisbelow(True)
        for side in ("top", "right", "left"):
            ax.spines[side].set_visible(False)
        height = 0.75 + 0.16 * len(rows)
        handles = [Line2D([], [], marker="D", color=COHORT, ls="", ms=3.5, label="this cohort"),
                   Line2D([], [], marker="o", color=TRIAL, ls="", ms=3.5, label="primary source"),
                   Line2D([], [], marker="o", color=TRIAL, mfc="white", ls="", ms=3.5, label="secondary source")]
        fig.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 0.0), ncol=3, frameon=False,
                   fontsize=6, handletextpad=0.3, columnspacing=1)
        fig.subplots_adjust(left=0.52, right=0.97, top=1 - 0.05 / height, bottom=0.55 / height)
    return fig


def km_overlay(curves: list[tuple[str, pd.DataFrame, str, str]], xlabel: str = "Months",
               ylabel: str = "Probability", marks: list[tuple[str, float, float, float, str]] = (),
               width: float = COLUMN_WIDTH_IN, risk_names: dict | None = None) -> Figure:
    """Step curves (label, frame with ``time, surv``, colour, line style) on one axis, in the style of the
    Kaplan-Meier figures: percentages, censor marks where the frame has ``n_censor``, the median's
    dashes, and a table of numbers at risk beneath for every curve whose frame has ``n_risk``
    (a weighted curve's weighted numbers, to one decimal). ``risk_names`` gives a curve's row name
    in that table (by its label). ``marks`` are published medians (label, median, lcl, ucl, colour)
    drawn at S = 0.5 with their limits.
    """
    risk_names = risk_names or {}
    rows = [(label, km, colour) for label, km, colour, _ in curves if "n_risk" in km and len(km)]
    tmax = max([float(km["time"].max()) for _, km, _, _ in curves if len(km)] + [1.0])
    step = _risk_step(tmax)
    ticks = np.arange(0, tmax + 1e-9, step)
    plot_h, axis_h, risk_h = 2.2, 0.42, (0.2 + 0.15 * len(rows)) if rows else 0.0
    legend_h = 0.16 * (len(curves) + len(marks)) + 0.1
    height = plot_h + axis_h + risk_h + legend_h + 0.1
    left = max(0.62, 0.3 + 0.056 * max([len(risk_names.get(label, label)) for label, _, _ in rows] + [0]))
    left, right = min(left, 1.6), 0.12
    with mpl.rc_context(_STYLE):
        fig = Figure(figsize=(width, height))
        frac_w = (width - left - right) / width
        bottom = 0.1 + risk_h
        ax = fig.add_axes([left / width, (bottom + axis_h) / height, frac_w, plot_h / height])
        for label, km, colour, style in curves:
            t = np.concatenate([[0.0], km["time"].to_numpy(float)])
            s = np.concatenate([[1.0], km["surv"].to_numpy(float)])
            ax.step(t, s, where="post", color=colour, ls=style, lw=1.1, label=label)
            if "n_censor" in km:
                cens = km[km["n_censor"] > 1e-12]
                ax.plot(cens["time"], cens["surv"], ls="none", marker="|", ms=4, mew=0.8, color=colour)
            below = np.flatnonzero(s <= 0.5)
            if len(below):
                median = t[below[0]]
                ax.plot([0, median, median], [0.5, 0.5, 0], ls="--", lw=0.6, color=colour, alpha=0.8)
        for name, med, lo, hi, colour in marks:
            if np.isfinite(lo) and np.isfinite(hi):
                ax.plot([lo, hi], [0.5, 0.5], color=colour, lw=2.2, alpha=0.6, solid_capstyle="butt")
            ax.plot([med], [0.5], "o", color=colour, ms=4, label=name)
        ax.set(ylim=(0, 1.03), xlim=(0, max(tmax * 1.03, ticks[-1] + step * 0.25)), xticks=ticks,
               xlabel=xlabel, ylabel=ylabel)
        ax.set_yticks(np.linspace(0, 1, 5))
        ax.set_yticklabels([f"{int(v * 100)}%" for v in np.linspace(0, 1, 5)])
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        # above the axes, as in the Kaplan-Meier figures: long labels must not hide the curves
        ax.legend(loc="lower left", bbox_to_anchor=(-0.02, 1.0), frameon=False, handlelength=1.8,
                  borderaxespad=0.1, labelspacing=0.25, fontsize=6)
        if rows:
            ax_risk = fig.add_axes([left / width, 0.1 / height, frac_w, (risk_h - 0.17) / height])
            k = len(rows)
            for i, (label, km, colour) in enumerate(rows):
                weighted = not np.allclose(km["n_risk"], np.round(km["n_risk"]))
                times, at = km["time"].to_numpy(float), km["n_risk"].to_numpy(float)
                for x in ticks:
                    later = np.flatnonzero(times >= x)
                    n = at[later[0]] if len(later) else 0.0
                    ax_risk.text(x, k - 1 - i, f"{n:.1f}" if weighted else f"{int(round(n))}", ha="center",
                                 va="center", color=colour, fontsize=6.5)
                ax_risk.text(0.02, k - 1 - i, risk_names.get(label, label), ha="left", va="center", color=colour,
                             fontsize=6.5, transform=mpl.transforms.blended_transform_factory(fig.transFigure,
                                                                                               ax_risk.transData))
            ax_risk.set(xlim=ax.get_xlim(), ylim=(-0.5, k - 0.5), xticks=[], yticks=[])
            for side in ("top", "right", "bottom", "left"):
                ax_risk.spines[side].set_visible(False)
            fig.text(0.02, (0.1 + risk_h - 0.02) / height, "Number at risk", ha="left", va="top", fontsize=6.5)
    return fig


def weights_plot(w: np.ndarray, ess: float, title: str, width: float = COLUMN_WIDTH_IN) -> Figure:
    """The MAIC weights' distribution, rescaled to sum to n (TSD 18), with the ESS and its reduction
    (as ``maicplus::plot_weights_base`` annotates them): a few large weights mean poor overlap."""
    w = np.asarray(w, float)
    n = len(w)
    with mpl.rc_context(_STYLE):
        fig = Figure(figsize=(width, 2.2))
        ax = fig.subplots()
        ax.hist(w, bins=min(30, max(5, n // 3)), color=TRIAL, alpha=0.8, edgecolor="white", lw=0.4)
        ax.axvline(1.0, color="0.4", lw=0.7, ls=":")
        ax.axvline(float(np.median(w)), color=COHORT, lw=1, ls="--")
        ax.text(0.98, 0.95, f"n = {n}\nESS = {ess:.1f} ({100 * (1 - ess / n):.0f}% reduction)\n"
                f"median weight {np.median(w):.2f}, largest {w.max():.2f}", transform=ax.transAxes,
                ha="right", va="top", fontsize=6)
        ax.set(xlabel="Weight (rescaled to sum to n; 1 = unweighted)", ylabel="Patients", title=title)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        fig.tight_layout()
    return fig


def approximations_plot(cohort: tuple[str, pd.DataFrame], approximations: list[tuple[str, pd.DataFrame]],
                        missing: list[str], ylabel: str, width: float = COLUMN_WIDTH_IN) -> Figure:
    """This cohort's Kaplan-Meier curve beside trial curves approximated from published summaries
    (dotted, each labelled as an approximation), and, under the axes, the curves that could not be
    drawn because the numbers they need were not found."""
    import textwrap

    colours = [OKABE_ITO[i] for i in (0, 2, 3, 4, 5)]
    wrap = lambda text: "\n".join(textwrap.wrap(text, 62))  # noqa: E731
    notes = [wrap("Not drawn: " + m) for m in missing]
    lines = sum(wrap(label).count("\n") + 1 for label, _ in approximations) + 1
    lines += sum(n.count("\n") + 1 for n in notes)
    height = 2.5 + 0.1 * lines + 0.07 * (1 + len(approximations) + len(notes))  # axes, then the legend
    with mpl.rc_context(_STYLE):
        fig = Figure(figsize=(width, height))
        ax = fig.add_axes([0.14, 1 - 1.9 / height, 0.82, 1.65 / height])
        t = np.concatenate([[0.0], cohort[1]["time"].to_numpy(float)])
        ax.step(t, np.concatenate([[1.0], cohort[1]["surv"].to_numpy(float)]), where="post", color=COHORT, lw=1.1,
                label=cohort[0] + ", Kaplan-Meier")
        for k, (label, table) in enumerate(approximations):
            ax.plot(table["time"], table["surv"], color=colours[k % len(colours)], ls=":", lw=1.4, label=wrap(label))
        ax.axhline(0.5, color="0.6", lw=0.5, ls=":")
        ax.set(ylim=(0, 1.02), xlim=(0, None), xlabel="Months from start of treatment", ylabel=ylabel)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        for note in notes:  # in the legend, under the curves drawn, so that nothing overlaps
            ax.plot([], [], ls="", label=note)
        ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(-0.14, -0.25), fontsize=5.6)
    return fig
