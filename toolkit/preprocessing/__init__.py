"""Preprocessing layers that live inside exported models."""
