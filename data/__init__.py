"""Data the project ships: the bundled study (``data/studies/``)."""
