from __future__ import annotations

import pytest

from connector_core import (
    InvalidRequestParamsError,
    MissingPathParameterError,
    RequestParams,
    UnknownPathParameterError,
    render_path,
    template_params,
)


def test_template_params_in_order_without_repeats() -> None:
    assert template_params("/company/companies/{companyId}/sites/{id}") == ["companyId", "id"]
    assert template_params("/a/{x}/b/{x}") == ["x"]
    assert template_params("/system/info") == []


def test_render_ok() -> None:
    assert render_path("/company/companies/{id}/notes", {"id": 42}) == "/company/companies/42/notes"
    assert render_path("/a/{x}/b/{y}", {"y": "two", "x": 1}) == "/a/1/b/two"
    assert render_path("/flag/{on}", {"on": True}) == "/flag/true"
    assert render_path("/static") == "/static"


def test_values_are_quoted_so_they_cannot_change_the_route() -> None:
    assert (
        render_path("/files/{name}", {"name": "a/b c?d#e&f%"}) == "/files/a%2Fb%20c%3Fd%23e%26f%25"
    )
    assert render_path("/files/{name}", {"name": "../admin"}) == "/files/..%2Fadmin"


def test_missing_parameter_message() -> None:
    with pytest.raises(MissingPathParameterError) as info:
        render_path("/company/addressFormats/{id}", {})
    assert (
        str(info.value)
        == 'endpoint "/company/addressFormats/{id}" needs path parameter "id"; given: none'
    )
    assert info.value.missing == ["id"]


def test_several_missing_and_given_listed() -> None:
    with pytest.raises(MissingPathParameterError) as info:
        render_path("/a/{x}/b/{y}/c/{z}", {"y": 1}, allow_extra=True)
    assert (
        str(info.value)
        == 'endpoint "/a/{x}/b/{y}/c/{z}" needs path parameters "x", "z"; given: "y"'
    )


def test_none_value_counts_as_missing() -> None:
    with pytest.raises(
        MissingPathParameterError, match=r'needs path parameter "id"; given: "id" \(null\)'
    ):
        render_path("/x/{id}", {"id": None})


def test_extra_keys_are_an_error_unless_allowed() -> None:
    with pytest.raises(UnknownPathParameterError) as info:
        render_path("/x/{id}", {"id": 1, "idd": 2, "zzz": 3})
    assert (
        str(info.value)
        == 'endpoint "/x/{id}" has no path parameters "idd", "zzz"; it accepts: "id"'
    )
    assert render_path("/x/{id}", {"id": 1, "other": 2}, allow_extra=True) == "/x/1"
    with pytest.raises(UnknownPathParameterError, match="it accepts: none"):
        render_path("/static", {"id": 1})


def test_missing_error_is_a_value_error() -> None:
    assert issubclass(MissingPathParameterError, ValueError)
    assert issubclass(UnknownPathParameterError, ValueError)


def test_request_params_from_config() -> None:
    params = RequestParams.from_config(
        {
            "path": {"id": 7},
            "query": {"pageSize": 1000, "conditions": "a=1", "ids": [1, 2]},
            "payload": {"x": [1]},
        },
        where="custom_streams[0]",
    )
    assert dict(params.path) == {"id": 7}
    assert dict(params.query) == {"pageSize": 1000, "conditions": "a=1", "ids": [1, 2]}
    assert params.payload == {"x": [1]}
    assert params.render("/items/{id}") == "/items/7"
    assert RequestParams.from_config(None, where="x") == RequestParams()
    assert dict(RequestParams().path) == {} and RequestParams().payload is None


def test_request_params_are_immutable() -> None:
    source = {"id": 1}
    params = RequestParams(path=source)
    source["id"] = 2
    assert params.path["id"] == 1
    with pytest.raises(TypeError):
        params.path["id"] = 3  # type: ignore[index]


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        ({"query": {"pageSize": {"n": 1}}}, "custom_streams[2].query.pageSize must be a scalar"),
        (
            {"query": {"ids": [1, {"a": 2}]}},
            "custom_streams[2].query.ids must be a scalar or an array of scalars",
        ),
        ({"path": {"id": [1, 2]}}, "custom_streams[2].path.id must be a scalar"),
        ({"path": "id=1"}, "custom_streams[2].path must be an object; got str"),
        ({"query": [1]}, "custom_streams[2].query must be an object; got an array"),
        ({"params": {}}, 'custom_streams[2] has unknown key(s) "params"'),
        ("nope", "custom_streams[2] must be an object"),
    ],
)
def test_request_params_validation_names_where(obj: object, message: str) -> None:
    with pytest.raises(InvalidRequestParamsError) as info:
        RequestParams.from_config(obj, where="custom_streams[2]")  # type: ignore[arg-type]
    assert str(info.value).startswith(message)
