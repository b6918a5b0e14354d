"""One computation per notebook: the dataset and the specification in, everything the notebook
shows out (tables, figures, claim values, the facts its prose needs). ``setup`` is every
notebook's first line.
"""

from compendium.chapters.base import Context, Estimate, setup  # noqa: F401
