"""Learnt parameters shipped with the package (JSON). Written by ``benchmarks/learn_oscd.py``; never edit by hand."""
