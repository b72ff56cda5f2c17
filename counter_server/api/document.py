"""The OpenAPI document, completed where APIFlask cannot know the server."""
from __future__ import annotations

from typing import Any

from .schemas import MAX_ID, TICKET_CODE

NO_NUL = "^[^\\u0000]*$"


def complete_the_document(spec: dict[str, Any]) -> dict[str, Any]:
    """What APIFlask leaves out of the document: the range of ids in paths,
    the form of ticket codes, text without NUL (bodies and query strings), which request bodies are
    required."""
    schemas = spec.get("components", {}).get("schemas", {})
    # limits.check_request refuses NUL in any text (no column holds one).
    props = [prop for schema in schemas.values() for prop in schema.get("properties", {}).values()]
    props += [param["schema"] for ops in spec.get("paths", {}).values() for op in ops.values()
              if isinstance(op, dict) for param in op.get("parameters", [])
              if param.get("in") == "query" and isinstance(param.get("schema"), dict)]
    while props:
        prop = props.pop()
        if isinstance(prop.get("items"), dict):
            props.append(prop["items"])
        if prop.get("type") in ("string", ["string", "null"]) and not (
                {"enum", "format", "pattern"} & set(prop)):
            prop["pattern"] = NO_NUL
    for path, ops in spec.get("paths", {}).items():
        for op in ops.values():
            if not isinstance(op, dict):
                continue
            for param in op.get("parameters", []):
                if param.get("in") != "path":
                    continue
                if param["schema"].get("type") == "integer":
                    param["schema"].update(minimum=0, maximum=MAX_ID)
                elif param["name"] == "code":
                    param["schema"]["pattern"] = f"^{TICKET_CODE}$"
            body = op.get("requestBody")
            if body:
                for media in body["content"].values():
                    ref = media.get("schema", {}).get("$ref", "")
                    if schemas.get(ref.rpartition("/")[2], {}).get("required"):
                        body["required"] = True
    return spec
