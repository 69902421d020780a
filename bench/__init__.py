"""Benchmarks: ``python -m bench [section ...]`` (``make bench``).

Every module ``bench/<section>.py`` that defines ``run() -> dict`` is a section. ``run`` is
called in the parent process, without Django; it measures in child processes, each against
a database of its own (``harness.in_database``), so sections never share state and the
settings see ``DATABASE_URL``/``LEADPACT_DB`` before Django starts. The results are merged
into one JSON object keyed by section, plus ``meta``, printed and written to
``.bench/latest.json``. Benchmarks are measured, not tested: nothing here asserts a timing.
"""
