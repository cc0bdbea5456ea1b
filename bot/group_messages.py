"""A candidate writing to the bot in a group is pointed to the private chat, once an hour.

Applying means a name, an e-mail address, answers and documents: none of that belongs in a
group. Someone who writes *to the bot* in a group or supergroup — a command, a mention of the
bot, a reply to one of its messages — gets one short answer there, in their language, with a
button that opens the private chat, carrying the vacancy when they typed `/start <vacancy
id>`. At most one such answer per group per hour (`storage/group_notices.py`, durable across
restarts and processes); nothing of the message or its sender is stored.

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

from telegram import Message, MessageEntity, Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from bot.ignored_updates import IgnoredUpdates
from bot.message_kinds import SERVICE
from bot.recruiter_commands import addressed_elsewhere
from flows.messages import Msg, normalise_language, render
from storage.group_notices import SqlGroupNotices

log = logging.getLogger(__name__)
GROUP_MESSAGES = (filters.ChatType.GROUPS & filters.UpdateType.MESSAGE & ~SERVICE
                  & ~filters.SenderChat.ALL & ~filters.IS_AUTOMATIC_FORWARD)


def deep_link(bot_username: str, message: Message, vacancies: Collection[str]) -> str:
    """`https://t.me/<bot>?start=`, with the vacancy when the message was `/start <id>` for a
    vacancy we have (an id is letters, digits, _ and -: safe in the link as it is)."""
    words = (message.text or "").split()
    payload = ""
    if len(words) == 2 and words[0].split("@")[0] == "/start" and words[1] in vacancies:
        payload = words[1]
    return f"https://t.me/{bot_username}?start={payload}"


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
                 clock: Callable[[], datetime]) -> None:
        self.vacancies = vacancies
        self.notices = notices
        self.recruiter_chat = recruiter_chat
        self.ignored = ignored
        self.clock = clock

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
        where = GROUP_MESSAGES
        if self.recruiter_chat is not None:
            where = where & ~filters.Chat(self.recruiter_chat)
        app.add_handler(MessageHandler(where, self.point_to_private_chat))
