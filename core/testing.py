"""Test helpers shared by every app: checking API responses against the published OpenAPI document."""

from __future__ import annotations

import functools

import jsonschema
import orjson


@functools.cache
def openapi_spec() -> dict:
    from crm.api import api

    return orjson.loads(
        orjson.dumps(api.get_openapi_schema(path_prefix="/api/v1/"), option=orjson.OPT_NON_STR_KEYS)
    )


def _resolve_refs(schema, components):
    if isinstance(schema, dict):
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            return _resolve_refs(components[name], components)
        return {k: _resolve_refs(v, components) for k, v in schema.items()}
    if isinstance(schema, list):
        return [_resolve_refs(v, components) for v in schema]
    return schema


def assert_matches_spec(response, method: str, path: str) -> None:
    """The response's status is declared for the operation, and its body fits the declared schema."""
    spec = openapi_spec()
    operation = spec["paths"][path][method.lower()]
    status = str(response.status_code)
    assert status in operation["responses"], f"{method} {path} answered {status}, not declared in the spec"
    declared = operation["responses"][status]
    content = declared.get("content", {}).get("application/json")
    if content is None:
        assert not response.content, f"{method} {path} {status}: body not declared"
        return
    schema = _resolve_refs(content["schema"], spec.get("components", {}).get("schemas", {}))
    jsonschema.validate(orjson.loads(response.content), schema, cls=jsonschema.Draft202012Validator)
