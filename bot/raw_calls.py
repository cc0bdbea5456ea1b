"""Bot API calls whose answer is not needed as python-telegram-bot objects.

Building a `Message` from Telegram's answer costs more than the rest of sending a reply, and
for the calls on a candidate's every step (a reply, the buttons taken off a pressed message)
only an id or nothing is used. These calls go through `Bot.do_api_request`, so the bot's rate
limiter, request layer and errors apply as to any other call; the answer stays JSON.
"""

from __future__ import annotations

import warnings
from typing import Any

from telegram import Bot
from telegram.warnings import PTBUserWarning

RAW_METHODS = ("sendMessage", "editMessageReplyMarkup")
# The library suggests its typed method instead, which parses the answer: exactly what is
# avoided here. A filter set once (catch_warnings is not safe among concurrent tasks).
for _method in RAW_METHODS:
    warnings.filterwarnings("ignore", message=f"Please use 'Bot.{_method}'",
                            category=PTBUserWarning)


async def call(bot: Bot, method: str, params: dict[str, Any], **timeouts: Any) -> Any:
    """`method` (one of RAW_METHODS) with `params`; Telegram's result as JSON."""
    assert method in RAW_METHODS
    return await bot.do_api_request(method, api_kwargs=params, **timeouts)


async def remove_buttons(bot: Bot, chat_id: int, message_id: int) -> None:
    """Take the inline keyboard off a message."""
    await call(bot, "editMessageReplyMarkup", {"chat_id": chat_id, "message_id": message_id})
