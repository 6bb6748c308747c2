"""The command line: `python -m segmentation COMMAND`."""
