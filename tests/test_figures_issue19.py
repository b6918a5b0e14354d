"""Issue 19 part 3: the events table under the Kaplan-Meier curves, the competing-risks band and
numbers at risk, and the seaborn figures; all deterministic, in the one figure style."""

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from compendium import paths
from compendium.chapters.base import Context
from compendium.data import spec as specs
from compendium.report import claims, plots, seaborn_figures

CTX = Context.for_run(None, None)
RESULTS = paths.Paths.for_run(None).results


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 60), st.booleans()), min_size=1, max_size=40),
       st.lists(st.floats(0, 60), min_size=1, max_size=6))
def test_at_risk_events_and_censored_account_for_every_patient(follow, ticks):
    time, event = np.array([t for t, _ in follow]), np.array([int(e) for _, e in follow])
    counts = plots.risk_counts(time, event, sorted(ticks))
    for row in counts.itertuples():
        # at risk at x (time >= x) + gone before x = everyone; events and censored up to x include ties at x
        ties = int((time == row.time).sum())
        assert row.at_risk + row.events + row.censored - ties == len(time)
    assert counts["events"].is_monotonic_increasing and counts["censored"].is_monotonic_increasing


def test_the_specification_turns_the_events_table_on_for_figures_1_and_2():
    spec = specs.load()
    assert {f.id for f in spec.figures if f.events_table} == {"fig1a_pfs", "fig1b_os", "fig2a_pfs_by_vgpr",
                                                             "fig2b_os_by_vgpr"}


def test_the_events_table_adds_rows_and_changes_nothing_when_off():
    a = CTX.analysis
    off = plots.km_plot(a, "pfs", "vgpr_or_better", order=[1, 0])
    on = plots.km_plot(a, "pfs", "vgpr_or_better", order=[1, 0], events_table=True)
    assert on.get_size_inches()[1] > off.get_size_inches()[1]
    texts = [t.get_text() for ax in on.axes for t in ax.texts] + [t.get_text() for t in on.texts]
    assert "Cumulative events (censored)" in texts
    assert plots.render(off, "x") == plots.render(plots.km_plot(a, "pfs", "vgpr_or_better", order=[1, 0]), "x")


def test_the_competing_risks_figure_has_bands_and_numbers_at_risk():
    fig = plots.cif_plot(CTX.analysis)
    curves = [ax for ax in fig.axes if ax.get_ylabel() == "Cumulative incidence"]
    assert len(curves) == 2 and all(ax.collections for ax in curves)  # the shaded bands
    risk = [ax for ax in fig.axes if ax.get_title(loc="left") == "Number at risk"]
    assert len(risk) == 2 and risk[0].texts[0].get_text() == str(len(CTX.analysis))


def test_seaborn_figures_are_deterministic_and_say_when_nothing_can_be_drawn():
    a = CTX.analysis
    t6, table = pd.read_csv(RESULTS / "table6.csv"), pd.read_csv(RESULTS / "claims.csv")
    registry = claims.load_registry()
    for make in (lambda: seaborn_figures.baseline_distributions(a, labels={1: "≥VGPR", 0: "<VGPR"}),
                 lambda: seaborn_figures.adverse_events_by_grade(t6),
                 lambda: seaborn_figures.paper_against_compendium(table, registry)):
        assert plots.render(make(), "x") == plots.render(make(), "x")
    empty = seaborn_figures.baseline_distributions(a.assign(vgpr_or_better=np.nan))
    assert any("Nothing to draw" in t.get_text() for ax in empty.axes for t in ax.texts)
    bars = seaborn_figures.adverse_events_by_grade(t6)
    widths = sum(p.get_width() for p in bars.axes[0].patches)
    assert widths == t6[t6["row"].str.fullmatch(r"g\d+")]["n"].sum()


@settings(max_examples=15, deadline=None, derandomize=True, database=None)
@given(sizes=st.lists(st.integers(1, 700), min_size=1, max_size=3), at_most=st.integers(1, 400))
def test_the_strip_sample_keeps_small_groups_whole_and_caps_large_ones(sizes, at_most):
    part = pd.DataFrame({"g": np.repeat([f"g{i}" for i in range(len(sizes))], sizes), "v": np.arange(sum(sizes))})
    drawn = seaborn_figures.strip_sample(part, "g", at_most)
    for i, size in enumerate(sizes):
        mine = drawn[drawn["g"] == f"g{i}"]
        assert len(mine) == min(size, at_most)
        assert mine["v"].is_unique and mine["v"].isin(part.loc[part["g"] == f"g{i}", "v"]).all()
    pd.testing.assert_frame_equal(drawn, seaborn_figures.strip_sample(part, "g", at_most))  # seeded


def test_a_registry_sized_group_is_boxed_whole_and_drawn_as_a_labelled_sample():
    rng = np.random.default_rng(3)
    big = CTX.analysis.sample(4000, replace=True, random_state=1).reset_index(drop=True)
    big["age_years"] = rng.normal(68, 8, len(big))
    fig = seaborn_figures.baseline_distributions(big, labels={1: "≥VGPR", 0: "<VGPR"})
    ax = fig.axes[[a.get_title() for a in fig.axes].index(next(t for c, t in seaborn_figures.BASELINE
                                                                   if c == "age_years"))]
    points = sum(len(c.get_offsets()) for c in ax.collections if len(c.get_offsets()) > 0)
    known = big["vgpr_or_better"].value_counts(dropna=False)
    assert points == sum(min(n, seaborn_figures.STRIP_MAX) for n in known)
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert all("drawn)" in t for t in ticks), ticks
    assert {int(t.split("\n")[0].removeprefix("n = ")) for t in ticks} == set(known.tolist())
    # the boxes summarise every patient of the group, not the drawn sample
    levels = [y[0] for y in (np.asarray(line.get_ydata(), float) for line in ax.lines) if len(y) == 2 and y[0] == y[1]]
    for _, g in big.groupby(big["vgpr_or_better"].fillna(-1)):
        assert np.isclose(levels, g["age_years"].median()).any()
