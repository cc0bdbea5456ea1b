"""What a Telegram message carries, sorted by what the bot does with it.

- text, commands, documents and photos: answers (bot/candidate_handlers.py);
- `CONTENT_KINDS`: content a person sent that the bot cannot use, each with its own reply
  (`unusable.<kind>` in the catalogues) — stickers, voice, video, locations, contacts...;
- `SERVICE`: the chat's own events (a pinned message, an auto-delete timer, members joining, a
  payment or passport record). Nobody wrote them to the bot; they are counted, not answered
  (bot/ignored_updates.py);
- anything else a person can send (an invoice, a checklist, paid media, a giveaway, whatever
  Telegram adds next): the general reply, `unusable.media`.

tests/test_updates.py builds a message of every `telegram.constants.MessageType` and checks
where each one lands, so a new type in a library upgrade is sorted on purpose.
"""

from __future__ import annotations

from telegram.ext import filters

# Checked before documents and photos: an animation (GIF) also carries a `document`, a venue a
# `location`. One kind per message: no message carries two of these.
CONTENT_KINDS: tuple[tuple[str, filters.BaseFilter], ...] = (
    ("sticker", filters.Sticker.ALL | filters.ANIMATION | filters.Dice.ALL),
    ("voice", filters.VOICE | filters.VIDEO_NOTE | filters.AUDIO),
    ("video", filters.VIDEO),
    ("location", filters.LOCATION | filters.VENUE),
    ("contact", filters.CONTACT),
    ("poll", filters.POLL),
    ("story", filters.STORY),
    ("game", filters.GAME),
)

SERVICE = (filters.StatusUpdate.ALL | filters.SUCCESSFUL_PAYMENT | filters.PASSPORT_DATA
           | filters.BOOST_ADDED)

DOCUMENT = (filters.Document.ALL & ~filters.ANIMATION) | filters.PHOTO
