"""``python -m compendium run [--data PATH] [--out DIR] [--only NN ...]``."""

import sys

if sys.argv[1:2] == ["run"]:
    from pathlib import Path

    from compendium.run import zygote  # the standard library only: its warm process imports while the runner loads

    zygote.start_early(Path(__file__).resolve().parent.parent / "notebooks")

from compendium.run.runner import main  # noqa: E402

sys.exit(main())
