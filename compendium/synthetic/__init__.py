"""The synthetic generator: a producer of data beside the pipeline. Nothing in the pipeline imports it.

The study's patient-level data (Zenodo, doi 10.5281/zenodo.16091434) cannot be fetched here, so
the compendium ships 85 made-up patients in the raw format of ``data/dictionary.csv``. It is NOT
patient data. The cohort is built in three layers, one module each:

1. ``baseline``: the **constructed** marginals, every count the paper prints, laid down exactly
   (``events``: the adverse events and treatment modifications, likewise);
2. the **assumed joint structure** where the paper is silent (``baseline.ASSUMPTIONS``);
3. ``courses``: **histories from a multi-state model** (``multistate``): the course by the
   cut-off fixed by the printed counts, the times drawn within it, and a search over the draws
   (``calibration``) that brings the survival estimates to the paper's.

``seeds`` holds every seed and date; ``cohort.generate()`` is the default cohort, byte for byte;
``cohorts.generate_any(n, seed)`` draws any N from the same model; ``truth`` and ``simulation``
are the generator's known truth and its response analyses over 200 cohorts; ``write`` writes the
committed files of ``data/synthetic/`` (with the cohort's provenance, ``*.meta.json``, which the
analyses read instead of importing this package) and is ``python -m compendium synthetic``.
"""

from compendium.synthetic import multistate  # noqa: F401
from compendium.synthetic.baseline import (AE_GRADES, ASSUMPTIONS, CENTER_SIZES, COUNTS, PN_OUTCOME,  # noqa: F401
                                           QUANTILES, anchored_sample, construct_baseline, model_covariates)
from compendium.synthetic.calibration import (HR_BOUND, MEDIAN_BOUND, MEDIAN_CLAIMS, achieved,  # noqa: F401
                                              analysis_covariates, calibrated_state, calibration_loss,
                                              calibration_report, calibration_targets, estimates, search,
                                              search_chain,
                                              within_bounds)
from compendium.synthetic.cohort import generate  # noqa: F401
from compendium.synthetic.cohorts import baseline_any, free_histories, generate_any, write_any  # noqa: F401
from compendium.synthetic.courses import (COURSES, SEARCH_FILE, TIME_KEYS, CourseState, admin_months,  # noqa: F401
                                          endpoint_times, history, initial_state, load_state, save_state,
                                          start_dates)
from compendium.synthetic.rawformat import assemble_raw, fast_csv_text, to_csv_text  # noqa: F401
from compendium.synthetic.seeds import (ACCRUAL, ANY_N_SEED, CONSTRUCTION_SEED, DATA_CUTOFF, MONTH_DAYS, N,  # noqa: F401
                                        OUTCOME_SEED, POLISH_STEPS, SEARCH_CHAINS, SEARCH_STEPS, SIMULATION, TRUTH_N,
                                        TRUTH_SEED)
from compendium.synthetic.simulation import (SIMULATION_FILE, bias_and_coverage, read_simulation,  # noqa: F401
                                             response_simulation, write_simulation)
from compendium.synthetic.truth import TRUTH_FILE, read_truth, truth, write_truth  # noqa: F401
from compendium.synthetic.write import META_FILE, meta, meta_text, rerun_search, write, write_cli, write_meta  # noqa: F401
