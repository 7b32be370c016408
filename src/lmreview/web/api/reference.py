"""The API reference page (``/api/v1/docs``), drawn from the OpenAPI description the API generates: every
operation with its parameters, request body and responses, and every schema with its fields."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

METHODS = ("get", "post", "put", "patch", "delete")


@dataclass
class Parameter:
    name: str
    where: str
    required: bool
    type: str
    description: str


@dataclass
class Operation:
    method: str
    path: str
    summary: str
    description: str
    tag: str
    parameters: list[Parameter]
    body: str | None
    responses: list[tuple[str, str, str]]  # status, description, type


@dataclass
class Schema:
    name: str
    description: str
    fields: list[Parameter] = field(default_factory=list)


def spans(text: str) -> list[tuple[str, bool]]:
    """``text`` cut into (words, is_code) at its backquotes (``like this`` or `like this`), for the page to show
    code as code."""
    pieces = re.split(r"``?", text)
    return [(piece, index % 2 == 1) for index, piece in enumerate(pieces) if piece]


def type_name(schema: dict[str, Any] | None) -> str:
    """A short human name of a JSON schema: ``Review``, ``list of Review``, ``string or null``, ``html | pdf``."""
    if not schema:
        return "any"
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "enum" in schema:
        return " | ".join(str(v) for v in schema["enum"])
    if "const" in schema:
        return repr(schema["const"])
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            return " or ".join(type_name(s) for s in schema[key])
    kind = schema.get("type", "object")
    if kind == "array":
        return f"list of {type_name(schema.get('items'))}"
    if kind == "object" and "additionalProperties" in schema and isinstance(schema["additionalProperties"], dict):
        return "object"
    fmt = schema.get("format")
    return f"{kind} ({fmt})" if fmt else str(kind)


def _body(operation: dict[str, Any]) -> str | None:
    body = operation.get("requestBody")
    if not body:
        return None
    return "; ".join(f"{media}: {type_name(spec.get('schema'))}" for media, spec in body.get("content", {}).items())


def operations(spec: dict[str, Any], prefix: str = "/api/v1") -> dict[str, list[Operation]]:
    """The operations of ``spec`` by tag, in the order the API declares them."""
    found: dict[str, list[Operation]] = {}
    for path, item in spec.get("paths", {}).items():
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            params = [
                Parameter(
                    p["name"],
                    p.get("in", ""),
                    bool(p.get("required")),
                    type_name(p.get("schema")),
                    p.get("description", ""),
                )
                for p in op.get("parameters", [])
            ]
            responses = []
            for status, answer in op.get("responses", {}).items():
                content = answer.get("content", {})
                shown = ", ".join(
                    type_name(c.get("schema")) if c.get("schema") else media for media, c in content.items()
                )
                responses.append((status, answer.get("description", ""), shown))
            tag = (op.get("tags") or ["other"])[0]
            found.setdefault(tag, []).append(
                Operation(
                    method.upper(),
                    prefix + path,
                    op.get("summary", ""),
                    op.get("description", ""),
                    tag,
                    params,
                    _body(op),
                    responses,
                )
            )
    return found


def schema_list(spec: dict[str, Any]) -> list[Schema]:
    found = []
    for name, schema in sorted(spec.get("components", {}).get("schemas", {}).items()):
        required = set(schema.get("required", []))
        fields = [
            Parameter(key, "", key in required, type_name(value), value.get("description", ""))
            for key, value in schema.get("properties", {}).items()
        ]
        found.append(Schema(name, schema.get("description", ""), fields))
    return found
