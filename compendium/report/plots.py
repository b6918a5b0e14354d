"""Publication-style figures: Kaplan-Meier curves as clinical readers expect them.

What survminer's ``ggsurvplot`` made standard: step curves with censoring
ticks, the median marked with dashed lines and given in the legend with its
95% CI ("NR" when not reached), the log-rank p on stratified plots and the
number at risk beneath the time axis. Colours are Okabe-Ito (colour-blind
safe) and sizes are set for a single journal column (88 mm), so the PNG in
the notebook is what a reader of the paper would see.

Files are byte-identical across reruns: no dates in the SVG, a fixed SVG hash
salt and no software stamp in either format.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from compendium.report import formats
from compendium.stats import survival as sv

#: Okabe & Ito (2008), the palette that stays distinct for every colour vision type.
OKABE_ITO = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]
COLUMN_WIDTH_IN = 88 / 25.4
_STYLE = {"font.size": 7.5, "axes.titlesize": 8, "axes.labelsize": 7.5, "xtick.labelsize": 7,
          "ytick.labelsize": 7, "legend.fontsize": 6.5, "axes.linewidth": 0.6,
          "xtick.major.width": 0.6, "ytick.major.width": 0.6, "font.family": "DejaVu Sans"}


def format_p(p: float) -> str:
    """p as a figure prints it: "< 0.001" or three decimals (:func:`compendium.report.formats.p`)."""
    return formats.p(p, space=" ")


def _fmt_months(x: float) -> str:
    return "NR" if not np.isfinite(x) else f"{x:.1f}"


def median_label(res: dict, unit: str = "mo") -> str:
    """``median 14.0 mo (95% CI 10.2-19.9)``, NR for anything not reached."""
    if not np.isfinite(res["median"]):
        return "median NR"
    return (f"median {_fmt_months(res['median'])} {unit} "
            f"(95% CI {_fmt_months(res['lcl'])}\u2013{_fmt_months(res['ucl'])})")


def _risk_step(tmax: float) -> float:
    """Tick spacing that gives 5-9 columns in the number-at-risk table."""
    for step in (3, 6, 12, 24, 36, 60):
        if tmax / step <= 8:
            return step
    return float(np.ceil(tmax / 8))


def nothing_to_draw(title: str | None, reason: str, width: float = COLUMN_WIDTH_IN) -> Figure:
    """A figure whose data give nothing to draw says so inside itself, where the curve would be."""
    with mpl.rc_context(_STYLE):
        fig = Figure(figsize=(width, 1.4))
        ax = fig.add_axes([0, 0, 1, 1])
        ax.set_axis_off()
        if title:
            ax.text(0.02, 0.92, title, ha="left", va="top", fontweight="bold", fontsize=_STYLE["axes.titlesize"])
        ax.text(0.5, 0.45, f"Nothing to draw: {reason}", ha="center", va="center", color="#555555")
    return fig


def save_and_show(fig: Figure, path_without_suffix: str | Path, provenance: str | None = None):
    """Save PNG and SVG, and return the PNG for the notebook, so readers see exactly the file."""
    from IPython.display import Image

    written = save_figure(fig, path_without_suffix, provenance=provenance)
    return Image(filename=str(written[0]))


def save_figure(fig: Figure, path_without_suffix: str | Path, dpi: int = 200,
                provenance: str | None = None) -> list[Path]:
    """Write ``<path>.png`` (``dpi``) and ``<path>.svg``, byte-identical on every rerun.

    Every figure says at its foot, in small type, what data it was computed on
    (GUIDE: provenance). By default that is read from the run the figure belongs
    to (``<run>/figures/<stem>`` -> ``<run>/data/derived/analysis.meta.json``);
    a figure drawn before the analysis dataset exists passes ``provenance``.
    """
    stem = Path(path_without_suffix)
    stem.parent.mkdir(parents=True, exist_ok=True)
    if provenance is None:
        from compendium.data import dataset
        from compendium import paths

        provenance = dataset.provenance_label(dataset.read_meta(paths.Paths(stem.parent.parent)))
    png, svg = stem.with_suffix(".png"), stem.with_suffix(".svg")
    png_bytes, svg_bytes = render(fig, provenance, dpi)
    png.write_bytes(png_bytes)
    svg.write_bytes(svg_bytes)
    return [png, svg]


#: the attribute of a figure that says which patients its curve or model used, when fewer than the
#: cohort (a model's complete cases, a landmark's patients): the footer gives it beside the cohort's n
USED = "compendium_used"


def mark_used(fig: Figure, text: str) -> Figure:
    """Say at the figure's foot what it used (``model: n = 68, 40 events``)."""
    setattr(fig, USED, text)
    return fig


def render(fig: Figure, provenance: str, dpi: int = 200) -> tuple[bytes, bytes]:
    """PNG and SVG bytes of ``fig`` with ``provenance`` (and what the figure used, :func:`mark_used`)
    at its foot, identical on every rerun."""
    import io

    used = getattr(fig, USED, "")
    footer = f"{provenance} · {used}" if used else provenance
    fig.text(0.005, -0.004, footer, ha="left", va="top", fontsize=4.8, color="#555555")
    provenance = footer
    png, svg = io.BytesIO(), io.BytesIO()
    with mpl.rc_context({"svg.hashsalt": "daravd-compendium", "svg.fonttype": "path"}):
        # the footer's text is also kept as metadata, so that tools (and tests) can read it back
        fig.savefig(png, format="png", dpi=dpi, metadata={"Software": None, "Source": provenance},
                    bbox_inches="tight", pad_inches=0.04)
        fig.savefig(svg, format="svg", metadata={"Date": None, "Creator": None, "Source": provenance},
                    bbox_inches="tight", pad_inches=0.04)
    return png.getvalue(), svg.getvalue()


#: Beyond this many points a scatter layer is rasterised in vector output (a 100,000-patient
#: cohort's residuals would otherwise make a 15 MB SVG).
RASTER_POINTS = 2000


def zph_plot(fit: "sv.CoxFit", title: str | None = None, labels: dict | None = None, transform: str = "km",
             width: float = 2 * COLUMN_WIDTH_IN) -> Figure:
    """Scaled Schoenfeld residuals against time, one panel per coefficient, as R ``plot(cox.zph(fit))``.

    The trend is a least-squares cubic in the transformed time g(t) with a
    ±2 SE band (R draws a natural spline with 4 df, which is also a cubic
    with 4 parameters, differently constrained); the dashed line is the
    model's coefficient, which a flat trend would follow under proportional
    hazards, the dotted line zero (no effect). ``labels`` maps coefficient
    names (``emd_relapse``) to panel titles.
    """
    labels = labels or {}
    res = sv.scaled_schoenfeld(fit, transform)
    names = [c for c in res.columns if c not in ("time", "gtime")]
    keep = ~np.isnan(fit.coef)
    coefs = dict(zip(names, fit.coef[keep]))
    g, t = res["gtime"].to_numpy(), res["time"].to_numpy()
    basis = np.column_stack([np.ones_like(g), g, g ** 2, g ** 3])
    grid = np.linspace(g.min(), g.max(), 100)
    grid_basis = np.column_stack([np.ones_like(grid), grid, grid ** 2, grid ** 3])
    grid_time = np.interp(grid, np.sort(g), t[np.argsort(g, kind="stable")])
    with mpl.rc_context(_STYLE):
        fig = Figure(figsize=(width, 2.3 + (0.25 if title else 0)))
        axes = fig.subplots(1, len(names), squeeze=False)[0]
        for ax, name, colour in zip(axes, names, OKABE_ITO):
            y = res[name].to_numpy()
            beta, *_ = np.linalg.lstsq(basis, y, rcond=None)
            resid = y - basis @ beta
            sigma2 = resid @ resid / max(len(y) - 4, 1)
            cov = sigma2 * np.linalg.pinv(basis.T @ basis)
            fit_y = grid_basis @ beta
            se = np.sqrt(np.einsum("ij,jk,ik->i", grid_basis, cov, grid_basis))
            # thousands of residuals: one bitmap layer in the SVG, not a vector marker each
            ax.scatter(t, y, s=6, color="0.45", linewidths=0, rasterized=len(t) > RASTER_POINTS)
            ax.plot(grid_time, fit_y, color=colour, lw=1.2)
            ax.fill_between(grid_time, fit_y - 2 * se, fit_y + 2 * se, color=colour, alpha=0.18, linewidth=0)
            ax.axhline(coefs[name], color="black", lw=0.7, ls="--")
            ax.axhline(0, color="0.5", lw=0.6, ls=":")
            ax.set(title=labels.get(name, name), xlabel="Months from start of DaraVd", ylabel="β(t)")
            lim = np.nanpercentile(np.abs(y), 97) * 1.15 + abs(coefs[name])
            ax.set_ylim(-lim, lim)
            for side in ("top", "right"):
                ax.spines[side].set_visible(False)
        if title:
            fig.suptitle(title, x=0.01, ha="left", fontweight="bold")
        fig.tight_layout()
    return mark_used(fig, f"model: n = {fit.n}, {fit.events} events")


def median_dot_plot(rows: pd.DataFrame, xlabel: str, width: float = 2 * COLUMN_WIDTH_IN) -> Figure:
    """Medians as dots (this cohort with its 95% CI, trials as published), one row each."""
    with mpl.rc_context(_STYLE):
        fig = Figure(figsize=(width, 0.45 + 0.28 * len(rows)))
        ax = fig.subplots()
        y = np.arange(len(rows))[::-1]
        xmax = float(np.nanmax(rows[["median", "ucl"]].to_numpy())) * 1.15
        for yi, r in zip(y, rows.itertuples(index=False)):
            colour = OKABE_ITO[1] if r.kind == "cohort" else OKABE_ITO[0]
            if np.isfinite(r.lcl):  # an upper limit not reached runs off the axis, as an arrow
                hi = r.ucl if np.isfinite(r.ucl) else xmax
                ax.plot([r.lcl, hi], [yi, yi], color=colour, lw=1.2)
                if not np.isfinite(r.ucl):
                    ax.plot([xmax], [yi], ">", color=colour, ms=4)
            ax.plot([r.median], [yi], "o", color=colour, ms=5)
            ax.text(r.median, yi + 0.22, f"{r.median:.1f}", ha="center", va="bottom", fontsize=6.5)
        labels = [f"{r.label}" + ("" if pd.isna(r.n) else f"  (n = {int(r.n)})") for r in rows.itertuples()]
        ax.set_yticks(y, labels)
        ax.tick_params(axis="y", length=0)
        ax.set(xlabel=xlabel, ylim=(-0.7, len(rows) - 0.3), xlim=(0, xmax * 1.03))
        for side in ("top", "right", "left"):
            ax.spines[side].set_visible(False)
        fig.tight_layout()
    return fig


def zph_plot_r(fit: "sv.CoxFit", title: str | None = None, labels: dict | None = None,
               zph: pd.DataFrame | None = None, width: float = 2 * COLUMN_WIDTH_IN) -> Figure:
    """Scaled Schoenfeld residuals as R's ``plot(cox.zph(fit))`` draws them.

    Points: the residuals against the KM-transformed time g(t) = 1 - KM(t-);
    solid line: R's natural spline (4 df) and, dashed, its ±2 SE band
    (:func:`compendium.stats.schoenfeld.zph_smooth`, equal to R's to rounding). The
    axis is g(t), labelled in months as R labels it; the grey dashed line is the
    model's coefficient (a flat smooth along it is proportional hazards), the
    dotted line zero. ``zph`` (the ``cox_zph`` table) adds each test's p to the panel title.
    """
    from compendium.stats import schoenfeld

    labels = labels or {}
    res = sv.scaled_schoenfeld(fit)
    if res.empty:  # a model with no residuals (no events, nothing estimable): the figure says so
        from compendium.stats import estimable as ne
        with mpl.rc_context(_STYLE):
            fig = Figure(figsize=(width, 1.4 + (0.25 if title else 0)))
            ax = fig.add_subplot()
            ax.axis("off")
            ax.text(0.5, 0.5, f"Scaled Schoenfeld residuals: {ne.label(res.attrs.get('reason') or ne.NO_EVENTS)}",
                    ha="center", va="center", transform=ax.transAxes)
            if title:
                fig.suptitle(title, x=0.01, ha="left", fontweight="bold")
        return fig
    smooth = schoenfeld.zph_smooth(fit)
    names = [c for c in res.columns if c not in ("time", "gtime")]
    coefs = dict(zip(names, fit.coef[~np.isnan(fit.coef)]))
    g, t = res["gtime"].to_numpy(), res["time"].to_numpy()
    order = np.argsort(t, kind="stable")
    month_ticks = [m for m in (1, 3, 6, 12, 24, 36, 48) if t.min() <= m <= t.max()]
    tick_pos = np.interp(month_ticks, t[order], g[order])
    pvals = {} if zph is None else dict(zip(zph["covariate"], zph["p"]))
    with mpl.rc_context(_STYLE):
        fig = Figure(figsize=(width, 2.4 + (0.25 if title else 0)))
        axes = fig.subplots(1, len(names), squeeze=False)[0]
        for ax, name, colour in zip(axes, names, OKABE_ITO):
            s = smooth[smooth["coefficient"] == name]
            ax.scatter(g, res[name], s=6, color="0.5", linewidths=0)
            ax.plot(s["x"], s["fit"], color=colour, lw=1.2)
            ax.plot(s["x"], s["lower"], color=colour, lw=0.8, ls="--")
            ax.plot(s["x"], s["upper"], color=colour, lw=0.8, ls="--")
            ax.axhline(coefs[name], color="0.3", lw=0.6, ls="--")
            ax.axhline(0, color="0.5", lw=0.6, ls=":")
            cov = name.split("=")[0]
            head = labels.get(name, labels.get(cov, name))
            if cov in pvals:
                head += f"  (PH test p {'= ' if pvals[cov] >= 0.001 else ''}{format_p(pvals[cov])})"
            ax.set_title(head, loc="left")
            ax.set_xticks(tick_pos)
            ax.set_xticklabels([str(m) for m in month_ticks])
            ax.set(xlabel="Months (KM-transformed scale)", ylabel=f"β(t) for {labels.get(cov, cov)}")
            ax.spines[["top", "right"]].set_visible(False)
        if title:
            fig.suptitle(title, x=0.01, ha="left", fontweight="bold")
        fig.tight_layout()
    return mark_used(fig, f"model: n = {fit.n}, {fit.events} events")


def simulation_figure(simulation: pd.DataFrame, cohort_hr: dict, true_hr: dict, endpoints, analyses, names,
                      width: float = COLUMN_WIDTH_IN) -> Figure:
    """Each analysis's hazard ratio over simulated cohorts (median, 10-90%), this cohort's beside it,
    and the true time-dependent effect; one panel per endpoint, log axis."""
    from matplotlib.lines import Line2D
    from matplotlib.ticker import NullFormatter

    with mpl.rc_context(_STYLE):
        fig = Figure(figsize=(width, 2.9))
        for k, e in enumerate(endpoints):
            ax = fig.add_subplot(1, len(endpoints), k + 1)
            for j, name in enumerate(analyses):
                hr = np.exp(simulation[(simulation.endpoint == e) & (simulation.analysis == name)].loghr.dropna())
                if len(hr):
                    ax.plot(np.quantile(hr, [0.1, 0.9]), [j, j], color=OKABE_ITO[0], lw=2, solid_capstyle="butt")
                    ax.plot(np.median(hr), j, "o", color=OKABE_ITO[0], ms=3.5)
                ours = cohort_hr.get((e, name), np.nan)
                if np.isfinite(ours) and ours > 0:
                    ax.plot(ours, j, "D", color=OKABE_ITO[1], ms=3.5, mfc="none")
            ax.axvline(true_hr[e], color="#000000", lw=0.8, ls="--")
            ax.set_xscale("log")
            ax.set_xlim(0.05, 2)
            ax.set_xticks([0.1, 0.2, 0.5, 1], ["0.1", "0.2", "0.5", "1"])
            ax.xaxis.set_minor_formatter(NullFormatter())
            ax.set_yticks(range(len(analyses)), list(names) if k == 0 else [])
            ax.set_ylim(len(analyses) - 0.5, -0.5)
            ax.set_title(e.upper())
            ax.set_xlabel("HR of ≥VGPR")
        fig.legend(handles=[Line2D([], [], color=OKABE_ITO[0], marker="o", ms=3.5, lw=2,
                                   label="simulated cohorts: median, 10-90%"),
                            Line2D([], [], color=OKABE_ITO[1], marker="D", mfc="none", ls="", ms=3.5,
                                   label="this cohort"),
                            Line2D([], [], color="#000000", ls="--", lw=0.8, label="true time-dependent effect")],
                   loc="lower center", bbox_to_anchor=(0.5, 0.07), ncol=2, frameon=False, fontsize=6)
        fig.subplots_adjust(left=0.2, right=0.97, top=0.92, bottom=0.36, wspace=0.08)
    return fig


# Kaplan-Meier and cumulative-incidence figures live in curves.py (they import this module's style)
from compendium.report.curves import cif_plot, km_plot, risk_counts  # noqa: E402,F401
