"""One minimal, valid sample of every message type and every update type Telegram can send.

`MESSAGE_SAMPLES[t]` are the fields a message of `telegram.constants.MessageType` t carries
(besides id, date, chat and sender); `update_sample(t, ...)` the payload of an update of
`telegram.Update.ALL_TYPES` t. tests/test_updates.py checks that both cover every type the
installed python-telegram-bot knows, so a library upgrade that adds one fails there until the
new type is sorted on purpose.
"""

from __future__ import annotations

from typing import Any

from bot.fake_bot_api import BOT_ID, BOT_USERNAME, CONTENT

DATE = 1_780_000_000
CHANNEL = {"id": -1009990001, "type": "channel", "title": "Kanaal"}
A_USER = {"id": 4242, "is_bot": False, "first_name": "Piet"}
THE_BOT = {"id": BOT_ID, "is_bot": True, "first_name": "Intake", "username": BOT_USERNAME}
STICKER = {"file_id": "st9", "file_unique_id": "ust9", "type": "regular", "width": 512,
           "height": 512, "is_animated": False, "is_video": False}
PHOTO = [{"file_id": "ph9", "file_unique_id": "uph9", "width": 640, "height": 480}]
GIFT = {"gift": {"id": "g1", "sticker": STICKER, "star_count": 15}}
RARE = {"sticker": STICKER, "rarity_per_mille": 10}
SHIPPING_ADDRESS = {"country_code": "BE", "state": "", "city": "Nieuwpoort",
                    "street_line1": "Marktplein 7", "street_line2": "", "post_code": "8620"}
BOOST_SOURCE = {"source": "premium", "user": A_USER}


def _text(**extra: Any) -> dict[str, Any]:
    return {"text": "hallo", **extra}


MESSAGE_SAMPLES: dict[str, dict[str, Any]] = {
    # content a person sends
    "text": _text(),
    "animation": CONTENT["animation"],
    "audio": CONTENT["audio"],
    "checklist": CONTENT["checklist"],
    "contact": CONTENT["contact"],
    "dice": CONTENT["dice"],
    "document": {"document": {"file_id": "doc9", "file_unique_id": "udoc9",
                              "file_name": "cv.pdf", "mime_type": "application/pdf",
                              "file_size": 1000}},
    "game": CONTENT["game"],
    "invoice": CONTENT["invoice"],
    "live_photo": {"live_photo": {"file_id": "lp9", "file_unique_id": "ulp9", "width": 640,
                                  "height": 480, "duration": 3}, "photo": PHOTO},
    "location": CONTENT["location"],
    "paid_media": CONTENT["paid_media"],
    "photo": {"photo": PHOTO},
    "poll": CONTENT["poll"],
    "sticker": CONTENT["sticker"],
    "story": CONTENT["story"],
    "venue": CONTENT["venue"],
    "video": CONTENT["video"],
    "video_note": CONTENT["video_note"],
    "voice": CONTENT["voice"],
    "giveaway": {"giveaway": {"chats": [CHANNEL], "winners_selection_date": DATE,
                              "winner_count": 1}},
    "giveaway_winners": {"giveaway_winners": {"chat": CHANNEL, "giveaway_message_id": 3,
                                              "winners_selection_date": DATE,
                                              "winner_count": 1, "winners": [A_USER]}},
    # attributes of a text message, not a kind of their own
    "business_connection_id": _text(business_connection_id="bc1"),
    "effect_id": _text(effect_id="5104841245755180586"),
    "reply_to_story": _text(reply_to_story={"chat": CHANNEL, "id": 7}),
    "sender_boost_count": _text(sender_boost_count=2),
    "sender_business_bot": _text(sender_business_bot=THE_BOT),
    "suggested_post_info": _text(suggested_post_info={"state": "pending"}),
    # service messages: the chat's own events
    "boost_added": {"boost_added": {"boost_count": 1}},
    "channel_chat_created": {"channel_chat_created": True},
    "chat_background_set": {"chat_background_set": {"type": {
        "type": "fill", "fill": {"type": "solid", "color": 0}, "dark_theme_dimming": 0}}},
    "chat_owner_changed": {"chat_owner_changed": {"new_owner": A_USER}},
    "chat_owner_left": {"chat_owner_left": {}},
    "chat_shared": {"chat_shared": {"request_id": 1, "chat_id": -1001}},
    "checklist_tasks_added": {"checklist_tasks_added": {"tasks": [{"id": 2, "text": "x"}]}},
    "checklist_tasks_done": {"checklist_tasks_done": {"marked_as_done_task_ids": [1]}},
    "connected_website": {"connected_website": "example.org"},
    "delete_chat_photo": {"delete_chat_photo": True},
    "direct_message_price_changed": {"direct_message_price_changed": {
        "are_direct_messages_enabled": True}},
    "forum_topic_created": {"forum_topic_created": {"name": "Vragen", "icon_color": 7322096}},
    "forum_topic_closed": {"forum_topic_closed": {}},
    "forum_topic_edited": {"forum_topic_edited": {"name": "Vragen 2"}},
    "forum_topic_reopened": {"forum_topic_reopened": {}},
    "general_forum_topic_hidden": {"general_forum_topic_hidden": {}},
    "general_forum_topic_unhidden": {"general_forum_topic_unhidden": {}},
    "gift": {"gift": GIFT},
    "gift_upgrade_sent": {"gift_upgrade_sent": GIFT},
    "giveaway_created": {"giveaway_created": {}},
    "giveaway_completed": {"giveaway_completed": {"winner_count": 1}},
    "group_chat_created": {"group_chat_created": True},
    "left_chat_member": {"left_chat_member": A_USER},
    "managed_bot_created": {"managed_bot_created": {"bot": THE_BOT}},
    "message_auto_delete_timer_changed": {"message_auto_delete_timer_changed": {
        "message_auto_delete_time": 86400}},
    "migrate_to_chat_id": {"migrate_to_chat_id": -1001234},
    "new_chat_members": {"new_chat_members": [A_USER]},
    "new_chat_title": {"new_chat_title": "Vacatures"},
    "new_chat_photo": {"new_chat_photo": PHOTO},
    "paid_message_price_changed": {"paid_message_price_changed": {
        "paid_message_star_count": 10}},
    "passport_data": {"passport_data": {"data": [], "credentials": {
        "data": "x", "hash": "y", "secret": "z"}}},
    "pinned_message": {"pinned_message": {"message_id": 1, "date": 0,
                                          "chat": {"id": 1, "type": "private"}}},
    "poll_option_added": {"poll_option_added": {"option_persistent_id": "3",
                                                "option_text": "Misschien"}},
    "poll_option_deleted": {"poll_option_deleted": {"option_persistent_id": "3",
                                                    "option_text": "Misschien"}},
    "proximity_alert_triggered": {"proximity_alert_triggered": {
        "traveler": A_USER, "watcher": A_USER, "distance": 10}},
    "refunded_payment": {"refunded_payment": {
        "currency": "XTR", "total_amount": 1, "invoice_payload": "p",
        "telegram_payment_charge_id": "c"}},
    "successful_payment": {"successful_payment": {
        "currency": "EUR", "total_amount": 1, "invoice_payload": "p",
        "telegram_payment_charge_id": "c", "provider_payment_charge_id": "pc"}},
    "suggested_post_approval_failed": {"suggested_post_approval_failed": {
        "price": {"currency": "XTR", "amount": 10}}},
    "suggested_post_approved": {"suggested_post_approved": {"send_date": DATE}},
    "suggested_post_declined": {"suggested_post_declined": {}},
    "suggested_post_paid": {"suggested_post_paid": {"currency": "XTR"}},
    "suggested_post_refunded": {"suggested_post_refunded": {"reason": "post_deleted"}},
    "supergroup_chat_created": {"supergroup_chat_created": True},
    "unique_gift": {"unique_gift": {"origin": "upgrade", "gift": {
        "gift_id": "g1", "base_name": "Kat", "name": "Kat-1", "number": 1,
        "model": {"name": "m", **RARE}, "symbol": {"name": "s", **RARE},
        "backdrop": {"name": "b", "rarity_per_mille": 10, "colors": {
            "center_color": 0, "edge_color": 0, "symbol_color": 0, "text_color": 0}}}}},
    "users_shared": {"users_shared": {"request_id": 1, "users": [{"user_id": 4242}]}},
    "video_chat_scheduled": {"video_chat_scheduled": {"start_date": DATE}},
    "video_chat_started": {"video_chat_started": {}},
    "video_chat_ended": {"video_chat_ended": {"duration": 60}},
    "video_chat_participants_invited": {"video_chat_participants_invited": {"users": [A_USER]}},
    "web_app_data": {"web_app_data": {"data": "x", "button_text": "Open"}},
    "write_access_allowed": {"write_access_allowed": {}},
}


def message(chat: dict[str, Any], sender: dict[str, Any] | None, message_id: int = 1,
            **content: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"message_id": message_id, "date": DATE, "chat": chat, **content}
    if sender is not None:
        out["from"] = sender
    return out


def update_sample(kind: str, user: dict[str, Any], private: dict[str, Any],
                  group: dict[str, Any]) -> dict[str, Any]:
    """The payload (without update_id) of an update of type `kind`, from `user`, whose
    private chat with the bot is `private`; `group` is a group the bot is in."""
    text = message(private, user, text="hallo")
    bot_member = {"status": "member", "user": THE_BOT}
    samples: dict[str, Any] = {
        "message": text,
        "edited_message": {**text, "edit_date": DATE + 60},
        "channel_post": message(CHANNEL, None, sender_chat=CHANNEL, text="Nieuwe vacature"),
        "edited_channel_post": message(CHANNEL, None, sender_chat=CHANNEL, text="Nieuw!",
                                       edit_date=DATE + 60),
        "inline_query": {"id": "iq1", "from": user, "query": "vacature", "offset": ""},
        "chosen_inline_result": {"result_id": "r1", "from": user, "query": "vacature"},
        "callback_query": {"id": "cq1", "from": user, "chat_instance": "1", "data": "zz",
                           "message": message(private, THE_BOT, text="Vraag")},
        "shipping_query": {"id": "sq1", "from": user, "invoice_payload": "p",
                           "shipping_address": SHIPPING_ADDRESS},
        "pre_checkout_query": {"id": "pq1", "from": user, "currency": "EUR",
                               "total_amount": 1, "invoice_payload": "p"},
        "poll": CONTENT["poll"]["poll"],
        "poll_answer": {"poll_id": "poll1", "user": user, "option_ids": [0],
                        "option_persistent_ids": ["Ja"]},
        "my_chat_member": {"chat": private, "from": user, "date": DATE,
                           "old_chat_member": bot_member,
                           "new_chat_member": {"status": "kicked", "user": THE_BOT,
                                               "until_date": 0}},
        "chat_member": {"chat": group, "from": user, "date": DATE,
                        "old_chat_member": {"status": "left", "user": user},
                        "new_chat_member": {"status": "member", "user": user}},
        "chat_join_request": {"chat": group, "from": user, "user_chat_id": user["id"],
                              "date": DATE},
        "chat_boost": {"chat": CHANNEL, "boost": {"boost_id": "b1", "add_date": DATE,
                                                  "expiration_date": DATE + 86400,
                                                  "source": BOOST_SOURCE}},
        "removed_chat_boost": {"chat": CHANNEL, "boost_id": "b1", "remove_date": DATE,
                               "source": BOOST_SOURCE},
        "message_reaction": {"chat": private, "message_id": 1, "user": user, "date": DATE,
                             "old_reaction": [],
                             "new_reaction": [{"type": "emoji", "emoji": "👍"}]},
        "message_reaction_count": {"chat": group, "message_id": 1, "date": DATE,
                                   "reactions": [{"type": {"type": "emoji", "emoji": "👍"},
                                                  "total_count": 2}]},
        "business_connection": {"id": "bc1", "user": user, "user_chat_id": user["id"],
                                "date": DATE, "is_enabled": True},
        "business_message": {**text, "business_connection_id": "bc1"},
        "edited_business_message": {**text, "business_connection_id": "bc1",
                                    "edit_date": DATE + 60},
        "deleted_business_messages": {"business_connection_id": "bc1", "chat": private,
                                      "message_ids": [1]},
        "purchased_paid_media": {"from": user, "paid_media_payload": "p"},
        "managed_bot": {"user": user, "bot": THE_BOT},
        "guest_message": {**text, "guest_query_id": "gq1"},
    }
    return {kind: samples[kind]}


UPDATE_KINDS = ("message", "edited_message", "channel_post", "edited_channel_post",
                "inline_query", "chosen_inline_result", "callback_query", "shipping_query",
                "pre_checkout_query", "poll", "poll_answer", "my_chat_member", "chat_member",
                "chat_join_request", "chat_boost", "removed_chat_boost", "message_reaction",
                "message_reaction_count", "business_connection", "business_message",
                "edited_business_message", "deleted_business_messages", "purchased_paid_media",
                "managed_bot", "guest_message")
