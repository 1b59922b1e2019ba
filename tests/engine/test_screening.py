"""Name screening: what a fan may ask the celebrity to say, and how a refusal is worded."""

from __future__ import annotations

import pytest

from swapengine.errors import BadInput
from swapengine.voice.screening import MAX_LETTERS, screen_name

SENSITIVE = ["Narendra Modi", "Coca Cola", "Pepsi", "Allah"]


def refusal(text: str, extra: list[str] | None = None) -> BadInput:
    with pytest.raises(BadInput) as info:
        screen_name(text, extra or [])
    return info.value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Priya", "Priya"),
        ("  José   María  ", "José María"),
        ("O\u2019Brien", "O'Brien"),
        ("Jean-Luc", "Jean-Luc"),
        ("J. R. R. Tolkien", "J. R. R. Tolkien"),
        ("Zoë Saldaña", "Zoë Saldaña"),
        ("Jose\u0301", "José"),  # decomposed accent is composed
        ("प्रिया", "प्रिया"),
        ("अर्जुन शर्मा", "अर्जुन शर्मा"),
        ("ਗੁਰਪ੍ਰੀਤ", "ਗੁਰਪ੍ਰੀਤ"),
        ("தமிழ்", "தமிழ்"),
        ("क्\u200dष", "क्\u200dष"),  # a joiner inside a Devanagari conjunct is legitimate
        ("प्रिया Sharma", "प्रिया Sharma"),
        # real names that contain, or look like, a refused word
        ("Kshitij", "Kshitij"),
        ("Gandhi", "Gandhi"),
        ("Scunthorpe", "Scunthorpe"),
        ("Cassandra", "Cassandra"),
        ("Dick", "Dick"),
        ("Modi", "Modi"),
        ("Pepsiman", "Pepsiman"),
    ],
)
def test_accepts_real_names(text: str, expected: str) -> None:
    assert screen_name(text, SENSITIVE) == expected


@pytest.mark.parametrize("text", ["", "   ", "...", " - ' ", "\n\t"])
def test_empty(text: str) -> None:
    assert refusal(text).code == "name_empty"


def test_too_long_counts_letters_not_code_points() -> None:
    assert refusal("A" * (MAX_LETTERS + 1)).code == "name_too_long"
    assert screen_name("A" * MAX_LETTERS) == "A" * MAX_LETTERS
    # Devanagari vowel signs and viramas are marks: 19 letters here, but 34 code points.
    devanagari = "प्रिया " * 5
    assert len(devanagari.strip()) > MAX_LETTERS
    assert screen_name(devanagari) == devanagari.strip()


@pytest.mark.parametrize(
    "text",
    [
        "Priya😀", "😀", "Pri\u200bya", "Pri\u202eya", "Pri\u0007ya", "Priya\u200d", "Pr\u200diya",
        "12345", "Priya2", "२०२४", "Pr#ya", "Priya & Raj", "Привет", "Ελένη",
        "P\u0430ul",  # Cyrillic a inside a Latin word
        "प्रियाSharma",  # two scripts glued into one word
        "\u0301abc",  # a stray combining accent with nothing under it
    ],
)
def test_bad_script(text: str) -> None:
    error = refusal(text)
    assert error.code == "name_bad_script", text
    assert "letter" in error.user_message or "alphabet" in error.user_message


def test_confusable_message_explains_the_mix() -> None:
    assert "different alphabets" in refusal("P\u0430ul").user_message
    assert "numbers" in refusal("007").user_message


@pytest.mark.parametrize(
    "text",
    [
        "fuck", "FUCK", "Fück", "fuuuuck", "f u c k", "F.U.C.K", "f-u-c-k", "fu_ck", "Priya fucker",
        "sh1t", "$h!t", "5hit", "@ss", "a s s", "b1tch", "motherf***er",
        "chutiya", "ChUtIyA", "chootiya", "bhenchod", "Bhen chod", "behenchod", "madarchod",
        "bhosdike", "gaandu", "kutte", "Rahul Kutta", "harami", "r4nd1", "चूतिया",
    ],
)
def test_profanity_refused(text: str) -> None:
    error = refusal(text)
    assert error.code == "name_refused", text


@pytest.mark.parametrize(
    "text", ["Narendra Modi", "narendra   MODI", "NarendraModi", "Coca-Cola", "c0ca c0la", "PEPSI", "Allah"]
)
def test_admin_terms_refused_as_whole_words(text: str) -> None:
    error = refusal(text, SENSITIVE)
    assert error.code == "name_refused", text
    assert "campaign" in error.user_message


def test_admin_terms_are_per_campaign() -> None:
    assert screen_name("Pepsi") == "Pepsi"
    assert screen_name("Narendra", SENSITIVE) == "Narendra"


def test_messages_never_repeat_the_word() -> None:
    for text, extra in [("fuck", []), ("chutiya", []), ("Coca Cola", SENSITIVE), ("sh1t", [])]:
        message = refusal(text, extra).user_message.casefold()
        for word in ("fuck", "chutiya", "coca", "cola", "shit", "sh1t"):
            assert word not in message
        assert message.startswith("sorry") and "please" in message
