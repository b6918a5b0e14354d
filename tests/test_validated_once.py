"""The input validated once per run (issue 20, part 3): the typed frame the runner stores is the frame
validation gives, cell for cell and dtype for dtype; it is found only for the same input, mapping,
dictionary and code; a damaged store is validated again; the store holds nothing that runs code."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compendium import paths
from compendium.data import loading, validated


@pytest.fixture(scope="module")
def raw():
    return loading.load_raw(paths.SYNTHETIC_COHORT)


def test_the_stored_frame_is_the_validated_frame(raw, tmp_path):
    where = validated.location(tmp_path, raw.sha256, None)
    validated.save(raw.frame, raw.notices, where)
    frame, notices = validated.load(where)
    pd.testing.assert_frame_equal(frame, raw.frame, check_exact=True)
    assert notices == raw.notices
    with np.load(where, allow_pickle=False) as store:  # readable without unpickling anything
        assert all(store[name].dtype != object for name in store.files)


def test_load_raw_reads_the_store_back_only_for_the_same_input(raw, tmp_path, synthetic_text, write_csv):
    where = validated.location(tmp_path, raw.sha256, None)
    marked = raw.frame.assign(creatinine_mg_dl=raw.frame["creatinine_mg_dl"] + 1000)  # a frame validation would never give
    validated.save(marked, raw.notices, where)
    reused = loading.load_raw(paths.SYNTHETIC_COHORT, reuse=tmp_path)
    assert (reused.frame["creatinine_mg_dl"].dropna() >= 1000).all(), "the stored frame is what is read back"
    assert reused.sha256 == raw.sha256
    # another input (one patient's creatinine changed) has another key: it is validated, not read back
    edited = synthetic_text.copy()
    edited.loc[0, "creatinine_mg_dl"] = "1.1" if edited.loc[0, "creatinine_mg_dl"] != "1.1" else "1.2"
    other = loading.load_raw(write_csv(edited), reuse=tmp_path)
    assert (other.frame["creatinine_mg_dl"].dropna() < 1000).all()
    assert validated.location(tmp_path, other.sha256, None) != where


def test_a_damaged_store_is_validated_again(raw, tmp_path, capsys):
    where = validated.location(tmp_path, raw.sha256, None)
    where.parent.mkdir(parents=True)
    where.write_bytes(b"PK\x03\x04 not an archive")
    again = loading.load_raw(paths.SYNTHETIC_COHORT, reuse=tmp_path)
    pd.testing.assert_frame_equal(again.frame, raw.frame)
    assert "could not be read" in capsys.readouterr().err


def test_the_key_names_the_mapping_the_dictionary_and_the_code(raw, tmp_path):
    mapping = tmp_path / "m.toml"
    mapping.write_text("[columns]\n")
    keys = {validated.key(raw.sha256, None), validated.key(raw.sha256, mapping), validated.key("0" * 64, None)}
    mapping.write_text("[columns]\npatient_id = 'ID'\n")
    keys.add(validated.key(raw.sha256, mapping))
    assert len(keys) == 4
    assert set(validated.MODULES) >= {"compendium/data/inputs.py", "compendium/data/loading.py"}
    assert all((paths.ROOT / m).exists() for m in validated.MODULES), "a module renamed would drop out of the key"


@settings(max_examples=40, derandomize=True, deadline=None)
@given(rows=st.lists(st.tuples(st.one_of(st.none(), st.floats(-1e6, 1e6)), st.one_of(st.none(), st.integers(-5, 5)),
                          st.one_of(st.none(), st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31)).map(str)), st.one_of(st.none(), st.text(max_size=6))),
                min_size=1, max_size=20))
def test_every_dtype_and_missing_value_survives_the_store(rows, tmp_path_factory):
    number, integer, date, text = zip(*rows)
    frame = pd.DataFrame({"n": pd.Series(number, dtype=float), "i": pd.Series(integer, dtype="Int64"),
                          "d": pd.to_datetime(pd.Series(date, dtype=object)), "t": pd.Series(text, dtype="string")})
    where = tmp_path_factory.mktemp("store") / "validated-x.npz"
    if not validated.save(frame, ("a notice",), where):
        assert any(t and t.endswith("\0") for t in text) and not where.exists()
        return
    back, notices = validated.load(where)
    pd.testing.assert_frame_equal(back, frame, check_exact=True)
    assert notices == ("a notice",)


def test_the_runner_hands_notebook_01_the_frame_it_validated(monkeypatch, tmp_path):
    from compendium.run import runner

    seen = {}

    def execute(nb, data, staging, shown, progress=False, warm=None):
        if nb.key == "01":
            stores = list((staging.out / validated.CACHE_DIR).glob("validated-*.npz"))
            seen["stores"] = stores
            # what notebook 01's setup line does with its out_dir: the stored frame, not a second validation
            with monkeypatch.context() as patch:
                patch.setattr(loading, "validate_text", lambda *a, **k: pytest.fail("validated twice"))
                seen["raw"] = loading.load_raw(paths.SYNTHETIC_COHORT, reuse=staging.out)
        raise runner.RunError("stop here")

    monkeypatch.setattr(runner, "execute", execute)
    with pytest.raises(runner.RunError):
        runner.run(str(paths.SYNTHETIC_COHORT), str(tmp_path / "out"), only=["01"], progress=False)
    assert len(seen["stores"]) == 1
    pd.testing.assert_frame_equal(seen["raw"].frame, loading.load_raw(paths.SYNTHETIC_COHORT).frame)
    assert not (tmp_path / "out").exists(), "the store goes with the failed run's staging folder"
