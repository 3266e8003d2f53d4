"""GraphQL enums, each exposing a domain vocabulary under the contract's name."""

from __future__ import annotations

import strawberry

from domain import vocabulary
from domain.errors import ErrorCode as DomainErrorCode

OrganisationKind = strawberry.enum(vocabulary.OrganisationKind, name="OrganisationKind")
StemTopic = strawberry.enum(vocabulary.StemTopic, name="StemTopic")
ActivityLength = strawberry.enum(vocabulary.ActivityLength, name="ActivityLength")
AgeGroup = strawberry.enum(vocabulary.AgeGroup, name="AgeGroup")
ActivityFormat = strawberry.enum(vocabulary.ActivityFormat, name="ActivityFormat")
ContactRequestStatus = strawberry.enum(vocabulary.ContactRequestStatus, name="ContactRequestStatus")
ContactDirection = strawberry.enum(vocabulary.ContactDirection, name="ContactDirection")
ActivityStatus = strawberry.enum(vocabulary.ActivityStatus, name="ActivityStatus")
MapUpdateKind = strawberry.enum(vocabulary.MapUpdateKind, name="MapUpdateKind")
ErrorCode = strawberry.enum(DomainErrorCode, name="ErrorCode", description="Why a mutation rejected its input.")
