"""Render a JSON Schema (draft 2020-12 or 7) as a Markdown reference of the plan file.

Sphinx-free: ``schema_markdown(schema)`` returns MyST Markdown with one table per object (the
root, then every entry of ``$defs``/``definitions``): key, type, whether it is required, its
default and its description with the allowed values (``enum``, ``const``, bounds, patterns).
``$ref``s to local definitions become links to their section. Whatever the schema at
``src/beamdesign/data/plan.schema.json`` says is what the page shows. Run as a script:
``python docs/_ext/schema_to_md.py SCHEMA.json``.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

Schema = Mapping[str, Any]

_BOUNDS = (
    ("minimum", "≥"),
    ("exclusiveMinimum", ">"),
    ("maximum", "≤"),
    ("exclusiveMaximum", "<"),
    ("minLength", "length ≥"),
    ("maxLength", "length ≤"),
    ("minItems", "items ≥"),
    ("maxItems", "items ≤"),
)


def _anchor(name: str) -> str:
    """The MyST heading anchor of a definition's section (lower case, hyphens)."""
    return "schema-" + re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _definitions(schema: Schema) -> dict[str, Schema]:
    defs = dict(schema.get("definitions", {}))
    defs.update(schema.get("$defs", {}))
    return defs


def _ref_name(ref: str) -> str:
    match = re.fullmatch(r"#/(?:\$defs|definitions)/(.+)", ref)
    if not match:
        raise ValueError(f"only local $refs (#/$defs/NAME) can be rendered, got {ref!r}")
    return match.group(1)


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _literal(value: Any) -> str:
    return "`" + json.dumps(value, ensure_ascii=False) + "`"


def type_text(schema: Schema) -> str:
    """Short type description: ``number``, ``array of string``, a link to a definition, ..."""
    if "$ref" in schema:
        name = _ref_name(schema["$ref"])
        return f"[{name}](#{_anchor(name)})"
    for key in ("oneOf", "anyOf"):
        if key in schema:
            return " or ".join(type_text(option) for option in schema[key])
    if "const" in schema:
        return _literal(schema["const"])
    kind = schema.get("type")
    if isinstance(kind, list):
        return " or ".join(type_text({**schema, "type": k}) for k in kind)
    if kind == "array" and isinstance(schema.get("items"), Mapping):
        return f"array of {type_text(schema['items'])}"
    if kind is None and "enum" in schema:
        return "one of the values listed"
    return str(kind) if kind else "any"


def constraints_text(schema: Schema) -> str:
    """Allowed values and bounds of a property, as one sentence fragment."""
    parts = []
    if "enum" in schema:
        parts.append("one of " + ", ".join(_literal(v) for v in schema["enum"]))
    for key, symbol in _BOUNDS:
        if key in schema:
            parts.append(
                f"{symbol} {schema[key]:g}"
                if isinstance(schema[key], float)
                else f"{symbol} {schema[key]}"
            )
    if "pattern" in schema:
        parts.append(f"matches `{schema['pattern']}`")
    if "format" in schema:
        parts.append(f"format {schema['format']}")
    if "examples" in schema:
        parts.append("e.g. " + ", ".join(_literal(v) for v in schema["examples"]))
    return "; ".join(parts)


def _object_table(schema: Schema) -> str:
    properties: Mapping[str, Schema] = schema.get("properties", {})
    if not properties:
        return ""
    required = set(schema.get("required", ()))
    rows = ["| key | type | required | default | description |", "|---|---|---|---|---|"]
    for key, prop in properties.items():
        description = prop.get("description", prop.get("title", ""))
        constraints = constraints_text(prop)
        text = (
            f"{description} ({constraints})"
            if description and constraints
            else (description or constraints)
        )
        default = _literal(prop["default"]) if "default" in prop else ""
        rows.append(
            f"| `{_cell(key)}` | {_cell(type_text(prop))} | {'yes' if key in required else 'no'}"
            f" | {_cell(default)} | {_cell(text)} |"
        )
    extra = schema.get("additionalProperties")
    note = ""
    if extra is False:
        note = "\n\nNo other key is allowed."
    elif isinstance(extra, Mapping):
        note = f"\n\nOther keys: {type_text(extra)}."
    return "\n".join(rows) + note


def _section(schema: Schema) -> str:
    parts = []
    if schema.get("description"):
        parts.append(str(schema["description"]).strip())
    kind = type_text(schema)
    table = _object_table(schema)
    if table:
        parts.append(table)
    else:
        constraints = constraints_text(schema)
        parts.append(f"Type: {kind}." + (f" Allowed: {constraints}." if constraints else ""))
    return "\n\n".join(parts)


def schema_markdown(schema: Schema, heading_level: int = 2) -> str:
    """MyST Markdown describing ``schema``: the root object, then each definition.

    Parameters
    ----------
    schema
        A JSON Schema as loaded by :func:`json.load`.
    heading_level
        Markdown heading level of each section (1-6).
    """
    hashes = "#" * heading_level
    title = schema.get("title", "Top level")
    parts = [f"{hashes} {title}", _section(schema)]
    for name, definition in _definitions(schema).items():
        parts.append(f"({_anchor(name)})=\n{hashes} `{name}`")
        parts.append(_section(definition))
    return "\n\n".join(parts) + "\n"


def schema_file_markdown(path: Path, heading_level: int = 2) -> str:
    """Markdown for the schema stored at ``path`` (UTF-8 JSON)."""
    schema = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(schema, Mapping):
        raise ValueError(f"{path}: a JSON Schema is a JSON object, got {type(schema).__name__}")
    return schema_markdown(schema, heading_level)


if __name__ == "__main__":
    print(schema_file_markdown(Path(sys.argv[1])), end="")
