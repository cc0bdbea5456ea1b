"""Closed vacancies and reminders: expiry at the deadline, one reminder per day before it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flows import replies as R
from flows.events import Choice, Reply
from flows.flow import EXPIRED
from flows.messages import Msg
from flows.turn import DEADLINE_GRACE, Turn
from flows.vacancy import Vacancy

REMINDER_EARLIEST_HOUR = 9
REMINDER_IDLE = timedelta(hours=1)  # no reminder to someone who is answering right now


def reminder_at(vacancy: Vacancy, days_before: int) -> datetime:
    """When the reminder `days_before` the deadline is due: that moment, but not before 09:00
    local time (a whole-day deadline closes at midnight; nobody wants a message then)."""
    closes = vacancy.closes_at()
    assert closes is not None
    due = (closes - timedelta(days=days_before)).astimezone(vacancy.zone)
    if due.hour < REMINDER_EARLIEST_HOUR:
        due = due.replace(hour=REMINDER_EARLIEST_HOUR, minute=0, second=0, microsecond=0)
    return min(due, closes).astimezone(UTC)


class Deadlines(Turn):
    # ------------------------------------------------------------------ closed vacancies

    def closed_since(self, vacancy: Vacancy) -> Msg:
        return Msg("vacancy.closed", {"title": vacancy.title,
                                      "since": R.when_text(vacancy, self.lang)})

    def expire_if_closed(self) -> list[Reply] | None:
        """A closed vacancy takes no new answers or documents: the dossier expires, once."""
        d = self.dossier
        if d is None or self.is_open(self.vacancy):
            return None
        if d.status in ("draft", "collecting"):
            self.move("expire", EXPIRED)
            self.save()
            return [self.say(self.closed_since(self.vacancy), Msg("dossier.expired")),
                    self.vacancy_list("vacancies.others")]
        if d.status in ("expired", "ineligible"):
            return [self.say(self.closed_since(self.vacancy)), self.vacancy_list("vacancies.others")]
        return None

    def sweep(self, reminder_days: tuple[int, ...]) -> list[Reply]:
        d = self.dossier
        assert d is not None
        vacancy = self.vacancy
        if not vacancy.is_open(self.now - DEADLINE_GRACE):  # after the backlog had its chance
            self.move("expire", EXPIRED)
            self.save()
            return [self.say(self.closed_since(vacancy), Msg("dossier.expired"))]
        if not vacancy.is_open(self.now):
            return []  # closed, within the grace hour: no reminder, no expiry yet
        closes = vacancy.closes_at()
        if closes is None:
            return []
        due = [n for n in reminder_days if self.now.astimezone(UTC) >= reminder_at(vacancy, n)]
        fresh = [f"{n}d" for n in due if f"{n}d" not in d.reminders_sent]
        if not fresh or self.now - d.updated_at < REMINDER_IDLE:
            return []  # nothing due, or they are busy with it right now
        # After downtime several may be due at once: send one, mark them all.
        d.reminders_sent = [*d.reminders_sent, *fresh]
        self.save()
        self.uow.audit(d.id, "reminder", {"sent": fresh})
        reminder = Msg("reminder", {"title": vacancy.title,
                                    "deadline": R.deadline_line(vacancy, self.now, self.lang)})
        # No question re-asked out of the blue: a button brings them back to where they were.
        return [self.say(reminder, choices=(
            Choice(f"v:{R.vacancy_key(vacancy.id)}:{self.lang}", Msg("btn.continue")),))]
