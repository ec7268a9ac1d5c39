"""Timer jobs: tick values in the job's zone; recipient group names resolved by ListReceivers."""

from __future__ import annotations

import importlib.util
import zoneinfo
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from sesrelay.clock import Deadline, ManualClock
from sesrelay.config.model import JobConfig, RelayConfig
from sesrelay.config.ticks import resolve_timezone, tick_values
from sesrelay.errors import InvalidInput, SesError
from sesrelay.receivers import ReceiverCache
from sesrelay.timers.jobs import parse_tick_time, resolve_job

TICK = datetime(2026, 1, 4, 18, 30, tzinfo=timezone.utc)  # Sunday in UTC, Monday in Shanghai
DIGEST: dict[str, Any] = {
    "action": "BatchSendEmail",
    "receiver_group": "demo-customers",
    "params": {
        "FromEmailAddress": "news@example.com",
        "Subject": "Digest {{tick.iso_week}} for {{name}}",
        "TaskType": 1,
        "Template": {
            "TemplateID": 100002,
            "TemplateData": {"week": "{{tick.iso_week}}", "date": "{{ tick.date }}"},
        },
    },
}


class FakeSes:
    """Our SES port answering ListReceivers from a list (KeyWord: a substring, as emulated)."""

    def __init__(self, groups: list[tuple[int, str]], error: SesError | None = None) -> None:
        self.groups = groups
        self.error = error
        self.calls: list[dict[str, Any]] = []

    def call(self, action: str, params: dict[str, Any], deadline: Deadline) -> dict[str, Any]:
        assert action == "ListReceivers"
        self.calls.append(params)
        if self.error is not None:
            raise self.error
        assert params["Limit"] <= 100
        keyword = str(params.get("KeyWord", "")).lower()
        matching = [g for g in self.groups if keyword in g[1].lower()]
        page = matching[params["Offset"] : params["Offset"] + params["Limit"]]
        return {
            "TotalCount": len(matching),
            "Data": [{"ReceiverId": i, "ReceiversName": n, "ReceiversStatus": 3} for i, n in page],
            "RequestId": "req",
        }


def config(**jobs: dict[str, Any]) -> RelayConfig:
    return RelayConfig.model_validate({"jobs": jobs})


def run(
    name: str,
    cfg: RelayConfig,
    ses: FakeSes,
    cache: ReceiverCache | None = None,
    tick: datetime = TICK,
) -> tuple[str, dict[str, Any]]:
    clock = ManualClock()
    return resolve_job(name, cfg, tick, ses, Deadline(clock, 30), cache or ReceiverCache())


# --- tick values ----------------------------------------------------------------------------------


def test_tick_values_in_shanghai_cross_the_date_boundary() -> None:
    assert tick_values(TICK, resolve_timezone("Asia/Shanghai")) == {
        "date": "2026-01-05",
        "time": "02:30:00",
        "datetime": "2026-01-05 02:30:00",
        "iso_week": "2026-W02",
        "week": "2",
        "year": "2026",
        "month": "01",
        "day": "05",
        "weekday": "Monday",
        "iso": "2026-01-05T02:30:00+08:00",
    }


def test_tick_values_in_utc() -> None:
    values = tick_values(TICK, resolve_timezone("UTC"))
    assert values["date"] == "2026-01-04"
    assert values["iso_week"] == "2026-W01"
    assert values["weekday"] == "Sunday"
    assert values["iso"] == "2026-01-04T18:30:00+00:00"


def test_iso_week_uses_the_iso_year() -> None:
    values = tick_values(datetime(2027, 1, 1, 12, tzinfo=timezone.utc), timezone.utc)
    assert (values["year"], values["iso_week"]) == ("2027", "2026-W53")


def test_parse_tick_time_reads_the_scf_z_suffix() -> None:
    assert parse_tick_time("2026-01-04T18:30:00Z") == TICK
    assert parse_tick_time("2026-01-04T18:30:00") == TICK  # no zone: UTC, as SCF documents
    assert parse_tick_time("2026-01-05T02:30:00+08:00") == TICK
    with pytest.raises(InvalidInput) as caught:
        parse_tick_time("yesterday")
    assert caught.value.errors[0].field == "Time"


def test_fixed_zones_stand_in_when_there_is_no_tz_database() -> None:
    if importlib.util.find_spec("tzdata") is not None:
        pytest.skip("the tzdata package would answer instead of the fallback")
    zoneinfo.reset_tzpath(to=[])
    zoneinfo.ZoneInfo.clear_cache()
    try:
        shanghai = resolve_timezone("Asia/Shanghai")
        assert TICK.astimezone(shanghai).utcoffset() == timedelta(hours=8)
        assert resolve_timezone("UTC") is timezone.utc
        with pytest.raises(ValueError, match="pip install tzdata"):
            resolve_timezone("Europe/Paris")
    finally:
        zoneinfo.reset_tzpath()
        zoneinfo.ZoneInfo.clear_cache()
    assert isinstance(resolve_timezone("Europe/Paris"), zoneinfo.ZoneInfo)


# --- resolve_job ----------------------------------------------------------------------------------


def test_job_params_get_tick_values_and_keep_ses_variables() -> None:
    ses = FakeSes([(200001, "demo-customers")])
    action, params = run("digest", config(digest=DIGEST), ses)
    assert action == "BatchSendEmail"
    assert params == {
        "FromEmailAddress": "news@example.com",
        "Subject": "Digest 2026-W02 for {{name}}",
        "TaskType": 1,
        "Template": {
            "TemplateID": 100002,
            "TemplateData": {"week": "2026-W02", "date": "2026-01-05"},
        },
        "ReceiverId": 200001,
    }
    assert "ReceiverId" not in DIGEST["params"]  # the configured job is left as it was


def test_the_job_timezone_decides_the_values() -> None:
    job = {**DIGEST, "timezone": "UTC"}
    _, params = run("digest", config(digest=job), FakeSes([(200001, "demo-customers")]))
    assert params["Template"]["TemplateData"] == {"week": "2026-W01", "date": "2026-01-04"}


def test_receiver_group_is_found_across_pages_and_cached() -> None:
    # 150 groups whose names contain the wanted one: the exact match is on the second page.
    groups = [(300000 + i, f"demo-customers-archive-{i:03d}") for i in range(150)]
    ses = FakeSes([*groups, (200001, "demo-customers")])
    cache = ReceiverCache()
    cfg = config(digest=DIGEST)
    assert run("digest", cfg, ses, cache)[1]["ReceiverId"] == 200001
    assert [(c["Offset"], c["Limit"], c["KeyWord"]) for c in ses.calls] == [
        (0, 100, "demo-customers"),
        (100, 100, "demo-customers"),
    ]
    assert run("digest", cfg, ses, cache)[1]["ReceiverId"] == 200001
    assert len(ses.calls) == 2  # the warm instance asks SES once
    run("digest", cfg, ses, ReceiverCache())  # a new instance starts with an empty cache
    assert len(ses.calls) == 4


def test_unknown_recipient_group() -> None:
    ses = FakeSes([(200001, "demo-customers-old")])  # a near miss is not a match
    with pytest.raises(InvalidInput) as caught:
        run("digest", config(digest=DIGEST), ses)
    [error] = caught.value.errors
    assert error.field == "jobs.digest.receiver_group"
    assert error.message == "no recipient group named 'demo-customers' (ListReceivers)"


def test_two_groups_with_the_same_name_are_refused() -> None:
    ses = FakeSes([(200001, "demo-customers"), (200002, "demo-customers")])
    with pytest.raises(InvalidInput) as caught:
        run("digest", config(digest=DIGEST), ses)
    assert "2 recipient groups are named 'demo-customers'" in caught.value.errors[0].message


def test_a_failed_lookup_raises_the_gateway_error_and_caches_nothing() -> None:
    cache = ReceiverCache()
    ses = FakeSes([], error=SesError("InternalError", "try again"))
    with pytest.raises(SesError):
        run("digest", config(digest=DIGEST), ses, cache)
    assert cache.get("demo-customers") is None


def test_a_job_without_a_group_makes_no_ses_call() -> None:
    job = {
        "action": "SendEmail",
        "params": {"Destination": ["ana@example.org"], "Subject": "{{tick.weekday}} news"},
    }
    ses = FakeSes([])
    assert run("send", config(send=job), ses) == (
        "SendEmail",
        {"Destination": ["ana@example.org"], "Subject": "Monday news"},
    )
    assert ses.calls == []


def test_unknown_job() -> None:
    with pytest.raises(InvalidInput) as caught:
        run("nope", config(digest=DIGEST), FakeSes([]))
    [error] = caught.value.errors
    assert error.field == "Message.job"
    assert error.message == "no job named 'nope' in the config file (configured: digest)"


def test_unknown_tick_placeholder_at_run_time() -> None:
    job = {**DIGEST, "params": {**DIGEST["params"], "Subject": "{{tick.hour}} and {{tick}}"}}
    with pytest.raises(InvalidInput) as caught:
        run("digest", config(digest=job), FakeSes([(200001, "demo-customers")]))
    messages = [(e.field, e.message.split(";")[0]) for e in caught.value.errors]
    assert messages == [
        ("jobs.digest.params.Subject", "unknown placeholder {{tick.hour}}"),
        ("jobs.digest.params.Subject", "unknown placeholder {{tick}}"),
    ]


def test_unknown_timezone_at_run_time() -> None:
    job = JobConfig.model_validate({**DIGEST, "timezone": "Nowhere/Land"})
    with pytest.raises(InvalidInput) as caught:
        run("digest", RelayConfig(jobs={"digest": job}), FakeSes([]))
    assert caught.value.errors[0].field == "jobs.digest.timezone"
