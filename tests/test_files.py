"""Safe loading: one sentence for every file or text that is not plain data."""

from __future__ import annotations

import json
import os
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from beamdesign.errors import InputError
from beamdesign.files import (
    MAX_DEPTH,
    MAX_FILE_BYTES,
    MAX_TEXT_CHARS,
    MAX_VALUES,
    check_output,
    dump_yaml,
    parse_data,
    parse_mapping,
    read_mapping,
    read_text,
    write_text_atomic,
)


@pytest.mark.parametrize(
    "text, value",
    [
        ("8e10", 8e10),
        ("8E10", 8e10),
        ("1e-3", 1e-3),
        (".5", 0.5),
        ("1.", 1.0),
        ("-2.5e+3", -2500.0),
        ("+7", 7),
        ("0x1F", 31),
        ("0o17", 15),
        ("007", 7),
        ("1_000", "1_000"),
        ("1:30", "1:30"),
        ("yes", "yes"),
        ("No", "No"),
        ("on", "on"),
        ("true", True),
        ("FALSE", False),
        ("~", None),
        ("null", None),
        ("", None),
        ("2024-01-02", "2024-01-02"),
        ("0b101", "0b101"),
        ("'8e10'", "8e10"),
        ("!!str 12", "12"),
        ("!!float 3", 3.0),
        ("!!int '12'", 12),
    ],
)
def test_yaml_scalars_follow_the_yaml_1_2_core_schema(text, value):
    got = parse_data(f"a: {text}\n", "plan")["a"]
    assert got == value and type(got) is type(value)


@pytest.mark.parametrize(
    "text, message",
    [
        ("a: .inf", r"a = '.inf': a finite number \(no .inf or .nan\)\."),
        ("a: -.Inf", r"a = '-.Inf': a finite number"),
        ("a: .NaN", r"a = '.NaN': a finite number"),
        (
            "a: 1e400",
            r"a = '1e400': a finite number \(no .inf, .nan, Infinity, NaN or overflowing "
            r"exponent\)\.",
        ),
        ("a: " + "9" * 5000, r"a = '9{20}…': a number of at most 4300 digits\."),
        (
            "a: &x 1\nb: *x",
            r"plan = '<text>': no YAML anchors \(&\) or aliases \(\*\); write each value out "
            r"\(line 1\)\.",
        ),
        ("a: &x [1]", r"no YAML anchors"),
        (
            "b:\n  c: 1\n  c: 2\n",
            r"b.c = 'given twice': each key once \(lines 2 and 3\); a second one would silently "
            r"win\.",
        ),
        (
            "a: !!binary aGVsbG8=",
            r"a = '!!binary': only text, numbers, true/false, null, lists and mappings with text "
            r"keys \(line 1\); no YAML tags",
        ),
        ("a: !!timestamp 2024-01-01", r"a = '!!timestamp'"),
        ("a: !!set {x}", r"a = '!!set'"),
        ("a: !!omap [x: 1]", r"a = '!!omap'"),
        ("a: !!python/object/apply:os.system [ls]", r"a = '!!python/object/apply:os.system'"),
        ("a: !custom 1", r"a = '!custom'"),
        ("a: !!int abc", r"a = 'abc': not a valid !!int \(line 1\)\."),
        ("a: !!bool yes", r"a = 'yes': not a valid !!bool"),
        ("1: x", r"<key> = 1: keys are text \(line 1\)\."),
        ("? [a]\n: b", r"<key> = 'a list or mapping': keys are text"),
        ('a: "\\ud800"', r"a = '\\\\ud800': text without lone surrogates"),
        (
            "a: \x1b[31m",
            r"plan = '<text>': text without control characters \(character U\+001B at position "
            r"3\)\.",
        ),
        (
            "a: b\n  c: d:",
            r"plan = '<text>': not valid YAML at line 2 \(mapping values are not allowed here\)\.",
        ),
        ("a: 1\n---\nb: 2", r"not valid YAML at line 2 \(but found another document\)"),
        (
            "a: " + "x" * (MAX_TEXT_CHARS + 1),
            rf"a = 'x+…' \(10003 characters\): a text of at most {MAX_TEXT_CHARS} characters\.",
        ),
        (
            "a: " + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1),
            rf"at most {MAX_DEPTH} levels of nested lists and mappings \(line 1\)\.",
        ),
        ("a: [" + ",".join(["1"] * MAX_VALUES) + "]", rf"at most {MAX_VALUES} values"),
    ],
)
def test_yaml_refusals_are_one_sentence(text, message):
    with pytest.raises(InputError, match=message):
        parse_data(text, "plan", keys_under="")


@pytest.mark.parametrize(
    "text, message",
    [
        ('{"a": 1, "a": 2}', r"^a = 'given twice': each key once"),
        ('{"b": {"c": [1, {"d": 1, "d": 2}]}}', r"^d = 'given twice'"),
        ('{"a": NaN}', r"plan = '<text>': finite numbers only, not NaN\."),
        ('{"a": -Infinity}', r"finite numbers only, not -Infinity"),
        ('{"a": 1e999}', r"^a = inf: a finite number"),
        ('{"a": "\\ud800"}', r"a = '\\\\ud800': text without lone surrogates"),
        ('{"a": ' + "1" * 5000 + "}", r"numbers of at most 4300 digits"),
        ("[" * 100_000 + "]" * 100_000, rf"at most {MAX_DEPTH} levels"),
        ('{"a": ' + "[" * 40 + "]" * 40 + "}", rf"at most {MAX_DEPTH} levels"),
        ('{"a": 1', r"plan = '<text>': not valid JSON at line 1 \(Expecting ',' delimiter"),
    ],
)
def test_json_refusals_are_one_sentence(text, message):
    with pytest.raises(InputError, match=message):
        parse_data(text, "plan", "json", keys_under="")


def test_billion_laughs_is_refused_at_once():
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
    start = time.perf_counter()
    with pytest.raises(InputError, match=r"no YAML anchors"):
        parse_data("\n".join(lines), "plan")
    assert time.perf_counter() - start < 1.0  # refused while composing: nothing expands


def test_mapping_required_at_the_top():
    for text, shown in (("", "nothing"), ("- a", "list"), ("3", "int"), ("{}", "dict")):
        with pytest.raises(
            InputError,
            match=(
                rf"plan = 'p.yaml': the file must hold a non-empty mapping \(key: value lines\), "
                rf"not {shown}\."
            ),
        ):
            parse_mapping(text, "plan", source="p.yaml")


def test_files_named_as_what_they_are(tmp_path):
    with pytest.raises(InputError, match=r"plan = '.*missing.yaml': no such file\."):
        read_mapping(tmp_path / "missing.yaml", "plan")
    with pytest.raises(InputError, match=r"plan = '.*': a folder, not a file\."):
        read_mapping(tmp_path, "plan")
    (tmp_path / "file").write_text("a: 1")
    with pytest.raises(
        InputError, match=r"no such file \(a part of the path is a file, not a folder\)"
    ):
        read_text(tmp_path / "file" / "plan.yaml", "plan")
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match=r"not a regular file \(a FIFO, device or socket\)"):
        read_mapping(fifo, "plan")  # refused without opening: no hang waiting for a writer
    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * (MAX_FILE_BYTES + 1))
    with pytest.raises(
        InputError, match=rf"a file of {MAX_FILE_BYTES + 1} bytes; at most {MAX_FILE_BYTES}"
    ):
        read_mapping(big, "plan")


@pytest.mark.parametrize(
    "data, message",
    [
        (b"a: \xff\xfe", r"not UTF-8 text \(byte 0xff at position 3\); save the file as UTF-8\."),
        ("a: é".encode("latin-1"), r"not UTF-8 text \(byte 0xe9 at position 3\)"),
        (b"a: \xed\xa0\x80", r"not UTF-8 text \(byte 0xed"),  # an encoded lone surrogate
        ("a: x".encode("utf-16"), r"not UTF-8 text \(byte 0xff at position 0\)"),
        (b"\x00\x01\x02binary", r"text without control characters \(character U\+0000"),
    ],
)
def test_bytes_that_are_not_utf8_text(tmp_path, data, message):
    path = tmp_path / "plan.yaml"
    path.write_bytes(data)
    with pytest.raises(InputError, match=message):
        read_mapping(path, "plan")


def test_a_utf8_bom_is_skipped_and_json_by_suffix(tmp_path):
    path = tmp_path / "plan.yaml"
    path.write_bytes("\ufeffa: 8e10\n".encode("utf-8"))
    assert read_mapping(path, "plan") == {"a": 8e10}
    path = tmp_path / "plan.json"
    path.write_text('{"a": 1, "b": [1.5, null, true]}')
    assert read_mapping(path, "plan") == {"a": 1, "b": [1.5, None, True]}


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads unreadable files")
def test_unreadable_file(tmp_path):
    path = tmp_path / "plan.yaml"
    path.write_text("a: 1")
    path.chmod(0)
    with pytest.raises(InputError, match=r"cannot be read \(permission denied\)"):
        read_mapping(path, "plan")


plain = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=8),
            children,
            max_size=4,
        )
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(
    data=st.dictionaries(
        st.text(min_size=1, max_size=8).filter(str.isidentifier), plain, min_size=1, max_size=4
    )
)
def test_what_dump_yaml_writes_reads_back_unchanged(data):
    text = dump_yaml(data)
    assert parse_mapping(text, "plan") == data
    assert parse_mapping(json.dumps(data), "plan", "json") == data


def test_check_output_and_atomic_write(tmp_path):
    with pytest.raises(InputError, match=r"out = '.*': a folder; give a file name\."):
        check_output(tmp_path, "out")
    with pytest.raises(InputError, match=r"the folder '.*nope' does not exist\."):
        check_output(tmp_path / "nope" / "x.csv", "out")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match=r"not a regular file"):
        write_text_atomic(fifo, "x", "out")
    target = write_text_atomic(tmp_path / "x.csv", "é\n", "out")
    assert target.read_text("utf-8") == "é\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fifo", "x.csv"]
