from orchestrator.spec.yamlsource import MAX_DEPTH, load_yaml


def test_yaml_11_traps_stay_text() -> None:
    doc = load_yaml("time: 12:30\nflag: no\naccount: 01234567\namount: 12345.60\nempty: ~\n", "f.yaml")
    assert doc.errors == []
    assert doc.data == {
        "time": "12:30",
        "flag": "no",
        "account": "01234567",
        "amount": "12345.60",
        "empty": None,
    }


def test_positions_are_one_based_line_and_column() -> None:
    doc = load_yaml("a:\n  b: [x, y]\n", "f.yaml")
    assert doc.position(("a", "b", 1)) == (2, 10)
    assert doc.position(("a", "b"), key=True) == (2, 3)


def test_python_tags_are_rejected_with_position() -> None:
    doc = load_yaml('ok: 1\nevil: !!python/object/apply:os.system ["id"]\n', "w.yaml")
    assert [str(d) for d in doc.errors] == [
        "w.yaml:2:7 evil: tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed (only plain YAML)"
        " [unsafe-tag]"
    ]


def test_duplicate_keys_and_syntax_errors_are_located() -> None:
    assert [d.rule for d in load_yaml("a: 1\na: 2\n", "d.yaml").errors] == ["duplicate-key"]
    (error,) = load_yaml("a: [1,\n  b: c", "s.yaml").errors
    assert error.rule == "syntax"
    assert error.line in (2, 3)  # libyaml reports the end of the unclosed list


def test_alias_bomb_and_deep_nesting_are_refused() -> None:
    bomb = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"{n}: &{n} [{', '.join(['*' + p] * 9)}]\n" for p, n in zip("abcdef", "bcdefg", strict=True)
    )
    assert [d.rule for d in load_yaml(bomb, "b.yaml").errors] == ["too-large"]
    deep = "a: " + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5)
    assert [d.rule for d in load_yaml(deep, "n.yaml").errors] == ["too-deep"]


def test_several_documents_are_an_error() -> None:
    assert (
        load_yaml("a: 1\n---\nb: 2\n", "m.yaml").errors[0].message
        == "expected one YAML document, found several"
    )
