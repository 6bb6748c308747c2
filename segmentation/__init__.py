"""Segment Studio's library: load customers, represent them, segment them, explain and export.

The library never imports streamlit; the app and the CLI are thin layers over it.
"""

__version__ = "0.1.0"
