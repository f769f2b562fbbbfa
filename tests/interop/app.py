"""A small Flask app on Flask-Session 0.8, for sessionkit's interoperability tests.

Configured by environment variables (the Rust tests start it):

    INTEROP_BACKEND               redis | memcached
    INTEROP_REDIS_URL             e.g. redis://127.0.0.1:6379/0
    INTEROP_MEMCACHED             e.g. 127.0.0.1:11211; several, comma-separated, for a
                                  pymemcache HashClient over them
    SESSION_KEY_PREFIX            default session:
    SESSION_SERIALIZATION_FORMAT  msgpack | json
    SESSION_USE_SIGNER            1 to sign the cookie (needs SECRET_KEY)
    SECRET_KEY
    PORT
"""

import datetime
import logging
import os

import msgspec
from flask import Flask, session
from flask_session import Session

app = Flask(__name__)
app.config["SESSION_TYPE"] = os.environ["INTEROP_BACKEND"]
app.config["SESSION_KEY_PREFIX"] = os.environ.get("SESSION_KEY_PREFIX", "session:")
app.config["SESSION_SERIALIZATION_FORMAT"] = os.environ.get("SESSION_SERIALIZATION_FORMAT", "msgpack")
if os.environ.get("SESSION_USE_SIGNER") == "1":
    app.config["SESSION_USE_SIGNER"] = True
    app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]

if app.config["SESSION_TYPE"] == "redis":
    import redis

    app.config["SESSION_REDIS"] = redis.Redis.from_url(os.environ["INTEROP_REDIS_URL"])
else:
    # default_noreply=False: each write waits for the server's reply before the response
    # goes out, so the Rust side's next read cannot overtake it (with pymemcache's default,
    # a write sent without waiting could land after that read).
    servers = os.environ["INTEROP_MEMCACHED"].split(",")
    if len(servers) == 1:
        from pymemcache.client.base import Client

        host, port = servers[0].rsplit(":", 1)
        app.config["SESSION_MEMCACHED"] = Client((host, int(port)), default_noreply=False)
    else:
        from pymemcache.client.hash import HashClient

        # pymemcache places each key (sessionkit: SESSION_MEMCACHED_PLACEMENT=pymemcache).
        app.config["SESSION_MEMCACHED"] = HashClient(servers, default_noreply=False)

Session(app)
logging.getLogger("werkzeug").setLevel(logging.ERROR)

UTC = datetime.timezone.utc


def expected_types():
    """Every kind of value in the documented mapping, as Python writes it."""
    values = {
        "t_str": "héllo ✓ 🦀",
        "t_int_max": 2**63 - 1,
        "t_int_min": -(2**63),
        "t_uint_max": 2**64 - 1,
        "t_float": 1.5,
        "t_true": True,
        "t_none": None,
        "t_list": [1, "a", None, [2.5]],
        "t_tuple": (1, 2),
        "t_dict": {"a": {"b": [1, 2]}, "c": "d"},
        "t_bytes": b"\x00\xff\x10binary",
        "t_datetime": datetime.datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=UTC),
        "_flashes": [("message", "Welcome back"), ("error", "Wrong password")],
        "_user_id": "42",
        "_fresh": True,
        "_id": "9f8e7d6c5b4a",
    }
    if app.config["SESSION_SERIALIZATION_FORMAT"] == "msgpack":
        values["t_ext"] = msgspec.msgpack.Ext(42, b"unknown extension")
    return values


def normalized(value):
    """Tuples come back as lists after any round trip through MessagePack or JSON."""
    if isinstance(value, tuple):
        return [normalized(v) for v in value]
    if isinstance(value, list):
        return [normalized(v) for v in value]
    if isinstance(value, dict):
        return {k: normalized(v) for k, v in value.items()}
    return value


@app.route("/login/<name>")
def login(name):
    session["_user_id"] = name
    session["_fresh"] = True
    session["_id"] = "flask-login-identifier"
    return "ok"


@app.route("/whoami")
def whoami():
    return session.get("_user_id") or "<none>"


@app.route("/get/<key>")
def get(key):
    value = session.get(key)
    return "<none>" if value is None else str(value)


@app.route("/incr")
def incr():
    session["refreshed"] = session.get("refreshed", 0) + 1
    return str(session["refreshed"])


@app.route("/clear")
def clear():
    session.clear()
    return "cleared"


@app.route("/set_types")
def set_types():
    for key, value in expected_types().items():
        session[key] = value
    return "ok"


@app.route("/check_types")
def check_types():
    problems = []
    for key, value in expected_types().items():
        got = session.get(key, "<missing>")
        if normalized(got) != normalized(value) or type(got) is not type(normalized(value)):
            problems.append(f"{key}: expected {normalized(value)!r}, got {got!r}")
    return "ok" if not problems else "\n".join(problems)


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(os.environ["PORT"]), threaded=True)
