"""A Bot API request layer that answers at once, for benches: no network, no fake state."""

from __future__ import annotations

import json

from telegram.request import BaseRequest, RequestData

BOT = {"id": 1, "is_bot": True, "first_name": "Bench", "username": "bench_bot"}


class InstantRequest(BaseRequest):
    """getMe returns a bot; every other call `true` (sendMessage a minimal message)."""

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         read_timeout: object = None, write_timeout: object = None,
                         connect_timeout: object = None,
                         pool_timeout: object = None) -> tuple[int, bytes]:
        api_method = url.rsplit("/", 1)[-1]
        result: object = True
        if api_method == "getMe":
            result = BOT
        elif api_method.startswith("send"):
            params = request_data.parameters if request_data is not None else {}
            result = {"message_id": 1, "date": 0, "chat": {"id": params.get("chat_id", 1),
                                                           "type": "private"}}
        return 200, json.dumps({"ok": True, "result": result}).encode()
