"""Work on finished results: automatic search, stability, comparison, diagnostics, curation."""
