"""The baseline: a bare Flask endpoint that only answers <Response/>, served the same way."""
from flask import Flask, Response


def create_app() -> Flask:
    app = Flask(__name__)

    @app.post("/webhooks/twilio/messages")
    def messages():
        return Response('<?xml version="1.0" encoding="UTF-8"?><Response/>', mimetype="text/xml")

    @app.get("/healthz")
    def healthz():
        return {"ok": True}

    return app
