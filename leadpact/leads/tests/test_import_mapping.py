"""The mapping file: every mistake named, the examples valid, the first guess sensible."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from leadpact.leads.services.imports.mapping import (
    MappingError,
    mapping_from_dict,
    mapping_from_json,
    mapping_guess,
    mapping_load,
)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"columns": {"a": "emial"}}, "column 'a' maps to unknown field 'emial'"),
        ({"columns": {"a": "email", "b": "email"}}, "columns 'a' and 'b' both map to email"),
        ({"columns": {"a": "email"}, "colums": {}}, "unknown mapping key(s) 'colums'"),
        ({"columns": {"a": "email"}, "delimiter": "::"}, "delimiter '::' is not one of"),
        ({"columns": {"a": "email"}, "encoding": "nope"}, "unknown encoding 'nope'"),
        ({"columns": {"a": "email"}, "encoding": "utf-16"}, "save the file as UTF-8"),
        ({"columns": {"a": "email"}, "dates": {"a": "dd-mm-yyyy"}}, "not a strptime format"),
        ({"columns": {"a": "email"}, "attributes": 3}, 'attributes must be "rest"'),
        ({"columns": {"a": "email"}, "required": ["shoe"]}, "required names unknown field"),
        ({"columns": {"a": "email"}, "touch": {"kind": "hug"}}, "touch.kind 'hug' is not one of"),
        ({"columns": {"a": "email"}, "campaigns": {"code": "x"}}, 'must contain "{value}"'),
        ({"columns": {"a": "email"}, "campaigns": {"code": "A {value}"}}, "may hold only"),
        ({"columns": {}}, "maps no column"),
        ([], "the mapping must be an object"),
    ],
)
def test_bad_mappings_are_named(data, message):
    with pytest.raises(MappingError) as info:
        mapping_from_dict(data)
    assert message in info.value.message


def test_bad_json_names_line_and_column():
    with pytest.raises(MappingError, match=r"not valid JSON: .* at line 2 column"):
        mapping_from_json('{"columns":\n  {oops}}')


@pytest.mark.parametrize("name", ["olist_mqls.mapping.json", "xeducation.mapping.json"])
def test_example_mappings_load_and_round_trip(name):
    mapping = mapping_load(Path(settings.BASE_DIR) / "examples" / name)
    assert mapping_from_dict(mapping.as_dict()) == mapping


def test_olist_example_reads_day_month_year_and_names_empty_origin():
    mapping = mapping_load(Path(settings.BASE_DIR) / "examples" / "olist_mqls.mapping.json")
    assert mapping.dates == {"first_contact_date": "%d-%m-%Y"}
    assert mapping.values["origin"][""] == "not_set"
    assert (
        mapping.campaigns.create_missing and mapping.campaigns.code_for("ab12") == "olist-lp-ab12"
    )


def test_guess_from_headers():
    guess = mapping_guess(["E-mail", "First Name", "Surname", "Company", "Prospect ID", "Foo", ""])
    assert guess == {
        "E-mail": "email",
        "First Name": "first_name",
        "Surname": "last_name",
        "Company": "company_name",
        "Prospect ID": "external_id",
        "Foo": "attribute",
        "": "ignore",
    }
