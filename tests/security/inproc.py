"""In-process helpers (Flask-SocketIO test client): namespaces, payload samples, row counts,
and a spy on the service layer. Used by the validation and fuzz tests."""
from __future__ import annotations

import functools
import inspect
import sys
import threading
from contextlib import contextmanager

from sqlalchemy import func, select

from tests.support.clients import call  # noqa: F401  (re-exported: one definition)

ERROR_CODES = {"bad_request", "unauthorized", "forbidden", "not_found", "rate_limited",
               "too_large", "conflict", "too_many_connections", "internal"}


def app_namespaces(socketio) -> dict:
    """Every registered namespace handled by the event wrapper: path -> AppNamespace."""
    from realtime.namespace import AppNamespace

    return {path: handler for path, handler in socketio.server.namespace_handlers.items()
            if isinstance(handler, AppNamespace)}


def row_counts(app) -> dict[str, int]:
    """Rows per table, every table of the models (so new features are counted too)."""
    from extensions import db

    with app.app_context():
        counts = {t.name: db.session.execute(select(func.count()).select_from(t)).scalar_one()
                  for t in db.metadata.sorted_tables}
        db.session.remove()
    return counts


class ServiceSpy:
    """Records calls into every ``blueprints.<feature>.service`` function made from
    the test's own thread (background loops such as the quote feed are ignored)."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self._thread = threading.get_ident()
        self._patched: list[tuple[object, str, object]] = []

    def install(self) -> ServiceSpy:
        for name, module in list(sys.modules.items()):
            if not (name.startswith("blueprints.") and name.endswith(".service")):
                continue
            for attr, fn in list(vars(module).items()):
                if attr.startswith("_") or not inspect.isfunction(fn) \
                        or fn.__module__ != module.__name__:
                    continue
                setattr(module, attr, self._wrap(f"{name}.{attr}", fn))
                self._patched.append((module, attr, fn))
        return self

    def _wrap(self, qualname: str, fn):
        @functools.wraps(fn)
        def spy(*args, **kwargs):
            if threading.get_ident() == self._thread:
                self.calls.append(qualname)
            return fn(*args, **kwargs)

        return spy

    def uninstall(self) -> None:
        for module, attr, fn in self._patched:
            setattr(module, attr, fn)
        self._patched.clear()

    @contextmanager
    def watching(self):
        start = len(self.calls)
        seen: list[str] = []
        yield seen
        seen.extend(self.calls[start:])


# -- payload samples from the pydantic schemas ----------------------------------

def _resolve(schema: dict, root: dict) -> dict:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = root.get("$defs", {}).get(name, {})
    return schema


def sample(schema: dict, root: dict | None = None):
    """A value that satisfies this JSON schema (the common shapes our schemas use)."""
    root = root or schema
    schema = _resolve(schema, root)
    if "anyOf" in schema:
        options = [o for o in schema["anyOf"] if _resolve(o, root).get("type") != "null"]
        return sample(options[0], root) if options else None
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if kind == "integer":
        return max(schema.get("minimum", 1), 1) if schema.get("maximum", 2) >= 1 \
            else schema.get("minimum", 0)
    if kind == "number":
        return float(max(schema.get("minimum", 1), 1))
    if kind == "string":
        return "a" * max(schema.get("minLength", 1), 1)
    if kind == "boolean":
        return True
    if kind == "array":
        return [sample(schema.get("items", {"type": "string"}), root)
                for _ in range(schema.get("minItems", 0))]
    if kind == "object":
        props = schema.get("properties", {})
        return {k: sample(v, root) for k, v in props.items()}
    return None


def types_of(schema: dict, root: dict) -> set[str]:
    schema = _resolve(schema, root)
    if "anyOf" in schema:
        return set().union(*(types_of(o, root) for o in schema["anyOf"]))
    if "enum" in schema and "type" not in schema:
        return {type(v).__name__ for v in schema["enum"]}
    return {schema.get("type", "any")}


# Values of a wrong JSON type for each declared type: what lax validation would
# coerce ("5" -> 5, true -> 1, 5.0 -> 5, 1 -> true, "true" -> true) or accept.
WRONG = {
    "integer": ["5", True, False, 5.0, 1.5, [5], {"v": 5}, "1e3"],
    "number": ["5", True, [5]],
    "string": [5, 0, True, 5.5, ["a"], {"a": "a"}],
    "boolean": [1, 0, "true", "false", "1", [True]],
    "array": ["a", 5, {"0": "a"}, True],
    "object": [[], "a", 5, True],
}


def field_mutations(schema_cls) -> list[tuple[str, dict]]:
    """(description, payload) pairs that a strict schema must refuse."""
    root = schema_cls.model_json_schema()
    base = sample(root)
    out: list[tuple[str, dict]] = []
    props = root.get("properties", {})
    for name, prop in props.items():
        declared = types_of(prop, root)
        for kind in declared:
            for wrong in WRONG.get(kind, []):
                if any(isinstance(wrong, bool) and t == "boolean" for t in declared):
                    continue
                if type(wrong).__name__ in ("int",) and "integer" in declared:
                    continue
                if isinstance(wrong, str) and "string" in declared:
                    continue
                if isinstance(wrong, list) and "array" in declared:
                    continue
                if isinstance(wrong, dict) and "object" in declared:
                    continue
                out.append((f"{name}={wrong!r} (declared {sorted(declared)})",
                            {**base, name: wrong}))
        if "null" not in declared and name in root.get("required", []):
            out.append((f"{name}=None", {**base, name: None}))
        if name in root.get("required", []):
            out.append((f"missing {name}", {k: v for k, v in base.items() if k != name}))
        resolved = _resolve(prop, root)
        if resolved.get("type") == "array":
            item_types = types_of(resolved.get("items", {}), root)
            bad_item = 5 if "integer" not in item_types else "5"
            out.append((f"{name}=[{bad_item!r}] (items {sorted(item_types)})",
                        {**base, name: [bad_item]}))
        if "enum" in resolved:
            out.append((f"{name}='NOT-A-CHOICE'", {**base, name: "NOT-A-CHOICE"}))
    out.append(("extra field 'author_id'", {**base, "author_id": 1}))
    out.append(("extra field '__class__'", {**base, "__class__": "x"}))
    return out


def base_payload(schema_cls) -> dict | None:
    """A sample payload, or None when the sampler cannot satisfy this schema."""
    payload = sample(schema_cls.model_json_schema())
    try:
        schema_cls.model_validate(payload, strict=True)
    except Exception:
        return None
    return payload


def connect_everywhere(app, socketio, token: str) -> dict:
    """One test client per AppNamespace, all authenticated with ``token``."""
    out = {}
    for path in app_namespaces(socketio):
        client = socketio.test_client(app, namespace=path, auth={"token": token})
        assert client.is_connected(path), f"could not connect to {path}"
        out[path] = client
    return out
