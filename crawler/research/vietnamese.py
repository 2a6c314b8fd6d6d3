"""Vietnamese text as a reader compares it: without diacritics for search, by word for diffs.

Search is diacritic-insensitive both ways: `quang ninh` finds `Quảng Ninh` and `Quảng Ninh`
finds `quang ninh`. Queries go through `fold`; texts go to SQLite's FTS5 tokenizer
(`unicode61 remove_diacritics 2`, which folds in C, many times faster than Python) as
`searchable` makes them: in NFC (the tokenizer does not join a letter to the marks of an NFD
text) and with `đ` as `d` (a letter of its own, not d with a mark: the tokenizer keeps it).
The two agree on every letter of Vietnamese, which the tests check against SQLite itself.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Combining marks of every block (Vietnamese uses the five tone marks, circumflex, breve, horn).
_MARK = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
_MARKS = re.compile(f"[{_MARK}]")
# Letters that carry their stroke inside them: no decomposition takes it off.
_STROKES = {"đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "ł": "l", "Ł": "L", "ø": "o", "Ø": "O"}
# Words as SQLite's unicode61 tokenizer cuts them: runs of letters and digits (and the
# combining marks of a text in NFD).
WORD = re.compile(f"(?:[^\\W_]|[{_MARK}])+")
# The tone marks, which sit on one vowel of a syllable: old and new spellings put them on
# different vowels (hoà / hòa, thuỷ / thủy) for the same word.
_TONES = frozenset("\u0300\u0301\u0303\u0309\u0323")


def fold(text: str) -> str:
    """Lower case, no diacritics, đ as d, whatever the Unicode form: `Quảng Ninh` → `quang ninh`."""
    return _plain_strokes(_MARKS.sub("", unicodedata.normalize("NFD", text))).lower()


def searchable(text: str) -> str:
    """A text as the search index takes it: NFC, stroked letters as plain ones (the index's
    tokenizer lowers the case and takes the diacritics off)."""
    return _plain_strokes(unicodedata.normalize("NFC", text))


def _plain_strokes(text: str) -> str:
    for letter, plain in _STROKES.items():
        if letter in text:  # str.replace per letter: far faster than str.translate
            text = text.replace(letter, plain)
    return text


@lru_cache(maxsize=4096)  # the same categories, authors and tags, article after article
def key(text: str) -> str:
    """A name as a filter compares it: folded, punctuation and hyphens as spaces
    (`Thời sự`, `thoi su` and the slug `thoi-su` are one key)."""
    return " ".join(WORD.findall(fold(text)))


def words(text: str) -> list[tuple[int, int, str]]:
    """The words of a text as (start, end, folded word), offsets into the text as given."""
    return [(m.start(), m.end(), fold(m.group())) for m in WORD.finditer(text)]


def spelling_key(word: str) -> str:
    """A word as two spellings of it compare: NFC, the tone mark moved to the syllable's end
    (`hoà` and `hòa`, `thuỷ` and `thủy` have one key; `hoa` and `hòa` do not)."""
    decomposed = unicodedata.normalize("NFD", word)
    tones = "".join(ch for ch in decomposed if ch in _TONES)
    bare = "".join(ch for ch in decomposed if ch not in _TONES)
    return unicodedata.normalize("NFC", bare) + tones
