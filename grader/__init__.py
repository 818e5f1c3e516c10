"""Automated grader and self-checker for math-heavy deep-learning homework."""

__version__ = "0.1.0"
