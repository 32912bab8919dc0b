"""Safe reading of the files a user gives: plans, stacks, beamline profiles, thresholds.

Every YAML/JSON file goes through ``read_mapping`` (a path) or ``parse_mapping`` (text), which
hold these rules, each broken rule raising one ``InputError`` sentence:

- the file is a regular file (not a folder, FIFO, device or socket), readable, at most
  ``MAX_FILE_BYTES``, and UTF-8 text (an optional BOM is skipped);
- the data is plain data only: text, numbers, true/false, null, lists and mappings whose keys
  are text. No YAML anchors or aliases (they can expand a 1 KB file to gigabytes), no tags other
  than the plain-data ones (no dates, binary, sets, ordered maps or ``!!python/...`` objects),
  no key given twice (YAML and JSON), no nesting deeper than ``MAX_DEPTH``, at most
  ``MAX_VALUES`` values in a YAML file, no text longer than ``MAX_TEXT_CHARS`` and no lone
  surrogate (``"\\ud800"``), no infinite or NaN number;
- YAML scalars are read with the YAML 1.2 core schema, not PyYAML's YAML 1.1 default: ``8e10``,
  ``1e-3``, ``.5`` and ``1.`` are numbers (YAML 1.1 reads ``8e10`` as text); ``true``/``false``
  are the only booleans (``yes``, ``no``, ``on``, ``off`` stay text); ``0x1F`` and ``0o17`` are
  integers; dates stay text; ``1_000`` is text, not a number (write ``1000``);
  ``.inf``/``.nan`` are refused.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
import tempfile
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from beamdesign.errors import InputError

#: Largest plan, stack, profile or threshold file read, bytes.
MAX_FILE_BYTES = 1_000_000
#: Deepest nesting of lists and mappings (a plan needs about 8).
MAX_DEPTH = 32
#: Most values (keys, list items, numbers, texts) in one YAML file: bounds the parse time
#: (about 3 s at the bound on a loaded 2-core machine) whatever the file holds.
MAX_VALUES = 100_000
#: Longest text value or key, characters.
MAX_TEXT_CHARS = 10_000

_DATA = "only text, numbers, true/false, null, lists and mappings with text keys"
_TAG = "tag:yaml.org,2002:"
_INT = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_SPECIAL_FLOAT = re.compile(r"[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)")


class DataLoader(yaml.SafeLoader):
    """PyYAML's SafeLoader with the YAML 1.2 core-schema resolver, no anchors or aliases, and
    nesting bounded by ``MAX_DEPTH`` and size by ``MAX_VALUES`` while composing (before
    anything is built)."""

    #: first character (None: any) -> [(tag, pattern)], as PyYAML's Resolver keeps them; a
    #: class-level registry, but not a ClassVar: types-PyYAML declares it an instance variable
    yaml_implicit_resolvers: dict[str | None, list[tuple[str, re.Pattern[str]]]] = {}  # noqa: RUF012

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._nodes = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]  # untyped in types-PyYAML
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise _Refused(
                event.start_mark, "no YAML anchors (&) or aliases (*); write each value out"
            )
        self._depth += 1
        self._nodes += 1
        try:
            if self._nodes > MAX_VALUES:
                raise _Refused(
                    event.start_mark,
                    f"at most {MAX_VALUES} values (keys, items and numbers) in one file",
                )
            if self._depth > MAX_DEPTH + 1:
                raise _Refused(
                    event.start_mark, f"at most {MAX_DEPTH} levels of nested lists and mappings"
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


for _tag, _pattern, _first in (
    ("bool", r"true|True|TRUE|false|False|FALSE", "tTfF"),
    ("int", _INT.pattern, "-+0123456789"),
    ("float", rf"{_FLOAT.pattern}|{_SPECIAL_FLOAT.pattern}", "-+0123456789."),
    ("null", r"~|null|Null|NULL|", ["~", "n", "N", ""]),
):
    DataLoader.add_implicit_resolver(_TAG + _tag, re.compile(rf"^(?:{_pattern})$"), list(_first))


class _Refused(Exception):
    """A rule broken while composing, with where it happened."""

    def __init__(self, mark: yaml.Mark, allowed: str) -> None:
        super().__init__(allowed)
        self.line, self.allowed = mark.line + 1, allowed


def _join(path: str, key: object) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


def _check_text(text: str, path: str, field: str) -> str:
    if len(text) > MAX_TEXT_CHARS:
        raise InputError(path or field, text, f"a text of at most {MAX_TEXT_CHARS} characters")
    if any("\ud800" <= c <= "\udfff" for c in text):
        bad = next(c for c in text if "\ud800" <= c <= "\udfff")
        raise InputError(
            path or field,
            f"\\u{ord(bad):04x}",
            "text without lone surrogates (half of a UTF-16 pair is not a character)",
        )
    return text


def _check_float(value: float, path: str, field: str, written: object) -> float:
    if not math.isfinite(value):
        raise InputError(
            path or field,
            written,
            "a finite number (no .inf, .nan, Infinity, NaN or overflowing exponent)",
        )
    return value


def _scalar(node: yaml.ScalarNode, path: str, field: str) -> object:
    tag, text = node.tag, node.value
    if tag == _TAG + "str":
        return _check_text(text, path, field)
    if tag == _TAG + "null" and re.fullmatch(r"~|null|Null|NULL|", text):
        return None
    if tag == _TAG + "bool" and text.lower() in ("true", "false"):
        return text.lower() == "true"
    if tag == _TAG + "int" and _INT.fullmatch(text):
        try:
            return int(text, 0) if text[:2] in ("0o", "0x") else int(text, 10)
        except ValueError:  # more than Python's 4300 digits
            raise InputError(
                path or field, text[:20] + "…", "a number of at most 4300 digits"
            ) from None
    if tag == _TAG + "float" and _SPECIAL_FLOAT.fullmatch(text):
        raise InputError(path or field, text, "a finite number (no .inf or .nan)")
    if tag == _TAG + "float" and _FLOAT.fullmatch(text):
        return _check_float(float(text), path, field, text)
    if tag.startswith(_TAG) and tag[len(_TAG) :] in ("null", "bool", "int", "float"):
        raise InputError(
            path or field,
            text,
            f"not a valid !!{tag[len(_TAG) :]} (line {node.start_mark.line + 1})",
        )
    raise _refuse_tag(node, path, field)


def _refuse_tag(node: yaml.Node, path: str, field: str) -> InputError:
    shown = "!!" + node.tag[len(_TAG) :] if node.tag.startswith(_TAG) else node.tag
    return InputError(
        path or field,
        shown,
        f"{_DATA} (line {node.start_mark.line + 1}); "
        "no YAML tags such as dates, binary, sets or Python objects",
    )


def _build(node: yaml.Node, path: str, field: str) -> object:
    """Plain data from a composed node, checking every rule of the module docstring."""
    if isinstance(node, yaml.ScalarNode):
        return _scalar(node, path, field)
    if isinstance(node, yaml.SequenceNode):
        if node.tag != _TAG + "seq":
            raise _refuse_tag(node, path, field)
        return [_build(item, _join(path, i), field) for i, item in enumerate(node.value)]
    if node.tag != _TAG + "map":
        raise _refuse_tag(node, path, field)
    out: dict[str, object] = {}
    lines: dict[str, int] = {}
    for key_node, value_node in node.value:
        key = _build(key_node, path, field) if isinstance(key_node, yaml.ScalarNode) else key_node
        line = key_node.start_mark.line + 1
        if not isinstance(key, str):
            raise InputError(
                _join(path, "<key>"),
                key if not isinstance(key, yaml.Node) else "a list or mapping",
                f"keys are text (line {line})",
            )
        if key in out:
            raise InputError(
                _join(path, key),
                "given twice",
                f"each key once (lines {lines[key]} and {line}); a second one would silently win",
            )
        lines[key] = line
        out[key] = _build(value_node, _join(path, key), field)
    return out


def _check(value: object, path: str, field: str, depth: int = 0) -> object:
    """The rules of the module docstring on data decoded from JSON."""
    if depth > MAX_DEPTH:
        raise InputError(field, path, f"at most {MAX_DEPTH} levels of nested lists and mappings")
    if isinstance(value, str):
        return _check_text(value, path, field)
    if isinstance(value, float):
        return _check_float(value, path, field, value)
    if isinstance(value, list):
        for i, item in enumerate(value):
            _check(item, _join(path, i), field, depth + 1)
    if isinstance(value, dict):
        for key, item in value.items():
            _check_text(key, _join(path, "<key>"), field)
            _check(item, _join(path, key), field, depth + 1)
    return value


class _Duplicate(Exception):
    pass


def _json_object(pairs: list[tuple[str, object]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _Duplicate(key)
        out[key] = value
    return out


def _no_constant(word: str) -> None:
    raise _Duplicate(word)  # NaN, Infinity, -Infinity: reported below


def parse_data(
    text: str, field: str, fmt: str = "yaml", keys_under: str | None = None, source: str = "<text>"
) -> object:
    """Plain data from YAML or JSON text, with the rules of the module docstring.

    Parameters
    ----------
    text : the file's text
    field : what the text is ("plan", "stack", "--stack"), named by errors about the whole text
    fmt : "yaml" or "json"
    keys_under : prefix of the data paths named by errors (``field`` when None; "" names the
        top-level keys bare, as plan errors do)
    source : the file's name, shown by errors about the whole text
    """
    root = field if keys_under is None else keys_under
    if len(text) > MAX_FILE_BYTES:
        raise InputError(
            field, source, f"a text of {len(text)} characters; at most {MAX_FILE_BYTES} are read"
        )
    if fmt == "json":
        try:
            data = json.loads(text, object_pairs_hook=_json_object, parse_constant=_no_constant)
        except _Duplicate as error:
            word = error.args[0]
            if word in ("NaN", "Infinity", "-Infinity"):
                raise InputError(field, source, f"finite numbers only, not {word}") from None
            raise InputError(
                _join(root, word) if root else word,
                "given twice",
                "each key once; a second one would silently win",
            ) from None
        except RecursionError:
            raise InputError(
                field, source, f"at most {MAX_DEPTH} levels of nested lists and mappings"
            ) from None
        except ValueError as error:
            if "digits" in str(error) and not isinstance(error, json.JSONDecodeError):
                raise InputError(field, source, "numbers of at most 4300 digits") from None
            where = f" at line {error.lineno}" if isinstance(error, json.JSONDecodeError) else ""
            raise InputError(
                field, source, f"not valid JSON{where} ({_short(str(error))})"
            ) from None
        return _check(data, root, field)
    try:
        loader = DataLoader(text)
    except yaml.reader.ReaderError as error:
        raise InputError(
            field,
            source,
            f"text without control characters (character "
            f"U+{error.character:04X} at position {error.position})",
        ) from None
    try:
        node = loader.get_single_node()
    except _Refused as error:
        raise InputError(field, source, f"{error.allowed} (line {error.line})") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise InputError(field, source, f"not valid YAML{line} ({_short(problem)})") from None
    finally:
        loader.dispose()
    return None if node is None else _build(node, root, field)


def _short(text: str) -> str:
    return text if len(text) <= 120 else text[:117] + "..."


def parse_mapping(
    text: str, field: str, fmt: str = "yaml", keys_under: str | None = None, source: str = "<text>"
) -> dict[str, Any]:
    """``parse_data`` for text that must hold one non-empty mapping (a plan, a stack ...)."""
    data = parse_data(text, field, fmt, keys_under, source)
    if not isinstance(data, dict) or not data:
        raise InputError(
            field,
            source,
            "the file must hold a non-empty mapping (key: value "
            f"lines), not {'nothing' if data is None else type(data).__name__}",
        )
    return data


def read_text(path: str | Path, field: str) -> str:
    """The UTF-8 text of a regular file of at most ``MAX_FILE_BYTES``; InputError otherwise.

    A missing file, a folder, a FIFO/device/socket, an unreadable file, a too large file and
    bytes that are not UTF-8 are each named in one sentence.
    """
    path = Path(path).expanduser()
    shown = str(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise InputError(field, shown, "no such file") from None
    except NotADirectoryError:
        raise InputError(
            field, shown, "no such file (a part of the path is a file, not a folder)"
        ) from None
    except OSError as error:
        raise InputError(field, shown, f"cannot be read ({reason(error)})") from None
    if stat.S_ISDIR(info.st_mode):
        raise InputError(field, shown, "a folder, not a file")
    if not stat.S_ISREG(info.st_mode):
        raise InputError(
            field, shown, "not a regular file (a FIFO, device or socket); give a YAML or JSON file"
        )
    if info.st_size > MAX_FILE_BYTES:
        raise InputError(
            field, shown, f"a file of {info.st_size} bytes; at most {MAX_FILE_BYTES} bytes are read"
        )
    try:
        # O_NONBLOCK: should the file be swapped for a FIFO after stat, open does not hang
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise InputError(field, shown, f"cannot be read ({reason(error)})") from None
    if len(data) > MAX_FILE_BYTES:
        raise InputError(field, shown, f"at most {MAX_FILE_BYTES} bytes are read")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(
            field,
            shown,
            f"not UTF-8 text (byte 0x{data[error.start]:02x} at "
            f"position {error.start}); save the file as UTF-8",
        ) from None


def reason(error: OSError) -> str:
    """What went wrong, in a few lower-case words ("permission denied")."""
    return (error.strerror or str(error) or type(error).__name__).lower()


def read_mapping(path: str | Path, field: str, keys_under: str | None = None) -> dict[str, Any]:
    """The mapping a YAML or JSON file holds (JSON for a ``.json`` suffix), read safely.

    See ``read_text`` and ``parse_data`` for the rules and the meaning of the arguments.
    """
    text = read_text(path, field)
    fmt = "json" if Path(path).suffix.lower() == ".json" else "yaml"
    return parse_mapping(text, field, fmt, keys_under, str(Path(path).expanduser()))


class DataDumper(yaml.SafeDumper):
    """PyYAML's SafeDumper that also quotes text the core schema would read as a number
    (``"8e10"``, ``"0o17"``), so that what it writes reads back the same with ``DataLoader``
    and with PyYAML's own ``safe_load``."""


for _tag, _pattern, _first in (
    ("int", _INT.pattern, "-+0123456789"),
    ("float", _FLOAT.pattern, "-+0123456789."),
):
    DataDumper.add_implicit_resolver(_TAG + _tag, re.compile(rf"^(?:{_pattern})$"), list(_first))


def dump_yaml(data: object) -> str:
    """YAML text of plain data, in the given key order, that reads back unchanged."""
    return yaml.dump(data, Dumper=DataDumper, sort_keys=False, allow_unicode=True)


def check_output(path: str | Path, field: str) -> Path:
    """``path`` as a file that can be written, checked before any work; InputError otherwise.

    Refused: a folder, a missing folder, a path through a file, a folder or file that cannot
    be written, something that is not a regular file (a FIFO, a device).
    """
    target = Path(path).expanduser()
    shown = str(target)
    folder = target.parent
    if target.is_dir():
        raise InputError(field, shown, "a folder; give a file name")
    if not folder.exists():
        raise InputError(field, shown, f"the folder {str(folder)!r} does not exist")
    if not folder.is_dir():
        raise InputError(field, shown, f"{str(folder)!r} is a file, not a folder")
    if target.exists() and not target.is_file():
        raise InputError(field, shown, "not a regular file (a FIFO, device or socket)")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(field, shown, f"the folder {str(folder)!r} is not writable")
    if target.exists() and not os.access(target, os.W_OK):
        raise InputError(field, shown, "the file is read-only")
    return target


def write_text_atomic(path: str | Path, text: str, field: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically: a uniquely named temporary file in the
    same folder, flushed to disk, then renamed over ``path``; an interrupted or failed write
    leaves the previous file and no temporary. A full device or a refused write is an
    InputError naming ``field``.
    """
    target = check_output(path, field)
    try:
        handle, temporary = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".tmp", dir=target.parent
        )
    except OSError as error:
        raise InputError(field, str(target), f"cannot be written ({reason(error)})") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, target)
    except OSError as error:  # a full device, a folder gone read-only ...
        Path(temporary).unlink(missing_ok=True)
        raise InputError(field, str(target), f"cannot be written ({reason(error)})") from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


@cache
def builtin_texts(folder: str) -> dict[str, str]:
    """The packaged YAML files of ``data/<folder>`` (plans, stacks, profiles): name -> text,
    in name order; one registry rule for every kind of built-in file."""
    entries = resources.files("beamdesign").joinpath(f"data/{folder}").iterdir()
    return {
        e.name.removesuffix(".yaml"): e.read_text("utf-8")
        for e in sorted(entries, key=lambda e: e.name)
        if e.name.endswith(".yaml")
    }
