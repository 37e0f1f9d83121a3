"""``rpa validate``, ``rpa schema``, ``rpa skills``."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from orchestrator.cli.common import err, out, print_json
from orchestrator.registry import SkillRegistry
from orchestrator.spec.diagnostics import Diagnostic


def _registry() -> SkillRegistry:
    return SkillRegistry.from_entry_points()


def validate_paths(paths: list[Path], registry: SkillRegistry) -> dict[str, list[Diagnostic]]:
    """Diagnostics per file; folders are walked for *.yaml / *.yml."""
    from orchestrator.spec.kinds import validate_any_file

    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.suffix in {".yaml", ".yml"}))
        else:
            files.append(path)
    return {str(f): validate_any_file(f, registry) for f in files}


def register(app: typer.Typer) -> None:
    @app.command("validate")
    def validate(
        paths: list[Path] = typer.Argument(..., help="Workflow or bot files (or folders of them)."),
        as_json: bool = typer.Option(False, "--json", help="Print diagnostics as JSON."),
    ) -> None:
        """Check workflow and bot files: structure, skills, arguments, expressions (all problems at once)."""
        registry = _registry()
        results = validate_paths(paths, registry)
        problems = sum(len(d) for d in results.values())
        if as_json:
            print_json({f: [d.to_dict() for d in ds] for f, ds in results.items()})
        else:
            for diagnostics in results.values():
                for diagnostic in diagnostics:
                    out.print(str(diagnostic), markup=False)
            for failure in registry.failures:
                err.print(f"warning: {failure}", markup=False)
            ok = sum(1 for ds in results.values() if not ds)
            err.print(f"{len(results)} file(s) checked, {ok} valid, {problems} problem(s)", markup=False)
        if problems or not results:
            raise typer.Exit(1)

    @app.command("schema")
    def schema(
        kind: str = typer.Argument(..., help="workflow or bot"),
        output: Path | None = typer.Option(
            None, "-o", "--output", help="Write to this file instead of stdout."
        ),
    ) -> None:
        """Print the JSON Schema (Draft 2020-12) of workflow or bot files, for editors."""
        from orchestrator.spec.kinds import schema_for

        text = json.dumps(schema_for(kind, _registry()), indent=2, ensure_ascii=False, sort_keys=True) + "\n"
        if output is None:
            typer.echo(text, nl=False)
        else:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(text, encoding="utf-8")
            err.print(f"wrote {output}", markup=False)

    skills_app = typer.Typer(help="List and describe registered skills.", invoke_without_command=True)

    @skills_app.callback()
    def skills_default(ctx: typer.Context, as_json: bool = typer.Option(False, "--json")) -> None:
        """List the registered skills with capability, effect and a one-line description."""
        if ctx.invoked_subcommand is not None:
            return
        registry = _registry()
        if as_json:
            print_json(
                {
                    "skills": [
                        {
                            "id": s.id,
                            "capability": s.capability.value,
                            "effect": s.effect.value,
                            "verify": s.verify is not None,
                            "resources": dict(s.resources),
                            "summary": s.summary,
                            "plugin": registry.plugins.get(s.id),
                        }
                        for s in registry
                    ],
                    "failures": [{"plugin": f.plugin, "reason": f.reason} for f in registry.failures],
                }
            )
            return
        from rich.table import Table

        table = Table("skill", "capability", "effect", "verify", "description", box=None, header_style="bold")
        for s in registry:
            table.add_row(s.id, s.capability.value, s.effect.value, "yes" if s.verify else "", s.summary)
        out.print(table)
        for failure in registry.failures:
            err.print(f"plugin failed to load: {failure.plugin}: {failure.reason}", markup=False)

    @skills_app.command("describe")
    def skills_describe(
        skill_id: str = typer.Argument(..., help="Skill id (or alias), e.g. do.browser.submit_form."),
        as_json: bool = typer.Option(False, "--json", help="Print the parameter and result JSON Schemas."),
    ) -> None:
        """Describe a skill: inputs and outputs with their descriptions, effect, verify, resources, an example."""
        from orchestrator.cli.common import CliError
        from orchestrator.toolkit.skilldocs import describe_json, describe_text

        registry = _registry()
        spec = registry.get(skill_id)
        if spec is None:
            hint = registry.suggest(skill_id)
            raise CliError(f"unknown skill {skill_id!r}" + (f"; did you mean {hint!r}?" if hint else ""))
        if as_json:
            print_json(describe_json(spec, registry))
        else:
            out.print(describe_text(spec, registry), markup=False, end="")

    app.add_typer(skills_app, name="skills")
