"""Performance harness for phhub-keys: figures measured against baselines in the same run.

Run ``python -m benchmarks`` (full sizes, a few minutes on a 2-core machine) or
``python -m benchmarks --quick`` (tiny sizes, for the smoke test). Benchmarks
are not tests: nothing here asserts a timing; the table states each verdict.
"""
