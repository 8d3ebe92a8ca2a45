"""Datasets: loaders for real data and generators for synthetic tasks."""
