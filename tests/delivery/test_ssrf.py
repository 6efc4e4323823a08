"""SSRF (RELIABILITY_PLAN security 5): private, loopback and metadata targets are refused unless
allow-listed, at subscription time and again at delivery time."""

from __future__ import annotations

import socket

import pytest

from intake.models import DeliveryStatus, WebhookDelivery
from intake.services.delivery import http_post
from intake.services.ssrf import UnsafeWebhookTarget, resolve_target
from tests.delivery.support import submit, subscribe

REFUSED = [
    "https://127.0.0.1/hook",
    "https://127.1.2.3/hook",
    "https://[::1]/hook",
    "https://10.0.0.8/hook",
    "https://172.16.5.4/hook",
    "https://172.31.255.1/hook",
    "https://192.168.1.1/hook",
    "https://169.254.169.254/latest/meta-data/",
    "https://[fd00::1]/hook",
    "https://[fe80::1]/hook",
    "https://[::ffff:127.0.0.1]/hook",
    "https://[::ffff:169.254.169.254]/hook",
    "https://[2002:7f00:1::]/hook",  # 6to4 wrapping 127.0.0.1
    "https://0.0.0.0/hook",
    "https://224.0.0.1/hook",
    "https://100.64.0.1/hook",
    "https://localhost/hook",
    "http://93.184.215.14/hook",  # public, but plain http
    "https://user:pass@93.184.215.14/hook",
    "ftp://93.184.215.14/hook",
]


@pytest.mark.parametrize("url", REFUSED)
def test_private_loopback_and_metadata_targets_are_refused(url, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = []
    settings.WEBHOOK_ALLOW_HTTP = False
    with pytest.raises(UnsafeWebhookTarget):
        resolve_target(url)


def test_a_public_https_address_is_accepted(settings):
    settings.WEBHOOK_ALLOWED_HOSTS = []
    target = resolve_target("https://93.184.215.14:8443/hooks?x=1")
    assert (target.address, target.port, target.path) == ("93.184.215.14", 8443, "/hooks?x=1")


def test_a_hostname_resolving_to_a_private_address_is_refused(settings, monkeypatch):
    settings.WEBHOOK_ALLOWED_HOSTS = []
    monkeypatch.setattr(
        socket, "getaddrinfo", _resolver({"hooks.example.test": ["93.184.215.14", "10.1.2.3"]})
    )
    with pytest.raises(UnsafeWebhookTarget, match="non-public"):
        resolve_target("https://hooks.example.test/x")


def test_the_allow_list_admits_named_networks_only(settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.0/8"]
    settings.WEBHOOK_ALLOW_HTTP = True
    assert resolve_target("http://127.0.0.1:9/x").address == "127.0.0.1"
    with pytest.raises(UnsafeWebhookTarget):
        resolve_target("http://10.0.0.1/x")


def test_subscriptions_to_private_targets_are_refused_by_the_api(api, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = []
    for url in (
        "https://127.0.0.1/x",
        "https://169.254.169.254/",
        "https://localhost/x",
        "http://example.org/",
    ):
        response = api.post("/api/v1/webhooks/", {"url": url, "event_types": ["flag.created"]}, format="json")
        assert response.status_code == 400, url
        assert response.json()["errors"][0]["path"] == "url"


def test_redirects_are_not_followed(webhook_settings, receiver):
    receiver.default_status = 302
    outcome = http_post(receiver.url, body=b"{}", headers={})
    assert outcome.status_code == 302 and not outcome.retryable
    assert outcome.error == "redirect not followed"
    assert len(receiver.requests) == 1


def test_delivery_connects_to_the_checked_address_with_the_url_host(webhook_settings, receiver, monkeypatch):
    port = receiver.server.server_address[1]
    monkeypatch.setattr(socket, "getaddrinfo", _resolver({"hooks.example.test": ["127.0.0.1"]}))
    outcome = http_post(f"http://hooks.example.test:{port}/hook", body=b"{}", headers={})
    assert outcome.delivered
    assert receiver.requests[0]["headers"]["host"] == f"hooks.example.test:{port}"


def test_dns_rebinding_after_subscription_is_refused_at_delivery(
    webhook_settings, api, patient, receiver, monkeypatch
):
    webhook_settings.WEBHOOK_ALLOW_HTTP = False
    webhook_settings.WEBHOOK_ALLOWED_HOSTS = []
    answers = {"hooks.example.test": ["93.184.215.14"]}
    monkeypatch.setattr(socket, "getaddrinfo", _resolver(answers))
    subscribe(api, "https://hooks.example.test/hook")
    answers["hooks.example.test"] = ["169.254.169.254"]  # the attacker's DNS changes its answer
    submit(api)
    delivery = WebhookDelivery.objects.get(event__event_type="intake.scored")
    assert delivery.status == DeliveryStatus.DEAD
    assert delivery.last_error.startswith("refused:")
    assert delivery.attempts.get().status_code is None


def _resolver(answers: dict[str, list[str]]):
    real = socket.getaddrinfo

    def fake(host, port, *args, **kwargs):
        if host in answers:
            return [
                (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                for a in answers[host]
            ]
        return real(host, port, *args, **kwargs)

    return fake
