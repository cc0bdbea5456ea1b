"""An instant Telegram for load runs: a `BaseRequest` that answers every Bot API call at once
(or after `latency` seconds) with a plausible result, and hands each message sent to a chat to
the driver.

Unlike `bot/fake_bot_api.py` it keeps no history (its lookups would grow with the run and be
measured): a sent message goes to `on_sent` and is forgotten. Downloads return the bytes the
driver registered for a file id (real small PDFs and JPEGs from `bot/sample_files.py`).
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from typing import Any

from telegram.request import BaseRequest, RequestData

BOT = {"id": 7000001, "is_bot": True, "first_name": "Intake", "username": "intake_load_bot"}
TOKEN = "123456:LOAD-TOKEN"
SENDS = frozenset({"sendMessage", "sendDocument", "sendPhoto"})


def buttons_of(params: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, callback data) of an inline keyboard; link buttons left out."""
    markup = params.get("reply_markup")
    if isinstance(markup, str):
        markup = json.loads(markup)
    rows = (markup or {}).get("inline_keyboard", [])
    return [(b["text"], b["callback_data"]) for row in rows for b in row if "callback_data" in b]


class InstantApi(BaseRequest):
    """`on_sent(chat_id, text, buttons, message_id)` is called for every message sent."""

    def __init__(self, on_sent: Callable[[int, str, list[tuple[str, str]], int], None],
                 files: dict[str, bytes], latency: float = 0.0) -> None:
        self.on_sent = on_sent
        self.files = files
        self.latency = latency
        self._ids = itertools.count(1)
        self.calls = 0  # Bot API calls and downloads
        self.chat_calls = 0  # those naming a chat: what AIORateLimiter counts

    @property
    def read_timeout(self) -> float | None:
        return 5.0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         read_timeout: Any = None, write_timeout: Any = None,
                         connect_timeout: Any = None, pool_timeout: Any = None) -> tuple[int, bytes]:
        self.calls += 1
        if self.latency:
            await asyncio.sleep(self.latency)
        if "/file/bot" in url:
            return 200, self.files[url.rsplit("/", 1)[-1]]
        api_method = url.rsplit("/", 1)[-1]
        params = dict(request_data.json_parameters) if request_data is not None else {}
        self.chat_calls += "chat_id" in params
        return 200, json.dumps({"ok": True, "result": self.answer(api_method, params)}).encode()

    def answer(self, api_method: str, params: dict[str, Any]) -> Any:
        if api_method == "getMe":
            return {**BOT, "can_join_groups": True, "can_read_all_group_messages": False,
                    "supports_inline_queries": False}
        if api_method == "getFile":
            file_id = str(params["file_id"])
            return {"file_id": file_id, "file_unique_id": f"u{file_id}",
                    "file_size": len(self.files[file_id]), "file_path": f"documents/{file_id}"}
        if api_method in SENDS or api_method.startswith("edit"):
            chat_id = int(params["chat_id"])
            message_id = (int(params["message_id"]) if api_method.startswith("edit")
                          else next(self._ids))
            text = str(params.get("text") or params.get("caption") or "")
            result: dict[str, Any] = {
                "message_id": message_id, "date": 0, "from": BOT,
                "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group",
                         **({"first_name": "K"} if chat_id > 0 else {"title": "Recruiters"})}}
            if api_method == "sendDocument":
                result["document"] = {"file_id": f"s{message_id}",
                                      "file_unique_id": f"us{message_id}", "file_name": "f.pdf"}
            elif api_method == "sendPhoto":
                result["photo"] = [{"file_id": f"s{message_id}", "file_unique_id": f"us{message_id}",
                                    "width": 800, "height": 480}]
            else:
                result["text"] = text or "."
            if api_method in SENDS:
                self.on_sent(chat_id, text, buttons_of(params), message_id)
            return result
        return True  # answerCallbackQuery, sendChatAction, setMyCommands, deleteMessage(s)...
