"""Benchmarks: `crm bench NAME [--scale N] [--db-url URL] [--keep]` runs `bench/<name>.py`'s `run()`.

Each benchmark measures, in the same run, the figure and the raw database floor, and prints one JSON line
per figure on stdout (see bench/common.py and bench/README.md); everything else goes to stderr.
"""
