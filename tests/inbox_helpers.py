"""Helpers for driving the inbox through the Flask test client."""
from __future__ import annotations

import re

from handlers import officers
from inbox.views import CONFIRMED
from store.models import Role

PASSWORD = "kata-sandi-yang-panjang"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def add_officer(gateway, username: str, *roles: Role, agency: str = "biro-organisasi"):
    with gateway.services.db.transaction() as s:
        return officers.add(s, gateway.services.settings.service, username=username, agency=agency,
                            roles=list(roles), password=PASSWORD, full_name=username.title()).id


def token(client, path: str = "/login") -> str:
    return _TOKEN.search(client.get(path).get_data(as_text=True)).group(1)


def login(client, username: str, password: str = PASSWORD):
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token(client)})


def act(client, code: str, action: str, **form):
    """Take a step on a ticket's page, ticking its confirmation where it asks for one (CONFIRMED)."""
    form = {"konfirmasi": "1", **form} if action in CONFIRMED else form
    return client.post(f"/inbox/t/{code}/{action}", data={"csrf_token": token(client, f"/inbox/t/{code}"), **form})
