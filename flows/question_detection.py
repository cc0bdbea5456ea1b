"""Whether typed text is a question for a person rather than an answer: a cautious reading.

Where the bot expects an answer, a candidate sometimes asks something instead ("Wat is het loon
eigenlijk?" at "Hoe heet je?"). That must not be stored as the answer; the bot offers to pass
it on to the recruiters instead. Clearly a question is: it ends with a question mark, or it
starts like a Dutch or English question — an interrogative ("wat", "hoe", "when", ...) or a verb
put first before its subject ("kan ik", "is er", "do you", ...) — with at least three words.
Anything less sure is left to the answer parser, and a question offered to the recruiters can
always still be taken as the answer.
"""

from __future__ import annotations

import re

QUESTION_MARKS = ("?", "？", "؟")
MIN_WORDS = 3  # "Hoe Ling" may be a name; "hoe lang duurt het" is not
INTERROGATIVES = frozenset({
    # Dutch
    "wat", "hoe", "hoeveel", "hoelang", "hoezo", "wanneer", "waarom", "waar", "waarvoor",
    "waarmee", "waarover", "waaraan", "waarop", "waarin", "vanwaar", "wie", "wiens", "welk",
    "welke",
    # English
    "what", "how", "when", "why", "where", "which", "who", "whom", "whose",
})
# Verbs that open a yes/no question when their subject follows ("kan ik", "is er", "do you").
FRONTED_VERBS = frozenset({
    # Dutch
    "mag", "mogen", "kan", "kun", "kunt", "kunnen", "moet", "moeten", "is", "zijn", "ben",
    "bent", "heb", "hebt", "heeft", "hebben", "krijg", "krijgt", "word", "wordt", "worden",
    "zal", "zullen", "zou", "zouden", "wil", "wilt", "willen", "weet", "weten", "geldt", "telt",
    "tellen", "hoef", "hoeft", "hoort", "komt", "doe", "doet", "staat", "valt", "gaat", "blijft",
    # English
    "can", "could", "may", "might", "must", "are", "am", "do", "does", "did", "will",
    "would", "should", "shall", "have", "has", "was", "were",
})
SUBJECTS = frozenset({
    # Dutch
    "ik", "je", "jij", "u", "we", "wij", "ze", "zij", "hij", "het", "er", "de", "een", "dit",
    "dat", "deze", "die", "mijn", "jullie", "men", "iemand", "iets",
    # English
    "i", "you", "it", "there", "the", "a", "an", "this", "that", "my", "they", "he",
    "she", "someone", "anyone", "anything",
})
# "weet ik niet", "heb ik niet", "kan ik niet zeggen": a verb first, but an answer, not a
# question — without a question mark, a negation makes a fronted verb a statement.
NEGATIONS = frozenset({"niet", "geen", "nooit", "not", "never", "no"})
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")


def looks_like_question(text: str) -> bool:
    """True when `text` is clearly a question (see the module docstring)."""
    stripped = text.strip()
    if not stripped:
        return False
    if stripped.endswith(QUESTION_MARKS):
        return True
    words = _WORD.findall(stripped.lower())
    if len(words) < MIN_WORDS:
        return False
    first, second = words[0], words[1]
    return first in INTERROGATIVES or (first in FRONTED_VERBS and second in SUBJECTS
                                       and not NEGATIONS & set(words))


def without_question_mark(text: str) -> str:
    """The text without its closing question marks ("ja?" read as "ja")."""
    return text.strip().rstrip("".join(QUESTION_MARKS) + " ")
