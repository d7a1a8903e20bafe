"""Schemathesis hooks of localstack/schemathesis.sh (loaded through `hooks` in schemathesis.toml).

Locally the api is reached through the local Lambda service (`weelo-local functions`), whose
function URL turns each HTTP request into the API Gateway event the function gets in AWS: a header
value outside ASCII is passed as its UTF-8 text and a body that is not UTF-8 base64-encoded, so
every generated request reaches the api and is judged on the api's answer. (Under `cargo lambda
watch` those two kinds of request were answered by the emulator itself with a plain-text 500 and
had to be set aside here.)

Two fields are valid only relative to the clock, which JSON Schema cannot say: a GPS point's
`recordedAt` (within the last 24 hours) and a booking's `scheduledAt` (from 5 minutes ago to 30 days
ahead). Generated positive cases carry arbitrary dates there, so nearly all of them would be
answered 400 and the accepting paths (202 and 201 with a schedule) would go untested. Just before
a positive case is sent (in every phase, the spec's own examples too), those values are moved into
their window.

The coverage phase sends most creates with the spec's example `Idempotency-Key`. Once one of them has been
accepted, any later request with that key and another body is answered 409, and 409 counts as a
rejection: an invalid body that the api wrongly accepts would hide behind it. So a case whose
body alone is invalid gets a key of its own (the generated key plus a digest of the body); every
other case is sent with its key as generated (positive ones still exercise the replay and the 409;
negative ones aimed at the headers keep them exactly as generated).
"""

from __future__ import annotations

import copy
import hashlib
import re
from datetime import datetime, timedelta, timezone

import schemathesis

# How far from now each clock-bound field is set in positive cases: well inside its window.
CLOCK_FIELDS = {"recordedAt": timedelta(seconds=-30), "scheduledAt": timedelta(hours=2)}


def _into_window(value, now: datetime):
    if isinstance(value, dict):
        return {
            key: (now + CLOCK_FIELDS[key]).strftime("%Y-%m-%dT%H:%M:%SZ")
            if key in CLOCK_FIELDS and isinstance(item, str)
            else _into_window(item, now)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_into_window(item, now) for item in value]
    return value


IDEMPOTENCY_KEY = "Idempotency-Key"
# A valid key (^[!-~]{1,255}$) short enough to stay valid with the 13 characters added to it.
EXTENSIBLE_KEY = re.compile(r"[!-~]{1,242}")


def _body_only_negative(meta) -> bool:
    """Whether the case breaks the schema in its body alone (its headers are valid as generated)."""
    modes = {str(location.value): info.mode for location, info in meta.components.items()}
    body, header = modes.get("body"), modes.get("header")
    return body is not None and body.is_negative and (header is None or header.is_positive)


def _own_key(case) -> dict | None:
    if not _body_only_negative(case.meta):
        return None
    key = (case.headers or {}).get(IDEMPOTENCY_KEY)
    if not isinstance(key, str) or not EXTENSIBLE_KEY.fullmatch(key):
        return None
    digest = hashlib.sha256(repr(case.body).encode("utf-8", "backslashreplace")).hexdigest()[:12]
    return {**case.headers, IDEMPOTENCY_KEY: f"{key}-{digest}"}


@schemathesis.hook
def before_call(context, case, kwargs) -> None:
    """Clock-bound fields of positive cases into their window; negative cases a key of their own."""
    meta = case.meta
    if meta is None:
        return
    if meta.generation.mode.is_positive:
        if isinstance(case.body, (dict, list)):
            case.body = _into_window(copy.deepcopy(case.body), datetime.now(timezone.utc))
    else:
        headers = _own_key(case)
        if headers is not None:
            case.headers = headers
