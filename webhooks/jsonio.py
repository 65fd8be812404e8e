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


def http_error_response(error: HTTPException):
    if error.code == 403:
        return jsonify({"error": "forbidden", "message": "request signature is missing or wrong"}), 403
    return jsonify({"error": error.name.lower().replace(" ", "-"), "message": error.description}), error.code
