"""Benchmarks of the audit paths: ``python -m bench`` (``make bench``) times them and writes JSON under var/bench/.

A small, extensible start (issue 4's "Must hold" figures): each module exposes ``run(...)`` returning a list of
:class:`bench.report.Measurement`; :mod:`bench.__main__` collects them, prints a table and writes the JSON.
Performance is measured here, never asserted in the test suite.
"""
