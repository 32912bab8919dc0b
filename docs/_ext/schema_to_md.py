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


def _is_object_with_keys(schema: Any) -> bool:
    return isinstance(schema, Mapping) and bool(
        schema.get("properties") or schema.get("patternProperties")
    )


def _children(schema: Schema) -> list[tuple[str, Schema]]:
    """Sub-schemas that may hold an inline object: (path suffix, sub-schema)."""
    found: list[tuple[str, Schema]] = list(schema.get("properties", {}).items())
    if isinstance(schema.get("items"), Mapping):
        found.append(("[]", schema["items"]))
    if isinstance(schema.get("additionalProperties"), Mapping):
        found.append(("*", schema["additionalProperties"]))
    for key in ("oneOf", "anyOf", "allOf"):
        options = schema.get(key, ())
        objects = sum(_is_object_with_keys(option) for option in options)
        for number, option in enumerate(options, start=1):
            # several object options at one place: tell their sections apart
            found.append((f" (option {number})" if objects > 1 else "", option))
    return found


def _inline_objects(schema: Schema, path: str) -> list[tuple[str, Schema]]:
    """Objects with keys defined inline (not through ``$ref``) below ``schema``, depth first,
    each named by its dotted path from the section it sits in (``schedule.raster``)."""
    found: list[tuple[str, Schema]] = []
    for suffix, child in _children(schema):
        if suffix in ("", "[]") or suffix.startswith(" "):
            child_path = path + suffix
        else:
            child_path = f"{path}.{suffix}" if path else suffix
        if _is_object_with_keys(child) and child is not schema:
            found.append((child_path, child))
        found.extend(_inline_objects(child, child_path))
    return found


def type_text(schema: Schema, names: Mapping[int, str] | None = None) -> str:
    """Short type description: ``number``, ``array of string``, a link to a definition or to an
    inline object's section (``names`` maps ``id(sub-schema)`` to its section name)."""
    names = names or {}
    if id(schema) in names:
        return f"object [{names[id(schema)]}](#{_anchor(names[id(schema)])})"
    if "$ref" in schema:
        name = _ref_name(schema["$ref"])
        return f"[{name}](#{_anchor(name)})"
    for key, joiner in (("oneOf", " or "), ("anyOf", " or "), ("allOf", " and ")):
        if key in schema:
            return joiner.join(type_text(option, names) for option in schema[key])
    if "const" in schema:
        return _literal(schema["const"])
    kind = schema.get("type")
    if isinstance(kind, list):
        return " or ".join(type_text({**schema, "type": k}) for k in kind)
    if kind == "array" and isinstance(schema.get("items"), Mapping):
        return f"array of {type_text(schema['items'], names)}"
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


def _object_table(schema: Schema, names: Mapping[int, str]) -> str:
    properties: Mapping[str, Schema] = schema.get("properties", {})
    if not _is_object_with_keys(schema):
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
        mark = "yes" if key in required else "no"
        rows.append(
            f"| `{_cell(key)}` | {_cell(type_text(prop, names))} | {mark}"
            f" | {_cell(default)} | {_cell(text)} |"
        )
    notes = [
        f"Keys matching `{pattern}`: {type_text(sub, names)}."
        for pattern, sub in schema.get("patternProperties", {}).items()
    ]
    extra = schema.get("additionalProperties")
    if extra is False:
        notes.append("No other key is allowed.")
    elif isinstance(extra, Mapping):
        notes.append(f"Other keys: {type_text(extra, names)}.")
    table = ["\n".join(rows)] if properties else []
    return "\n\n".join([*table, *notes])


def _section(schema: Schema, names: Mapping[int, str]) -> str:
    parts = []
    if schema.get("description"):
        parts.append(str(schema["description"]).strip())
    table = _object_table(schema, names)
    if table:
        parts.append(table)
    else:
        constraints = constraints_text(schema)
        kind = type_text(schema, names)
        parts.append(f"Type: {kind}." + (f" Allowed: {constraints}." if constraints else ""))
    return "\n\n".join(parts)


def _unique_names(sections: list[tuple[str, Schema]]) -> list[tuple[str, Schema]]:
    """Section names with distinct anchors (a clash gets " (2)", " (3)", ...)."""
    seen: set[str] = set()
    unique = []
    for name, sub in sections:
        candidate, number = name, 1
        while _anchor(candidate) in seen:
            number += 1
            candidate = f"{name} ({number})"
        seen.add(_anchor(candidate))
        unique.append((candidate, sub))
    return unique


def schema_markdown(schema: Schema, heading_level: int = 2) -> str:
    """MyST Markdown describing ``schema``: the root object, then each definition, each
    followed by the objects defined inline inside it.

    Parameters
    ----------
    schema
        A JSON Schema as loaded by :func:`json.load`.
    heading_level
        Markdown heading level of each section (1-6).
    """
    hashes = "#" * heading_level
    sections: list[tuple[str, Schema]] = [("", schema), *_inline_objects(schema, "")]
    for name, definition in _definitions(schema).items():
        sections += [(name, definition), *_inline_objects(definition, name)]
    sections = _unique_names(sections)
    names = {id(sub): name for name, sub in sections[1:] if name not in _definitions(schema)}
    parts = []
    for name, sub in sections:
        title = (
            f"{hashes} {schema.get('title', 'Top level')}"
            if not name
            else (f"({_anchor(name)})=\n{hashes} `{name}`")
        )
        parts += [title, _section(sub, names)]
    return "\n\n".join(parts) + "\n"


def schema_file_markdown(path: Path, heading_level: int = 2) -> str:
    """Markdown for the schema stored at ``path`` (UTF-8 JSON)."""
    schema = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(schema, Mapping):
        raise ValueError(f"{path}: a JSON Schema is a JSON object, got {type(schema).__name__}")
    return schema_markdown(schema, heading_level)


if __name__ == "__main__":
    print(schema_file_markdown(Path(sys.argv[1])), end="")
