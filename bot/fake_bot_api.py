"""A fake Telegram Bot API inside the process: python-telegram-bot's supported test seam.

`FakeBotApi` is a `BaseRequest`: the real `Bot` and `Application` talk to it instead of the
network. It keeps chats, sent messages and files, rejects what Telegram rejects (empty or
over-4096-character text, callback data over 64 bytes, unknown chats, blocked users, deleting
a message older than 48 hours, a Mini App button outside a private chat or without https) and
makes real `Update` objects for users who type, press buttons
or send files. `simulate` and the tests
use it; `bot/fake_bot_server.py` serves the same state over HTTP for end-to-end runs.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from telegram import Bot, Update
from telegram.error import TimedOut
from telegram.request import BaseRequest, RequestData

BOT_ID = 7000001
BOT_USERNAME = "intake_test_bot"
MAX_TEXT = 4096
MAX_CALLBACK_DATA = 64
DELETABLE_FOR = 48 * 3600  # seconds a bot may delete its own message after sending it
MAX_DELETE_BATCH = 100  # message ids per deleteMessages call
CANNOT_DELETE = "Bad Request: message can't be deleted"


def _file(name: str, **extra: Any) -> dict[str, Any]:
    return {"file_id": name, "file_unique_id": f"u{name}", **extra}


_SPOT = {"latitude": 51.1283, "longitude": 2.7519}
_POLL_OPTIONS = [{"text": t, "voter_count": 0, "persistent_id": t} for t in ("Ja", "Nee")]
# What a person can send besides text, documents and photos, as Telegram delivers it (the
# fields of a message, minimal but complete): for `content_update` and `simulate`'s `media:`.
CONTENT: dict[str, dict[str, Any]] = {
    "sticker": {"sticker": _file("sticker1", type="regular", width=512, height=512,
                                 is_animated=False, is_video=False, emoji="👍")},
    # A GIF: Telegram sets `document` too, for older clients.
    "animation": {"animation": _file("gif1", width=320, height=240, duration=2),
                  "document": _file("gif1", file_name="giphy.mp4", mime_type="video/mp4")},
    "dice": {"dice": {"emoji": "🎲", "value": 4}},
    "voice": {"voice": _file("voice1", duration=4, mime_type="audio/ogg")},
    "video_note": {"video_note": _file("round1", length=240, duration=5)},
    "audio": {"audio": _file("audio1", duration=120, title="Intro")},
    "video": {"video": _file("video1", width=1280, height=720, duration=10)},
    "location": {"location": _SPOT},
    "live_location": {"location": {**_SPOT, "live_period": 900}},
    "venue": {"location": _SPOT, "venue": {"location": _SPOT, "title": "Stadhuis",
                                           "address": "Marktplein 7, Nieuwpoort"}},
    "contact": {"contact": {"phone_number": "+32470123456", "first_name": "Jan",
                            "last_name": "Contact"}},
    "poll": {"poll": {"id": "poll1", "question": "Ben ik geschikt?", "options": _POLL_OPTIONS,
                      "total_voter_count": 0, "is_closed": False, "is_anonymous": True,
                      "type": "regular", "allows_multiple_answers": False,
                      "allows_revoting": False, "members_only": False}},
    "story": {"story": {"chat": {"id": -1009990001, "type": "channel", "title": "Kanaal"},
                        "id": 7}},
    "game": {"game": {"title": "Tetris", "description": "Blokjes",
                      "photo": [_file("game1", width=640, height=360)]}},
    "invoice": {"invoice": {"title": "Koffie", "description": "Een kop koffie",
                            "start_parameter": "koffie", "currency": "EUR",
                            "total_amount": 250}},
    "checklist": {"checklist": {"title": "Te doen", "tasks": [{"id": 1, "text": "cv"}]}},
    "paid_media": {"paid_media": {"star_count": 5, "paid_media": [{"type": "preview"}]}},
}


@dataclass
class Sent:
    """One message the bot sent (or edited), as the fake Telegram keeps it."""

    message_id: int
    chat_id: int
    text: str | None
    buttons: list[list[dict[str, Any]]] = field(default_factory=list)
    document: dict[str, Any] | None = None  # {"file_name", "data", "caption"}
    edited: bool = False
    thread_id: int | None = None  # the forum topic it was sent in
    date: float = 0.0  # when it was sent, on the fake Telegram's clock
    deleted: bool = False  # deleted by the bot (deleteMessage/deleteMessages): gone from the chat
    no_preview: bool = False  # sent with link_preview_options.is_disabled

    def links(self) -> list[str]:
        """The URLs of its link buttons."""
        return [b["url"] for row in self.buttons for b in row if "url" in b]

    def web_apps(self) -> list[str]:
        """The URLs its Mini App buttons open."""
        return [b["web_app"]["url"] for row in self.buttons for b in row if "web_app" in b]

    def labels(self) -> list[str]:
        return [b["text"] for row in self.buttons for b in row]


class TelegramError(Exception):
    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after


class FakeTelegram:
    """The state of a fake Telegram: users, chats, messages, files, pending updates."""

    def __init__(self, token: str = "123456:TEST-TOKEN",
                 clock: Callable[[], float] = time.time) -> None:
        self.token = token
        self.clock = clock  # message dates: a simulation's frozen clock, or the real one
        self.chats: dict[int, dict[str, Any]] = {}
        self.blocked: set[int] = set()
        self.sent: list[Sent] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.files: dict[str, bytes] = {}
        self.commands: dict[str, list[dict[str, str]]] = {}  # the default scope, per language
        # Other scopes: (scope type, chat id or None, language or "") -> the commands.
        self.scoped_commands: dict[tuple[str, int | None, str], list[dict[str, str]]] = {}
        self.failures: dict[str, list[TelegramError]] = {}
        self.stalls: dict[str, list[tuple[float, Any, int | None]]] = {}
        self.updates: list[dict[str, Any]] = []
        self.update_event = asyncio.Event()
        self.answered_callbacks: list[str] = []
        self.deleted: list[tuple[int, int]] = []  # (chat id, message id), in the order deleted
        self._ids = itertools.count(1)
        self._update_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self.webhook_url: str | None = None
        # setChatMenuButton: chat id -> the menu button (Bot API JSON) set for that chat.
        self.menu_buttons: dict[int, dict[str, Any]] = {}

    # ------------------------------------------------------------------ users and chats

    def add_user(self, user_id: int, first_name: str = "Test", language_code: str = "nl",
                 username: str | None = None) -> dict[str, Any]:
        user = {"id": user_id, "is_bot": False, "first_name": first_name,
                "language_code": language_code}
        if username:
            user["username"] = username
        self.chats[user_id] = {"id": user_id, "type": "private", "first_name": first_name,
                               "user": user}
        return user

    def add_group(self, chat_id: int, title: str = "Recruiters", kind: str = "group",
                  forum: bool = False) -> None:
        """A group ("group" or "supergroup"; a forum has topics) the bot is a member of."""
        self.chats[chat_id] = {"id": chat_id, "type": kind, "title": title}
        if forum:
            self.chats[chat_id]["is_forum"] = True

    def add_channel(self, chat_id: int, title: str = "Vacatures") -> None:
        """A channel the bot is an administrator of (it receives its posts)."""
        self.chats[chat_id] = {"id": chat_id, "type": "channel", "title": title}

    def fail_next(self, method: str, code: int, description: str,
                  retry_after: int | None = None, chat_id: int | None = None) -> None:
        """The next call of `method` (to `chat_id` only, when given) fails like this."""
        error = TelegramError(code, description, retry_after)
        error.chat_id = chat_id
        self.failures.setdefault(method, []).append(error)

    def stall_next(self, method: str, seconds: float, until: asyncio.Event | None = None,
                   chat_id: int | None = None) -> None:
        """The next call of `method` (to `chat_id`, when given) is carried out, but its answer
        comes `seconds` late: after `until` is set (the in-process fake does not sleep) — or,
        when `seconds` exceeds the caller's read timeout, never (the caller times out, as
        httpx would, while Telegram did deliver the message)."""
        self.stalls.setdefault(method, []).append((seconds, until, chat_id))

    def take_stall(self, method: str, params: dict[str, Any]) -> tuple[float, Any] | None:
        for index, (seconds, until, chat_id) in enumerate(self.stalls.get(method, [])):
            if chat_id is None or str(params.get("chat_id")) == str(chat_id):
                del self.stalls[method][index]
                return seconds, until
        return None

    def messages_to(self, chat_id: int) -> list[Sent]:
        """Everything the bot sent to the chat, deleted messages included (the history)."""
        return [m for m in self.sent if m.chat_id == chat_id]

    def visible_in(self, chat_id: int) -> list[Sent]:
        """What the chat still shows of the bot's messages: without those it deleted."""
        return [m for m in self.sent if m.chat_id == chat_id and not m.deleted]

    # ------------------------------------------------------------------ updates from users

    def _user(self, user_id: int) -> dict[str, Any]:
        return self.chats[user_id]["user"]

    def _message(self, user_id: int, chat_id: int | None = None, **extra: Any) -> dict[str, Any]:
        """A new message from `user_id` in `chat_id` (default: their private chat)."""
        chat = {k: v for k, v in self.chats[user_id if chat_id is None else chat_id].items()
                if k != "user"}
        return {"message_id": next(self._ids), "date": int(self.clock()), "chat": chat,
                "from": self._user(user_id), **extra}

    def _queue(self, payload: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": next(self._update_ids), **payload}
        self.updates.append(update)
        self.update_event.set()
        return update

    def text_update(self, user_id: int, text: str) -> dict[str, Any]:
        extra: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            extra["entities"] = [{"type": "bot_command", "offset": 0,
                                  "length": len(text.split()[0])}]
        return self._queue({"message": self._message(user_id, **extra)})

    def message_update(self, user_id: int, chat_id: int | None = None,
                       **content: Any) -> dict[str, Any]:
        """A message with any content (the fields of a Bot API Message), in a private chat
        or in `chat_id` (a group added with add_group)."""
        if "text" in content and str(content["text"]).startswith("/"):
            content.setdefault("entities", [{"type": "bot_command", "offset": 0,
                                             "length": len(str(content["text"]).split()[0])}])
        return self._queue({"message": self._message(user_id, chat_id, **content)})

    def content_update(self, user_id: int, kind: str, chat_id: int | None = None) -> dict[str, Any]:
        """A sticker, voice message, location... (`CONTENT[kind]`)."""
        return self.message_update(user_id, chat_id, **CONTENT[kind])

    def forwarded_update(self, user_id: int, text: str, from_name: str = "Piet") -> dict[str, Any]:
        """`user_id` forwards someone else's text message to the bot."""
        origin = {"type": "hidden_user", "date": int(self.clock()) - 3600,
                  "sender_user_name": from_name}
        return self.message_update(user_id, text=text, forward_origin=origin)

    def edit_update(self, original: dict[str, Any], text: str) -> dict[str, Any]:
        """The sender of `original` (an update made here) edits that message's text."""
        message = {**(original.get("message") or original["channel_post"]), "text": text,
                   "edit_date": int(self.clock())}
        key = "edited_message" if "message" in original else "edited_channel_post"
        return self._queue({key: message})

    def channel_post_update(self, chat_id: int, text: str) -> dict[str, Any]:
        """A post in a channel (added with add_channel)."""
        chat = dict(self.chats[chat_id])
        return self._queue({"channel_post": {"message_id": next(self._ids),
                                             "date": int(self.clock()), "chat": chat,
                                             "sender_chat": chat, "text": text}})
    def group_update(self, user_id: int, chat_id: int, text: str | None = None,
                     reply_to: Sent | None = None, photo: bytes | None = None) -> dict[str, Any]:
        """`user_id` writes in the group `chat_id` (added with add_group): a text, or a photo,
        as a reply to the bot's message `reply_to` when given."""
        chat = {k: v for k, v in self.chats[chat_id].items() if k != "user"}
        message: dict[str, Any] = {"message_id": next(self._ids), "date": int(self.clock()),
                                   "chat": chat, "from": self._user(user_id)}
        if text is not None:
            message["text"] = text
            if text.startswith("/"):
                message["entities"] = [{"type": "bot_command", "offset": 0,
                                        "length": len(text.split()[0])}]
        if photo is not None:
            file_id = f"photo{next(self._file_ids)}"
            self.files[file_id] = photo
            message["photo"] = [{"file_id": file_id, "file_unique_id": f"u{file_id}",
                                 "width": 640, "height": 480, "file_size": len(photo)}]
        if reply_to is not None:
            message["reply_to_message"] = self._message_json(reply_to)
        return self._queue({"message": message})

    def press_update(self, user_id: int, message: Sent, data: str) -> dict[str, Any]:
        chat = {k: v for k, v in self.chats[message.chat_id].items() if k != "user"}
        return self._queue({"callback_query": {
            "id": str(next(self._ids)), "from": self._user(user_id), "chat_instance": "1",
            "data": data,
            "message": {"message_id": message.message_id, "date": int(time.time()),
                        "chat": chat, "text": message.text or "",
                        "from": {"id": BOT_ID, "is_bot": True, "first_name": "Intake"}},
        }})

    def document_update(self, user_id: int, file_name: str, data: bytes,
                        mime_type: str | None, declared_size: int | None = None) -> dict[str, Any]:
        file_id = f"doc{next(self._file_ids)}"
        self.files[file_id] = data
        document = {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_name": file_name,
                    "file_size": declared_size if declared_size is not None else len(data)}
        if mime_type:
            document["mime_type"] = mime_type
        return self._queue({"message": self._message(user_id, document=document)})

    def photo_update(self, user_id: int, data: bytes) -> dict[str, Any]:
        file_id = f"photo{next(self._file_ids)}"
        self.files[file_id] = data
        sizes = [{"file_id": file_id, "file_unique_id": f"u{file_id}", "width": 1280,
                  "height": 960, "file_size": len(data)}]
        return self._queue({"message": self._message(user_id, photo=sizes)})

    # ------------------------------------------------------------------ the Bot API

    def call(self, method: str, params: dict[str, Any],
             files: dict[str, tuple[str, bytes]] | None = None) -> Any:
        self.calls.append((method, params))
        for index, error in enumerate(self.failures.get(method, [])):
            target = getattr(error, "chat_id", None)
            if target is None or str(params.get("chat_id")) == str(target):
                del self.failures[method][index]
                raise error
        handler = getattr(self, f"api_{method}", None)
        if handler is None:
            raise TelegramError(404, "Not Found: method not found")
        return handler(params, files or {})

    def _chat(self, params: dict[str, Any]) -> int:
        chat_id = int(params["chat_id"])
        if chat_id not in self.chats:
            raise TelegramError(400, "Bad Request: chat not found")
        if chat_id in self.blocked:
            raise TelegramError(403, "Forbidden: bot was blocked by the user")
        return chat_id

    def _buttons(self, params: dict[str, Any]) -> list[list[dict[str, Any]]]:
        markup = params.get("reply_markup")
        if isinstance(markup, str):
            markup = json.loads(markup)
        rows = (markup or {}).get("inline_keyboard", [])
        for row in rows:
            for button in row:
                data, url = button.get("callback_data"), button.get("url")
                web_app = button.get("web_app")
                if data is not None and len(data.encode()) > MAX_CALLBACK_DATA:
                    raise TelegramError(400, "Bad Request: BUTTON_DATA_INVALID")
                if url is not None and not str(url).startswith(("https://", "http://", "tg://")):
                    raise TelegramError(400, "Bad Request: BUTTON_URL_INVALID")
                if web_app is not None:
                    # Telegram: Mini App buttons only in private chats, and over https only.
                    chat = self.chats.get(int(params.get("chat_id") or 0), {})
                    if chat.get("type") != "private":
                        raise TelegramError(400, "Bad Request: BUTTON_TYPE_INVALID")
                    if not str(web_app.get("url", "")).startswith("https://"):
                        raise TelegramError(400, "Bad Request: inline keyboard button Web App "
                                                 "URL is invalid: Only HTTPS links are allowed")
                if (sum(x is not None for x in (data, url, web_app)) != 1
                        or not button.get("text")):
                    raise TelegramError(400, "Bad Request: text buttons are unallowed")
        return rows

    def _text(self, params: dict[str, Any], key: str = "text") -> str:
        text = params.get(key)
        if text is None or not str(text).strip():
            raise TelegramError(400, "Bad Request: message text is empty")
        if len(str(text)) > MAX_TEXT:
            raise TelegramError(400, "Bad Request: message is too long")
        return str(text)

    def _message_json(self, sent: Sent) -> dict[str, Any]:
        chat = {k: v for k, v in self.chats[sent.chat_id].items() if k != "user"}
        out: dict[str, Any] = {"message_id": sent.message_id, "date": int(time.time()),
                               "chat": chat,
                               "from": {"id": BOT_ID, "is_bot": True, "first_name": "Intake",
                                        "username": BOT_USERNAME}}
        if sent.text is not None:
            out["text"] = sent.text
        if sent.buttons:
            out["reply_markup"] = {"inline_keyboard": sent.buttons}
        if sent.document is not None and sent.document.get("photo"):
            out["photo"] = [{"file_id": f"sent{sent.message_id}",
                             "file_unique_id": f"usent{sent.message_id}",
                             "width": 800, "height": 480}]
        elif sent.document is not None:
            out["document"] = {"file_id": f"sent{sent.message_id}",
                               "file_unique_id": f"usent{sent.message_id}",
                               "file_name": sent.document["file_name"]}
        return out

    def api_getMe(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        return {"id": BOT_ID, "is_bot": True, "first_name": "Intake", "username": BOT_USERNAME,
                "can_join_groups": True, "can_read_all_group_messages": False,
                "supports_inline_queries": False}

    def api_setMyCommands(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        commands = params["commands"]
        if isinstance(commands, str):
            commands = json.loads(commands)
        language = params.get("language_code") or ""
        scope = params.get("scope")
        if isinstance(scope, str):
            scope = json.loads(scope)
        if not scope or scope.get("type") == "default":
            self.commands[language] = commands
            return True
        chat_id = scope.get("chat_id")
        if chat_id is not None:
            chat_id = self._chat({"chat_id": chat_id})  # a chat the bot cannot reach fails
        self.scoped_commands[(scope["type"], chat_id, language)] = commands
        return True

    def api_deleteWebhook(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        self.webhook_url = None
        return True

    def api_setWebhook(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        self.webhook_url = params.get("url")
        return True

    def api_getUpdates(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        offset = int(params.get("offset") or 0)
        self.updates = [u for u in self.updates if u["update_id"] >= offset]
        return list(self.updates[: int(params.get("limit") or 100)])

    def api_sendMessage(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        chat_id = self._chat(params)
        text = self._text(params)
        thread = params.get("message_thread_id")
        if thread is not None and not self.chats[chat_id].get("is_forum"):
            raise TelegramError(400, "Bad Request: message thread not found")
        preview = params.get("link_preview_options") or {}
        if isinstance(preview, str):
            preview = json.loads(preview)
        sent = Sent(next(self._ids), chat_id, text, self._buttons(params),
                    thread_id=int(thread) if thread is not None else None, date=self.clock(),
                    no_preview=bool(preview.get("is_disabled")))
        self.sent.append(sent)
        return self._message_json(sent)

    def api_setChatMenuButton(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        button = params.get("menu_button") or {"type": "default"}
        if isinstance(button, str):
            button = json.loads(button)
        if button.get("type") == "web_app" and not str(
                button.get("web_app", {}).get("url", "")).startswith("https://"):
            raise TelegramError(400, "Bad Request: BUTTON_URL_INVALID")
        if params.get("chat_id") is None:
            self.menu_buttons[0] = button  # the bot's default, for every chat
            return True
        chat_id = self._chat(params)  # a chat the bot cannot reach fails, as for commands
        if self.chats[chat_id].get("type") != "private":
            raise TelegramError(400, "Bad Request: chat is not private")
        self.menu_buttons[chat_id] = button
        return True

    def api_editMessageText(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        chat_id = self._chat(params)
        text = self._text(params)
        message_id = int(params["message_id"])
        for sent in self.sent:
            if sent.chat_id == chat_id and sent.message_id == message_id and not sent.deleted:
                sent.text, sent.buttons, sent.edited = text, self._buttons(params), True
                return self._message_json(sent)
        raise TelegramError(400, "Bad Request: message to edit not found")

    def api_editMessageReplyMarkup(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        chat_id = self._chat(params)
        message_id = int(params["message_id"])
        for sent in self.sent:
            if sent.chat_id == chat_id and sent.message_id == message_id and not sent.deleted:
                sent.buttons = self._buttons(params)
                return self._message_json(sent)
        raise TelegramError(400, "Bad Request: message to edit not found")

    def _own_message(self, chat_id: int, message_id: int) -> Sent | None:
        return next((m for m in self.sent if m.chat_id == chat_id and m.message_id == message_id
                     and not m.deleted), None)

    def _deletable(self, sent: Sent | None) -> bool:
        return sent is not None and self.clock() - sent.date < DELETABLE_FOR

    def _delete(self, sent: Sent) -> None:
        sent.deleted = True
        self.deleted.append((sent.chat_id, sent.message_id))

    def api_deleteMessage(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        chat_id = self._chat(params)
        sent = self._own_message(chat_id, int(params["message_id"]))
        if sent is None:
            raise TelegramError(400, "Bad Request: message to delete not found")
        if not self._deletable(sent):
            raise TelegramError(400, CANNOT_DELETE)
        self._delete(sent)
        return True

    def api_deleteMessages(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        """Deletes what it may and skips the rest; refuses when it may delete none of them."""
        chat_id = self._chat(params)
        ids = params.get("message_ids")
        if isinstance(ids, str):
            ids = json.loads(ids)
        if not isinstance(ids, list) or not 1 <= len(ids) <= MAX_DELETE_BATCH:
            raise TelegramError(400, "Bad Request: message_ids must be a list of 1-100 ids")
        found = [self._own_message(chat_id, int(i)) for i in ids]
        deletable = [sent for sent in found if sent is not None and self._deletable(sent)]
        if not deletable:
            raise TelegramError(400, CANNOT_DELETE)
        for sent in deletable:
            self._delete(sent)
        return True

    def api_answerCallbackQuery(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        self.answered_callbacks.append(str(params["callback_query_id"]))
        return True

    def api_sendChatAction(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        self._chat(params)
        return True

    def api_getFile(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        file_id = str(params["file_id"])
        if file_id not in self.files:
            raise TelegramError(400, "Bad Request: invalid file_id")
        data = self.files[file_id]
        if len(data) > 20 * 1024 * 1024:
            raise TelegramError(400, "Bad Request: file is too big")
        return {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_size": len(data),
                "file_path": f"documents/{file_id}"}

    def api_sendDocument(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        chat_id = self._chat(params)
        attached = files.get("document")
        if attached is None:
            raise TelegramError(400, "Bad Request: there is no document in the request")
        caption = params.get("caption")
        if caption is not None and len(str(caption)) > 1024:
            raise TelegramError(400, "Bad Request: message caption is too long")
        sent = Sent(next(self._ids), chat_id, None, self._buttons(params),
                    {"file_name": attached[0], "data": attached[1], "caption": caption},
                    date=self.clock())
        self.sent.append(sent)
        return self._message_json(sent)

    def api_sendPhoto(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        """Kept like a document (with "photo": True): its bytes, name and caption."""
        chat_id = self._chat(params)
        attached = files.get("photo")
        if attached is None:
            raise TelegramError(400, "Bad Request: there is no photo in the request")
        caption = params.get("caption")
        if caption is not None and len(str(caption)) > 1024:
            raise TelegramError(400, "Bad Request: message caption is too long")
        sent = Sent(next(self._ids), chat_id, None, self._buttons(params),
                    {"file_name": attached[0], "data": attached[1], "caption": caption,
                     "photo": True}, date=self.clock())
        self.sent.append(sent)
        return self._message_json(sent)

    def download(self, file_path: str) -> bytes:
        file_id = file_path.rsplit("/", 1)[-1]
        if file_id not in self.files:
            raise TelegramError(404, "Not Found")
        return self.files[file_id]


def _params(request_data: RequestData | None) -> tuple[dict[str, Any], dict[str, tuple[str, bytes]]]:
    if request_data is None:
        return {}, {}
    params = {k: (json.loads(v) if k == "reply_markup" or k == "commands" else v)
              for k, v in request_data.json_parameters.items()}
    files: dict[str, tuple[str, bytes]] = {}
    if request_data.contains_files:
        for name, part in request_data.multipart_data.items():
            if isinstance(part, tuple) and len(part) >= 2 and isinstance(part[1], bytes):
                files[name] = (part[0], part[1])
        # InputFile parameters refer to their attach name ("attach://..."), or sit inline.
        for key, value in list(params.items()):
            if isinstance(value, str) and value.startswith("attach://"):
                attach = value.removeprefix("attach://")
                if attach in files:
                    files[key] = files.pop(attach)
                params.pop(key)
    return params, files


class FakeBotApi(BaseRequest):
    """The request layer python-telegram-bot uses, answering from a `FakeTelegram`."""

    def __init__(self, telegram: FakeTelegram) -> None:
        self.telegram = telegram

    @property
    def read_timeout(self) -> float | None:
        return 5.0  # what python-telegram-bot's HTTPXRequest waits by default

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         read_timeout: Any = None, write_timeout: Any = None,
                         connect_timeout: Any = None, pool_timeout: Any = None) -> tuple[int, bytes]:
        tg = self.telegram
        if "/file/bot" in url:
            try:
                return 200, tg.download(url.split("/file/bot", 1)[1].split("/", 1)[1])
            except TelegramError as exc:
                return exc.code, json.dumps({"ok": False, "error_code": exc.code,
                                             "description": exc.description}).encode()
        token_and_method = url.split("/bot", 1)[-1]
        token, _, api_method = token_and_method.partition("/")
        if token != tg.token:
            return 401, json.dumps({"ok": False, "error_code": 401,
                                    "description": "Unauthorized"}).encode()
        params, files = _params(request_data)
        if api_method == "getUpdates" and not tg.updates:
            # Long polling: wait briefly for an update instead of spinning.
            tg.update_event.clear()
            try:
                await asyncio.wait_for(tg.update_event.wait(), timeout=0.2)
            except TimeoutError:
                pass
        stall = tg.take_stall(api_method, params)
        try:
            result = tg.call(api_method, params, files)
        except TelegramError as exc:
            body: dict[str, Any] = {"ok": False, "error_code": exc.code,
                                    "description": exc.description}
            if exc.retry_after is not None:
                body["parameters"] = {"retry_after": exc.retry_after}
            return exc.code, json.dumps(body).encode()
        if stall is not None:
            seconds, until = stall
            timeout = read_timeout if isinstance(read_timeout, int | float) else self.read_timeout
            if timeout is not None and seconds >= timeout:
                raise TimedOut(f"the answer took longer than {timeout} s")  # but it was sent
            if until is not None:
                await until.wait()
        return 200, json.dumps({"ok": True, "result": result}).encode()


def as_update(bot: Bot, payload: dict[str, Any]) -> Update:
    update = Update.de_json(payload, bot)
    assert update is not None
    return update
