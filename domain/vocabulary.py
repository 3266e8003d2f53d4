"""The fixed vocabularies of the campaign, shared by storage, rules and the GraphQL schema."""

from __future__ import annotations

import enum


class OrganisationKind(enum.Enum):
    SCHOOL = "SCHOOL"
    COMPANY = "COMPANY"  # any employer of STEM professionals

    @property
    def other_side(self) -> OrganisationKind:
        return OrganisationKind.COMPANY if self is OrganisationKind.SCHOOL else OrganisationKind.SCHOOL


class StemTopic(enum.Enum):
    MATHEMATICS = "MATHEMATICS"
    PHYSICS = "PHYSICS"
    CHEMISTRY = "CHEMISTRY"
    BIOLOGY = "BIOLOGY"
    COMPUTER_SCIENCE = "COMPUTER_SCIENCE"
    ENGINEERING = "ENGINEERING"
    TECHNOLOGY = "TECHNOLOGY"
    EARTH_AND_ENVIRONMENT = "EARTH_AND_ENVIRONMENT"
    SPACE = "SPACE"
    HEALTH_AND_MEDICINE = "HEALTH_AND_MEDICINE"
    ENERGY = "ENERGY"
    ROBOTICS = "ROBOTICS"
    DATA_AND_AI = "DATA_AND_AI"
    OTHER = "OTHER"


class ActivityLength(enum.Enum):
    SINGLE_LESSON = "SINGLE_LESSON"
    HALF_DAY = "HALF_DAY"
    FULL_DAY = "FULL_DAY"
    MULTIPLE_SESSIONS = "MULTIPLE_SESSIONS"
    LONG_TERM_PROJECT = "LONG_TERM_PROJECT"


class AgeGroup(enum.Enum):
    AGES_6_9 = "AGES_6_9"
    AGES_10_12 = "AGES_10_12"
    AGES_13_15 = "AGES_13_15"
    AGES_16_19 = "AGES_16_19"


class ActivityFormat(enum.Enum):
    IN_PERSON = "IN_PERSON"
    ONLINE = "ONLINE"
    HYBRID = "HYBRID"


class ContactRequestStatus(enum.Enum):
    PENDING = "PENDING"
    ACCEPTED = "ACCEPTED"
    DECLINED = "DECLINED"
    WITHDRAWN = "WITHDRAWN"
    EXPIRED = "EXPIRED"


class ContactDirection(enum.Enum):
    SENT = "SENT"  # relative to the viewer
    RECEIVED = "RECEIVED"


class ActivityStatus(enum.Enum):
    PLANNED = "PLANNED"
    CLOSED = "CLOSED"


class MapUpdateKind(enum.Enum):
    CREATED = "CREATED"
    UPDATED = "UPDATED"
    CLOSED = "CLOSED"
    DELETED = "DELETED"


# The words a topic is indexed under for free-text search ("data and ai").
TOPIC_WORDS = {topic: topic.name.replace("_", " ").lower() for topic in StemTopic}
