"""Commands for the CRM, run as ``flask --app portal crm <command>``."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from portal.crm import get_crm
from portal.crm.base import CrmError
from portal.crm.importing import ImportFileError, ImportKind, import_records
from portal.crm.salesforce import SalesforceCrm
from portal.crm.salesforce.check import check_org

crm_group = AppGroup("crm", help="Work with the CRM: import records, check an org.")


@crm_group.command("import")
@click.argument(
    "file", type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path)
)
@click.option(
    "--kind",
    required=True,
    type=click.Choice([kind.value for kind in ImportKind]),
    help="What the file's rows are.",
)
def import_command(file: Path, kind: str) -> None:
    """Import a Salesforce report export (CSV).

    FILE's rows go into the built-in CRM. Rows that cannot be imported are listed
    with their line and the reason; the others are kept. Values too long for the CRM
    are cut at a word boundary.
    """
    import_kind = ImportKind(kind)
    name = click.format_filename(file)
    try:
        # utf-8-sig: Salesforce and Excel start UTF-8 exports with a byte-order mark.
        with file.open(encoding="utf-8-sig", newline="") as stream:
            result = import_records(stream, import_kind, source=name)
    except ImportFileError as error:
        raise click.ClickException(f"{name}: {error.message}") from error
    except OSError as error:
        raise click.ClickException(f"Cannot read {name}: {error.strerror}.") from error

    summary = f"Imported {import_kind.count(result.taken)} from {name}"
    if result.refused:
        click.echo(f"{summary}; refused {len(result.refused)}:")
        for refusal in result.refused:
            click.echo(f"  {refusal}")
    else:
        click.echo(f"{summary}.")
    if result.notes:
        click.echo("Values cut to fit the CRM:")
        for note in result.notes:
            click.echo(f"  {note}")
    if result.ignored_columns:
        click.echo(f"Columns ignored: {', '.join(result.ignored_columns)}.")
    if result.skipped:
        click.echo(f"Blank and footer lines skipped: {result.skipped}.")


@crm_group.command("check")
def check_command() -> None:
    """Check that the CRM has what the forms and actions need.

    Signs in, reads the org's limits, and lists each object permission, field,
    task status and campaign member status used here that the org lacks. Exits
    with status 1 when something is missing.
    """
    crm = get_crm()
    if not isinstance(crm, SalesforceCrm):
        click.echo(f"The {crm.name} has everything the portal needs.")
        return
    missing = 0
    try:
        for finding in check_org(crm):
            mark = "MISSING" if finding.is_missing else "ok"
            click.echo(f"{mark:8} {finding.text}")
            missing += finding.is_missing
    except CrmError as error:
        raise click.ClickException(str(error)) from error
    if missing:
        raise click.ClickException(
            f"{missing} thing{'s' if missing != 1 else ''} the portal needs "
            "missing in Salesforce."
        )
    click.echo("Salesforce has everything the configured forms and actions need.")
