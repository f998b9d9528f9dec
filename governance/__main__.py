"""``python -m governance`` is the ``govern`` command."""

from governance.cli.app import main

if __name__ == "__main__":
    main()
