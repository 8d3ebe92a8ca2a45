"""Evaluation: metrics, plots and diagnostics."""
