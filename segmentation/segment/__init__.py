"""Clustering algorithms behind one registry."""
