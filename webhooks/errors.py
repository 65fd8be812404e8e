"""JSON bodies for HTTP errors, shared by the app and blueprints with their own handlers."""
from __future__ import annotations

from flask import jsonify
from werkzeug.exceptions import HTTPException


def http_error_response(error: HTTPException):
    if error.code == 403:
        return jsonify({"error": "forbidden", "message": "request signature is missing or wrong"}), 403
    return jsonify({"error": error.name.lower().replace(" ", "-"), "message": error.description}), error.code
