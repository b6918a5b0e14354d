"""Kaplan-Meier and cumulative-incidence figures, as survminer and ggsurvfit draw them.

Split from :mod:`compendium.report.plots` (which re-exports ``km_plot`` and ``cif_plot``, and
holds the one figure style, ``_STYLE``, and the Okabe-Ito palette these figures use): the curves,
their bands, the number at risk and, optionally, the cumulative events and censored beneath.
"""

from __future__ import annotations

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from compendium.report.plots import _STYLE, COLUMN_WIDTH_IN, OKABE_ITO, _risk_step, format_p, mark_used, median_label
from compendium.stats import survival as sv


def risk_counts(time, event, ticks) -> pd.DataFrame:
    """At each tick: the number at risk (followed up to it: time >= tick, R's ``n.risk``), and
    the cumulative events and censored up to and including it (survminer's ``cum.n.event`` and
    ``cum.n.censor``)."""
    t = np.asarray(time, float)
    e = np.asarray(event, float) == 1
    ticks = np.asarray(ticks, float)
    return pd.DataFrame({"time": ticks, "at_risk": [int((t >= x).sum()) for x in ticks],
                         "events": [int(((t <= x) & e).sum()) for x in ticks],
                         "censored": [int(((t <= x) & ~e).sum()) for x in ticks]})


def km_plot(df: pd.DataFrame, endpoint: str, group: str | None = None, *,
            labels: dict | None = None, order: list | None = None, title: str | None = None,
            xlabel: str = "Months from start of DaraVd", ylabel: str | None = None,
            risk_every: float | None = None, conf_type: str = "log", show_ci: bool | None = None,
            events_table: bool = False, width: float = COLUMN_WIDTH_IN) -> Figure:
    """Kaplan-Meier figure of ``endpoint`` (``pfs``, ``os``, ...), overall or by ``group``.

    ``labels`` maps group values to legend names (e.g. ``{1: ">= VGPR", 0: "< VGPR"}``)
    and ``order`` lists the values in the order to draw them (default: sorted);
    the medians and CIs are those of :func:`compendium.stats.survival.km_median`
    with ``conf_type`` (R's log by default), the p that of
    :func:`compendium.stats.survival.logrank_test`. Returns the figure: curves on
    top, number at risk beneath, at every ``risk_every`` months (chosen from
    the follow-up if not given). Confidence bands are shaded for up to two
    curves unless ``show_ci`` says otherwise. ``events_table`` adds, under the numbers at
    risk, the cumulative events and (in brackets) censored at each tick (survminer's
    ``cumevents``/``cumcensor`` tables, ggsurvfit's ``cum.event``/``cum.censor``; see
    :func:`risk_counts`). ``width`` in inches; the default is one journal column (88 mm), the
    height follows from the number of groups.
    """
    tcol, ecol = sv.endpoint_columns(endpoint)
    data = df.dropna(subset=[tcol, ecol] + ([group] if group else []))
    if group:
        levels = list(order) if order is not None else sorted(data[group].unique())
        strata = [(lev, data[data[group] == lev]) for lev in levels]
    else:
        strata = [("all", data)]
    labels = labels or {}
    tmax = float(data[tcol].max())
    step = risk_every or _risk_step(tmax)
    ticks = np.arange(0, tmax + 1e-9, step)
    if ticks[-1] < tmax:  # one tick beyond the last time, so the axis covers it
        ticks = np.append(ticks, ticks[-1] + step) if tmax - ticks[-1] > step / 2 else ticks

    # layout in inches, so that text keeps its size whatever the number of groups
    k = len(strata)
    top = (0.24 if title else 0.06) + 0.135 * (k + (k > 1)) + 0.06
    plot_h, axis_h, risk_h = 2.2, 0.42, 0.2 + 0.15 * k
    bottom = 0.1
    events_h = risk_h + 0.05 if events_table else 0.0  # a block like the risk table's, beneath it
    height = top + plot_h + axis_h + risk_h + events_h + bottom
    names = [labels.get(lev, sv._fmt_level(lev) if group else "All patients") for lev, _ in strata]
    # risk-table names sit flush left in the margin, which must be wide enough for them
    risk_names = names if group else [""]  # a lone curve's row needs no name
    left, right = max(0.62, 0.3 + 0.056 * max(len(n) for n in risk_names)), 0.12
    if show_ci is None:
        show_ci = k <= 2  # more bands than two hide the curves

    with mpl.rc_context(_STYLE):
        fig = Figure(figsize=(width, height))  # not pyplot: no global state, no double display
        frac_w = (width - left - right) / width
        ax = fig.add_axes([left / width, (bottom + events_h + risk_h + axis_h) / height, frac_w, plot_h / height])
        ax_risk = fig.add_axes([left / width, (bottom + events_h) / height, frac_w, (risk_h - 0.17) / height])
        ax_events = fig.add_axes([left / width, bottom / height, frac_w, (risk_h - 0.17) / height]) \
            if events_table else None
        for i, (lev, sub) in enumerate(strata):
            colour = OKABE_ITO[i % len(OKABE_ITO)] if group else "#000000"
            km = sv.km_table(sub[tcol], sub[ecol], conf_type)
            # the curve starts at (0, 1) and steps at every distinct time
            t = np.concatenate([[0.0], km["time"]])
            s = np.concatenate([[1.0], km["surv"]])
            name = names[i]
            res = sv.km_median(sub[tcol], sub[ecol], conf_type)
            ax.step(t, s, where="post", color=colour, lw=1.2,
                    label=f"{name} ({res['events']}/{res['n']} events): {median_label(res)}")
            if show_ci:
                lo = np.concatenate([[1.0], km["lower"].fillna(0)])
                hi = np.concatenate([[1.0], km["upper"].fillna(0)])
                ax.fill_between(t, lo, hi, step="post", color=colour, alpha=0.12, lw=0)
            cens = km[km["n_censor"] > 0]
            ax.plot(cens["time"], cens["surv"], ls="none", marker="|", ms=4, mew=0.8, color=colour)
            if np.isfinite(res["median"]):
                ax.plot([0, res["median"], res["median"]], [0.5, 0.5, 0], ls="--", lw=0.6,
                        color=colour, alpha=0.8)
            row = k - 1 - i
            for x in ticks:
                ax_risk.text(x, row, str(int((sub[tcol] >= x).sum())), ha="center", va="center",
                             color=colour, fontsize=6.5)
            ax_risk.text(0.02, row, risk_names[i], transform=mpl.transforms.blended_transform_factory(
                fig.transFigure, ax_risk.transData), ha="left", va="center", color=colour, fontsize=6.5)
            if ax_events is not None:
                counts = risk_counts(sub[tcol], sub[ecol], ticks)
                for x, e, c in zip(ticks, counts["events"], counts["censored"]):
                    ax_events.text(x, row, f"{e} ({c})", ha="center", va="center", color=colour, fontsize=6)
                ax_events.text(0.02, row, risk_names[i], transform=mpl.transforms.blended_transform_factory(
                    fig.transFigure, ax_events.transData), ha="left", va="center", color=colour, fontsize=6.5)
        xmax = max(tmax * 1.03, ticks[-1] + step * 0.25)
        ax.set(xlim=(0, xmax), ylim=(0, 1.03), xticks=ticks,
               ylabel=ylabel or f"{endpoint.upper()} probability")
        ax.set_xticklabels([sv._fmt_level(float(x)) for x in ticks])
        ax.set_yticks(np.linspace(0, 1, 5))
        ax.set_yticklabels([f"{int(v * 100)}%" for v in np.linspace(0, 1, 5)])
        ax.set_xlabel(xlabel, labelpad=2)
        ax.spines[["top", "right"]].set_visible(False)
        if group and k > 1:  # in the legend, where no curve can run through it
            p = sv.logrank_test(data, endpoint, group)["p"]
            ax.plot([], [], ls="none", label=f"Log-rank p {'= ' if p >= 0.001 else ''}{format_p(p)}")
        ax.legend(loc="lower left", bbox_to_anchor=(-0.02, 1.0), frameon=False, handlelength=1.4,
                  borderaxespad=0.1, labelspacing=0.25)
        if title:
            fig.text(0.02, 1 - 0.05 / height, title, ha="left", va="top", fontweight="bold",
                     fontsize=_STYLE["axes.titlesize"])
        ax_risk.set(xlim=ax.get_xlim(), ylim=(-0.5, k - 0.5), xticks=[], yticks=[])
        fig.text(0.02, (bottom + events_h + risk_h - 0.02) / height, "Number at risk", ha="left", va="top",
                 fontsize=6.5)
        for side in ("top", "right", "bottom", "left"):
            ax_risk.spines[side].set_visible(False)
        if ax_events is not None:
            ax_events.set(xlim=ax.get_xlim(), ylim=(-0.5, k - 0.5), xticks=[], yticks=[])
            fig.text(0.02, (bottom + events_h - 0.02) / height, "Cumulative events (censored)", ha="left",
                     va="top", fontsize=6.5)
            for side in ("top", "right", "bottom", "left"):
                ax_events.spines[side].set_visible(False)
    return mark_used(fig, f"curves: n = {len(data)}")



def cif_plot(analysis: pd.DataFrame, width: float = 2 * COLUMN_WIDTH_IN, band: bool = True) -> Figure:
    """Cumulative incidence of each competing event (Aalen-Johansen), one panel per analysis.

    Left: next treatment and death before it, with 1 - KM of TTNT (deaths
    censored) dashed, which is what TTNT's Kaplan-Meier implies; right:
    progression and death without progression. Each curve has its pointwise 95% band
    (``band``: cmprsk's variance, limits on the log(-log) scale as ``cif_at`` gives them), and
    each panel the number at risk (event-free and followed) beneath it.
    """
    from compendium.stats import competing

    cs = competing.competing_status(analysis)
    with mpl.rc_context(_STYLE):
        fig = Figure(figsize=(width, 3.35))
        grid = fig.add_gridspec(2, 2, height_ratios=[2.9, 0.45], hspace=0.55, left=0.08, right=0.98, top=0.9,
                                bottom=0.04, wspace=0.22)
        axes = [fig.add_subplot(grid[0, j]) for j in range(2)]
        for ax, (name, (_, lab1, lab2)), letter in zip(axes, competing.ANALYSES.items(), "ab"):
            data = cs[[f"{name}_months", f"{name}_status"]].dropna()
            t, s = data.iloc[:, 0], data.iloc[:, 1]
            for cause, label, colour in ((1, lab1, OKABE_ITO[0]), (2, lab2, OKABE_ITO[1])):
                tab = competing.cumulative_incidence(t, s, cause)
                if band and len(tab):
                    lo, hi = competing._loglog_limits(tab["cif"].to_numpy(), tab["var"].to_numpy())
                    ax.fill_between(np.concatenate([[0.0], tab["time"]]), np.concatenate([[0.0], np.nan_to_num(lo)]),
                                    np.concatenate([[0.0], np.nan_to_num(hi)]), step="post", color=colour,
                                    alpha=0.14, lw=0)
                ax.step(np.concatenate([[0.0], tab["time"], [t.max()]]),
                        np.concatenate([[0.0], tab["cif"], [tab["cif"].iloc[-1] if len(tab) else 0.0]]),
                        where="post", color=colour, lw=1.2, label=f"{label} ({int((s == cause).sum())} events)")
            if name == "next_treatment":
                km = sv.km_table(t, (s == 1).astype(int))
                ax.step(np.concatenate([[0.0], km["time"]]), np.concatenate([[0.0], 1 - km["surv"]]), where="post",
                        color=OKABE_ITO[0], lw=0.9, ls="--", label="1 − KM of TTNT (deaths censored)")
            step = _risk_step(float(t.max()))
            ticks = np.arange(0, t.max() + 1e-9, step)
            ax.set(xlim=(0, t.max() * 1.02), ylim=(0, 1), xlabel="Months from start of DaraVd",
                   ylabel="Cumulative incidence", xticks=ticks)
            ax_risk = fig.add_subplot(grid[1, list(axes).index(ax)])
            ax_risk.set(xlim=ax.get_xlim(), ylim=(-0.5, 0.5), xticks=[], yticks=[])
            ax_risk.set_title("Number at risk", loc="left", fontsize=6.5, pad=2)
            for x in ticks:
                ax_risk.text(x, 0, str(int((t >= x).sum())), ha="center", va="center", fontsize=6.5)
            for side in ("top", "right", "bottom", "left"):
                ax_risk.spines[side].set_visible(False)
            ax.set_yticks(np.linspace(0, 1, 5))
            ax.set_yticklabels([f"{int(v * 100)}%" for v in np.linspace(0, 1, 5)])
            ax.set_title(f"{letter}  {lab1.capitalize()} (competing: death)", loc="left", fontweight="bold")
            ax.legend(loc="upper left", frameon=False, handlelength=1.6, labelspacing=0.3)
            ax.spines[["top", "right"]].set_visible(False)
    return fig


