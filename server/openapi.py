"""The OpenAPI description of the HTTP API (GET /api/openapi.json), built from the same rules the
server enforces (the config's field table core.config.FIELDS with core.config.Limits, the body cap) so
it cannot drift from them."""

from __future__ import annotations

import re
from typing import Any

from core import verdict
from core.config import DATASETS, FIELDS, Field, Limits
from core.custom_data import HASH_LENGTH, HASH_PATTERN, MAX_COORDINATE, MIN_CLASSES, MIN_POINTS
from core.datasets import TWO_D_SETS
from core.sweeps import AXES, MAX_AXES, MAX_VALUES, axis_field
from core.training import METRICS
from server.run_json import RUN_ID
from server.run_views import MAX_PREDICT_ROWS, POINT_RANGE
from server.store import REUSABLE, Status
from server.store_budget import EXPIRED_MESSAGE, EXPIRED_PARTS


def _error(description: str, retry_after: bool = False) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    if retry_after:
        response["headers"] = {
            "Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer", "minimum": 0}}
        }
    return response


# Every event stream's 429 (server.api.event_stream): the client holds PLAYGROUND_CLIENT_STREAMS already.
TOO_MANY_STREAMS = _error(
    "This client holds as many event streams as one client may (PLAYGROUND_CLIENT_STREAMS); close one"
    " or try again in Retry-After seconds.",
    retry_after=True,
)


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _number(low: float, high: float) -> dict[str, Any]:
    return {"type": "number", "minimum": low, "maximum": high}


def _integer(low: int, high: int) -> dict[str, Any]:
    return {"type": "integer", "minimum": low, "maximum": high}


def _field_schema(field: Field, limits: Limits) -> dict[str, Any]:
    """One config field: its type and bounds (the widest over the datasets it applies to)."""
    if field.kind == "choice":
        return {"type": "string", "enum": [value for value, _ in field.choices], "description": field.help}
    if field.kind == "choice_list":
        return _choice_list_schema(field)
    if field.kind == "hash":
        return {
            "type": "string",
            "pattern": f"^{HASH_PATTERN}$",
            "description": f"{field.help} The `data` POST /api/data answered ({HASH_LENGTH} hex digits). "
            f"Only for {', '.join(field.datasets)}, and required there; refused for the other datasets.",
        }
    bounds = [field.bounds(dataset, limits) for dataset in field.datasets]
    low, high = min(b[0] for b in bounds), max(b[1] for b in bounds)
    description = field.help
    if field.high_2d is not None:
        at_most = [field.bounds(dataset, limits)[1] for dataset in ("mnist", TWO_D_SETS[0])]
        description += f" At most {at_most[0]} for MNIST, {at_most[1]} for 2D sets."
    if len(field.datasets) < len(DATASETS):
        description += f" Only for {', '.join(field.datasets)}; refused for the other datasets."
    if field.kind == "int_list":
        items = _integer(low, high)
        max_items = field.item_count(limits)
        return {
            "description": f'{description} A list, or text such as "100,200".',
            "oneOf": [
                {"type": "array", "minItems": 1, "maxItems": max_items, "items": items},
                {"type": "string", "pattern": r"^\d+(,\d+)*$"},
            ],
        }
    schema = _integer(low, high) if field.kind == "int" else _number(low, high)
    return {**schema, "description": description}


def _choice_list_schema(field: Field) -> dict[str, Any]:
    values = [value for value, _ in field.choices]
    one = "(" + "|".join(re.escape(value) for value in values) + ")"
    return {
        "description": f"{field.help} One or more of {', '.join(values)}, each once (kept in this order); a "
        f'list, or text such as "{",".join(values[:2])}". Only for {", ".join(field.datasets)}; refused for '
        "the other datasets.",
        "oneOf": [
            {
                "type": "array",
                "minItems": 1,
                "maxItems": len(values),
                "uniqueItems": True,
                "items": {"type": "string", "enum": values},
            },
            {"type": "string", "pattern": f"^{one}(,{one})*$"},
        ],
    }


def config_schema(limits: Limits) -> dict[str, Any]:
    """A run's config, a property per row of core.config.FIELDS; fields left out take the dataset's
    defaults (GET /api/datasets)."""
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {field.name: _field_schema(field, limits) for field in FIELDS},
    }


def config_query_parameters(limits: Limits) -> list[dict[str, Any]]:
    """A config as a query string (as a shared URL writes it): a parameter per row of FIELDS."""
    parameters = []
    for field in FIELDS:
        schema = _field_schema(field, limits)
        if field.kind == "int_list":  # "100,200" in a query string
            schema = {**schema.pop("oneOf")[1], "description": schema["description"]}
        description = schema.pop("description")
        parameter = {"name": field.name, "in": "query", "required": False, "description": description}
        parameters.append({**parameter, "schema": schema})
    return parameters


def run_request_schema(limits: Limits) -> dict[str, Any]:
    """POST /api/runs's body: a config, and `fresh` (not a config field)."""
    fresh = {
        "type": "boolean",
        "default": False,
        "description": "true: train a new run even if a run of the same config is stored.",
    }
    config = config_schema(limits)
    return {**config, "properties": {**config["properties"], "fresh": fresh}}


def _run_schema() -> dict[str, Any]:
    nullable_number = {"type": "number", "nullable": True}
    nullable_text = {"type": "string", "nullable": True}
    return {
        "type": "object",
        "required": ["id", "status", "config", "query", "epochs", "total_epochs", "url", "events"],
        "properties": {
            "id": {"type": "string", "pattern": f"^{RUN_ID}$"},
            "status": {"type": "string", "enum": [status.value for status in Status]},
            "warning": {"$ref": "#/components/schemas/Warning"},
            "config": {"type": "object"},
            "query": {"type": "string"},
            "epochs": {"type": "array", "items": {"type": "object"}},
            "total_epochs": {"type": "integer", "minimum": 1},
            "created_at": {"type": "string", "format": "date-time"},
            "started_at": {**nullable_text, "format": "date-time"},
            "finished_at": {**nullable_text, "format": "date-time"},
            "reason": nullable_text,
            "test_acc": nullable_number,
            "test_loss": nullable_number,
            "position": {"type": "integer", "minimum": 1, "nullable": True, "description": "When queued."},
            "sizes": {"type": "array", "items": {"type": "integer"}},
            "parameter_count": {"type": "integer"},
            "expired": {
                "type": "array",
                "items": {"type": "string", "enum": list(EXPIRED_PARTS)},
                "description": "Heavy parts dropped under the store budget (empty: none); curves stay.",
            },
            "expired_message": {**nullable_text, "description": "What the page says of expired weights."},
            "sweep": {**nullable_text, "description": "The sweep that made this run: /sweeps/<id>."},
            "url": {"type": "string"},
            "events": {"type": "string"},
        },
    }


def _epoch_data_schema() -> dict[str, Any]:
    number = {"type": "number"}
    return {
        "description": "The data of an `epoch` event: the epoch's metrics (test figures after the last "
        "epoch), what each layer is doing (`layers`), the view the page draws live (`grid` for 2D runs, "
        "`confusion` for MNIST), the network diagram's units and edges (`neurons`) and when the epoch was "
        "stored. The losses are the cross-entropy alone: a "
        "run with an L2 rate trains on the cross-entropy plus `l2_penalty`.",
        "type": "object",
        "required": [*METRICS, "layers", "recorded_at"],
        "properties": {
            "epoch": {"type": "integer", "minimum": 1},
            "train_loss": number,
            "train_acc": number,
            "val_loss": number,
            "val_acc": number,
            "seconds": {**number, "description": "How long the epoch took to train."},
            "test_loss": number,
            "test_acc": number,
            "l2_penalty": {
                **number,
                "description": "Runs with l2 > 0: l2 / 2 times the sum of every layer's squared weights "
                "(biases excluded) after the epoch; not included in train_loss and val_loss.",
            },
            "layers": {
                "type": "array",
                "description": "One entry per Dense layer, the output layer last (core/diagnostics.py).",
                "items": {"$ref": "#/components/schemas/LayerDiagnostics"},
            },
            "grid": {"type": "object", "description": "2D runs: the packed decision grid (core.views)."},
            "neurons": {
                "type": "object",
                "description": "The network diagram at this epoch (core.views.neuron_view): per Dense layer "
                "the weights between its first 16 input units and first 16 units and those units' biases; "
                "2D runs: each of those units' output on a 16x16 grid over the plane, packed one character "
                "per value.",
            },
            "confusion": {
                "type": "array",
                "items": {"type": "array", "items": {"type": "integer"}},
                "description": "MNIST runs: validation counts[true][predicted].",
            },
            "recorded_at": {
                **number,
                "description": "When the epoch was stored, in Unix seconds: a viewer's clock minus this is "
                "the event's delivery delay (bench/load.py measures it).",
            },
        },
    }


def _layer_diagnostics_schema() -> dict[str, Any]:
    share = {"type": "number", "minimum": 0, "maximum": 1, "nullable": True}
    number = {"type": "number", "minimum": 0, "nullable": True}
    return {
        "description": "What one Dense layer did in an epoch; 4 significant digits; null where it does not "
        "apply or the value is not finite.",
        "type": "object",
        "required": ["weight_norm", "grad_norm", "update_ratio", "dead", "saturated"],
        "properties": {
            "weight_norm": {
                **number,
                "description": "Norm of the weights (biases excluded) after the epoch.",
            },
            "grad_norm": {
                **number,
                "description": "Norm of the loss gradient (with the L2 term) for the weights, on the "
                "epoch's first batch.",
            },
            "update_ratio": {
                **number,
                "description": "Norm of the change the epoch's first step made to the weights over the "
                "norm of the weights before it (about 1e-3 is the usual rule of thumb).",
            },
            "dead": {
                **share,
                "description": "ReLU hidden layers: the share of units that output 0 for every validation "
                "example.",
            },
            "saturated": {
                **share,
                "description": "tanh and sigmoid hidden layers: the share of units saturated (|tanh| > "
                "0.99, sigmoid outside 0.01..0.99) on more than half of the validation examples.",
            },
        },
    }


def _data_paths(limits: Limits, max_body: int, unavailable: dict[str, Any]) -> dict[str, Any]:
    """POST /api/data and GET /api/data/{data_hash}: your own points (server.custom_data)."""
    stored = {"$ref": "#/components/schemas/DataStored"}
    rules = (
        f"CSV text, one point per line: x,y,label (a header line such as x,y,label is optional; blank "
        f"lines are skipped). x and y: numbers from {-MAX_COORDINATE:g} to {MAX_COORDINATE:g}; label: a "
        f"class, a whole number from 0 to {limits.max_classes - 1}. {MIN_POINTS} to {limits.max_points} "
        f"points of at least {MIN_CLASSES} classes, at most {max_body} bytes. Read as CSV whatever the "
        "Content-Type says (a form is refused)."
    )
    return {
        "/api/data": {
            "post": {
                "summary": "Store your own 2D points; answers their hash, for a config's `data`",
                "description": "The points are stored once per content: the hash is of their canonical "
                "form (sorted, each number written the shortest way), so the same points in any order "
                "or spelling get the same hash. New points count against the client's upload rate.",
                "requestBody": {
                    "required": True,
                    "content": {"text/csv": {"schema": {"type": "string", "description": rules}}},
                },
                "responses": {
                    "200": _json("These points were stored already.", stored),
                    "201": _json("Stored.", stored),
                    "400": _error(
                        "A bad row: `line` is its line (1 = the first), `field` its column (x, y "
                        "or label); `field` is body when the whole file is at fault."
                    ),
                    "413": _error(f"More than {max_body} bytes, or more than {limits.max_points} points."),
                    "429": _error("This client stored too many new point sets; try again later.", True),
                    "503": unavailable,
                },
            }
        },
        "/api/data/{data_hash}": {
            "get": {
                "summary": "Stored points: what a run of the custom dataset trained on",
                "parameters": [
                    {
                        "name": "data_hash",
                        "in": "path",
                        "required": True,
                        "description": f"The hash POST /api/data answered ({HASH_LENGTH} hex digits); "
                        "anything else is a 404.",
                        "schema": {"type": "string", "pattern": f"^{HASH_PATTERN}$"},
                    }
                ],
                "responses": {
                    "200": _json("The points.", {"$ref": "#/components/schemas/DataPoints"}),
                    "404": _error("No points have this hash."),
                    "503": unavailable,
                },
            }
        },
    }


def _data_schemas() -> dict[str, Any]:
    digest = {"type": "string", "pattern": f"^{HASH_PATTERN}$"}
    counts = {
        "points": {"type": "integer", "minimum": MIN_POINTS},
        "classes": {"type": "integer", "minimum": MIN_CLASSES, "description": "The largest label plus one."},
    }
    return {
        "DataStored": {
            "type": "object",
            "required": ["data", "points", "classes"],
            "properties": {"data": digest, **counts},
        },
        "DataPoints": {
            "type": "object",
            "required": ["data", "points", "classes", "rows"],
            "properties": {
                "data": digest,
                **counts,
                "rows": {
                    "type": "array",
                    "description": "[x, y, label] per point, in the canonical order (by label, x, y).",
                    "items": {
                        "type": "array",
                        "minItems": 3,
                        "maxItems": 3,
                        "items": _number(-MAX_COORDINATE, MAX_COORDINATE),
                    },
                },
            },
        },
    }


def vary_schema(limits: Limits) -> dict[str, Any]:
    """A sweep's `vary`: a property per row of core.sweeps.AXES, each a list of that axis's values."""
    properties = {}
    for axis in AXES:
        item = _field_schema(axis_field(axis), limits)
        description = f"{axis.label}: {item.pop('description')}"
        values = {"type": "array", "minItems": 1, "maxItems": MAX_VALUES, "uniqueItems": True, "items": item}
        properties[axis.name] = {**values, "description": description}
    return {
        "type": "object",
        "minProperties": 1,
        "maxProperties": MAX_AXES,
        "additionalProperties": False,
        "properties": properties,
    }


def _sweep_paths(sweep_id: dict[str, Any], unavailable: dict[str, Any], limits: Limits) -> dict[str, Any]:
    """POST /api/sweeps, GET /api/sweeps/estimate, GET /api/sweeps/{sweep_id}[/events] and POST
    .../stop (server.sweeps)."""
    not_found = _error("No sweep has this id.")
    sweep = _json("The sweep.", {"$ref": "#/components/schemas/Sweep"})
    names = "|".join(axis.name for axis in AXES)
    sweep_parameter = {
        "name": "sweep",
        "in": "query",
        "required": True,
        "description": "The settings to vary and their values, as the sweep's address writes them: "
        f"up to {MAX_AXES} of {', '.join(axis.name for axis in AXES)}, up to {MAX_VALUES} values each, "
        "such as lr:0.01,0.1,1;hidden:8,16,32.",
        "schema": {"type": "string", "pattern": f"^({names}):[^;]*(;({names}):[^;]*)?$"},
    }
    return {
        "/api/sweeps/estimate": {
            "get": {
                "summary": "How long a sweep's runs would train in all, and the sweep cap",
                "description": "The base config as a query string (fields left out take the dataset's "
                "defaults) and `sweep`. `seconds`: the cells' estimated seconds added up (core.cost); a "
                "sweep above `cap_seconds` is refused.",
                "parameters": [*config_query_parameters(limits), sweep_parameter],
                "responses": {
                    "200": _json(
                        "The estimate.",
                        {
                            "type": "object",
                            "required": ["seconds", "cap_seconds", "runs", "query"],
                            "properties": {
                                "query": {"type": "string", "description": "The sweep's canonical text."},
                                "seconds": {"type": "number", "minimum": 0},
                                "cap_seconds": {"type": "number", "minimum": 0},
                                "runs": {"type": "integer", "minimum": 1, "maximum": MAX_VALUES**MAX_AXES},
                            },
                        },
                    ),
                    "400": _error("Invalid config or sweep; `field` names the field."),
                    "503": unavailable,
                },
            }
        },
        "/api/sweeps": {
            "post": {
                "summary": "Start a sweep: a grid of runs varying one or two settings of a config",
                "description": "Each cell is an ordinary run (a config trained already answers with its "
                "run). Refused (400, field `vary`) when the cells' estimated seconds add up to more than "
                "the server's sweep cap.",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/SweepRequest"}}
                    },
                },
                "responses": {
                    "201": _json("Queued.", {"$ref": "#/components/schemas/SweepCreated"}),
                    "400": _error("Invalid config or vary, or too big; `field` names the field."),
                    "413": _error("The body is too large."),
                    "429": _error("Too many runs: the queue is full or this client started too many.", True),
                    "503": unavailable,
                },
            }
        },
        "/api/sweeps/{sweep_id}": {
            "get": {
                "summary": "A sweep: its settings and each cell's run, status and latest validation figures",
                "parameters": [sweep_id],
                "responses": {"200": sweep, "404": not_found, "503": unavailable},
            }
        },
        "/api/sweeps/{sweep_id}/events": {
            "get": {
                "summary": "Server-sent events: `cell` per status change, `epochs` with new epochs, `done`",
                "parameters": [
                    sweep_id,
                    {
                        "name": "Last-Event-ID",
                        "in": "header",
                        "required": False,
                        "description": "The last `epochs` event's id: each cell's epoch count, joined by "
                        "dots. The stream sends the epochs after it. Anything else is a 400.",
                        "schema": {"type": "string"},
                    },
                ],
                "responses": {
                    "200": {
                        "description": "An event stream: `retry: 2000`, then its events.",
                        "content": {
                            "text/event-stream": {"schema": {"$ref": "#/components/schemas/SweepEvent"}}
                        },
                    },
                    "400": _error("Last-Event-ID is not a cursor this stream sent."),
                    "404": not_found,
                    "429": TOO_MANY_STREAMS,
                    "503": unavailable,
                },
            }
        },
        "/api/sweeps/{sweep_id}/stop": {
            "post": {
                "summary": "Stop the queued and running runs the sweep created",
                "description": "Only the sweep's owner may: send the `owner_token` POST /api/sweeps "
                "answered, as `Authorization: Bearer <token>`.",
                "parameters": [sweep_id],
                "security": [{"ownerToken": []}],
                "responses": {
                    "200": sweep,
                    "403": _error("No owner token, or not this sweep's."),
                    "404": not_found,
                    "503": unavailable,
                },
            }
        },
    }


def _sweep_schemas(limits: Limits) -> dict[str, Any]:
    run_id = {"type": "string", "pattern": f"^{RUN_ID}$"}
    nullable_number = {"type": "number", "nullable": True}
    vary = vary_schema(limits)
    return {
        "SweepRequest": {
            "type": "object",
            "required": ["vary"],
            "additionalProperties": False,
            "properties": {"config": {"$ref": "#/components/schemas/Config"}, "vary": vary},
        },
        "SweepCreated": {
            "type": "object",
            "required": ["id", "url", "events", "runs", "query", "vary", "seconds", "owner_token"],
            "properties": {
                "id": run_id,
                "url": {"type": "string"},
                "events": {"type": "string"},
                "runs": {
                    "type": "array",
                    "items": run_id,
                    "description": "The cells' runs, first axis fastest.",
                },
                "query": {"type": "string", "description": "The canonical sweep query, as in /?sweep=."},
                "vary": {"type": "object"},
                "seconds": {"type": "number", "minimum": 0, "description": "The cells' estimated seconds."},
                "owner_token": {"type": "string", "minLength": 43, "description": "Stops the sweep."},
            },
        },
        "Sweep": {
            "type": "object",
            "required": [
                "id",
                "url",
                "events",
                "status",
                "config",
                "query",
                "address",
                "vary",
                "axes",
                "cells",
            ],
            "properties": {
                "id": run_id,
                "url": {"type": "string"},
                "events": {"type": "string"},
                "status": {"type": "string", "enum": ["running", "done"]},
                "config": {"type": "object"},
                "query": {"type": "string"},
                "address": {
                    "type": "string",
                    "description": "The playground's address with this sweep's config and ?sweep=.",
                },
                "vary": {"type": "object"},
                "axes": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "The varied settings in order: the first is the heatmap's columns.",
                },
                "cells": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["cell", "values", "run", "status", "epochs", "val_acc", "val_loss"],
                        "properties": {
                            "cell": {"type": "integer", "minimum": 0},
                            "values": {"type": "object"},
                            "run": run_id,
                            "status": {"type": "string", "enum": [status.value for status in Status]},
                            "epochs": {"type": "integer", "minimum": 0},
                            "val_acc": nullable_number,
                            "val_loss": nullable_number,
                            "query": {"type": "string", "nullable": True},
                        },
                    },
                },
            },
        },
        "SweepEvent": {
            "description": "One event: `cell` (no id) data {cell, values, run, status, epochs, val_acc, "
            "val_loss} when a cell's status changes; `epochs` (id: each cell's epoch count, joined by dots) "
            "data {cells: {index: {from, val_acc: [...], val_loss: [...]}}}; `done` data {status}.",
            "type": "object",
            "required": ["event", "data"],
            "properties": {
                "event": {"type": "string", "enum": ["cell", "epochs", "done"]},
                "id": {"type": "string", "pattern": "^[0-9]+(\\.[0-9]+)*$"},
                "data": {"type": "string", "minLength": 2, "description": "JSON."},
            },
        },
    }


def openapi_spec(limits: Limits, max_body: int = 1_000_000) -> dict[str, Any]:
    run_id = {
        "name": "run_id",
        "in": "path",
        "required": True,
        "description": "12 letters, digits, '-' or '_'; anything else is a 404.",
        "schema": {"type": "string", "pattern": f"^{RUN_ID}$"},
    }
    not_found = _error("No run has this id.")
    unavailable = _error("The run store is busy or read-only; try again later.", retry_after=True)
    too_large = _error(f"The body is larger than {max_body} bytes.")
    run = _json("The run.", {"$ref": "#/components/schemas/Run"})
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "NumPy NN Playground API",
            "version": "1",
            "description": "Train the tutorial's NumPy network and watch it learn. Every error is JSON "
            "with a sentence in `error` and, for input errors, the `field` at fault (and the `line` of "
            "an uploaded file). Request bodies are JSON (UTF-8, finite numbers only), but POST "
            f"/api/data's, CSV; at most {max_body} bytes.",
        },
        "paths": {
            "/api/runs": {
                "post": {
                    "summary": "Start a run, or answer with the stored run of the same config",
                    "description": "A config (seed included) always gives the same numbers, so a config "
                    "identical to a run that is done, queued or running answers with that run (200, "
                    "`reused`: true) and trains nothing; a run that ended stopped, failed or interrupted "
                    "is not reused. `fresh`: true always starts a new run (201). Each client (address; IPv6 "
                    "per /64) has a fair share, counted before a run is accepted: runs started per window "
                    "(PLAYGROUND_RATELIMIT), runs queued or training at once (PLAYGROUND_CLIENT_RUNS) and "
                    "estimated training seconds an hour (PLAYGROUND_CLIENT_BUDGET); a reused run costs "
                    "nothing. The queue serves clients in turn.",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/RunRequest"}}
                        },
                    },
                    "responses": {
                        "200": _json(
                            "The stored run of the same config (`reused`: true).",
                            {"$ref": "#/components/schemas/Created"},
                        ),
                        "201": _json("Queued.", {"$ref": "#/components/schemas/Created"}),
                        "400": _error(
                            "Invalid config or body, or a config estimated to train longer than one run "
                            "may (PLAYGROUND_RUN_COST); `field` names the field to change."
                        ),
                        "413": too_large,
                        "429": _error(
                            "The queue is full, or this client's fair share is used (runs started, runs "
                            "going, the hourly budget); the sentence says which and in how many seconds "
                            "to try again, as Retry-After does.",
                            True,
                        ),
                        "503": unavailable,
                    },
                }
            },
            "/api/runs/{run_id}": {
                "get": {
                    "summary": "A run: status, config and recorded epochs",
                    "parameters": [run_id],
                    "responses": {"200": run, "404": not_found, "503": unavailable},
                }
            },
            "/api/runs/{run_id}/events": {
                "get": {
                    "summary": "Server-sent events: status, one `epoch` event per epoch, `done` last",
                    "parameters": [
                        run_id,
                        {
                            "name": "Last-Event-ID",
                            "in": "header",
                            "required": False,
                            "description": "The last epoch seen; the stream replays the epochs after it. "
                            "Anything but a whole number of up to 9 digits is a 400.",
                            "schema": {"type": "string"},
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "An event stream: `retry: 2000`, then its events.",
                            "content": {
                                "text/event-stream": {"schema": {"$ref": "#/components/schemas/Event"}}
                            },
                        },
                        "400": _error("Last-Event-ID is not an epoch number."),
                        "404": not_found,
                        "429": TOO_MANY_STREAMS,
                        "503": unavailable,
                    },
                }
            },
            "/api/runs/{run_id}/timeline": {
                "get": {
                    "summary": "Every recorded epoch at once: each `epoch` event's data, in order",
                    "parameters": [run_id],
                    "responses": {
                        "200": _json(
                            "The recorded epochs.",
                            {
                                "type": "object",
                                "required": ["epochs"],
                                "properties": {
                                    "epochs": {
                                        "type": "array",
                                        "items": {"$ref": "#/components/schemas/EpochData"},
                                    }
                                },
                            },
                        ),
                        "404": not_found,
                        "503": unavailable,
                    },
                }
            },
            "/api/runs/{run_id}/stop": {
                "post": {
                    "summary": "Stop a queued or running run (a finished run: no change)",
                    "description": "Only the run's owner may: send the `owner_token` that started it "
                    "answered, as `Authorization: Bearer <token>`.",
                    "parameters": [run_id],
                    "security": [{"ownerToken": []}],
                    "responses": {
                        "200": run,
                        "403": _error("No owner token, or not this run's: only its owner may stop it."),
                        "404": not_found,
                        "503": unavailable,
                    },
                }
            },
            "/api/runs/{run_id}/predict": {
                "post": {
                    "summary": "Class probabilities from the run's latest weights",
                    "parameters": [run_id],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/PredictRequest"}}
                        },
                    },
                    "responses": {
                        "200": _json("Probabilities.", {"$ref": "#/components/schemas/Prediction"}),
                        "400": _error("Bad pixels or points; `field` names the field."),
                        "404": not_found,
                        "410": _error(EXPIRED_MESSAGE),
                        "409": _error("The run has no weights yet."),
                        "413": too_large,
                        "429": _error(
                            "This client asked for too many predictions and views "
                            "(PLAYGROUND_READ_RATELIMIT); try again in Retry-After seconds.",
                            True,
                        ),
                        "503": unavailable,
                    },
                }
            },
            "/api/runs/{run_id}/views": {
                "get": {
                    "summary": "What the network learned: decision grid, confusion matrix, weight images",
                    "parameters": [run_id],
                    "responses": {
                        "200": _json("The views.", {"type": "object"}),
                        "404": not_found,
                        "429": _error(
                            "This client asked for too many predictions and views "
                            "(PLAYGROUND_READ_RATELIMIT); try again in Retry-After seconds.",
                            True,
                        ),
                        "410": _error(EXPIRED_MESSAGE),
                        "503": unavailable,
                    },
                }
            },
            "/api/runs/{run_id}/weights.npz": {
                "get": {
                    "summary": "The latest weights as .npz (w0, b0, w1, b1, ...)",
                    "parameters": [run_id],
                    "responses": {
                        "200": {"description": "NumPy archive.", "content": {"application/octet-stream": {}}},
                        "404": not_found,
                        "410": _error(EXPIRED_MESSAGE),
                        "409": _error("The run has no weights yet."),
                        "503": unavailable,
                    },
                }
            },
            "/api/runs/{run_id}/metrics.csv": {
                "get": {
                    "summary": "The recorded epochs as CSV",
                    "parameters": [run_id],
                    "responses": {
                        "200": {"description": "CSV.", "content": {"text/csv": {}}},
                        "404": not_found,
                        "503": unavailable,
                    },
                }
            },
            **_data_paths(limits, max_body, unavailable),
            **_sweep_paths({**run_id, "name": "sweep_id"}, unavailable, limits),
            "/api/estimate": {
                "get": {
                    "summary": "How long a config would train, before it starts, and the wall-clock cap",
                    "description": "The config as a query string, as a shared URL writes it; fields left "
                    "out take the dataset's defaults. `seconds`: the expected run time on this server "
                    "(core.cost); `epochs_within_cap`: the epochs done when the cap (`cap_seconds`) would "
                    "stop it (`epochs` when it fits); `refusal`: what POST /api/runs would answer "
                    "(a 400's `error` and `field`) when the estimate is past what one run may cost "
                    "(`cost_limit` seconds), else null.",
                    "parameters": config_query_parameters(limits),
                    "responses": {
                        "200": _json(
                            "The estimate.",
                            {
                                "type": "object",
                                "required": [
                                    "seconds",
                                    "cap_seconds",
                                    "epochs",
                                    "epochs_within_cap",
                                    "cost_limit",
                                    "refusal",
                                ],
                                "properties": {
                                    "seconds": {"type": "number", "minimum": 0},
                                    "cap_seconds": {"type": "number", "exclusiveMinimum": True, "minimum": 0},
                                    "epochs": {"type": "integer", "minimum": 1},
                                    "epochs_within_cap": {"type": "integer", "minimum": 0},
                                    "cost_limit": {"type": "number", "exclusiveMinimum": True, "minimum": 0},
                                    "refusal": {
                                        "type": "object",
                                        "nullable": True,
                                        "required": ["error", "field"],
                                        "properties": {
                                            "error": {"type": "string"},
                                            "field": {"type": "string"},
                                        },
                                    },
                                },
                            },
                        ),
                        "400": _error("Invalid config; `field` names the field."),
                    },
                }
            },
            "/api/datasets": {
                "get": {
                    "summary": "The datasets (shapes, classes, defaults), the limits and the config fields",
                    "responses": {"200": _json("The datasets.", {"type": "object"})},
                }
            },
            "/api/openapi.json": {
                "get": {
                    "summary": "This description",
                    "responses": {"200": _json("OpenAPI 3.", {"type": "object"})},
                }
            },
            "/healthz": {
                "get": {"summary": "Liveness", "responses": {"200": _json("Alive.", {"type": "object"})}}
            },
        },
        "components": {
            "securitySchemes": {
                "ownerToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The `owner_token` POST /api/runs answered when it started the run.",
                }
            },
            "schemas": {
                "Config": config_schema(limits),
                "RunRequest": run_request_schema(limits),
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {"type": "string", "minLength": 1},
                        "field": {"type": "string"},
                        "line": {"type": "integer", "minimum": 1},
                    },
                },
                "Created": {
                    "type": "object",
                    "required": ["id", "url", "events", "config", "query", "status", "reused"],
                    "properties": {
                        "id": {"type": "string", "pattern": f"^{RUN_ID}$"},
                        "url": {"type": "string"},
                        "events": {"type": "string"},
                        "config": {"type": "object"},
                        "query": {"type": "string"},
                        "status": {
                            "type": "string",
                            "enum": [status.value for status in REUSABLE],
                            "description": "queued for a new run; a reused run's own status.",
                        },
                        "reused": {
                            "type": "boolean",
                            "description": "true: the stored run of the same config (200), nothing trained.",
                        },
                        "owner_token": {
                            "type": "string",
                            "minLength": 43,
                            "description": "Only for a new run (201): proves ownership of the run (stop it); "
                            "answered only here, once; the server keeps only its hash. A reused run (200) "
                            "has none.",
                        },
                    },
                },
                "Run": _run_schema(),
                "Warning": {
                    "description": "A `done` run whose curves show it did not learn (core.verdict): `code` "
                    "is chance (validation accuracy at or near chance), loss_rose (the training loss ended "
                    "above its first epoch's) or loss_exploded (no better validation loss for many epochs "
                    "while the training loss grew); `message` says what happened, `hint` what to try, `why` "
                    "(or null) the cause the layers' diagnostics show (core.diagnostics.explain). "
                    "null for every other run.",
                    "type": "object",
                    "nullable": True,
                    "required": ["code", "message", "hint"],
                    "properties": {
                        "code": {"type": "string", "enum": list(verdict.CODES)},
                        "message": {"type": "string", "minLength": 1},
                        "hint": {"type": "string", "minLength": 1},
                        "why": {"type": "string", "minLength": 1, "nullable": True},
                    },
                },
                "Event": {
                    "description": "One event: `status` data {status, position?, reason?}; `done` data "
                    "{status, reason?, test_acc?, test_loss?, warning?} (warning: a Warning, for a `done` "
                    "run whose curves show it did not learn); `epoch` (id = the epoch) data: an EpochData "
                    "object; `progress` (no id: never replayed, never stored) data: a ProgressData object.",
                    "type": "object",
                    "required": ["event", "data"],
                    "properties": {
                        "event": {"type": "string", "enum": ["status", "epoch", "progress", "done"]},
                        "id": {"type": "string", "pattern": "^[0-9]+$"},
                        "data": {"type": "string", "minLength": 2, "description": "JSON."},
                    },
                },
                "EpochData": _epoch_data_schema(),
                "ProgressData": {
                    "description": "How far the epoch in progress got, sent about once a second while "
                    "an epoch takes longer than a second: `batch` of `batches` done, `seconds` since the "
                    "epoch began (the page's time left comes from these).",
                    "type": "object",
                    "required": ["epoch", "batch", "batches", "seconds"],
                    "properties": {
                        "epoch": {"type": "integer", "minimum": 1},
                        "batch": {"type": "integer", "minimum": 1},
                        "batches": {"type": "integer", "minimum": 1},
                        "seconds": {"type": "number", "minimum": 0},
                    },
                },
                "LayerDiagnostics": _layer_diagnostics_schema(),
                **_data_schemas(),
                **_sweep_schemas(limits),
                "PredictRequest": {
                    "description": "pixels (MNIST runs) or points (2D runs), not both.",
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "pixels": {
                            "type": "array",
                            "minItems": 1,
                            "maxItems": MAX_PREDICT_ROWS,
                            "items": {
                                "type": "array",
                                "minItems": 784,
                                "maxItems": 784,
                                "items": _number(0, 1),
                            },
                        },
                        "points": {
                            "type": "array",
                            "minItems": 1,
                            "maxItems": MAX_PREDICT_ROWS,
                            "items": {
                                "type": "array",
                                "minItems": 2,
                                "maxItems": 2,
                                "items": _number(-POINT_RANGE, POINT_RANGE),
                            },
                        },
                    },
                },
                "Prediction": {
                    "type": "object",
                    "required": ["probabilities", "classes", "epoch"],
                    "properties": {
                        "probabilities": {
                            "type": "array",
                            "items": {"type": "array", "items": {"type": "number"}},
                        },
                        "classes": {"type": "array", "items": {"type": "string"}},
                        "epoch": {"type": "integer"},
                    },
                },
            },
        },
    }
