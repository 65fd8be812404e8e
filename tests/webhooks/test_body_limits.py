"""Bodies over a route family's limit get 413 in the one error shape, before anything reads them."""
from __future__ import annotations

import json

from tests.conftest import API_TOKEN
from tests.webhooks.helpers import new_call_sid
LIMITS = {"twilio": 64 * 1024, "api": 1024 * 1024, "import": 16 * 1024 * 1024}
TWILIO_LIMIT, DEFAULT_LIMIT, CITIZEN_IMPORT_LIMIT = LIMITS.values()

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}


def assert_too_large(response, limit):
    assert response.status_code == 413, response.data[:200]
    body = response.get_json()
    assert set(body) == {"error", "message", "details"} and body["error"] == "request-too-large"
    assert body["details"] == {"limit_bytes": limit}


def test_a_huge_signed_twilio_webhook_is_413_not_403_and_changes_nothing(web, twilio, redis_client):
    sid = new_call_sid()
    before = set(redis_client.scan_iter())
    response = twilio.post("/twilio/voice", {"CallSid": sid, "From": "+821012345678", "Pad": "x" * TWILIO_LIMIT})
    assert_too_large(response, TWILIO_LIMIT)
    assert not [key for key in set(redis_client.scan_iter()) - before if sid in key]
    normal = twilio.post("/twilio/voice", {"CallSid": sid, "From": "+821012345678"})
    assert normal.status_code == 200 and b"<Gather" in normal.data


def test_a_twilio_body_below_the_limit_is_still_checked_and_refused_when_forged(client):
    response = client.post("/twilio/voice", data={"CallSid": "CA1", "Pad": "x" * (TWILIO_LIMIT // 2)})
    assert response.status_code == 403


def test_a_citizen_import_may_be_larger_than_other_api_bodies(web, client):
    line = json.dumps({"id": "C-0000", "name": "x", "address": "y" * 500})
    lines = "\n".join(line.replace("C-0000", f"C-{i:05d}") for i in range(DEFAULT_LIMIT // len(line) + 10))
    assert DEFAULT_LIMIT < len(lines) < CITIZEN_IMPORT_LIMIT
    response = client.post("/api/citizens", data=lines, content_type="application/x-ndjson", headers=AUTH)
    assert response.status_code == 201, response.get_json()
    response = client.post("/api/agents/kim.minji/status", data=lines, content_type="application/json", headers=AUTH)
    assert_too_large(response, DEFAULT_LIMIT)


def test_an_import_over_its_limit_is_413_and_imports_nothing(web, client):
    body = json.dumps([{"id": "C-1", "name": "x", "address": "y" * CITIZEN_IMPORT_LIMIT}])
    assert_too_large(client.post("/api/citizens", data=body, content_type="application/json", headers=AUTH),
                     CITIZEN_IMPORT_LIMIT)
    assert client.get("/api/citizens/C-1", headers=AUTH).status_code == 404


def test_a_body_sent_without_a_length_is_measured_not_cut_at_the_limit(client):
    # werkzeug cuts a chunked body at max_content_length without a word; a cut import could
    # end on a line boundary and import part of a file
    import io

    body = b"x" * (DEFAULT_LIMIT + 1)
    response = client.post("/api/agents/kim.minji/status", input_stream=io.BytesIO(body),
                           headers={**AUTH, "Content-Type": "application/json", "Transfer-Encoding": "chunked"},
                           environ_overrides={"wsgi.input_terminated": True})
    assert_too_large(response, DEFAULT_LIMIT)
    fits = client.post("/api/agents/kim.minji/status", input_stream=io.BytesIO(b'{"status": "available"}'),
                       headers={**AUTH, "Content-Type": "application/json", "Transfer-Encoding": "chunked"},
                       environ_overrides={"wsgi.input_terminated": True})
    assert fits.status_code == 200 and fits.get_json()["agent"]["status"] == "available"
