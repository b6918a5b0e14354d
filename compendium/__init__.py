"""Helper package of the DaraVd compendium (Rizzello et al., Ann Hematol 2025).

Notebooks call these modules, show their results and explain them; all logic
lives here, with its own tests under ``tests/``.
"""

__version__ = "0.1.0"
