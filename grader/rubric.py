"""Essays graded by rubric: concepts found by Persian and English patterns, with evidence.

A rubric file (``rubric.toml`` in the problem folder) lists the concepts of a
full answer, each with points and patterns. The score is the sum of the
concepts found, capped by the part's points. The machine is never the last
word on an essay: when it is unsure it says ``needs_review``.
"""

from __future__ import annotations

import bisect
import functools
import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable

from grader.errors import SpecError
from grader.results import Message, Verdict, exact_sum
from grader.text import normalize_text, word_count
from grader.toml_files import read_toml

_GAP = r"(?:\W+\w+){0,2}?\W+"  # up to two other words between a pattern's words
_EVIDENCE_CHARS = 200


@dataclass(frozen=True)
class Concept:
    """One idea a full answer contains.

    Attributes:
        id: Concept id, e.g. ``dynamic_routing``.
        points: Points it earns when found.
        description: What it is, in both languages (shown in feedback).
        any_of: Found when any of these patterns matches ...
        all_of: ... or when every group has a matching pattern.
    """

    id: str
    points: Fraction
    description: Message
    any_of: tuple[Pattern, ...]
    all_of: tuple[tuple[Pattern, ...], ...]

    @functools.cached_property
    def missing(self) -> Message:
        """The feedback line of the concept not found (the same for every essay: made once)."""
        return Message(f"[missing] {self.description.en}.", f"[یافت نشد] {self.description.fa}.")


@dataclass(frozen=True)
class ReviewRules:
    """When the machine hands an essay to a person."""

    min_words: int = 40
    max_words: int = 1500
    band: tuple[Fraction, Fraction] = (Fraction(3, 10), Fraction(3, 4))
    min_known_script: Fraction = Fraction(1, 2)


@dataclass(frozen=True)
class Rubric:
    """The concepts of a full answer, and a model answer for the key."""

    file: Path
    concepts: tuple[Concept, ...]
    model_answer: Message
    review: ReviewRules = ReviewRules()

    @functools.cached_property
    def index(self) -> PatternIndex:
        """The rubric's patterns indexed by a word each needs, to try only those an essay can match."""
        return PatternIndex(self.concepts)

    def credit(self, found: tuple[bool, ...], points: Fraction) -> tuple[Fraction, bool]:
        """The share of ``points`` the concepts ``found`` (one flag each) earn, at most 1, and whether it is in
        the review band.

        Worked out once per set of concepts found (a class has few), as exact fractions are slow.
        """
        key = (found, points.numerator, points.denominator)
        known = self._credits.get(key)
        if known is None:
            if len(self._credits) >= _MAX_CREDITS_KEPT:
                self._credits.clear()
            total = exact_sum(concept.points for concept, flag in zip(self.concepts, found) if flag)
            credit = min(total / points, Fraction(1)) if points else Fraction(0)
            known = self._credits[key] = (credit, self.review.band[0] <= credit <= self.review.band[1])
        return known

    @functools.cached_property
    def _credits(self) -> dict[tuple[tuple[bool, ...], int, int], tuple[Fraction, bool]]:
        """What :meth:`credit` worked out, by the concepts found and the points (as integers: hashed fast)."""
        return {}


_MAX_CREDITS_KEPT = 4096
"""Sets of concepts found whose credit a rubric remembers."""


@dataclass(frozen=True)
class ConceptResult:
    """Whether a concept was found, and the sentence that showed it."""

    concept: Concept
    evidence: str | None

    @property
    def found(self) -> bool:
        """Whether the concept was found."""
        return self.evidence is not None


_WORD = re.compile(r"\w+")
_ASCII_WORD = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
_ASCII_NON_WORD_TO_SPACE = bytes.maketrans(bytes(sorted(set(range(128)) - set(_ASCII_WORD))),
                                           b" " * (128 - len(_ASCII_WORD)))
_TIMES = "×".encode()
_GENERAL_PUNCTUATION = tuple(char.encode() for char in "‐‑‒–—―‘’‚‛“”„‟•…")
"""Dashes, quotation marks, the bullet and the ellipsis: not word characters, and common in essays."""


def _word_text(text: str) -> str:
    """The text with spaces for the characters between words that it commonly holds: ASCII characters but
    letters, digits and ``_``, and a few others (``×``, dashes, quotation marks); each character stays one.

    Parted at whitespace, its parts are the words (``_WORD.findall``) when they hold word characters only
    (:func:`_only_word_characters`). That is half the regular expression's cost, which looks up every
    character's Unicode category: here a byte table (in C) makes the ASCII ones spaces.
    """
    data = text.encode("utf-8", "surrogatepass").translate(_ASCII_NON_WORD_TO_SPACE).replace(_TIMES, b" ")
    if b"\xe2\x80" in data:  # the first two bytes of U+2000 to U+203F
        for char in _GENERAL_PUNCTUATION:
            data = data.replace(char, b" ")
    return data.decode("utf-8", "surrogatepass")


def _only_word_characters(words: list[str]) -> bool:
    """Whether the words hold word characters only (``\\w``: what ``str.isalnum`` accepts, and ``_``)."""
    joined = "".join(words)
    return joined.isascii() or joined.replace("_", "0").isalnum()


_DELIMITERS = ".!?;\n"
"""What ends a sentence. A sentence is a run of other characters and the delimiter after it, if any."""


def _sentence_bounds(text: str) -> tuple[list[int], list[int]]:
    """Where each sentence starts, and where it ends: ``re.finditer(r"[^.!?;\\n]+[.!?;\\n]?", text)``'s
    matches, found with ``str.find`` (in C, and at half the cost)."""
    found: list[int] = []
    for delimiter in _DELIMITERS:
        at = text.find(delimiter)
        while at >= 0:
            found.append(at)
            at = text.find(delimiter, at + 1)
    found.sort()
    starts: list[int] = []
    ends: list[int] = []
    start = 0
    for at in found:
        if at > start:  # a delimiter right after another (or first) ends no sentence
            starts.append(start)
            ends.append(at + 1)
        start = at + 1
    if start < len(text):
        starts.append(start)
        ends.append(len(text))
    return starts, ends


Place = float
"""Where in an essay a match starts, as the number of its sentence (``k + 0.5`` between sentences k and k+1).

The feedback shows the sentence of a concept's leftmost match, so sentences order
matches as finely as needed, and words need not know their character offsets.
"""


class Essay:
    """Normalised essay text, split into sentences and words for pattern matching.

    Words' positions are held as the bits of an integer, so a pattern is
    matched at every position at once, by a few shifts and ands done in C.
    """

    def __init__(self, normalised: str) -> None:
        self.text = normalised
        self._starts, self._ends = _sentence_bounds(normalised)
        spaced = _word_text(normalised)
        self._split(lambda start, end: spaced[start:end].split())
        if not _only_word_characters(self.words):  # another character stood between words: rare
            self._split(lambda start, end: _WORD.findall(normalised, start, end))

    def _split(self, words_between: Callable[[int, int], list[str]]) -> None:
        """Find the words, sentence by sentence (no word spans sentences: delimiters are not word characters)."""
        self.words: list[str] = []
        self._first_words: list[int] = []  # each sentence's first word, by index into ``words``
        for start, end in zip(self._starts, self._ends):
            self._first_words.append(len(self.words))
            self.words += words_between(start, end)

    @functools.cached_property
    def distinct(self) -> set[str]:
        """The essay's distinct words."""
        return set(self.words)

    @functools.cached_property
    def positions(self) -> _Positions:
        """Every word's positions, for patterns matched one at a time (a rubric's index gathers only its words')."""
        return _Positions(self.words, self.distinct)

    def word_place(self, index: int) -> Place:
        """The place of the word at ``index``."""
        return bisect.bisect_right(self._first_words, index) - 1

    def text_place(self, offset: int) -> Place:
        """The place of a character offset (a regular expression's match)."""
        number = bisect.bisect_right(self._starts, offset) - 1
        return number if number >= 0 and offset < self._ends[number] else number + 0.5

    def evidence(self, place: Place) -> str:
        """The sentence at ``place``, trimmed to a readable length ("" between sentences)."""
        if place != int(place):
            return ""
        number = int(place)
        found = self.text[self._starts[number]:self._ends[number]].strip()
        return found if len(found) <= _EVIDENCE_CHARS else found[: _EVIDENCE_CHARS - 1] + "…"


class _Positions(dict[str, int]):
    """Word positions as the set bits of an integer, by word, or by stem and ``*`` for the words it begins.

    Stems and absent words are looked up on first use, then kept: many patterns share them.
    """

    def __init__(self, words: list[str], distinct: set[str]) -> None:
        positions = dict.fromkeys(distinct, 0)  # filled as a plain dict: a subclass's item access is slower
        bit = 1
        for word in words:
            positions[word] |= bit
            bit <<= 1
        super().__init__(positions)
        self._distinct = distinct

    @functools.cached_property
    def _vocabulary(self) -> list[str]:
        """The distinct words, sorted: the words a stem begins are then one run."""
        return sorted(self._distinct)

    def __missing__(self, key: str) -> int:
        found = 0
        if key.endswith("*"):
            stem = key[:-1]
            vocabulary = self._vocabulary
            for index in range(bisect.bisect_left(vocabulary, stem), len(vocabulary)):
                if not vocabulary[index].startswith(stem):
                    break
                found |= self[vocabulary[index]]
        self[key] = found
        return found


def _key(word: str, prefix: bool) -> str:
    """A pattern word's key in :class:`_Positions`: the word, or the stem followed by ``*`` (never in a word)."""
    return word + "*" if prefix else word


def _lowest(bits: int) -> int:
    """The index of the lowest set bit (``bits`` is not 0)."""
    return (bits & -bits).bit_length() - 1


WordKeys = tuple[str, tuple[str, ...]]
"""A word pattern as keys of :class:`_Positions`: its last word's, then the others' from the last but one back."""


def _starts(positions: dict[str, int], patterns: tuple[WordKeys, ...]) -> int:
    """Where any of the word patterns' matches start, as bits, given their words' positions."""
    union = 0
    for last, others in patterns:
        starts = positions[last]
        for key in others:  # from the last word back: where the rest of the pattern starts
            if not starts:
                break
            # The word, then the rest 1 to 3 positions on: up to two other words between, as in _GAP.
            after = starts >> 1
            starts = positions[key] & (after | after >> 1 | after >> 2)
        union |= starts
    return union


@dataclass(frozen=True)
class Pattern:
    """A compiled rubric pattern.

    Patterns of plain words are matched on the essay's word positions (fast);
    patterns whose words hold other characters (``1/(n*m)``) use the
    equivalent regular expression.
    """

    source: str  # the equivalent regular expression
    words: tuple[tuple[str, bool], ...] | None  # (word or stem, is a prefix), when all are plain words
    literal: str  # text every match contains

    @functools.cached_property
    def regex(self) -> re.Pattern[str]:
        """The compiled regular expression (compiled on first use: most patterns never need it)."""
        return re.compile(self.source)

    @functools.cached_property
    def keys(self) -> WordKeys:
        """The words as keys of :class:`_Positions` (a stem with its ``*``): the last, then the others backwards."""
        assert self.words is not None, "a pattern of other characters is matched by its regular expression"
        last, *others = (_key(word, prefix) for word, prefix in reversed(self.words))
        return last, tuple(others)

    def starts(self, essay: Essay) -> int:
        """The word positions where a match of this word pattern starts, as the set bits of an integer."""
        return _starts(essay.positions, (self.keys,))

    def find(self, essay: Essay) -> Place | None:
        """The place of the leftmost match in the essay, or None."""
        if self.words is None:
            match = self.regex.search(essay.text)
            return essay.text_place(match.start()) if match else None
        starts = self.starts(essay)
        return essay.word_place(_lowest(starts)) if starts else None

    def search(self, text: str) -> Place | None:
        """The place of the leftmost match in normalised text (convenience for single checks)."""
        return self.find(Essay(text))


@functools.lru_cache(maxsize=1024)  # solvers match their own patterns per answer: each is compiled once
def compile_pattern(pattern: str) -> Pattern:
    """A rubric pattern over normalised text.

    Words are separated by spaces; a trailing ``*`` matches any ending; up to
    two other words may stand between consecutive words.
    """
    words = normalize_text(pattern).split()
    if not words:
        raise ValueError("empty pattern")
    parts = [re.escape(w[:-1]) + r"\w*" if w.endswith("*") else re.escape(w) for w in words]
    source = r"(?<!\w)" + _GAP.join(parts) + r"(?!\w)"  # escaped words: always a valid expression
    stems = [(w[:-1], True) if w.endswith("*") else (w, False) for w in words]
    plain = all(stem and _WORD.fullmatch(stem) for stem, _ in stems)
    return Pattern(source, tuple(stems) if plain else None, max((stem for stem, _ in stems), key=len))


def load_rubric(file: Path) -> Rubric:
    """Read and validate a rubric file (cached: solvers and specs read the same file).

    Raises:
        SpecError: Naming the file and key.
    """
    try:
        stamp = file.stat().st_mtime_ns
    except FileNotFoundError:
        raise SpecError(file, "", "rubric file not found") from None
    return _load_rubric(_resolved(file), stamp)


@functools.lru_cache(maxsize=64)  # resolving a path is a system call per component; solvers ask per answer
def _resolved(file: Path) -> Path:
    """The absolute path of a rubric file, links resolved (the key its parsed rubric is kept under)."""
    return file.resolve()


@functools.lru_cache(maxsize=64)
def _load_rubric(file: Path, stamp: int) -> Rubric:
    """Parse a rubric file; ``stamp`` (its modification time) makes an edited file load again."""
    data = read_toml(file, "rubric file not found")
    model = data.get("model_answer")
    if not (isinstance(model, dict) and isinstance(model.get("en"), str) and isinstance(model.get("fa"), str)):
        raise SpecError(file, "model_answer", "needs en and fa texts")
    raw_concepts = data.get("concepts")
    if not isinstance(raw_concepts, list) or not raw_concepts:
        raise SpecError(file, "concepts", "must list at least one concept")
    concepts = tuple(_concept(file, index, raw) for index, raw in enumerate(raw_concepts))
    if len({c.id for c in concepts}) != len(concepts):
        raise SpecError(file, "concepts", "concept ids must be unique")
    review = data.get("review", {})
    if not isinstance(review, dict):
        raise SpecError(file, "review", "expected a table")
    try:
        rules = ReviewRules(
            min_words=int(review.get("min_words", ReviewRules.min_words)),
            max_words=int(review.get("max_words", ReviewRules.max_words)),
            band=tuple(Fraction(str(v)) for v in review.get("band", ["0.3", "0.75"])),  # type: ignore[arg-type]
        )
    except (TypeError, ValueError):
        raise SpecError(file, "review", "min_words/max_words must be integers and band two numbers") from None
    return Rubric(file, concepts, Message(model["en"].strip(), model["fa"].strip()), rules)


def _concept(file: Path, index: int, raw: Any) -> Concept:
    where = f"concepts[{index}]"
    if not isinstance(raw, dict):
        raise SpecError(file, where, "expected a table")
    for key, kind in (("id", str), ("en", str), ("fa", str)):
        if not isinstance(raw.get(key), kind):
            raise SpecError(file, f"{where}.{key}", "is required (a string)")
    try:
        points = Fraction(str(raw.get("points")))
    except ValueError:
        raise SpecError(file, f"{where}.points", f"expected a number, got {raw.get('points')!r}") from None
    if points <= 0:
        raise SpecError(file, f"{where}.points", "must be positive")

    def patterns(value: Any, key: str) -> tuple[Pattern, ...]:
        if not isinstance(value, list) or not all(isinstance(p, str) and p.strip() for p in value):
            raise SpecError(file, f"{where}.{key}", "expected a list of non-empty pattern strings")
        return tuple(compile_pattern(p) for p in value)

    any_of = patterns(raw["any"], "any") if "any" in raw else ()
    groups = raw.get("all", [])
    if not isinstance(groups, list):
        raise SpecError(file, f"{where}.all", "expected a list of pattern lists")
    all_of = tuple(patterns(group, f"all[{i}]") for i, group in enumerate(groups))
    if not any_of and not all_of:
        raise SpecError(file, where, "needs 'any' or 'all' patterns")
    return Concept(raw["id"], points, Message(raw["en"], raw["fa"]), any_of, all_of)


Slot = int
"""A pattern list of a rubric: a concept's ``any`` patterns or one of its ``all`` groups, numbered in order."""


class PatternIndex:
    """A rubric's patterns by one word each must match, to try only those an essay can match.

    A word pattern is filed under its longest exact word, or its longest stem
    when it has none; a pattern of other characters under its longest word,
    which the essay's text must contain.
    """

    def __init__(self, concepts: tuple[Concept, ...]) -> None:
        by_key: dict[str, dict[Slot, list[WordKeys]]] = {}
        self.by_text: list[tuple[Pattern, Slot]] = []
        self.slots: list[tuple[Slot, tuple[Slot, ...]]] = []  # each concept's any slot and all slots
        words: set[str] = set()
        stems: set[str] = set()
        slot = 0
        for concept in concepts:
            self.slots.append((slot, tuple(range(slot + 1, slot + 1 + len(concept.all_of)))))
            for group in (concept.any_of, *concept.all_of):
                for pattern in group:
                    if pattern.words is None:
                        self.by_text.append((pattern, slot))
                        continue
                    exact = [word for word, prefix in pattern.words if not prefix]
                    words.update(exact)
                    stems.update(word for word, prefix in pattern.words if prefix)
                    key = max(exact, key=len) if exact else _key(max((w for w, _ in pattern.words), key=len), True)
                    by_key.setdefault(key, {}).setdefault(slot, []).append(pattern.keys)
                slot += 1
        self.slot_count = slot
        # The patterns filed under a key, by slot: a slot's are matched together.
        self.by_key = {key: tuple((slot, tuple(keys)) for slot, keys in slots.items()) for key, slots in by_key.items()}
        self._words = frozenset(words)
        self._stems = frozenset(stems)
        # Every key a pattern looks up, absent (0): matching then needs no check for a key's presence.
        self._absent = dict.fromkeys((*sorted(words), *(_key(stem, True) for stem in sorted(stems))), 0)
        # A class shares its words: which of the rubric's keys a word stands for is worked out once.
        self._keys_of: dict[str, tuple[str, ...]] = {}  # every word seen: its keys, () for most words

    def word_starts(self, essay: Essay) -> list[int]:
        """Where each slot's word patterns match in the essay: the union of their starts, as bits.

        The positions of the rubric's words and stems in the essay are gathered
        first (only theirs: most words of an essay are in no pattern); then only
        the patterns filed under a word or stem the essay has are tried.
        """
        keys_of = self._keys_of
        if len(keys_of) >= _MAX_WORDS_KEPT:  # bounded memory: forgotten before this essay's words are looked up
            keys_of.clear()
        found: dict[str, int] = {}  # the essay's keys, with their positions
        for index, word in enumerate(essay.words):
            keys = keys_of.get(word)
            if keys is None:
                keys = self._learn(word)
            if keys:
                bit = 1 << index
                for key in keys:
                    found[key] = found.get(key, 0) | bit
        positions = self._absent | found
        starts = [0] * self.slot_count
        by_key = self.by_key
        for key in found.keys() & by_key.keys():
            for slot, patterns in by_key[key]:
                starts[slot] |= _starts(positions, patterns)  # the leftmost is the union's lowest bit
        return starts

    def text_places(self, essay: Essay) -> list[Place | None]:
        """The leftmost place of each slot's patterns of other characters (None: no match, or no such pattern)."""
        places: list[Place | None] = [None] * self.slot_count
        for pattern, slot in self.by_text:
            found = pattern.find(essay) if pattern.literal in essay.text else None
            if found is not None and (places[slot] is None or found < places[slot]):
                places[slot] = found
        return places

    def _learn(self, word: str) -> tuple[str, ...]:
        """The keys of a word not seen before (kept): itself if a rubric word, and the stems it begins with."""
        stems = self._stems
        keys = tuple(_key(word[:end], True) for end in range(1, len(word) + 1) if word[:end] in stems)
        if word in self._words:
            keys = (word, *keys)
        self._keys_of[word] = keys
        return keys


_MAX_WORDS_KEPT = 100_000
"""Words whose stems a rubric's index remembers (a few MB)."""


def find_concepts(rubric: Rubric, essay: Essay) -> tuple[ConceptResult, ...]:
    """Every concept of the rubric, found or not, with the evidence sentence."""
    index = rubric.index
    starts = index.word_starts(essay)
    places = index.text_places(essay)

    def leftmost(slot: Slot) -> Place | None:
        place = places[slot]
        if starts[slot]:
            found = essay.word_place(_lowest(starts[slot]))
            place = found if place is None else min(place, found)
        return place

    results = []
    for concept, (any_slot, all_slots) in zip(rubric.concepts, index.slots):
        match = leftmost(any_slot)
        if match is None and all_slots and all(starts[slot] or places[slot] is not None for slot in all_slots):
            # The last group is the specific point (the first ones set the topic): its sentence is the evidence.
            match = leftmost(all_slots[-1])
        results.append(ConceptResult(concept, essay.evidence(match) if match is not None else None))
    return tuple(results)


_DIGITS_OR_UNDERSCORES = re.compile(r"[\d_]")
_LETTER = re.compile(r"[^\W\d_]")  # a word character but a digit or "_"
_UNKNOWN_SCRIPT = re.compile(r"[^\x00-\x7f\u0600-\u06ff]+")  # known: Latin or Arabic script
_KNOWN_SCRIPT_BYTES = bytes(range(0xC0)) + bytes(range(0xD8, 0xDC))
"""The UTF-8 bytes of known script: ASCII, continuation bytes, and the first bytes of U+0600 to U+06FF
(any other character leaves its first byte)."""


def _known_script_share(essay: Essay) -> Fraction:
    """The share of the essay's letters (word characters but digits and ``_``) that are Latin or Arabic script."""
    # The usual essay has only known characters, its letters too: deleting the known bytes, in C, leaves none.
    if not essay.text.encode("utf-8", "surrogatepass").translate(None, _KNOWN_SCRIPT_BYTES):
        return Fraction(1) if _LETTER.search(essay.text) else Fraction(0)
    # On the words joined, the regular expressions find only the few characters to leave out (in C).
    text = "".join(essay.words)
    letters = len(text) - len(_DIGITS_OR_UNDERSCORES.findall(text))
    known = _UNKNOWN_SCRIPT.sub("", text)
    known_letters = len(known) - len(_DIGITS_OR_UNDERSCORES.findall(known))
    return Fraction(known_letters, letters) if letters else Fraction(0)


def grade_essay(rubric: Rubric, text: str, points: Fraction) -> Verdict:
    """Score an essay by the rubric; say ``review`` when the machine is unsure.

    The feedback lists every concept, found (with the sentence that showed it)
    or not. The essay goes to review when its score is in the middle band,
    when it is very short or very long, when it is mostly in a language other
    than Persian or English, or when it matches nothing at all.
    """
    normalised = normalize_text(text)
    essay = Essay(normalised)
    results = find_concepts(rubric, essay)
    found = tuple(r.found for r in results)
    credit, in_band = rubric.credit(found, points)
    words = word_count(normalised)
    reasons: list[Message] = []
    rules = rubric.review
    if not any(found):
        reasons.append(Message("it matches none of the rubric's concepts", "با هیچ یک از مفاهیم معیار نمره‌دهی مطابقت ندارد"))
    elif in_band:
        reasons.append(Message("its score is in the middle band", "نمره آن در میانه است"))
    if words < rules.min_words:
        reasons.append(Message(f"it is very short ({words} words)", f"بسیار کوتاه است ({words} واژه)"))
    if words > rules.max_words:
        reasons.append(Message(f"it is very long ({words} words)", f"بسیار طولانی است ({words} واژه)"))
    if _known_script_share(essay) < rules.min_known_script:
        reasons.append(Message("it is mostly in a language other than Persian or English",
                               "بیشتر آن به زبانی جز فارسی یا انگلیسی است"))
    messages = [_concept_line(r) for r in results]
    if reasons:
        messages.append(Message("To be reviewed by the instructor: " + "; ".join(r.en for r in reasons) + ".",
                                "نیازمند بازبینی استاد: " + "؛ ".join(r.fa for r in reasons) + "."))
    diagnosis = None if all(found) else "concepts_missing"
    return Verdict(credit, tuple(messages), diagnosis, review=bool(reasons))


def _concept_line(result: ConceptResult) -> Message:
    concept = result.concept
    if result.found:
        return Message(f"[found] {concept.description.en}: «{result.evidence}»",
                       f"[یافت شد] {concept.description.fa}: «{result.evidence}»")
    return concept.missing
