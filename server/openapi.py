"""The OpenAPI description of the HTTP API, built from the same bounds the server enforces."""

from __future__ import annotations

from typing import Any

from core.config import DATASETS, INITS, Limits

RUN_ID_PATTERN = "^[A-Za-z0-9_-]{8,32}$"


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def config_schema(limits: Limits) -> dict[str, Any]:
    """A run's config; fields left out take the dataset's defaults (GET /api/datasets)."""
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "dataset": {"type": "string", "enum": list(DATASETS)},
            "hidden": {
                "type": "array",
                "minItems": 1,
                "maxItems": limits.max_hidden_layers,
                "items": {"type": "integer", "minimum": 1, "maximum": limits.max_units},
            },
            "lr": {"type": "number", "minimum": 0.0001, "maximum": 3},
            "batch_size": {"type": "integer", "minimum": 1, "maximum": limits.max_batch_size},
            "epochs": {"type": "integer", "minimum": 1, "maximum": limits.max_epochs_2d},
            "seed": {"type": "integer", "minimum": 0, "maximum": 2**32 - 1},
            "init": {"type": "string", "enum": list(INITS)},
            "momentum": {"type": "number", "minimum": 0, "maximum": 0.99},
            "noise": {"type": "number", "minimum": 0, "maximum": 1},
            "train_ratio": {"type": "number", "minimum": 0.1, "maximum": 0.9},
            "points": {"type": "integer", "minimum": 50, "maximum": limits.max_points},
            "classes": {"type": "integer", "minimum": 2, "maximum": limits.max_classes},
        },
    }


def openapi_spec(limits: Limits) -> dict[str, Any]:
    run_id = {
        "name": "run_id",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "pattern": RUN_ID_PATTERN},
    }
    not_found = _error("No run has this id.")
    run = {"$ref": "#/components/schemas/Run"}
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "NumPy NN Playground API",
            "version": "1",
            "description": "Train the tutorial's NumPy network and watch it learn. Every error is JSON "
            "with a sentence in `error` and, for input errors, the `field` at fault.",
        },
        "paths": {
            "/api/runs": {
                "post": {
                    "summary": "Start a run",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": config_schema(limits)}},
                    },
                    "responses": {
                        "201": _json("Queued.", {"$ref": "#/components/schemas/Created"}),
                        "400": _error("Invalid config; `field` names the field."),
                        "413": _error("The body is too large."),
                        "429": _error("Too many runs: the queue is full or this client started too many."),
                    },
                }
            },
            "/api/runs/{run_id}": {
                "get": {
                    "summary": "A run: status, config and recorded epochs",
                    "parameters": [run_id],
                    "responses": {"200": _json("The run.", run), "404": not_found},
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
                            "schema": {"type": "string"},
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "An event stream.",
                            "content": {"text/event-stream": {"schema": {"type": "string"}}},
                        },
                        "404": not_found,
                    },
                }
            },
            "/api/runs/{run_id}/stop": {
                "post": {
                    "summary": "Stop a queued or running run",
                    "parameters": [run_id],
                    "responses": {"200": _json("The run.", run), "404": not_found},
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
                        "400": _error("Bad pixels or points."),
                        "404": not_found,
                        "409": _error("The run has no weights yet."),
                        "413": _error("The body is too large."),
                    },
                }
            },
            "/api/runs/{run_id}/views": {
                "get": {
                    "summary": "What the network learned: decision grid, confusion matrix, weight images",
                    "parameters": [run_id],
                    "responses": {"200": _json("The views.", {"type": "object"}), "404": not_found},
                }
            },
            "/api/runs/{run_id}/weights.npz": {
                "get": {
                    "summary": "The latest weights as .npz (w0, b0, w1, b1, ...)",
                    "parameters": [run_id],
                    "responses": {
                        "200": {"description": "NumPy archive.", "content": {"application/octet-stream": {}}},
                        "404": not_found,
                        "409": _error("The run has no weights yet."),
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
                    },
                }
            },
            "/api/datasets": {
                "get": {
                    "summary": "The datasets with their shapes, classes and defaults",
                    "responses": {"200": _json("The datasets.", {"type": "object"})},
                }
            },
            "/healthz": {
                "get": {"summary": "Liveness", "responses": {"200": _json("Alive.", {"type": "object"})}}
            },
        },
        "components": {
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {"error": {"type": "string"}, "field": {"type": "string"}},
                },
                "Created": {
                    "type": "object",
                    "required": ["id", "url", "events", "config"],
                    "properties": {
                        "id": {"type": "string"},
                        "url": {"type": "string"},
                        "events": {"type": "string"},
                        "config": {"type": "object"},
                    },
                },
                "Run": {
                    "type": "object",
                    "required": ["id", "status", "config", "epochs"],
                    "properties": {
                        "id": {"type": "string"},
                        "status": {
                            "type": "string",
                            "enum": ["queued", "running", "done", "stopped", "failed", "interrupted"],
                        },
                        "config": {"type": "object"},
                        "epochs": {"type": "array", "items": {"type": "object"}},
                    },
                },
                "PredictRequest": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "pixels": {
                            "type": "array",
                            "minItems": 1,
                            "maxItems": 64,
                            "items": {
                                "type": "array",
                                "minItems": 784,
                                "maxItems": 784,
                                "items": {"type": "number", "minimum": 0, "maximum": 1},
                            },
                        },
                        "points": {
                            "type": "array",
                            "minItems": 1,
                            "maxItems": 10000,
                            "items": {
                                "type": "array",
                                "minItems": 2,
                                "maxItems": 2,
                                "items": {"type": "number"},
                            },
                        },
                    },
                },
                "Prediction": {
                    "type": "object",
                    "properties": {
                        "probabilities": {
                            "type": "array",
                            "items": {"type": "array", "items": {"type": "number"}},
                        },
                        "classes": {"type": "array", "items": {"type": "string"}},
                    },
                },
            }
        },
    }
