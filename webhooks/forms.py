"""Reading Twilio's form bodies fast, exactly as werkzeug would."""
from __future__ import annotations

import io
from urllib.parse import unquote

from flask import Request
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import RequestEntityTooLarge

from webhooks.limits import body_limit


class FormParams(ImmutableMultiDict):
    """Request parameters that also answer `getall`, the method Twilio's RequestValidator
    tries first: on a plain MultiDict it raises AttributeError for every parameter of
    every signed request before falling back to `getlist`."""

    getall = ImmutableMultiDict.getlist


FAST_FORM_LIMIT = 64 * 1024  # Twilio's form bodies are a few hundred bytes
UNQUOTE_ERRORS = "werkzeug.url_quote"  # what werkzeug's form parser passes for bad escapes


def parse_form(text: str) -> list[tuple[str, str]]:
    """The pairs of an url-encoded body, exactly as werkzeug's parser gets them from
    `parse_qsl(text, keep_blank_values=True, errors=UNQUOTE_ERRORS)`.

    A field is only unquoted when it holds '%' or '+'. Most of the 20-odd fields of a
    Twilio webhook hold neither, and parse_qsl's checks on every field cost about as much
    as the rest of the parsing.
    """
    pairs = []
    for field in text.split("&"):
        if not field:
            continue
        name, _, value = field.partition("=")
        if "%" in name or "+" in name:
            name = unquote(name.replace("+", " "), errors=UNQUOTE_ERRORS)
        if "%" in value or "+" in value:
            value = unquote(value.replace("+", " "), errors=UNQUOTE_ERRORS)
        pairs.append((name, value))
    return pairs


class OneCallRequest(Request):
    parameter_storage_class = FormParams

    @property
    def max_content_length(self) -> int:
        """The body limit of this request's route family (werkzeug's stream and form parser
        enforce it with a 413)."""
        return body_limit(self.path)

    def _load_form_data(self) -> None:
        """A short url-encoded body (every Twilio webhook) is parsed by `parse_form`,
        without werkzeug's stream and limit machinery, which costs more than the parsing on
        a webhook turn. Anything else takes werkzeug's path."""
        if "form" in self.__dict__:
            return
        environ = self.environ
        length = environ.get("CONTENT_LENGTH", "")
        mimetype = environ.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()
        if mimetype != "application/x-www-form-urlencoded" or not length.isdigit() or int(length) > FAST_FORM_LIMIT:
            return super()._load_form_data()
        if int(length) > self.max_content_length:
            raise RequestEntityTooLarge()
        body = environ["wsgi.input"].read(int(length))
        # Not UTF-8 cannot come from Twilio (it %-escapes everything else): such a body is
        # read with replacement characters and then fails its signature check (403).
        text = body.decode("utf-8", "replace")
        d = self.__dict__
        d["stream"], d["form"], d["files"] = io.BytesIO(), FormParams(parse_form(text)), FormParams()
