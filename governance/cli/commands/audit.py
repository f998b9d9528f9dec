"""``govern audit`` and ``govern lineage``: verify, checkpoint, export, trace."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from governance.cli.common import open_governance
from governance.cli.output import JsonOpt, emit_json, err, fmt, out
from governance.core.config import get_settings
from governance.core.errors import InputError
from governance.services import audit
from governance.services.bundles import export_bundle
from governance.services.lineage import lineage
from governance.services.signing import read_verifier

app = typer.Typer(no_args_is_help=True, help="Verify and export the audit log.")


def _read_text(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the {what} {path}: {exc}") from None


PubkeyOpt = Annotated[Path | None, typer.Option(
    "--pubkey", help="Verifier key file to trust (default: this installation's key).")]


@app.command("verify")
def audit_verify(
    checkpoint: Annotated[Path | None, typer.Option(help="Signed checkpoint file.")] = None,
    bundle: Annotated[Path | None, typer.Option(help="Verify an exported bundle offline.")] = None,
    pubkey: PubkeyOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Verify the hash chain (or a bundle); exit 1 naming the first problem."""
    verifier = read_verifier(pubkey) if pubkey is not None else None
    if bundle is not None:
        doc = audit.check_bundle(get_settings(), bundle, verifier=verifier).as_dict()
    else:
        note = _read_text(checkpoint, "checkpoint") if checkpoint is not None else None
        doc = audit.verify(open_governance(), checkpoint=note, verifier=verifier).as_dict()
        if checkpoint is not None:
            doc["checkpoint"] = str(checkpoint)
    if json_:
        emit_json(doc)
    elif doc["ok"]:
        out.print(f"audit log intact: {doc.get('checked', '')} events verified"
                  if bundle is None else
                  f"bundle {bundle} verifies: {doc['events']} events of a signed log of "
                  f"{doc['tree_size']}, key {doc['key']}")
    else:
        msg = doc.get("reason") or "; ".join(doc.get("problems", []))
        err.print(f"audit verification FAILED: {msg}", markup=False)
    raise typer.Exit(0 if doc["ok"] else 1)


@app.command("checkpoint")
def audit_checkpoint(out_file: Annotated[Path, typer.Option("--out", help="Where to write it.")],
                     json_: JsonOpt = False) -> None:
    """Write a signed checkpoint (C2SP signed note) of the log; keep it elsewhere."""
    note = audit.write_checkpoint(open_governance())
    out_file.write_text(note, encoding="utf-8")
    size = int(note.split("\n")[1])
    if json_:
        emit_json({"checkpoint": note, "tree_size": size, "file": str(out_file)})
    else:
        out.print(f"checkpoint of {size} events -> {out_file}")


@app.command("pubkey")
def audit_pubkey(out_file: Annotated[Path | None, typer.Option(
                     "--out", help="Also write the verifier key to this file.")] = None,
                 json_: JsonOpt = False) -> None:
    """Print the installation's public audit key (a note verifier key; created on first use)."""
    key = audit.public_key(open_governance())
    if out_file is not None:
        out_file.write_text(key.verifier_key + "\n", encoding="utf-8")
    emit_json(key) if json_ else out.print(key.verifier_key, markup=False, soft_wrap=True)


@app.command("export")
def audit_export(ref: Annotated[str, typer.Argument(help="Release, candidate or run id.")],
                 out_dir: Annotated[Path | None,
                                    typer.Option("--out", help="Bundle folder.")] = None,
                 json_: JsonOpt = False) -> None:
    """Write a signed audit bundle to audits/<id>/."""
    path = export_bundle(open_governance(), ref, out_dir=out_dir)
    emit_json({"bundle": str(path)}) if json_ else out.print(f"audit bundle: {path}")


def lineage_cmd(ref: Annotated[str, typer.Argument(help="Release, candidate, run or dataset id.")],
                json_: JsonOpt = False) -> None:
    """Trace an object back to its source table, policy and generator."""
    gov = open_governance()
    with gov.session() as s:
        doc = lineage(s, ref)
    if json_:
        emit_json(doc)
        return
    ds = doc.dataset
    out.print(f"source  {ds.source_filename} sha256={ds.source_sha256} ({ds.n_rows} rows)")
    out.print(f"split   seed={ds.split.seed} sha256={ds.split.sha256}")
    if doc.run is not None and doc.policy is not None:
        out.print(f"policy  {doc.policy.name} sha256={doc.policy.sha256}")
        out.print(f"run     {doc.run.id} seed={doc.run.seed} by {doc.run.requested_by}")
    if doc.candidate is not None:
        c = doc.candidate
        out.print(f"cand    {c.id} {c.generator} seed={c.seed} ε spent={fmt(c.epsilon_spent)} "
                  f"artifact sha256={c.artifact_sha256}")
        for d in doc.decisions or []:
            out.print(f"        {d.decision} by {d.actor} ({d.role})")
    if doc.release is not None:
        out.print(f"release {doc.release.id} {doc.release.status}")
    out.print(f"events  {len(doc.events)} ({len(doc.access)} accesses)")
