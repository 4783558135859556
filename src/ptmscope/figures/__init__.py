"""Publication figures, one module per figure; all share :mod:`._style`."""
