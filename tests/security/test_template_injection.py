"""Server-side template injection and template bombs through ``speak.render``.

Templates are written by the bank; the data filled in comes from outside. A template that tries
to reach Python internals is refused by the sandbox, data that looks like a template stays text,
``include`` cannot climb out of the templates folder, and numbers taken from a message cannot
make a template build a gigantic string.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from skills import BusinessError
from skills.speak.render import render
from skills.testing import run_skill

SECRET = "TEMPLATE-SECRET-51c2"
ESCAPES = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ joiner.__init__.__globals__ }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ self.__init__.__globals__ }}",
    "{{ self._TemplateReference__context }}",
    "{{ data|attr('__class__') }}",
    "{{ ''.format.__globals__ }}",
    "{{ '{0.__class__}'.format(data) }}",
    "{% for c in [].__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
    "{{ config.items() }}",
    "{{ request.application.__globals__ }}",
    "{{ lipsum.__globals__ }}",
    "{% set x = data.update({'a': 1}) %}{{ data }}",
]
BOMBS = [
    "{{ 'x' * data.n }}",
    "{{ ['x' * 1000] * data.n }}",
    "{{ 2 ** data.n }}",
    "{{ 'x'|center(data.n) }}",
    "{{ 'a\nb'|indent(data.n) }}",
    "{{ lipsum(data.n) }}",
    "{{ range(data.n)|list }}",
    "{{ '%999999999d' % 1 }}",
    "{{ '%999999999d'|format(1) }}",
]


@pytest.mark.parametrize("template", ESCAPES)
def test_sandbox_escapes_are_refused(tmp_path: Path, template: str) -> None:
    with pytest.raises(BusinessError) as caught:
        run_skill(
            render, {"text": template, "data": {"data": {"a": 1}}, "output": "x.txt"}, work_dir=tmp_path
        )
    assert caught.value.code in ("template_unsafe", "template_undefined", "template_error"), caught.value
    assert not (tmp_path / "outbox" / "x.txt").exists()


def test_template_bombs_driven_by_data_are_refused_quickly(tmp_path: Path) -> None:
    started = time.perf_counter()
    for template in BOMBS:
        with pytest.raises(BusinessError) as caught:
            run_skill(
                render,
                {"text": template, "data": {"data": {"n": 10**9}}, "output": "x.txt"},
                work_dir=tmp_path,
            )
        assert caught.value.code == "template_unsafe", (template, caught.value)
    elapsed = time.perf_counter() - started
    print(f"{len(BOMBS)} template bombs refused in {elapsed * 1000:.0f} ms")
    assert elapsed < 2.0  # a hang guard only: each of these would take minutes or gigabytes


def test_ordinary_templates_still_render(tmp_path: Path) -> None:
    text = (
        "{{ '-' * 20 }}\n{{ name|center(30) }}\n{{ '%.2f' % 1234.5 }} {{ amount|money }}\n{{ [1, 2] * 3 }}\n"
    )
    result = run_skill(
        render,
        {"text": text, "data": {"name": "张三", "amount": "12000"}, "output": "ok.txt"},
        work_dir=tmp_path,
    )
    written = Path(result.path).read_text(encoding="utf-8")  # type: ignore[union-attr]
    assert written == f"{'-' * 20}\n{'张三':^30}\n1234.50 12,000.00\n[1, 2, 1, 2, 1, 2]\n"


def test_data_that_looks_like_a_template_stays_text(tmp_path: Path) -> None:
    hostile = "{{ cycler.__init__.__globals__.os.popen('id').read() }} {{ 7 * 7 }} {% include 'x' %}"
    result = run_skill(
        render,
        {"text": "Dear {{ name }},", "data": {"name": hostile}, "output": "letter.txt"},
        work_dir=tmp_path,
    )
    assert Path(result.path).read_text(encoding="utf-8") == f"Dear {hostile},"  # type: ignore[union-attr]


def test_include_cannot_leave_the_templates_folder(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "secret.txt").write_text(SECRET, encoding="utf-8")
    (tmp_path / "templates" / "main.txt").write_text("{% include '../secret.txt' %}", encoding="utf-8")
    (tmp_path / "templates" / "link.txt").symlink_to(tmp_path / "secret.txt")
    for template in ("main.txt", "link.txt"):
        with pytest.raises(BusinessError) as caught:
            run_skill(render, {"template": template, "output": "x.txt"}, work_dir=tmp_path)
        assert caught.value.code in ("path_outside_root", "template_not_found"), caught.value
        assert SECRET not in str(caught.value)
    assert not (tmp_path / "outbox" / "x.txt").exists()
