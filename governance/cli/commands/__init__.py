"""One module per command group of ``govern``."""
