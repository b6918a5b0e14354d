"""One colour per group everywhere (issue 17, part 6): a level of a factor is drawn in the same colour in
every figure, the colour of its place among the specification's declared levels."""

from __future__ import annotations

from types import SimpleNamespace

import matplotlib.colors as mcolors
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compendium.chapters import base, descriptives, multivariable, survival
from compendium.report.plots import OKABE_ITO


def _line_colours(fig) -> dict[str, str]:
    """Legend text (up to the first bracket) -> colour of the curve, for the Kaplan-Meier panel."""
    ax = fig.axes[0]
    return {line.get_label().split(" (")[0]: mcolors.to_hex(line.get_color())
            for line in ax.get_lines() if not line.get_label().startswith("_")}


@pytest.fixture(scope="module")
def ctx():
    return base.Context.for_run()


def test_a_response_group_has_one_colour_in_figure_2_the_landmark_plot_and_the_baseline_figure(ctx):
    surv = survival.compute(ctx)
    multi = multivariable.compute(ctx)
    desc = descriptives.compute(ctx)
    fig2 = _line_colours(surv.figures["fig2a_pfs_by_vgpr"])
    landmark = _line_colours(next(f for name, f in multi.figures.items() if name.startswith("fig_landmark_")))
    legend = desc.figures["02_baseline_by_response"].legends[0]
    baseline = {t.get_text(): mcolors.to_hex(h.get_edgecolor(), keep_alpha=False)  # boxes: a lighter fill, this edge
                for t, h in zip(legend.get_texts(), legend.legend_handles)}
    factor = ctx.spec.factor("vgpr_or_better")
    first, second = (label for _, label in factor.levels)
    assert fig2[first] == landmark[first] == OKABE_ITO[0].lower()
    assert fig2[second] == landmark[second] == OKABE_ITO[1].lower()
    assert baseline[first] == OKABE_ITO[0].lower() and baseline[second] == OKABE_ITO[1].lower()


@settings(max_examples=50, derandomize=True)
@given(st.permutations(["1", "0", "2"]), st.lists(st.sampled_from([0, 1, 2, 3]), min_size=1, max_size=8, unique=True))
def test_values_are_drawn_in_the_declared_order(declared, values):
    factor = SimpleNamespace(levels=[(code, f"level {code}") for code in declared])
    order = base.declared_order(values, factor)
    assert sorted(order) == sorted(values)
    ranks = [declared.index(str(v)) if str(v) in declared else len(declared) for v in order]
    assert ranks == sorted(ranks), "declared levels first, in their declared order; undeclared after"


def test_footers_give_the_n_a_figure_used(ctx):
    """A model's figure says at its foot the patients and events the model used, not only the cohort's n."""
    import io

    import numpy as np
    from PIL import Image

    from compendium.report import plots
    from compendium.stats import survival as sv

    data = ctx.analysis.copy()
    data.loc[data.index[:10], "bm_pc_pct_relapse"] = np.nan  # a covariate missing for some: fewer in the model
    fit = sv.cox_fit(data, "pfs", ["vgpr_or_better", "bm_pc_pct_relapse"])
    assert fit.n < len(data)
    png, _ = plots.render(plots.zph_plot_r(fit), ctx.provenance)
    source = Image.open(io.BytesIO(png)).text["Source"]
    assert source.startswith(ctx.provenance) and f"model: n = {fit.n}, {fit.events} events" in source
    curve = plots.km_plot(data.iloc[:40], "pfs")
    assert f"curves: n = {len(data.iloc[:40].dropna(subset=['pfs_months', 'pfs_event']))}" in \
        Image.open(io.BytesIO(plots.render(curve, ctx.provenance)[0])).text["Source"]
