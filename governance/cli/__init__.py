"""The ``govern`` command line: ``app`` (typer), ``main`` (the entry point)."""

from governance.cli.app import app, main

__all__ = ["app", "main"]
