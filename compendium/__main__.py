"""``python -m compendium run [--data PATH] [--out DIR] [--only NN ...]``."""

import sys

from .runner import main

sys.exit(main())
