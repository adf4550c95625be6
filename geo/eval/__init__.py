"""Evaluation of the change methods against labelled data (OSCD)."""
