"""The ``govern`` command line."""
