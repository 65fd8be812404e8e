"""A local stand-in for Twilio's REST Calls API, speaking its wire format on loopback.

OneCall rings agents by creating calls through Twilio's REST API. Where no Twilio account
is at hand (the demo, the test suite) this server answers the same requests the official
`twilio` library sends — `POST /2010-04-01/Accounts/{AccountSid}/Calls.json` (form
encoded, HTTP Basic auth with the account SID and auth token) and
`POST .../Calls/{CallSid}.json` to update one — with Twilio's JSON call resource, and
hands every created call to a callback so a simulator can play the agent's phone.
`GET .../Calls/{CallSid}.json` answers for created calls and for the inbound calls listed
in `inbound` (a simulator's own caller), 404 otherwise.
An update's `Status` is `completed` (ends a call not over yet) or `canceled` (ends a call
still queued or ringing, and leaves an answered one alone), as Twilio's Call resource has it;
any other value is refused with a 400.
Wrong credentials get Twilio's 401 error body; missing parameters get its 400.
"""
from __future__ import annotations

import base64
import json
import re
import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable
from urllib.parse import parse_qs

# Call statuses after which a call is over, and those in which `canceled` still stops it.
OVER = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
NOT_ANSWERED_YET = frozenset({"queued", "ringing"})

CREATE_PATH = re.compile(r"^/2010-04-01/Accounts/(AC[0-9a-f]{32})/Calls\.json$")
UPDATE_PATH = re.compile(r"^/2010-04-01/Accounts/(AC[0-9a-f]{32})/Calls/(CA[0-9a-f]{32})\.json$")


@dataclass
class CreatedCall:
    sid: str
    to: str
    from_: str
    url: str
    method: str
    status_callback: str | None
    status_callback_events: list[str]
    timeout: str | None
    params: dict[str, list[str]] = field(default_factory=dict)
    status: str = "queued"


def new_call_sid() -> str:
    return "CA" + secrets.token_hex(16)


class TwilioApiStandIn:
    def __init__(self, account_sid: str, auth_token: str, *, host: str = "127.0.0.1", port: int = 0,
                 on_call_created: Callable[[CreatedCall], None] | None = None) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.calls: list[CreatedCall] = []
        self.inbound: dict[str, str] = {}  # CallSid -> CallStatus of calls that came in to the account
        self.updates: list[tuple[str, dict[str, list[str]]]] = []
        self.rejected: list[tuple[int, str]] = []
        self._on_call_created = on_call_created
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, port), self._handler_class())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "TwilioApiStandIn":
        self._thread = threading.Thread(target=self._server.serve_forever, name="twilio-standin", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def call(self, sid: str) -> CreatedCall | None:
        """A call created through this stand-in, by its CallSid."""
        with self._lock:
            return next((c for c in self.calls if c.sid == sid), None)

    def _authorized(self, header: str | None) -> bool:
        expected = "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return header == expected

    def _call_resource(self, call: CreatedCall) -> dict:
        now = format_datetime(datetime.now(timezone.utc), usegmt=False)
        return {
            "sid": call.sid, "account_sid": self.account_sid, "to": call.to, "to_formatted": call.to,
            "from": call.from_, "from_formatted": call.from_, "status": call.status, "direction": "outbound-api",
            "api_version": "2010-04-01", "date_created": now, "date_updated": now, "start_time": None,
            "end_time": None, "duration": None, "price": None, "price_unit": "USD", "answered_by": None,
            "caller_name": None, "forwarded_from": None, "group_sid": None, "parent_call_sid": None,
            "phone_number_sid": None, "queue_time": "0", "trunk_sid": None,
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Calls/{call.sid}.json",
            "subresource_uris": {},
        }

    def _handler_class(self):
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep the simulator's terminal clean
                pass

            def _reply(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _error(self, status: int, code: int, message: str) -> None:
                with standin._lock:
                    standin.rejected.append((status, message))
                self._reply(status, {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status})

            def do_GET(self):
                if not standin._authorized(self.headers.get("Authorization")):
                    return self._error(401, 20003, "Authenticate")
                update = UPDATE_PATH.match(self.path)
                if not update or update.group(1) != standin.account_sid:
                    return self._error(404, 20404, "The requested resource was not found")
                sid = update.group(2)
                with standin._lock:
                    known = next((c for c in standin.calls if c.sid == sid), None)
                    status = standin.inbound.get(sid)
                if known is None and status is None:
                    return self._error(404, 20404, "The requested resource was not found")
                if known is None:
                    known = CreatedCall(sid=sid, to="", from_="", url="", method="POST", status_callback=None,
                                        status_callback_events=[], timeout=None, status=status)
                return self._reply(200, standin._call_resource(known))

            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0") or 0)
                form = parse_qs(self.rfile.read(length).decode(), keep_blank_values=True)
                if not standin._authorized(self.headers.get("Authorization")):
                    return self._error(401, 20003, "Authenticate")
                create, update = CREATE_PATH.match(self.path), UPDATE_PATH.match(self.path)
                if create and create.group(1) == standin.account_sid:
                    return self._create(form)
                if update and update.group(1) == standin.account_sid:
                    with standin._lock:
                        standin.updates.append((update.group(2), form))
                        known = next((c for c in standin.calls if c.sid == update.group(2)), None)
                    if known is None:
                        return self._error(404, 20404, "The requested resource was not found")
                    return self._update(known, form)
                return self._error(404, 20404, "The requested resource was not found")

            def _update(self, call: CreatedCall, form):
                status = form.get("Status", [""])[0]
                if status and status not in ("completed", "canceled"):
                    return self._error(400, 20001, f"Invalid Status: {status}")
                with standin._lock:
                    if status == "completed" and call.status not in OVER:
                        call.status = "completed"
                    elif status == "canceled" and call.status in NOT_ANSWERED_YET:
                        call.status = "canceled"
                return self._reply(200, standin._call_resource(call))

            def _create(self, form):
                for required in ("To", "From"):
                    if not form.get(required):
                        return self._error(400, 21201, f"No '{required}' number is specified")
                if not form.get("Url") and not form.get("Twiml") and not form.get("ApplicationSid"):
                    return self._error(400, 21205, "Url parameter is required")
                call = CreatedCall(
                    sid=new_call_sid(), to=form["To"][0], from_=form["From"][0], url=form.get("Url", [""])[0],
                    method=form.get("Method", ["POST"])[0], status_callback=form.get("StatusCallback", [None])[0],
                    status_callback_events=form.get("StatusCallbackEvent", []), timeout=form.get("Timeout", [None])[0],
                    params=form,
                )
                with standin._lock:
                    standin.calls.append(call)
                self._reply(201, standin._call_resource(call))
                if standin._on_call_created is not None:
                    threading.Thread(target=standin._on_call_created, args=(call,), daemon=True).start()

        return Handler
