"""Turning customers into vectors: structured features, text embeddings, reduction."""
