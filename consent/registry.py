"""The health-worker registry: who may use the gateway, for which facility.

Records live in Redis hashes (see :mod:`sessions.keys`). Sandbox mode loads
them from the sandbox data file; production loads them with
``flask --app app registry load workers.csv``.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import redis

from config.messages import DEFAULT_LANGUAGE, LANGUAGES
from consent.identifiers import normalise_phone
from sessions.keys import Keys

_FACILITY_CODE = r"^FID-[0-9]{2}-[0-9]{6}-[0-9]\Z"


class RegistryError(ValueError):
    """A registry row that cannot be loaded; the message says which and why."""


@dataclass(frozen=True)
class HealthWorker:
    phone: str
    name: str
    facility: str
    language: str
    active: bool

    @classmethod
    def from_record(cls, phone: str, record: Mapping[str, str]) -> HealthWorker | None:
        if not record:
            return None

        return cls(phone=phone, name=record.get("name", ""), facility=record.get("facility", ""),
                   language=record.get("language", DEFAULT_LANGUAGE),
                   active=record.get("active", "1") == "1")

    def to_record(self) -> dict[str, str]:
        return {"name": self.name, "facility": self.facility, "language": self.language,
                "active": "1" if self.active else "0"}


def parse_worker(row: Mapping[str, object]) -> HealthWorker:
    """Validate one registry row (from JSON or CSV) into a HealthWorker."""
    phone = normalise_phone(str(row.get("phone", "")))
    if phone is None:
        raise RegistryError(f"phone {row.get('phone')!r} is not a Kenyan mobile number")
    facility = str(row.get("facility", ""))
    if not re.match(_FACILITY_CODE, facility):
        raise RegistryError(f"facility {facility!r} is not a registry code like FID-47-108521-3")
    language = str(row.get("language") or DEFAULT_LANGUAGE)
    if language not in LANGUAGES:
        raise RegistryError(f"language {language!r} is not one of {', '.join(LANGUAGES)}")
    active = str(row.get("active", "true")).strip().lower() not in ("0", "false", "no")

    return HealthWorker(phone=phone, name=str(row.get("name", "")).strip(), facility=facility,
                        language=language, active=active)


class Registry:
    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self.redis = client
        self.keys = keys

    def load(self, workers: Iterable[HealthWorker], *, replace: bool = True) -> int:
        """Store workers in one round trip; ``replace=False`` keeps existing records."""
        pipe = self.redis.pipeline(transaction=False)
        count = 0
        for worker in workers:
            key = self.keys.worker(worker.phone).name
            if replace:
                pipe.delete(key)
                pipe.hset(key, mapping=worker.to_record())
            else:
                for name, value in worker.to_record().items():
                    pipe.hsetnx(key, name, value)
            count += 1
        pipe.execute()

        return count

    def get(self, phone: str) -> HealthWorker | None:
        return HealthWorker.from_record(phone, self.redis.hgetall(self.keys.worker(phone).name))


def read_csv(path: Path) -> list[HealthWorker]:
    """Rows with columns phone, name, facility, language, active; all or none."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    workers = []
    for line, row in enumerate(rows, start=2):
        try:
            workers.append(parse_worker(row))
        except RegistryError as error:
            raise RegistryError(f"{path.name} line {line}: {error}") from None

    return workers
