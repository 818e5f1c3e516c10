"""Turning results into what instructors, students and LMSs read.

The results model knows no formats; each writer here knows one.
"""
