"""course_lib: tested reference implementations and widgets for the course notebooks.

The shared helpers live in three modules that every chapter uses:

* :mod:`course_lib.runtime`  -- device choice, seeding, fast/full mode and sizes;
* :mod:`course_lib.checks`   -- exercise checker and derivation-check assertions;
* :mod:`course_lib.plotting` -- the one figure style; plot functions return Figures.

Each chapter has its own subpackage (``course_lib.randomwalk`` for Chapter 01, ...).
"""

__version__ = "0.1.0"
