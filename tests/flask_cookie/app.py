"""A plain Flask app with Flask's default sessions (a signed cookie, no Flask-Session), for
sessionkit's `SESSION_COOKIE_FORMAT=flask` interoperability tests.

Configured by environment variables (the Rust tests start it):

    SECRET_KEY                  app.secret_key
    SECRET_KEY_FALLBACKS        a JSON array of older keys (optional)
    PERMANENT_SESSION_LIFETIME  seconds (optional)
    PORT
"""

import datetime
import json
import logging
import os
import time
import uuid
from unittest import mock

from flask import Flask, request, session
from flask.sessions import SecureCookieSessionInterface
from markupsafe import Markup

app = Flask(__name__)
app.secret_key = os.environ["SECRET_KEY"]
if "SECRET_KEY_FALLBACKS" in os.environ:
    app.config["SECRET_KEY_FALLBACKS"] = json.loads(os.environ["SECRET_KEY_FALLBACKS"])
if "PERMANENT_SESSION_LIFETIME" in os.environ:
    app.config["PERMANENT_SESSION_LIFETIME"] = int(os.environ["PERMANENT_SESSION_LIFETIME"])
logging.getLogger("werkzeug").setLevel(logging.ERROR)

UTC = datetime.timezone.utc


def tagged_values():
    """A value of every type Flask's tagged JSON serializer tags, and plain ones."""
    return {
        "t_tuple": (1, "a", (2, 3)),
        "t_bytes": b"\x00\xff\x10binary",
        "t_markup": Markup("<b>bold</b> &amp; safe"),
        "t_uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "t_datetime": datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
        "t_tag_like_dict": {" t": [1, 2]},
        "t_str": "héllo ✓ 🦀",
        "t_int": 2**53 + 1,
        "t_float": 1.5,
        "t_list": [1, None, True, {"k": "v"}],
        "t_dict": {"b": 1, "a": [2]},
    }


def describe(value):
    """A value with its type, exactly: tuples, Markup, UUIDs and datetimes are told apart."""
    return f"{type(value).__name__}:{value!r}"


@app.route("/login/<user>")
def login(user):
    session["username"] = user
    return "logged in"


@app.route("/logout")
def logout():
    session.pop("username", None)
    return "logged out"


@app.route("/whoami")
def whoami():
    return session.get("username", "<none>")


@app.route("/incr")
def incr():
    session["count"] = session.get("count", 0) + 1
    return str(session["count"])


@app.route("/set_types")
def set_types():
    session.update(tagged_values())
    return "set"


@app.route("/check_types")
def check_types():
    """`ok`, or every key whose value or type is not what /set_types wrote."""
    wrong = [
        f"{key}: expected {describe(expected)}, got {describe(session.get(key))}"
        for key, expected in tagged_values().items()
        if session.get(key) != expected or type(session.get(key)) is not type(expected)
    ]
    return "\n".join(wrong) or "ok"


@app.route("/describe/<key>")
def describe_key(key):
    return describe(session.get(key))


@app.route("/mint")
def mint():
    """A session cookie value for {"username": <user>}, signed with `key` (default: the
    app's) as if `age` seconds ago."""
    signer_app = Flask("mint")
    signer_app.secret_key = request.args.get("key", app.secret_key)
    serializer = SecureCookieSessionInterface().get_signing_serializer(signer_app)
    with mock.patch("time.time", return_value=time.time() - int(request.args.get("age", "0"))):
        return serializer.dumps({"username": request.args["user"]})


@app.route("/opens")
def opens():
    """Whether the cookie value `value` opens with `key` alone (no fallbacks)."""
    signer_app = Flask("verify")
    signer_app.secret_key = request.args["key"]
    serializer = SecureCookieSessionInterface().get_signing_serializer(signer_app)
    try:
        return json.dumps(serializer.loads(request.args["value"]), default=str)
    except Exception as error:  # noqa: BLE001 (any failure means "does not open")
        return f"no: {type(error).__name__}"


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(os.environ["PORT"]))
