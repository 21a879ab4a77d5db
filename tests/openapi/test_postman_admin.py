"""The Postman collection's admin folders, read as a user would before running them: real bodies, every id read
after the request that creates it, everything created deleted, and nothing that resets outside the folder sent on
its own (tests/test_postman.py runs them with newman against a live emulator)."""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from emulator.openapi import postman_admin
from emulator.openapi.postman_admin import ON_ITS_OWN, STORY, Step
from emulator.scenarios.loader import load_text
from tests.support.paths import ROOT

COLLECTION = json.loads((ROOT / "docs" / "ingopay-emulator.postman_collection.json").read_text(encoding="utf-8"))
VARIABLE = re.compile(r"\{\{([#$]?\w+)\}\}")
#: Calls that change what other requests, tests or people use: only in the folder sent on its own.
CHANGES_WHAT_OTHERS_USE = {("POST", "/_emulator/reset"), ("POST", "/_emulator/snapshot"),
                           ("POST", "/_emulator/scenarios/reload"), ("POST", "/_emulator/readiness")}
#: What the story creates and the request that deletes it; an event and its deliveries go with their tenant.
DELETED_BY = {"tenantUsername": "/_emulator/credentials/{username}", "endpointId": "/_emulator/webhooks/endpoints/{id}",
              "scenarioName": "/_emulator/scenarios/{name}"}
GOES_WITH_THE_TENANT = {"eventId"}


def leaves(value: Any) -> list[Any]:
    """Every value of a JSON document that is neither an object nor an array."""
    if isinstance(value, dict):
        return [leaf for inner in value.values() for leaf in leaves(inner)]
    if isinstance(value, list):
        return [leaf for inner in value for leaf in leaves(inner)]
    return [value]


def sent(step: Step) -> str:
    """Everything a step sends that can hold a variable: its path, query and body."""
    return step.path + "?" + step.query + (step.body or "")


def test_the_story_never_resets_and_the_folder_sent_on_its_own_is_last() -> None:
    assert [(s.method, s.route) for s in STORY if (s.method, s.route) in CHANGES_WHAT_OTHERS_USE] == []
    assert {(s.method, s.route) for s in ON_ITS_OWN} <= CHANGES_WHAT_OTHERS_USE | {
        ("GET", "/_emulator/readiness"), ("GET", "/_emulator/readiness/report")}
    assert COLLECTION["item"][-1]["name"] == postman_admin.ON_ITS_OWN_FOLDER
    names = [item["name"] for folder in COLLECTION["item"] for item in folder["item"]]
    assert len(names) == len(set(names)), "the script tells the requests sent on their own by name"


def test_every_body_is_real_json_or_yaml_with_no_placeholder() -> None:
    for step in (*STORY, *ON_ITS_OWN):
        if step.body is None:
            continue
        if step.media_type == postman_admin.YAML:
            assert load_text(step.body, step.name)
            continue
        value = json.loads(VARIABLE.sub("1", step.body))  # a numeric variable stands bare, a text one quoted
        assert "" not in leaves(value), f"{step.name}: an empty value is a placeholder"


def test_every_variable_is_kept_before_it_is_read() -> None:
    declared = {v["key"]: v["value"] for v in COLLECTION["variable"]}
    kept: set[str] = set()
    for step in (*STORY, *ON_ITS_OWN):
        for name in VARIABLE.findall(sent(step)):
            name = name.lstrip("#")
            assert name in kept or declared.get(name), f"{step.name} sends {{{{{name}}}}} before anything sets it"
        kept |= set(step.keeps)
    assert set(postman_admin.KEPT) <= set(declared)


def test_everything_the_story_creates_it_deletes_later() -> None:
    created = [(i, variable) for i, step in enumerate(STORY) if step.status == 201 for variable in step.keeps]
    assert {variable for _, variable in created} >= set(DELETED_BY)
    for at, variable in created:
        if variable in GOES_WITH_THE_TENANT or variable == "tenantParticipantId":
            continue
        deletes = [s for s in STORY[at + 1:] if s.method == "DELETE" and variable in s.path_values.values()]
        assert [s.route for s in deletes] == [DELETED_BY[variable]], f"{variable} is never deleted"
    tenant_removed = next(i for i, s in enumerate(STORY) if s.route == DELETED_BY["tenantUsername"])
    assert all(at < tenant_removed for at, variable in created if variable in GOES_WITH_THE_TENANT)


def test_the_uploaded_scenario_matches_only_its_own_prefix() -> None:
    """The story's scenario cannot change an answer anyone else gets: it matches one participant_unique_id1
    prefix, and is active for the tenant only while the story runs."""
    [scenario] = yaml.safe_load(postman_admin.SCENARIO)["scenarios"]
    [rule] = scenario["rules"]
    assert rule["match"]["participant_unique_id1"] == {"prefix": "postman-decline-"}
