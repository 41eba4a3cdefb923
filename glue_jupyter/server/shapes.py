"""Request bodies, checked against the OpenAPI document itself: one truth for their shapes.

At startup each POST's `requestBody` schema in openapi.yaml becomes a JSON Schema validator
(jsonschema, which Jupyter already depends on), with the length limits this server is
configured with: a string property tagged `x-glue-limit: <trait>` gets that trait's value as
its `maxLength`. A request then costs one size check, one `json.loads` and one validation, and
a failure becomes one message in plain words that names the field.
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema
from tornado.web import HTTPError

from ..engine.context import MAX_TOTAL_CHARS as MAX_CONTEXT_CHARS
from ..engine.errors import InvalidRequest
from ..engine.inputs import check_unicode
from .errors import bad_request

MAX_DEPTH = 32  # our bodies nest three levels at most: anything much deeper is refused unwalked
TYPE_NAMES = {"string": "a string", "null": "null", "object": "an object", "integer": "an integer",
              "number": "a number", "boolean": "true or false", "array": "an array"}


def body_limit(limits: dict[str, int]) -> int:
    """Bytes a body may have: every limited field and the context blocks at their longest, each
    character written as JSON's longest escape (12 bytes: a surrogate pair, as `json.dumps`
    writes any emoji), plus room for everything else. A body within every field limit is
    never refused for its size."""
    return 12 * (sum(limits.values()) + MAX_CONTEXT_CHARS) + 64 * 1024


class RequestShapes:
    """`check(operation_id, raw_body)`: the body as a dict, or an HTTPError (400 or 413)."""

    def __init__(self, document: dict, limits: dict[str, int], knob_prefix: str = "c.GlueApp."):
        self.knob_prefix = knob_prefix
        self.max_bytes = body_limit(limits)
        self.validators: dict[str, Any] = {}
        # Shared schemas travel with each body's schema, so "#/components/schemas/…" resolves.
        components = {"schemas": json_schema(document["components"]["schemas"], limits)}
        for path in document["paths"].values():
            for operation in path.values():
                if isinstance(operation, dict) and "requestBody" in operation:
                    body = resolve(document, operation["requestBody"])
                    schema = json_schema(body["content"]["application/json"]["schema"], limits)
                    validator = jsonschema.Draft7Validator({**schema, "components": components})
                    self.validators[operation["operationId"]] = validator

    def check(self, operation_id: str, raw: bytes) -> dict:
        if len(raw) > self.max_bytes:
            raise HTTPError(413, "%s", f"The request body is {len(raw):,} bytes; the limit is "
                                       f"{self.max_bytes:,} bytes.")
        data = parse(raw)
        validator = self.validators[operation_id]
        error = next(validator.iter_errors(data), None)
        if error is not None:
            raise bad_request(self.message(error))
        for where, value in strings(data):
            try:
                check_unicode(f"field {where}", value)
            except InvalidRequest as e:
                raise bad_request(e.message) from None
        return data

    def message(self, error: jsonschema.ValidationError) -> str:
        """One sentence per kind of failure; never the value itself (it may be huge)."""
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path).lstrip(".")
        kind, expected, instance = error.validator, error.validator_value, error.instance
        if kind in ("oneOf", "anyOf"):
            branch = chosen_branch(error)
            if branch is not None:
                return self.message(branch)
            kinds = [t for option in expected for t in option.get("properties", {}).get("type", {}).get("enum", [])]
            plain = [option["type"] for option in expected if set(option) == {"type"}]  # e.g. a string or a boolean
            if kinds:
                shape = f"an object whose type is {' or '.join(kinds)}"
            elif len(plain) == len(expected):
                shape = " or ".join(TYPE_NAMES.get(t, t) for t in plain)
            else:
                shape = "one of the documented shapes"
            return f"Field {where} must be {shape}."
        if kind == "type":
            if not where:
                return "The request body must be a JSON object."
            types = expected if isinstance(expected, list) else [expected]
            return f"Field {where} must be {' or '.join(TYPE_NAMES.get(t, t) for t in types)}."
        if kind == "required":
            missing = [f"{where}.{name}" if where else name for name in expected if name not in instance]
            return f"Missing field: {', '.join(missing)}."
        if kind == "additionalProperties":
            known = list(error.schema.get("properties", {}))
            unknown = [f"{where}.{name}" if where else name for name in sorted(set(instance) - set(known))]
            return f"Unknown field(s): {', '.join(unknown)}. Accepted: {', '.join(known) or 'none'}."
        if kind == "maxLength":
            knob = error.schema.get("x-glue-limit")
            setting = f" ({self.knob_prefix}{knob})" if knob else ""
            return (f"Field {where} is too long: {len(instance):,} characters; "
                    f"the limit is {expected:,}{setting}.")
        if kind == "minLength":
            return f"Field {where} must not be empty."
        if kind == "minimum":
            return f"Field {where} must be {expected} or more."
        if kind == "maximum":
            return f"Field {where} must be {expected} or less."
        if kind == "maxItems":
            return f"Field {where} holds {len(instance)} items; at most {expected} are accepted."
        if kind == "enum":
            return f"Field {where} must be one of: {', '.join(map(str, expected))}."
        return f"Field {where or 'body'} is not valid ({kind})."


def chosen_branch(error: jsonschema.ValidationError) -> jsonschema.ValidationError | None:
    """For a oneOf/anyOf over objects told apart by their `type` (context blocks), the first
    error of the branch the instance names, so the message says what is wrong with *that*."""
    if not isinstance(error.instance, dict):
        return None
    for index, option in enumerate(error.validator_value):
        if error.instance.get("type") in option.get("properties", {}).get("type", {}).get("enum", []):
            return next((e for e in error.context if e.relative_schema_path[0] == index), None)
    return None


def parse(raw: bytes) -> Any:
    raw = raw.strip()
    if not raw:
        return {}
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise bad_request("The request body is not valid JSON.") from None
    except RecursionError:  # json's own limit, far above ours
        data = None
        deep = True
    else:
        # Counting brackets is C-fast; only a body with many of them is walked.
        deep = raw.count(b"[") + raw.count(b"{") > MAX_DEPTH and depth(data) > MAX_DEPTH
    if deep:
        raise bad_request(f"The request body is nested too deeply (at most {MAX_DEPTH} levels).")
    return data


def strings(data: dict):
    """(where, text) for every string in a checked body (at most MAX_DEPTH deep), `where`
    written as `context[0].text`."""
    stack: list[tuple[str, Any]] = [(str(k), v) for k, v in data.items()]
    while stack:
        where, value = stack.pop()
        if isinstance(value, str):
            yield where, value
        elif isinstance(value, dict):
            stack.extend((f"{where}.{k}", v) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((f"{where}[{i}]", v) for i, v in enumerate(value))


def depth(value: Any) -> int:
    """Nesting depth of a parsed JSON value, without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, (list, dict)):
            deepest = max(deepest, level)
            if level > MAX_DEPTH:
                break
            stack.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def resolve(document: dict, node: dict) -> dict:
    """Follow a local `$ref` ('#/components/requestBodies/Empty')."""
    while "$ref" in node:
        target: Any = document
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


def json_schema(schema: Any, limits: dict[str, int]) -> Any:
    """An OpenAPI 3.0 schema as plain JSON Schema: `nullable: true` becomes a "null" type, and
    `x-glue-limit` sets `maxLength` from the configured limits."""
    if isinstance(schema, list):
        return [json_schema(item, limits) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: json_schema(value, limits) for key, value in schema.items() if key != "nullable"}
    if schema.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    if "x-glue-limit" in schema:
        out["maxLength"] = limits[schema["x-glue-limit"]]
    return out
