"""The event-type catalog's rules: what a catalog entry is, and checking schemas and data against them.

Schemas are JSON Schema 2020-12, checked by ``jsonschema`` (a well-kept, complete implementation). Its import
costs more than the ingest function's whole cold-start budget for new work (``bench --only coldstart``), so
it is imported on first use: an API container that never meets a type with a schema never pays for it. Each
schema is compiled once per container (``SchemaCache``), keyed by its canonical JSON text.

References (``$ref``) resolve inside the schema only: nothing is ever fetched from elsewhere, so a schema
cannot make Hookline reach out to a host, and one with a reference it cannot resolve is refused on PUT.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hookline.core.errors import InvalidRequestError

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError
    from jsonschema.protocols import Validator

MAX_CACHED_SCHEMAS = 1_000
DRAFT202012_URI = "https://json-schema.org/draft/2020-12/schema"
_MESSAGE_LIMIT = 300


@dataclass(frozen=True, slots=True)
class EventType:
    """One catalog entry, shared by every tenant of the deployment."""

    name: str
    description: str = ""
    schema: dict[str, Any] | None = None
    examples: tuple[dict[str, Any], ...] = ()
    deprecated: bool = False
    created_at: str = ""
    updated_at: str = ""


def canonical(schema: dict[str, Any]) -> str:
    return json.dumps(schema, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _compile(schema: dict[str, Any]) -> Validator:
    # Imported here, on first use: see the module's docstring.
    from jsonschema import Draft202012Validator  # noqa: PLC0415
    from referencing import Registry  # noqa: PLC0415

    # An empty registry: no reference is ever retrieved from outside the schema.
    return Draft202012Validator(schema, registry=Registry())


def check_schema(schema: dict[str, Any]) -> None:
    """400 unless ``schema`` is a valid JSON Schema 2020-12 whose references all resolve within it."""
    from jsonschema import Draft202012Validator  # noqa: PLC0415 - see the module's docstring
    from jsonschema.exceptions import SchemaError  # noqa: PLC0415
    from referencing import Registry  # noqa: PLC0415
    from referencing.exceptions import Unresolvable  # noqa: PLC0415
    from referencing.jsonschema import DRAFT202012  # noqa: PLC0415

    declared = schema.get("$schema")
    if declared is not None and declared != DRAFT202012_URI:
        raise InvalidRequestError(f"schema: $schema must be {DRAFT202012_URI!r} (or absent)")
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise InvalidRequestError(
            f"schema{_suffix(exc.absolute_path)}: {_short(exc.message)} (not a valid JSON Schema 2020-12)"
        ) from None
    if _nested_ids(schema):
        return  # references below another $id resolve against it; validation reports any that do not
    # Resolved as the validator resolves them: against the schema itself as the root, with nothing else.
    resolver = Registry().resolver_with_root(DRAFT202012.create_resource(schema))
    for reference in _references(schema):
        try:
            resolver.lookup(reference)
        except Unresolvable:
            raise InvalidRequestError(
                f"schema: $ref {reference!r} does not resolve within the schema "
                "(references to other documents are not fetched)"
            ) from None


def _walk(node: Any) -> Iterator[tuple[str, Any]]:
    """Every (keyword, value) pair of every object in a JSON value, depth first."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


def _references(schema: dict[str, Any]) -> Iterator[str]:
    return (value for key, value in _walk(schema) if key == "$ref" and isinstance(value, str))


def _nested_ids(schema: dict[str, Any]) -> bool:
    return any(key == "$id" for key, _ in _walk({k: v for k, v in schema.items() if k != "$id"}))


class SchemaCache:
    """Compiled schemas, once per container, bounded in number."""

    def __init__(self, limit: int = MAX_CACHED_SCHEMAS) -> None:
        self._limit = limit
        self._compiled: dict[str, Validator] = {}
        self._lock = threading.Lock()

    def validator(self, schema: dict[str, Any]) -> Validator:
        text = canonical(schema)
        with self._lock:
            found = self._compiled.get(text)
        if found is not None:
            return found
        compiled = _compile(schema)
        with self._lock:
            self._compiled[text] = compiled
            if len(self._compiled) > self._limit:
                self._compiled.pop(next(iter(self._compiled)))
        return compiled

    def mismatch(self, schema: dict[str, Any], value: Any, root: str = "data") -> str | None:
        """The first (most relevant) way ``value`` breaks ``schema``, as ``root.path: message``; None when
        it validates."""
        from jsonschema.exceptions import best_match  # noqa: PLC0415 - see the module's docstring
        from referencing.exceptions import Unresolvable  # noqa: PLC0415

        try:
            error = best_match(self.validator(schema).iter_errors(value))
        except Unresolvable as exc:
            return f"{root}: the type's schema holds a reference that does not resolve ({exc})"
        return None if error is None else describe(error, root)


def describe(error: ValidationError, root: str = "data") -> str:
    """``data.items[0].sku: 'x' is not of type 'integer'``; a missing property is named by its own path."""
    path = list(error.absolute_path)
    message = error.message
    required = error.validator_value
    if error.validator == "required" and isinstance(error.instance, dict) and isinstance(required, list):
        missing = [name for name in required if name not in error.instance]
        if missing:
            path.append(str(missing[0]))
            message = "is required"
    return f"{root}{_suffix(path)}: {_short(message)}"


def _suffix(path: Sequence[str | int] | Any) -> str:
    parts = []
    for part in path:
        parts.append(f"[{part}]" if isinstance(part, int) else f".{part}")
    return "".join(parts)


def _short(message: str) -> str:
    return message if len(message) <= _MESSAGE_LIMIT else message[: _MESSAGE_LIMIT - 1] + "…"


def check_examples(schema: dict[str, Any] | None, examples: Sequence[Any], cache: SchemaCache) -> None:
    """400 unless every example is a JSON object (an event's ``data``) that validates against ``schema``."""
    for index, example in enumerate(examples):
        if not isinstance(example, dict):
            raise InvalidRequestError(f"examples[{index}]: must be a JSON object (an event's data)")
        if schema is not None:
            problem = cache.mismatch(schema, example, root=f"examples[{index}]")
            if problem is not None:
                raise InvalidRequestError(f"{problem} (the example does not match the schema)")
