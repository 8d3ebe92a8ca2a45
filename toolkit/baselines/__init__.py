"""Baselines every run computes beside its network, fitted on the training split only: classical classifiers, a Ridge forecaster, Kneser–Ney n-grams."""
