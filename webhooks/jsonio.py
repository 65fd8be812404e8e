"""JSON in and out of the web tier: request bodies that must be JSON objects, and the
JSON shape of HTTP errors (shared by the app and blueprints with their own handlers)."""
from __future__ import annotations

from flask import jsonify, request
from werkzeug.exceptions import HTTPException

from hotline.errors import BadRequest


def json_object_body() -> dict:
    """The request's JSON object. A cross-site HTML form cannot send JSON, so desktop
    actions that require it are safe from form-based request forgery."""
    if not request.is_json:
        raise BadRequest("(body)", "must be JSON (Content-Type: application/json)")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest("(body)", "must be a JSON object")
    return body


def error_response(error_id: str, message: str, details: dict | None, status: int):
    """The one JSON shape of every error the web tier answers with."""
    return jsonify({"error": error_id, "message": message, "details": details or {}}), status


def http_error_response(error: HTTPException):
    if error.code == 413:
        limit = request.max_content_length
        return error_response("request-too-large", f"the request body is larger than {limit} bytes, "
                              "the limit of this address", {"limit_bytes": limit}, 413)
    if error.code == 403:
        return error_response("forbidden", "request signature is missing or wrong", None, 403)
    return error_response(error.name.lower().replace(" ", "-"), error.description, None, error.code)
