"""The services a domain operation uses, built once per process by the application."""

from __future__ import annotations

from dataclasses import dataclass

from domain.clock import Clock
from domain.map_feed import MapFeed
from domain.passwords import PasswordHasher
from domain.ports import MailQueue
from persistence.broker import Broker
from persistence.database import Database
from pgbs.settings import Settings


@dataclass
class Services:
    settings: Settings
    database: Database
    clock: Clock
    mail: MailQueue
    passwords: PasswordHasher
    broker: Broker
    # Live campaign map updates of this process; started and stopped by the application's lifespan.
    map_feed: MapFeed | None = None
