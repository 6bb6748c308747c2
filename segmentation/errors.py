"""One exception family. Messages are written for the analyst: say what is wrong and what to do."""

from __future__ import annotations


class SegmentationError(Exception):
    """Base class for every error the library raises on purpose.

    Pages and the CLI show ``str(error)`` to the user; anything that is not a
    ``SegmentationError`` is a bug.
    """


class DataError(SegmentationError):
    """The input data cannot be used as it is (unreadable file, no usable column, ...)."""


class ConfigError(SegmentationError):
    """A setting is outside its allowed range or does not fit the data."""


class ModelFileError(SegmentationError):
    """A saved segmentation model is damaged, foreign or does not fit the new data."""


class WorkspaceError(SegmentationError):
    """The local workspace (projects, runs) cannot be read or written."""
