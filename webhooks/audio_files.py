"""Rendered prompt audio over HTTP: what Twilio fetches for `<Play>`.

`GET /prompts/audio/<language>/<file>.wav`, without authentication (Twilio's media fetches
are not signed, and the files only hold the catalog's public texts). Only files the
web tier's `PromptAudio` listed are served: a name is looked up in that list, never joined
onto a path, so nothing outside the audio directory (the manifest included) can be reached.
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, send_from_directory

from hotline.audio.render import URL_PATH

bp = Blueprint("prompt_audio", __name__, url_prefix=URL_PATH)


@bp.get("/<language>/<name>.wav")
def prompt_file(language: str, name: str):
    audio = current_app.extensions["onecall"].prompt_audio
    relative = audio.served_file(language, f"{name}.wav")
    if relative is None:
        abort(404)
    return send_from_directory(audio.directory, relative, mimetype="audio/wav")
