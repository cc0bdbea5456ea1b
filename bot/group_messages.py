"""A candidate writing to the bot in a group is pointed to the private chat, once an hour.

Applying means a name, an e-mail address, answers and documents: none of that belongs in a
group. Someone who writes *to the bot* in a group or supergroup — a command, a mention of the
bot, a reply to one of its messages — gets one short answer there, in their language, with a
button that opens the private chat, carrying the vacancy when they typed `/start <vacancy
id>`. At most one such answer per group per hour (`storage/group_notices.py`, durable across
restarts and processes); nothing of the message or its sender is stored.

When the bot is added to a group or supergroup (a `my_chat_member` update: it was not in the
chat, now it is), or a group it is in becomes a supergroup (and so gets a new id), it says in
that group, and only there, the group's id and the setting that makes it the recruiters' chat
(`RECRUITER_CHAT_ID`) — or that it already is. Nothing else: not who added it, nothing about
candidates. Once per update, through the outbox.

Not here: the group's own conversation (with privacy mode off, or as an admin, the bot sees
every message: it does not butt in), the recruiters' chat (its commands are
bot/recruiter_commands.py; anything else there is not for candidates), service messages,
messages on behalf of a channel or an anonymous admin, edits, and commands for another bot.
Those end in bot/ignored_updates.py, counted.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection
from datetime import datetime

from telegram import Chat, ChatMember, ChatMemberUpdated, Message, MessageEntity, Update
from telegram.ext import Application, ChatMemberHandler, ContextTypes, MessageHandler, filters

from bot.ignored_updates import IgnoredUpdates
from bot.message_kinds import SERVICE
from bot.recruiter_commands import OUTPUT_LANGUAGE, addressed_elsewhere
from bot.vacancy_links import start_link
from flows.messages import Msg, normalise_language, render
from storage.group_notices import SqlGroupNotices
from storage.outbox import SqlOutbox

log = logging.getLogger(__name__)
GROUP_MESSAGES = (filters.ChatType.GROUPS & filters.UpdateType.MESSAGE & ~SERVICE
                  & ~filters.SenderChat.ALL & ~filters.IS_AUTOMATIC_FORWARD)
# "Migrated from a group": the first message of the supergroup a group became.
BECAME_SUPERGROUP = filters.ChatType.SUPERGROUP & filters.StatusUpdate.MIGRATE
PRESENT = (ChatMember.MEMBER, ChatMember.ADMINISTRATOR, ChatMember.OWNER)


def in_chat(member: ChatMember) -> bool:
    """A member of the chat, restricted or not."""
    return member.status in PRESENT or getattr(member, "is_member", False) is True


def joined(change: ChatMemberUpdated) -> bool:
    """The bot was not in the group and now is (not: promoted, restricted, removed)."""
    return (change.chat.type in (Chat.GROUP, Chat.SUPERGROUP)
            and not in_chat(change.old_chat_member) and in_chat(change.new_chat_member))


def deep_link(bot_username: str, message: Message, vacancies: Collection[str]) -> str:
    """`https://t.me/<bot>?start=`, with the vacancy when the message was `/start <id>` for a
    vacancy we have (an id is letters, digits, _ and -: safe in the link as it is)."""
    words = (message.text or "").split()
    payload = ""
    if len(words) == 2 and words[0].split("@")[0] == "/start" and words[1] in vacancies:
        payload = words[1]
    return start_link(bot_username, payload)


def addressed_to(message: Message, bot_id: int, bot_username: str) -> bool:
    """A command (not `/x@other_bot`), a mention of the bot, or a reply to the bot."""
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.id == bot_id:
        return True
    if addressed_elsewhere(message, bot_username):
        return False
    kinds = [MessageEntity.BOT_COMMAND, MessageEntity.MENTION, MessageEntity.TEXT_MENTION]
    found = {**message.parse_entities(kinds), **message.parse_caption_entities(kinds)}
    for entity, said in found.items():
        if entity.type == MessageEntity.BOT_COMMAND and entity.offset == 0:
            return True
        if entity.type == MessageEntity.MENTION and said[1:].lower() == bot_username.lower():
            return True
        if entity.type == MessageEntity.TEXT_MENTION and entity.user and entity.user.id == bot_id:
            return True
    return False


class GroupMessages:
    def __init__(self, vacancies: Collection[str], notices: SqlGroupNotices,
                 recruiter_chat: int | None, ignored: IgnoredUpdates,
                 clock: Callable[[], datetime], outbox: SqlOutbox) -> None:
        self.vacancies = vacancies
        self.notices = notices
        self.recruiter_chat = recruiter_chat
        self.ignored = ignored
        self.clock = clock
        self.outbox = outbox

    def setup_notice(self, chat_id: int, migrated: bool) -> str:
        """The group's id and what to set, in the recruiters' language."""
        key = ("rec.setup.recruiters" if chat_id == self.recruiter_chat
               else "rec.setup.migrated" if migrated else "rec.setup.group")
        return render(Msg(key, {"id": str(chat_id)}), OUTPUT_LANGUAGE)  # as typed, not 1.234

    async def tell_id(self, update: Update, chat_id: int, migrated: bool) -> None:
        answer = {"text": self.setup_notice(chat_id, migrated), "choices": []}
        queued = await asyncio.to_thread(
            self.outbox.queue_for_event, channel="telegram", event_id=update.update_id,
            chat_id=str(chat_id), messages=[answer], now=self.clock())
        if not queued:
            log.info("update %s was answered before; not queued again", update.update_id)

    async def added(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Added to a group: its id there, and the setting to make it the recruiters' chat."""
        change = update.my_chat_member
        assert change is not None
        if not joined(change):
            self.ignored.note(update, "no group joined")
            return
        await self.tell_id(update, change.chat.id, migrated=False)

    async def became_supergroup(self, update: Update,
                                context: ContextTypes.DEFAULT_TYPE) -> None:
        """A group became a supergroup: its old id is gone, so say the new one."""
        message = update.message
        if message is None or message.migrate_from_chat_id is None:
            self.ignored.note(update, "migrated away")  # the old group's last message
            return
        await self.tell_id(update, message.chat.id, migrated=True)

    async def point_to_private_chat(self, update: Update,
                                    context: ContextTypes.DEFAULT_TYPE) -> None:
        message, chat, user = update.message, update.effective_chat, update.effective_user
        assert message is not None and chat is not None
        username = context.bot.username
        if user is None or user.is_bot:
            self.ignored.note(update, "from a bot")
            return
        if not addressed_to(message, context.bot.id, username):
            self.ignored.note(update, "not to the bot")
            return
        lang = normalise_language(user.language_code)
        answer = {"text": render(Msg("group.private_only"), lang), "choices": [],
                  "links": [[render(Msg("btn.private_chat"), lang),
                             deep_link(username, message, self.vacancies)]]}
        if message.is_topic_message and message.message_thread_id is not None:
            answer["thread_id"] = message.message_thread_id  # the forum topic it came from
        queued = await asyncio.to_thread(self.notices.queue_once, update.update_id, chat.id,
                                         [answer], self.clock())
        if not queued:
            self.ignored.note(update, "group told within the hour")

    def register(self, app: Application) -> None:
        app.add_handler(ChatMemberHandler(self.added, ChatMemberHandler.MY_CHAT_MEMBER))
        app.add_handler(MessageHandler(BECAME_SUPERGROUP, self.became_supergroup))
        where = GROUP_MESSAGES
        if self.recruiter_chat is not None:
            where = where & ~filters.Chat(self.recruiter_chat)
        app.add_handler(MessageHandler(where, self.point_to_private_chat))
