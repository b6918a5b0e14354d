"""``python -m compendium.synthetic [STEPS [SEED [STATE_FILE]]]``: redo the calibration search."""

import sys

from compendium.synthetic import OUTCOME_SEED, SEARCH_STEPS, rerun_search

args = sys.argv[1:]
rerun_search(int(args[0]) if args else SEARCH_STEPS, int(args[1]) if len(args) > 1 else OUTCOME_SEED,
             args[2] if len(args) > 2 else None)
