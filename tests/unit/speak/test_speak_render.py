"""speak.render: sandboxed Jinja2 templates written atomically into a confined outbox."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from pydantic import ValidationError

from skills import BusinessError
from skills.speak.render import RenderResult, money, render
from skills.testing import run_skill


@pytest.fixture
def work(tmp_path: Path) -> Path:
    templates = tmp_path / "templates"
    (templates / "letters").mkdir(parents=True)
    (templates / "letters" / "footer.txt").write_text("Operations Centre\n", encoding="utf-8")
    (templates / "letters" / "call_back.txt").write_text(
        "Dear {{ customer }},\n"
        "we could not confirm payment {{ payment.id }} of CNY {{ payment.amount | money }}.\n"
        "{% include 'letters/footer.txt' %}",
        encoding="utf-8",
    )
    (templates / "notice.html").write_text("<p>{{ customer }}</p>\n", encoding="utf-8")
    (templates / "broken.txt").write_text("line one\n{{ customer }}\n{{ amount }}\n", encoding="utf-8")
    return tmp_path


def _render(work: Path, **params: object) -> RenderResult:
    result = run_skill(render, params, work_dir=work)
    assert isinstance(result, RenderResult)
    return result


def test_template_file_with_include_and_money(work: Path) -> None:
    data = {"customer": "上海贸易有限公司", "payment": {"id": "P-1", "amount": "1234567.5"}}
    result = _render(work, template="letters/call_back.txt", data=data, output="letters/P-1.txt")
    path = Path(result.path)
    assert path == work / "outbox" / "letters" / "P-1.txt"
    assert path.read_text(encoding="utf-8") == (
        "Dear 上海贸易有限公司,\nwe could not confirm payment P-1 of CNY 1,234,567.50.\nOperations Centre\n"
    )
    assert result.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert [p.name for p in path.parent.iterdir()] == ["P-1.txt"]  # no temporary file left behind


def test_html_output_is_escaped_and_text_is_not(work: Path) -> None:
    evil = "<script>alert(1)</script>"
    html = _render(work, template="notice.html", data={"customer": evil}, output="n.html")
    assert Path(html.path).read_text() == "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>\n"
    text = _render(work, text="{{ customer }}", data={"customer": evil}, output="n.txt")
    assert Path(text.path).read_text() == evil


def test_missing_value_names_the_template_line(work: Path) -> None:
    with pytest.raises(BusinessError, match=r"broken\.txt:3: 'amount' is undefined") as caught:
        _render(work, template="broken.txt", data={"customer": "A"}, output="x.txt")
    assert caught.value.code == "template_undefined"
    assert not (work / "outbox" / "x.txt").exists()


@pytest.mark.parametrize(
    "text",
    [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ data.update({'x': 1}) }}",
        "{{ cycler.__init__.__globals__ }}",
    ],
)
def test_sandbox_refuses_unsafe_templates(work: Path, text: str) -> None:
    with pytest.raises(BusinessError) as caught:
        _render(work, text=text, data={"data": {}}, output="x.txt")
    assert caught.value.code in {"template_unsafe", "template_undefined"}


def test_syntax_error_is_located(work: Path) -> None:
    with pytest.raises(BusinessError, match=r"inline text:2: template syntax error") as caught:
        _render(work, text="ok\n{% for x in %}", output="x.txt")
    assert caught.value.code == "template_syntax"


def test_templates_and_outputs_stay_in_their_roots(
    work: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    outside = tmp_path_factory.mktemp("outside")
    (outside / "secret.txt").write_text("{{ 'leaked' }}")
    (work / "templates" / "sneaky.txt").symlink_to(outside / "secret.txt")
    (work / "templates" / "include_out.txt").write_text("{% include '../../etc/passwd' %}")
    with pytest.raises(BusinessError, match="symbolic link leads outside"):
        _render(work, template="sneaky.txt", output="x.txt")
    with pytest.raises(BusinessError, match="climbs out"):
        _render(work, template="include_out.txt", output="x.txt")
    with pytest.raises(BusinessError, match="climbs out"):
        _render(work, template="../templates/notice.html", output="x.txt")
    with pytest.raises(BusinessError, match="output path to stay inside"):
        _render(work, text="x", output="../../x.txt")
    with pytest.raises(BusinessError, match="found none") as missing:
        _render(work, template="nope.txt", output="x.txt")
    assert missing.value.code == "template_not_found"


def test_crlf_and_gb18030_for_legacy_systems(work: Path) -> None:
    result = _render(
        work,
        text="账号,金额\n{{ account }},{{ amount | money }}\n",
        data={"account": "6222020200001234567", "amount": 88},
        output="batch.csv",
        newline="crlf",
        encoding="gb18030",
    )
    raw = Path(result.path).read_bytes()
    assert raw == "账号,金额\r\n6222020200001234567,88.00\r\n".encode("gb18030")
    with pytest.raises(BusinessError, match="cannot encode") as caught:
        _render(work, text="{{ x }}", data={"x": "😀"}, output="e.txt", encoding="gbk")
    assert caught.value.code == "unencodable_text"


def test_rendering_twice_gives_the_same_file(work: Path) -> None:
    params = {"text": "{{ a }}-{{ b }}", "data": {"a": 1, "b": "二"}, "output": "same.txt"}
    assert _render(work, **params) == _render(work, **params)


def test_exactly_one_template_source() -> None:
    with pytest.raises(ValidationError, match="exactly one"):
        run_skill(render, {"output": "x.txt"})
    with pytest.raises(ValidationError, match="exactly one"):
        run_skill(render, {"output": "x.txt", "text": "a", "template": "b.txt"})


def test_money_filter() -> None:
    assert money("12000") == "12,000.00"
    assert money(0.1, places=3) == "0.100"
    with pytest.raises(ValueError, match="expects an amount"):
        money("twelve")
