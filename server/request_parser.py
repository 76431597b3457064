"""How every API view reads its input: webargs' Flask parser, refusing JSON the database cannot hold.

A body on a JSON route that is not declared JSON (a form, text) is a 415, not silently no body.

A JSON body may spell characters no database text column takes: NUL (PostgreSQL refuses it) and lone
UTF-16 surrogates such as "\\ud800" (not encodable as UTF-8). Both are a 400 naming the body, as is
JSON nested too deeply for the parser or a number too long to read, instead of a failure deep in a service or at the database.
"""

from __future__ import annotations

import json
import re
from typing import Any

import flask_smorest
from webargs.flaskparser import FlaskParser, abort, is_json_request

# Only bodies that spell a NUL or a surrogate as an escape are walked; any other body costs one search.
_SUSPECT_ESCAPE = re.compile(rb"\\u(0000|[dD][89a-fA-F])")


def _holds_unstorable_text(data: Any) -> bool:
    # Walked with a list, not recursion: a body the parser took may still be deeper than Python's stack.
    pending = [data]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            if "\x00" in value:
                return True
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return False


class RequestParser(FlaskParser):
    """webargs' Flask parser; a JSON body must be storable text (no NUL, no lone surrogate) and not too deep."""

    def _raw_load_json(self, req):
        if not is_json_request(req) and req.get_data(cache=True):
            # webargs would read a form or text body as no body: a PATCH would answer 200 changing nothing.
            abort(415, messages={"json": ["The body must be JSON (Content-Type: application/json)."]})
        try:
            data = super()._raw_load_json(req)
        except RecursionError:
            abort(400, messages={"json": ["JSON nested too deeply."]})
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise  # webargs answers these (an empty body is no body; other broken JSON is "Invalid JSON body.")
        except ValueError:  # an integer of over 4,300 digits
            abort(400, messages={"json": ["JSON number too long."]})
        if _SUSPECT_ESCAPE.search(req.get_data(cache=True)) and _holds_unstorable_text(data):
            abort(400, messages={"json": ["Text must not contain NUL characters or lone surrogates."]})
        return data

    def load_querystring(self, req, schema):
        """The query arguments; a NUL in any of them is a 400 (PostgreSQL refuses it in text)."""
        raw = req.query_string
        if (b"%00" in raw or b"\x00" in raw) and any("\x00" in v for _name, v in req.args.items(multi=True)):
            abort(400, messages={"query": ["Text must not contain NUL characters."]})
        return super().load_querystring(req, schema)


class Blueprint(flask_smorest.Blueprint):
    """The flask-smorest blueprint of every API module, with `RequestParser` for arguments."""

    ARGUMENTS_PARSER = RequestParser()
