"""Model builders shared by the pipelines."""
