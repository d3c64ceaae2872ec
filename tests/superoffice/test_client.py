"""superoffice-client in-process: the environment's hosts, the consent's parameters, the tenant's
state kept until ``ValidUntil``, SuperOffice's error body and the 10-a-second limiter (contract
§1.1, §1.2, §1.5)."""

from __future__ import annotations

import json

import pytest
import requests

from connector_sandbox.superoffice import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_TENANT
from superoffice_client import SuperOfficeConfigError, SuperOfficeConnection, TenantUnavailable, error_message
from tests.superoffice.tap.helpers import start_sandbox, state_lookups, write_store


def connection(tmp_path, **config) -> SuperOfficeConnection:
    return SuperOfficeConnection({"tenant_id": DEFAULT_TENANT, "client_id": DEFAULT_CLIENT_ID,
                                  "client_secret": DEFAULT_CLIENT_SECRET,
                                  "token_store": str(tmp_path / "tokens.json"), **config})


@pytest.mark.parametrize(("environment", "origin"), [
    ("sod", "https://sod.superoffice.com"),
    ("stage", "https://qaonline.superoffice.com"),  # stage signs in at qaonline
    ("online", "https://online.superoffice.com"),
])
def test_each_environment_signs_in_at_its_host(tmp_path, environment, origin):
    so = connection(tmp_path, environment=environment)
    assert so.auth_url == f"{origin}/login/common/oauth/authorize"
    assert so.token_url == f"{origin}/login/common/oauth/tokens"
    assert so.state_url == f"{origin}/api/state/Cust12345"
    assert so.consent_params() == {"scope": "openid", "acr_values": "tenant:Cust12345"}
    assert so.consent_pkce is True


def test_base_url_replaces_the_environment_and_bad_values_name_the_setting(tmp_path):
    so = connection(tmp_path, environment="sod", base_url="https://proxy.example.test/so/")
    assert so.token_url == "https://proxy.example.test/so/login/common/oauth/tokens"
    with pytest.raises(SuperOfficeConfigError, match="base_url must be an http"):
        connection(tmp_path, base_url="proxy.example.test")
    with pytest.raises(SuperOfficeConfigError, match="environment must be one of sod, stage, online; got 'prod'"):
        connection(tmp_path, environment="prod")
    with pytest.raises(SuperOfficeConfigError, match="tenant_id is required"):
        connection(tmp_path, tenant_id=" ")


def test_the_tenant_state_is_kept_until_valid_until_then_looked_up_again(tmp_path):
    sandbox = start_sandbox(sizes={"Contact": 3}, state_valid_seconds=600)
    try:
        clock = sandbox.clock  # the connection and the emulator share one (frozen) clock
        clock.freeze()
        write_store(tmp_path / "tokens.json", sandbox.issue_tokens())
        so = SuperOfficeConnection({"base_url": sandbox.environment_url, "tenant_id": DEFAULT_TENANT,
                                    "client_id": DEFAULT_CLIENT_ID, "client_secret": DEFAULT_CLIENT_SECRET,
                                    "token_store": str(tmp_path / "tokens.json")}, clock=clock.timestamp)
        assert so.base_url == sandbox.rest_url and so.base_url == sandbox.rest_url
        assert len(state_lookups(sandbox)) == 1
        clock.advance(599)
        assert so.base_url == sandbox.rest_url and len(state_lookups(sandbox)) == 1
        sandbox.move_tenant("online7")  # moved, but the state said it is valid for 600 s
        clock.advance(2)  # past ValidUntil
        assert so.base_url == sandbox.rest_url and "/online7/" in so.base_url
        assert len(state_lookups(sandbox)) == 2
        sandbox.set_state("Suspended")
        clock.advance(601)
        with pytest.raises(TenantUnavailable, match="SuperOffice tenant Cust12345 is Suspended, not Running"):
            so.base_url  # noqa: B018
    finally:
        sandbox.stop()


def test_error_message_is_superoffice_s_error_type_and_message():
    response = requests.Response()
    response.status_code = 404
    response._content = json.dumps({"Error": True, "ErrorType": "SoNotFoundException",
                                    "ErrorMessage": "Contact id 99999 not found",
                                    "ErrorSource": "SuperOffice.Services.Implementation"}).encode()
    assert error_message(response) == "SoNotFoundException: Contact id 99999 not found"
