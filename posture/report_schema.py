"""The report's JSON Schema, generated from the typed model in ``posture.report``.

The schema is not written by hand: every field, its type and whether it may be null come
from the model's dataclasses, and the ranges from their fields' ``metadata``. The JSON
form differs from the dataclasses in three documented ways, applied here: the envelope
(``schema_version``, ``tool``, ``disclaimer``), the neutral's angles written flat beside
its source, and the keys left out when absent (``settings.workers``,
``settings.frame_stride``, ``questionnaire``, ``subject``, ``batch``).

``python -m posture.report_schema`` prints it (docs/report.schema.json is that output;
a test keeps the two equal). :func:`validate_report` checks a report dict against it and
against what a schema cannot say (times increase, a photo has one frame).
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Mapping
from typing import Any, Literal, Union, get_args, get_origin

from posture import SCHEMA_VERSION
from posture.measures import ROM_KEYS
from posture.report import (
    NeutralRecord,
    Report,
    Settings,
    Summary,
)

JsonSchema = dict[str, Any]
# Keys of the JSON that may be missing (the model's None there is written as no key).
OPTIONAL_KEYS: dict[type, frozenset[str]] = {
    Settings: frozenset({"workers", "frame_stride"}),
    Report: frozenset({"questionnaire", "subject", "batch"}),
}


def _of_type(tp: Any, defs: dict[str, JsonSchema]) -> JsonSchema:
    """The schema of one annotated type (dataclasses go to ``defs``)."""
    origin = get_origin(tp)
    if tp is Any:
        return {}
    if tp is type(None):
        return {"type": "null"}
    if tp is bool:
        return {"type": "boolean"}
    if tp is int:
        return {"type": "integer"}
    if tp is float:
        return {"type": "number"}
    if tp is str:
        return {"type": "string"}
    if origin is Literal:
        return {"enum": list(get_args(tp))}
    if origin in (Union, types.UnionType):
        return {"anyOf": [_of_type(a, defs) for a in get_args(tp)]}
    if origin is tuple:
        item, _ellipsis = get_args(tp)
        return {"type": "array", "items": _of_type(item, defs)}
    if origin is Mapping or origin is dict:
        _key, value = get_args(tp)
        return {"type": "object", "additionalProperties": _of_type(value, defs)}
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        name = tp.__name__
        if name not in defs:
            defs[name] = {}  # placeholder: a dataclass met again while being built
            defs[name] = _of_dataclass(tp, defs)
        return {"$ref": f"#/$defs/{name}"}
    raise TypeError(f"no JSON Schema for {tp!r}")


def _of_dataclass(cls: type, defs: dict[str, JsonSchema]) -> JsonSchema:
    hints = typing.get_type_hints(cls)
    props: dict[str, JsonSchema] = {}
    for f in dataclasses.fields(cls):
        schema = _of_type(hints[f.name], defs)
        limits = dict(f.metadata.get("json_schema", {}))
        if limits:
            schema = _with_limits(schema, limits)
        props[f.name] = schema
    optional = OPTIONAL_KEYS.get(cls, frozenset())
    return {
        "type": "object",
        "properties": props,
        "required": [f.name for f in dataclasses.fields(cls) if f.name not in optional],
        "additionalProperties": False,
    }


def _with_limits(schema: JsonSchema, limits: JsonSchema) -> JsonSchema:
    """``limits`` (e.g. minimum, maximum) on the number branch of ``schema``."""
    if schema.get("type") == "number":
        return {**schema, **limits}
    if "anyOf" in schema:
        return {"anyOf": [_with_limits(s, limits) for s in schema["anyOf"]]}
    if schema.get("type") == "object":  # a mapping's values
        return {**schema, "additionalProperties": _with_limits(schema["additionalProperties"],
                                                               limits)}  # fmt: skip
    return schema


def report_json_schema() -> JsonSchema:
    """The JSON Schema (draft 2020-12) of ``Report.to_dict()``."""
    defs: dict[str, JsonSchema] = {}
    top = _of_dataclass(Report, defs)
    props = top["properties"]
    # The neutral's angles are written beside its source, not under values_deg.
    neutral = defs.pop(NeutralRecord.__name__)
    neutral_props = {k: v for k, v in neutral["properties"].items() if k != "values_deg"}
    defs["Neutral"] = {
        "type": "object",
        "properties": neutral_props,
        "required": list(neutral_props),
        "additionalProperties": neutral["properties"]["values_deg"]["additionalProperties"],
    }
    props["neutral"] = {"anyOf": [{"$ref": "#/$defs/Neutral"}, {"type": "null"}]}
    props["frames"]["minItems"] = 1
    rom = defs[Summary.__name__]["properties"]["rom"]
    rom.update(required=list(ROM_KEYS), propertyNames={"enum": list(ROM_KEYS)})
    defs[Summary.__name__]["properties"]["rom_at_least"]["items"] = {"enum": list(ROM_KEYS)}
    envelope = {
        "schema_version": {"const": SCHEMA_VERSION},
        "tool": {
            "type": "object",
            "properties": {"name": {"const": "posture"}, "version": {"type": "string"}},
            "required": ["name", "version"],
        },
        "disclaimer": {"type": "string"},
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "posture report",
        "description": "One analysis (docs/measurement.md); generated from posture.report.",
        "type": "object",
        "properties": {**envelope, **props},
        "required": [*envelope, *top["required"]],
        "additionalProperties": False,
        "$defs": dict(sorted(defs.items())),
    }


def validate_report(d: Mapping[str, Any]) -> list[str]:
    """Problems found (empty list = the report keeps to the contract)."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(report_json_schema())
    errors = sorted(validator.iter_errors(d), key=lambda e: list(e.absolute_path))
    problems = [f"{_where(e.absolute_path)}: {e.message}" for e in errors]
    if problems:
        return problems
    frames = d["frames"]
    times = [f["t"] for f in frames]
    if any(b <= a for a, b in zip(times, times[1:], strict=False)):
        problems.append("frames: t does not increase")
    if d["input"]["kind"] == "image" and len(frames) != 1:
        problems.append("frames: an image has one frame")
    rom = d["summary"]["rom"]
    if any(rom[k] is None for k in d["summary"]["rom_at_least"]):
        problems.append("summary.rom_at_least: names a direction with no value")
    return problems


def _where(path: Any) -> str:
    return ".".join(str(p) for p in path) or "(report)"


if __name__ == "__main__":
    print(json.dumps(report_json_schema(), indent=1))
