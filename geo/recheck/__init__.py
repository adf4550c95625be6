"""Scheduled re-checks: only new scenes are processed, results accumulate in a store (``geo.store``)."""
