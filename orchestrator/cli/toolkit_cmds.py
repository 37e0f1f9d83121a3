"""The workflow author's commands: ``rpa plan``, ``rpa record``, ``rpa replay``, ``rpa new``, ``rpa docs``."""

from __future__ import annotations

from pathlib import Path

import typer

from orchestrator.cli.common import EXIT_FAILED, OPTIONS, CliError, err, out, print_json, resolve_run_id
from orchestrator.registry import SkillRegistry


def _registry() -> SkillRegistry:
    return SkillRegistry.from_entry_points()


def register(app: typer.Typer) -> None:
    _register_plan(app)
    _register_recording(app)
    _register_new(app)
    _register_docs(app)


def _register_plan(app: typer.Typer) -> None:
    @app.command("plan")
    def plan(
        workflow: Path = typer.Argument(..., help="Workflow file."),
        input_pairs: list[str] = typer.Option([], "--input", "-i", help="Input as NAME=VALUE (repeatable)."),
        inputs_file: Path | None = typer.Option(None, "--inputs-file", help="YAML or JSON file of inputs."),
        as_json: bool = typer.Option(False, "--json", help="Print the plan as JSON."),
    ) -> None:
        """Show what a workflow will do, step by step, without running anything (a dry run).

        Each step with its skill, effect, platform, resources, retry policy, timeout, `if` and
        `foreach`, and its arguments evaluated as far as the inputs allow; values known only
        at run time are shown as <expression: known at run time>. Nothing is stored.
        """
        from orchestrator.bootstrap import exposed_env
        from orchestrator.cli.run_cmds import parse_inputs
        from orchestrator.durations import parse_duration
        from orchestrator.spec.validate import load_workflow
        from orchestrator.toolkit.plan import build_plan
        from orchestrator.toolkit.plan_view import plan_dict, plan_text

        registry = _registry()
        loaded = load_workflow(workflow, registry)
        settings = OPTIONS.settings()
        try:
            default_timeout = parse_duration(settings.default_timeout)
        except ValueError as exc:
            raise CliError(f"settings default_timeout: {exc}") from None
        try:
            result = build_plan(
                loaded,
                registry,
                parse_inputs(input_pairs, inputs_file),
                env=exposed_env(),
                platforms=settings.platforms,
                default_timeout=default_timeout,
            )
        except ValueError as exc:
            raise CliError(str(exc)) from None
        if as_json:
            print_json(plan_dict(result))
        else:
            out.print(plan_text(result), markup=False, end="")


def _register_recording(app: typer.Typer) -> None:
    @app.command("record")
    def record(
        run_id: str = typer.Argument(..., help="A finished run (id or unique prefix)."),
        output: Path = typer.Option(..., "-o", "--output", help="Recording file to write (JSON)."),
    ) -> None:
        """Save every skill call of a finished run (inputs, outputs, attempts, order) to a file.

        Values are taken from the store, where secrets are already masked. Replay the
        recording against a changed workflow with `rpa replay WORKFLOW FILE`.
        """
        from orchestrator.toolkit.recording import record_run

        runtime = OPTIONS.runtime()
        recording = record_run(runtime.store, resolve_run_id(runtime, run_id))
        recording.save(output)
        err.print(
            f"wrote {output}: run {recording.run_id} of {recording.workflow} ({recording.status}), "
            f"{len(recording.calls)} skill call(s)",
            markup=False,
        )

    @app.command("replay")
    def replay(
        workflow: Path = typer.Argument(..., help="Workflow file (possibly changed since the recording)."),
        recording_file: Path = typer.Argument(..., help="Recording written by `rpa record`."),
        as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    ) -> None:
        """Re-run a workflow against a recording: every skill answers what it answered then.

        Fails (exit 1) where the workflow now calls a skill with other arguments or in
        another order, showing the step and the expected and actual arguments. Nothing
        touches a platform: the run uses a temporary store.
        """
        from orchestrator.bootstrap import exposed_env
        from orchestrator.spec.validate import load_workflow
        from orchestrator.toolkit.recording import Recording
        from orchestrator.toolkit.replay import replay_workflow

        recording = Recording.load(recording_file)
        registry = _registry()
        report = replay_workflow(
            load_workflow(workflow, registry),
            recording,
            registry=registry,
            env=exposed_env(),
            platforms=OPTIONS.settings().platforms,
        )
        if as_json:
            print_json(report.to_dict())
        else:
            out.print(report.format(), markup=False, end="")
        if not report.ok:
            raise typer.Exit(EXIT_FAILED)


def _register_new(app: typer.Typer) -> None:
    new_app = typer.Typer(help="Create a new workflow, bot or skill package that validates.")

    @new_app.command("workflow")
    def new_workflow(
        name: str = typer.Argument(..., help="Workflow name (lower case, digits, - and _)."),
        directory: Path = typer.Option(Path("workflows"), "--dir", help="Folder to create it in."),
        force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
    ) -> None:
        """Create WORKFLOW.yaml: inputs, three steps and outputs, ready for `rpa validate`."""
        from orchestrator.toolkit.scaffold import new_workflow as create

        _report_created(create(name, directory, force=force))

    @new_app.command("bot")
    def new_bot(
        name: str = typer.Argument(..., help="Bot name (lower case, digits, - and _)."),
        workflow: Path | None = typer.Option(
            None, "--workflow", help="Workflow the bot runs (default: create workflows/NAME.yaml)."
        ),
        directory: Path = typer.Option(Path("bots"), "--dir", help="Folder to create it in."),
        force: bool = typer.Option(False, "--force", help="Overwrite existing files."),
    ) -> None:
        """Create bots/NAME.yaml (an interval and an API trigger) and, if needed, its workflow."""
        from orchestrator.toolkit.scaffold import new_bot as create

        _report_created(create(name, directory, workflow=workflow, force=force))

    @new_app.command("skill")
    def new_skill(
        name: str = typer.Argument(..., help="Skill name without the capability, e.g. post_credit."),
        capability: str = typer.Option(..., "--capability", "-c", help="see, hear, speak, think or do."),
        package: str | None = typer.Option(
            None, "--package", help="Python package name (default: rpa_<name>)."
        ),
        directory: Path = typer.Option(Path("."), "--dir", help="Folder to create the package folder in."),
        force: bool = typer.Option(False, "--force", help="Overwrite existing files."),
    ) -> None:
        """Create a skill plugin package: pyproject.toml with its rpa.skills entry point, the
        skill module and a pytest test using skills.testing.run_skill."""
        from orchestrator.toolkit.scaffold import new_skill_package

        _report_created(new_skill_package(name, capability, directory, package=package, force=force))

    app.add_typer(new_app, name="new")


def _report_created(paths: list[Path]) -> None:
    for path in paths:
        out.print(f"created {path}", markup=False)


def _register_docs(app: typer.Typer) -> None:
    docs_app = typer.Typer(help="Generate documentation from the code.")

    @docs_app.command("skills")
    def docs_skills(
        output: Path = typer.Option(Path("docs/skills.md"), "-o", "--output", help="File to write."),
        check: bool = typer.Option(
            False, "--check", help="Do not write; exit 1 when the file is not up to date."
        ),
    ) -> None:
        """Write the reference of every registered skill (docs/skills.md) from the registry."""
        from orchestrator.toolkit.skilldocs import skills_markdown

        registry = _registry()
        text = skills_markdown(registry)
        if check:
            current = output.read_text(encoding="utf-8") if output.is_file() else ""
            if current != text:
                err.print(
                    f"{output} is out of date; regenerate it with: rpa docs skills -o {output}", markup=False
                )
                raise typer.Exit(EXIT_FAILED)
            err.print(f"{output} is up to date", markup=False)
            return
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
        err.print(f"wrote {output} ({len(registry)} skills)", markup=False)
        for failure in registry.failures:
            err.print(f"warning: {failure}", markup=False)

    app.add_typer(docs_app, name="docs")
