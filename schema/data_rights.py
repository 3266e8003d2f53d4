"""Types, inputs and payloads of members' data rights: e-mail preferences and account deletion."""

from __future__ import annotations

import strawberry

from domain.preferences import EmailPreferenceChanges
from schema.payloads import DeletePayload  # noqa: F401 (shared with activities; resolvers import it from here)


@strawberry.type(description="Which optional e-mails the member receives.")
class EmailPreferences:
    reminders: bool = strawberry.field(description="Reminders of contact requests waiting for the member's answer.")
    notifications: bool = strawberry.field(
        description="News about the member's contact requests: received, answered, expired, or a contact who left."
    )


@strawberry.input(description="A null or missing field leaves the stored choice unchanged.")
class EmailPreferencesInput:
    reminders: bool | None = None
    notifications: bool | None = None

    def to_domain(self) -> EmailPreferenceChanges:
        return EmailPreferenceChanges(reminders=self.reminders, notifications=self.notifications)


