"""Essays graded by rubric: concepts found by Persian and English patterns, with evidence.

A rubric file (``rubric.toml`` in the problem folder) lists the concepts of a
full answer, each with points and patterns. The score is the sum of the
concepts found, capped by the part's points. The machine is never the last
word on an essay: when it is unsure it says ``needs_review``.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import math
import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Iterable

from grader.errors import SpecError
from grader.results import Message, Verdict
from grader.text import normalize_text
from grader.toml_files import read_toml

_GAP = r"(?:\W+\w+){0,2}?\W+"  # up to two other words between a pattern's words
_SENTENCE = re.compile(r"[^.!?;\n]+[.!?;\n]?")
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
    def first_words(self) -> PatternIndex:
        """The rubric's patterns by their first word, to skip those an essay cannot match."""
        return PatternIndex.of(p for c in self.concepts for p in (*c.any_of, *(q for g in c.all_of for q in g)))


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
_MAX_GAP = 2

Place = float
"""Where in an essay a match starts, as the number of its sentence (``k + 0.5`` between sentences k and k+1).

The feedback shows the sentence of a concept's leftmost match, so sentences order
matches as finely as needed, and words need not know their character offsets.
"""


class Essay:
    """Normalised essay text, split into sentences and words for pattern matching."""

    def __init__(self, normalised: str) -> None:
        self.text = normalised
        self.words: list[str] = []
        self._sentences: list[re.Match[str]] = []
        self._first_words: list[int] = []  # each sentence's first word, by index into ``words``
        for sentence in _SENTENCE.finditer(normalised):  # no word spans sentences: delimiters are not letters
            self._sentences.append(sentence)
            self._first_words.append(len(self.words))
            self.words += _WORD.findall(sentence.group())
        self.distinct = set(self.words)
        # Every word's positions at once, in C: the positions sorted by their word (a stable sort keeps
        # each word's in order), beside the words sorted; a word's positions are then one slice.
        self._by_word = sorted(range(len(self.words)), key=self.words.__getitem__)
        self.vocabulary = sorted(self.words)
        self._occurrences: dict[tuple[str, bool], list[int]] = {}

    def occurrences(self, word: str, prefix: bool) -> list[int]:
        """Word positions of ``word`` (or of every word starting with it), in order."""
        key = (word, prefix)
        found = self._occurrences.get(key)  # many patterns share a first word: look each up once per essay
        if found is None:
            start = bisect.bisect_left(self.vocabulary, word)
            if prefix:
                end = start + sum(1 for _ in itertools.takewhile(lambda w: w.startswith(word),
                                                                 itertools.islice(self.vocabulary, start, None)))
                found = sorted(self._by_word[start:end])
            else:
                found = self._by_word[start:bisect.bisect_right(self.vocabulary, word, start)]
            self._occurrences[key] = found
        return found

    def word_place(self, index: int) -> Place:
        """The place of the word at ``index``."""
        return bisect.bisect_right(self._first_words, index) - 1

    def words_before(self, place: Place) -> int:
        """How many words lie before ``place``."""
        sentence = math.ceil(place)
        return self._first_words[sentence] if sentence < len(self._first_words) else len(self.words)

    def text_place(self, offset: int) -> Place:
        """The place of a character offset (a regular expression's match)."""
        number = bisect.bisect_right(self._sentences, offset, key=lambda s: s.start()) - 1
        return number if number >= 0 and offset < self._sentences[number].end() else number + 0.5

    def evidence(self, place: Place) -> str:
        """The sentence at ``place``, trimmed to a readable length ("" between sentences)."""
        if place != int(place):
            return ""
        found = self._sentences[int(place)].group().strip()
        return found if len(found) <= _EVIDENCE_CHARS else found[: _EVIDENCE_CHARS - 1] + "…"


@dataclass(frozen=True, eq=False)  # identity hashing: patterns are looked up in sets per essay
class Pattern:
    """A compiled rubric pattern.

    Patterns of plain words are matched on the essay's word index (fast);
    patterns whose words hold other characters (``1/(n*m)``) use the
    equivalent regular expression.
    """

    source: str  # the equivalent regular expression
    words: tuple[tuple[str, bool], ...] | None  # (word or stem, is a prefix), when all are plain words

    @functools.cached_property
    def regex(self) -> re.Pattern[str]:
        """The compiled regular expression (compiled on first use: most patterns never need it)."""
        return re.compile(self.source)

    def find(self, essay: Essay, end: int | None = None) -> Place | None:
        """The place of the leftmost match in the essay, or None; only matches starting before word ``end`` count."""
        if self.words is None:
            match = self.regex.search(essay.text)
            return essay.text_place(match.start()) if match else None
        first, prefix = self.words[0]
        if end is None:
            end = len(essay.words)
        for position in essay.occurrences(first, prefix):
            if position >= end:
                return None
            if self._rest_matches(essay, position, 1):
                return essay.word_place(position)
        return None

    def _rest_matches(self, essay: Essay, position: int, index: int) -> bool:
        if index == len(self.words):
            return True
        word, prefix = self.words[index]
        for following in range(position + 1, min(position + 2 + _MAX_GAP, len(essay.words))):
            candidate = essay.words[following]
            if (candidate.startswith(word) if prefix else candidate == word) and \
                    self._rest_matches(essay, following, index + 1):
                return True
        return False

    def search(self, text: str) -> Place | None:
        """The place of the leftmost match in normalised text (convenience for single checks)."""
        return self.find(Essay(text))


@dataclass(frozen=True)
class PatternIndex:
    """Patterns by first word (exact or stem); regex-only patterns are always candidates."""

    exact: dict[str, tuple[Pattern, ...]]
    stems: dict[str, tuple[Pattern, ...]]
    always: tuple[Pattern, ...]

    @staticmethod
    def of(patterns: Iterable[Pattern]) -> PatternIndex:
        """Index patterns by their first word."""
        exact: dict[str, list[Pattern]] = {}
        stems: dict[str, list[Pattern]] = {}
        always: list[Pattern] = []
        for pattern in patterns:
            if pattern.words is None:
                always.append(pattern)
            else:
                word, prefix = pattern.words[0]
                (stems if prefix else exact).setdefault(word, []).append(pattern)
        return PatternIndex({k: tuple(v) for k, v in exact.items()}, {k: tuple(v) for k, v in stems.items()},
                            tuple(always))

    def possible(self, essay: Essay) -> set[Pattern]:
        """The patterns whose first word occurs in the essay (the only ones that can match)."""
        found = set(self.always)
        for word in essay.distinct.intersection(self.exact):  # a set operation in C, then the few found
            found.update(self.exact[word])
        vocabulary = essay.vocabulary
        for stem, patterns in self.stems.items():  # a rubric has fewer stems than an essay has words
            index = bisect.bisect_left(vocabulary, stem)
            if index < len(vocabulary) and vocabulary[index].startswith(stem):
                found.update(patterns)
        return found


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
    return Pattern(source, tuple(stems) if plain else None)


def load_rubric(file: Path) -> Rubric:
    """Read and validate a rubric file (cached: solvers and specs read the same file).

    Raises:
        SpecError: Naming the file and key.
    """
    try:
        stamp = file.stat().st_mtime_ns
    except FileNotFoundError:
        raise SpecError(file, "", "rubric file not found") from None
    return _load_rubric(file.resolve(), stamp)


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


def _first_match(patterns: tuple[Pattern, ...], essay: Essay, possible: set[Pattern]) -> Place | None:
    """The place of the leftmost match of any of the patterns (those in ``possible``)."""
    best = None
    end = len(essay.words)
    for pattern in patterns:
        if pattern in possible:
            found = pattern.find(essay, end)  # only a match before the best so far can change it
            if found is not None and (best is None or found < best):
                best = found
                end = essay.words_before(best)
    return best


def find_concepts(rubric: Rubric, essay: Essay) -> tuple[ConceptResult, ...]:
    """Every concept of the rubric, found or not, with the evidence sentence."""
    possible = rubric.first_words.possible(essay)
    results = []
    for concept in rubric.concepts:
        match = _first_match(concept.any_of, essay, possible)
        if match is None and concept.all_of:
            group_matches = [_first_match(group, essay, possible) for group in concept.all_of]
            if all(m is not None for m in group_matches):
                # The last group is the specific point (the first ones set the topic): its sentence is the evidence.
                match = group_matches[-1]
        results.append(ConceptResult(concept, essay.evidence(match) if match is not None else None))
    return tuple(results)


_DIGITS_OR_UNDERSCORES = re.compile(r"[\d_]")
_UNKNOWN_SCRIPT = re.compile(r"[^\x00-\x7f\u0600-\u06ff]+")  # known: Latin or Arabic script


def _known_script_share(words: list[str]) -> Fraction:
    """The share of the letters (word characters but digits and ``_``) that are Latin or Arabic script."""
    # On the words joined, the regular expressions find only the few characters to leave out (in C).
    text = "".join(words)
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
    found_points = sum((r.concept.points for r in results if r.found), Fraction(0))
    credit = min(found_points / points, Fraction(1)) if points else Fraction(0)
    words = len(normalised.split())
    reasons: list[Message] = []
    rules = rubric.review
    if not any(r.found for r in results):
        reasons.append(Message("it matches none of the rubric's concepts", "با هیچ یک از مفاهیم معیار نمره‌دهی مطابقت ندارد"))
    elif rules.band[0] <= credit <= rules.band[1]:
        reasons.append(Message("its score is in the middle band", "نمره آن در میانه است"))
    if words < rules.min_words:
        reasons.append(Message(f"it is very short ({words} words)", f"بسیار کوتاه است ({words} واژه)"))
    if words > rules.max_words:
        reasons.append(Message(f"it is very long ({words} words)", f"بسیار طولانی است ({words} واژه)"))
    if _known_script_share(essay.words) < rules.min_known_script:
        reasons.append(Message("it is mostly in a language other than Persian or English",
                               "بیشتر آن به زبانی جز فارسی یا انگلیسی است"))
    messages = [_concept_line(r) for r in results]
    if reasons:
        messages.append(Message("To be reviewed by the instructor: " + "; ".join(r.en for r in reasons) + ".",
                                "نیازمند بازبینی استاد: " + "؛ ".join(r.fa for r in reasons) + "."))
    diagnosis = None if all(r.found for r in results) else "concepts_missing"
    return Verdict(credit, tuple(messages), diagnosis, review=bool(reasons))


def _concept_line(result: ConceptResult) -> Message:
    concept = result.concept
    if result.found:
        return Message(f"[found] {concept.description.en}: «{result.evidence}»",
                       f"[یافت شد] {concept.description.fa}: «{result.evidence}»")
    return Message(f"[missing] {concept.description.en}.", f"[یافت نشد] {concept.description.fa}.")
