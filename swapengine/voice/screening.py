"""Screening of the name a fan wants the celebrity to say, before any audio is made.

Refusals compare a "skeleton" of the text: case folded, accents dropped, leetspeak undone, letters
spaced out to dodge a filter joined back up and repeated letters collapsed. Messages never repeat the
word that was refused.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from types import MappingProxyType

from swapengine.errors import BadInput

MAX_LETTERS = 30

# Scripts whose letters a name may use: Latin (with accents) and the Indic scripts we can voice.
_SCRIPTS = ("LATIN", "DEVANAGARI", "BENGALI", "GURMUKHI", "GUJARATI", "ORIYA", "TAMIL", "TELUGU",
            "KANNADA", "MALAYALAM")
_PUNCTUATION = frozenset(" -'.")
_APOSTROPHES = MappingProxyType({"\u2019": "'", "\u02bc": "'", "\u2018": "'", "\u2010": "-", "\u2011": "-"})
_JOINERS = frozenset("\u200c\u200d")  # ZWNJ/ZWJ shape Indic conjuncts; nowhere else are they wanted
_LEET = MappingProxyType(str.maketrans({
    "0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g",
    "@": "a", "$": "s", "!": "i", "|": "i", "+": "t", "€": "e",
}))

# Stems refused inside any word: long and specific enough not to occur in real names.
_STEMS = (
    "fuck", "fuk", "motherf", "nigger", "nigga", "faggot", "wanker", "bullshit", "asshole",
    "chutiy", "chutia", "chootiy", "bhench", "behench", "bhainch", "madarch", "maderch", "bhosd",
    "bhosad", "randibaaz", "gandu", "lodu", "jhaat", "jhant", "chodu",
)
# Stems also looked for across word breaks ("fu ck", "bhen chod"): none can span two real names.
_GLUED = ("fuck", "motherf", "nigger", "faggot", "chutiy", "bhench", "behench", "madarch", "bhosd")
# Words refused only as whole words: they are parts of real names ("Kshitij", "Gandhi", "Scunthorpe").
_WORDS = (
    "shit", "shitty", "cunt", "cunts", "bitch", "bastard", "slut", "whore", "twat", "prick", "cock",
    "pussy", "ass", "arse", "dickhead", "penis", "vagina", "porn", "sex", "rape", "nazi", "hitler",
    "chod", "chut", "gaand", "gand", "lund", "lauda", "lawda", "lavda", "randi", "harami", "haramzada",
    "kutta", "kutte", "kutiya", "kamina", "kamine", "saala", "saali", "bakchod", "tatti",
)
_DEVANAGARI = ("चूतिया", "भेनचोद", "बहनचोद", "मादरचोद", "भोसडी", "गांडू", "रंडी", "हरामी")

_MSG_EMPTY = "Please type the name you would like to hear."
_MSG_LONG = (f"That name is too long to say in the clip. Please use at most {MAX_LETTERS} letters, "
             "for example a first name or a nickname.")
_MSG_SCRIPT = ("Please use only letters (in the Latin alphabet or an Indian script), spaces, hyphens, "
               "apostrophes and full stops.")
_MSG_DIGITS = "Names cannot contain numbers. Please type the name in letters."
_MSG_SYMBOLS = "Emoji, symbols and hidden characters cannot be spoken. Please type the name in letters only."
_MSG_MIXED = ("Some letters in this name come from different alphabets that look alike. "
              "Please retype the name using one keyboard.")
_MSG_REFUSED = "Sorry, we can't use this name in a video. Please choose a different name."
_MSG_SENSITIVE = ("Sorry, this name includes a word we can't use in this campaign. "
                  "Please choose a different name.")


def _script(ch: str) -> str | None:
    name = unicodedata.name(ch, "")
    return next((s for s in _SCRIPTS if name.startswith(s + " ")), None)


def normalise(text: str) -> str:
    """NFC, typographic apostrophes and hyphens made plain, runs of spaces collapsed."""
    text = unicodedata.normalize("NFC", text)
    text = "".join(_APOSTROPHES.get(ch, " " if ch.isspace() and ch not in "\n\r\t" else ch)
                   for ch in text)
    return " ".join(part for part in text.strip().split(" ") if part)


def letter_count(text: str) -> int:
    """Characters as a reader counts them: combining marks and vowel signs do not add a letter."""
    return sum(1 for ch in text if not unicodedata.category(ch).startswith("M") and ch not in _JOINERS)


def skeleton_words(text: str) -> list[str]:
    """Comparable words: folded, accent-free, leet undone, "f u c k" and "f.u.c.k" joined into one."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept = "".join(ch for ch in decomposed if not unicodedata.name(ch, "").startswith("COMBINING"))
    kept = kept.translate(_LEET)
    cleaned = "".join(ch if ch.isalpha() or unicodedata.category(ch).startswith("M") else " "
                      for ch in kept)
    words: list[str] = []
    singles: list[str] = []
    for token in cleaned.split():
        if len(token) == 1:
            singles.append(token)
            continue
        if singles:
            words.append("".join(singles))
            singles = []
        words.append(token)
    if singles:
        words.append("".join(singles))
    return words


def _pattern(term: str) -> str:
    """A term as a regex in which every letter may be repeated ("fuuuck", "kuttaaa")."""
    return "".join(re.escape(ch) + "+" for ch in term)


def _terms(raw: Iterable[str]) -> list[list[str]]:
    return [words for words in (skeleton_words(unicodedata.normalize("NFC", t)) for t in raw) if words]


def _runs(words: list[str]) -> Iterator[str]:
    """Every run of adjacent words glued together, catching a term typed with spaces inside."""
    for i in range(len(words)):
        for j in range(i + 1, len(words) + 1):
            yield "".join(words[i:j])


def _contains_phrase(words: list[str], phrase: list[str]) -> bool:
    """Whole-word match of a one- or many-word term, with or without the spaces between its words."""
    spaced = re.compile(r"(?<!\S)" + r" ".join(_pattern(w) for w in phrase) + r"(?!\S)")
    if spaced.search(" ".join(words)):
        return True
    glued = re.compile(_pattern("".join(phrase)))
    return any(glued.fullmatch(run) for run in _runs(words))


def _is_profane(words: list[str]) -> bool:
    stems = [re.compile(_pattern(s)) for s in (*_STEMS, *_DEVANAGARI)]
    whole = [re.compile(_pattern(w)) for w in _WORDS]
    return (any(stem.search(word) for word in words for stem in stems)
            or any(w.fullmatch(word) for word in words for w in whole)
            or any(re.search(_pattern(stem), "".join(words)) for stem in _GLUED))


def _check_characters(name: str) -> None:
    if any(ch.isdigit() for ch in name) and not any(ch.isalpha() for ch in name):
        raise BadInput(_MSG_DIGITS, code="name_bad_script")
    for i, ch in enumerate(name):
        cat = unicodedata.category(ch)
        if ch in _JOINERS:
            neighbours = name[i - 1:i] + name[i + 1:i + 2]
            if len(neighbours) == 2 and all(_script(c) not in (None, "LATIN") for c in neighbours):
                continue
            raise BadInput(_MSG_SYMBOLS, code="name_bad_script")
        if cat.startswith(("C", "S")):
            raise BadInput(_MSG_SYMBOLS, code="name_bad_script")
        if cat == "Nd":
            raise BadInput(_MSG_DIGITS, code="name_bad_script")
        if ch in _PUNCTUATION:
            continue
        if cat.startswith("M"):
            if i == 0 or name[i - 1] in _PUNCTUATION:
                raise BadInput(_MSG_SYMBOLS, code="name_bad_script")
            continue
        if not cat.startswith("L"):
            raise BadInput(_MSG_SCRIPT, code="name_bad_script")
        if _script(ch) is None:
            raise BadInput(_MSG_MIXED if _looks_like_latin(name) else _MSG_SCRIPT, code="name_bad_script")
    for word in name.replace("-", " ").replace(".", " ").split():
        scripts = {_script(ch) for ch in word if unicodedata.category(ch).startswith("L")}
        if len(scripts) > 1:
            raise BadInput(_MSG_MIXED, code="name_bad_script")


def _looks_like_latin(name: str) -> bool:
    """A Cyrillic or Greek look-alike hidden among Latin letters is a spoofing trick, not a name."""
    return any(_script(ch) == "LATIN" for ch in name)


def screen_name(text: str, extra_blocked: Iterable[str] = ()) -> str:
    """The name, normalised, if it may be spoken in a video; otherwise BadInput with a polite reason.

    `extra_blocked` are an admin's sensitive terms (religious, political, competitor brands), refused
    as whole words with the same folding as the built-in list.
    """
    name = normalise(text or "")
    if not any(ch.isalnum() for ch in name) and not any(not ch.isascii() for ch in name):
        raise BadInput(_MSG_EMPTY, code="name_empty")
    if letter_count(name) > MAX_LETTERS:
        raise BadInput(_MSG_LONG, code="name_too_long")
    words = skeleton_words(name)
    if _is_profane(words):
        raise BadInput(_MSG_REFUSED, code="name_refused")
    if any(_contains_phrase(words, phrase) for phrase in _terms(extra_blocked)):
        raise BadInput(_MSG_SENSITIVE, code="name_refused")
    _check_characters(name)
    if not any(unicodedata.category(ch).startswith("L") for ch in name):
        raise BadInput(_MSG_EMPTY, code="name_empty")
    return name
