"""The local workspace: projects, datasets and runs on disk."""
