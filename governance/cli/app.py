"""The ``govern`` command: a thin layer over the services.

Every command that reports something takes ``--json`` and then prints exactly one
JSON document on stdout; progress and messages go to stderr. Errors the user can fix
(usage errors included) print one line and exit 2; ``govern audit verify`` exits 1 when
the log was altered. Messages are printed as text, never as console markup.
"""

from __future__ import annotations

import os
import sys

import typer
from pydantic import ValidationError
from rich.markup import escape

from governance.cli.commands import audit, datasets, decisions, misc, runs
from governance.cli.output import emit_json, err
from governance.core.errors import GovernanceError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Privacy-aware governance for synthetic tabular data.")
app.add_typer(datasets.app, name="datasets")
app.add_typer(audit.app, name="audit")
app.command("lineage")(audit.lineage_cmd)
runs.register(app)
decisions.register(app)
misc.register(app)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app, turning domain errors into one line and exit code 2.

    Args:
        argv: the arguments after the program name; ``sys.argv[1:]`` when omitted.
    """
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        code = app(args=args, prog_name="govern", standalone_mode=False)
        sys.exit(code if isinstance(code, int) else 0)
    except GovernanceError as exc:
        err.print(f"[red]error:[/] {escape(exc.message)}")
        if "--json" in args:
            emit_json({"error": {"code": exc.code, "message": exc.message}})
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        err.print("aborted")
        sys.exit(130)
    except typer.TyperException as exc:  # usage errors (unknown command, bad option)
        err.print(f"[red]error:[/] {escape(exc.format_message())} (see 'govern --help')")
        sys.exit(2)
    except Exception as exc:
        if isinstance(exc, ValidationError) and exc.title == "Settings":  # the operator's fix
            problems = "; ".join(str(e["msg"]).removeprefix("Value error, ")
                                 for e in exc.errors())
            err.print(f"[red]error:[/] invalid settings: {escape(problems)}")
            sys.exit(2)
        if os.environ.get("GOVERNANCE_DEBUG"):
            raise
        err.print(f"[red]internal error:[/] {type(exc).__name__}: {escape(str(exc))} (this is "
                  "a bug; rerun with GOVERNANCE_DEBUG=1 for the traceback and report it)")
        sys.exit(1)
