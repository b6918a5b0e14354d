"""Chapter 00 (the synthetic cohort) as a chapter: what it computes, and that its tables read as tables."""

from __future__ import annotations

import pytest

from compendium import synthetic
from compendium.chapters import generator
from compendium.report import display
from test_site_tables import offences

from compendium.data import rules


@pytest.fixture(scope="module")
def ch():
    return generator.compute(big_n=500)


def test_the_generator_chapter_checks_what_notebook_00_says(ch):
    assert ch.facts["identical"] and ch.facts["meta_identical"], "the committed cohort is what the seeds give"
    assert ch.facts["counts_exact"] and ch.facts["ae_exact"]
    constructed = ch.table("constructed")
    assert (constructed["target"] == constructed["generated"]).all()
    # every printed count the generator lays down is checked (a variable dropped would go unnoticed)
    from compendium import paths
    from compendium.data import loading
    columns = set(loading.read_text_table(paths.SYNTHETIC_COHORT).columns)
    wanted = {generator.COLUMN_OF.get(v, v) for v, c in synthetic.COUNTS.items() if isinstance(c, dict)} & columns
    assert wanted and wanted <= set(constructed["covariate"])
    table = ch.table("rules")
    assert len(table) == ch.facts["rules"] == len(rules.RULES)
    assert ch.facts["breaches"] == int(table.iloc[:, 1:].to_numpy().sum())
    assert ch.facts["breaches"] == 0 and ch.facts["broken_rules"] == 0, "every rule holds in both cohorts"
    assert "generated cohort (500)" in ch.table("rules").columns
    quantiles = ch.table("quantiles")
    assert set(quantiles["what"]) == {"target", "generated"} and len(quantiles) == 2 * len(synthetic.QUANTILES)


def test_a_broken_count_is_reported(monkeypatch):
    counts = {k: dict(v) if isinstance(v, dict) else v for k, v in synthetic.COUNTS.items()}
    counts["sex"] = {level: n + 1 for level, n in counts["sex"].items()}
    monkeypatch.setattr(synthetic, "COUNTS", counts)
    ch = generator.GeneratorChapter()
    from compendium import paths
    from compendium.data import loading
    generator._constructed(ch, loading.typed(loading.read_text_table(paths.SYNTHETIC_COHORT)))
    assert not ch.facts["counts_exact"]


def test_every_table_of_notebook_00_reads_as_a_table(ch):
    for name, frame in ch.shown.items():
        html = display.table(frame, title=name).html()
        assert offences(html) == [], (name, offences(html)[:5])
