"""Essays graded by rubric: Persian and English, strong > partial > off-topic, evidence, review."""

from __future__ import annotations

import dataclasses
from fractions import Fraction

import pytest

from grader import rubric as rubric_module
from grader.errors import SpecError
from grader.rubric import Essay, Rubric, compile_pattern, find_concepts, grade_essay, load_rubric
from grader.results import Status
from grader.text import normalize_text
from tests.conftest import PROBLEMS, ROOT, SUBMISSIONS
from tests.helpers import grade_path, part, problem_result

ESSAYS = ROOT / "tests" / "data" / "essays"
RUBRICS = {"q1": PROBLEMS / "q1_capsnet" / "rubric.toml", "q2a": PROBLEMS / "q2a_pooling" / "rubric.toml"}


def score(question: str, name: str) -> Fraction:
    """The rubric score (share of 10 points) of one test essay."""
    text = (ESSAYS / name).read_text(encoding="utf-8")
    return grade_essay(load_rubric(RUBRICS[question]), text, Fraction(10)).credit


@pytest.mark.parametrize("question", ["q1", "q2a"])
@pytest.mark.parametrize("lang", ["fa", "en"])
def test_strong_beats_partial_beats_offtopic(question, lang) -> None:
    """In each language a strong essay scores above a partial one, which scores above an off-topic one."""
    strong, partial, offtopic = (score(question, f"{question}_{lang}_{kind}.txt")
                                 for kind in ("strong", "partial", "offtopic"))
    assert strong > partial > offtopic
    assert strong >= Fraction(9, 10) and offtopic == 0


@pytest.mark.parametrize("question", ["q1", "q2a"])
@pytest.mark.parametrize("lang", ["fa", "en"])
def test_model_answers_score_full_without_review(question, lang) -> None:
    """Each rubric's model answer, in both languages, gets full credit and needs no review."""
    rubric = load_rubric(RUBRICS[question])
    verdict = grade_essay(rubric, rubric.model_answer.text(lang), Fraction(10))  # type: ignore[arg-type]
    assert verdict.credit == 1 and not verdict.review


def test_feedback_lists_every_concept_with_evidence() -> None:
    """Found concepts quote the sentence that showed them; missing ones are listed as missing."""
    rubric = load_rubric(RUBRICS["q1"])
    text = (ESSAYS / "q1_en_partial.txt").read_text(encoding="utf-8")
    verdict = grade_essay(rubric, text, Fraction(10))
    lines = [m.en for m in verdict.messages]
    found = [line for line in lines if line.startswith("[found]")]
    missing = [line for line in lines if line.startswith("[missing]")]
    assert found and missing and len(found) + len(missing) == len(rubric.concepts)
    evidence = [line.split("«")[1].rstrip("»").rstrip("…") for line in found]
    assert all(sentence and sentence in normalize_text(text) for sentence in evidence)
    assert all(m.fa for m in verdict.messages)


@pytest.mark.parametrize("text, reason", [
    ("Capsules use dynamic routing.", "very short"),
    ("Это эссе написано по-русски и не о капсулах. " * 20, "language other than Persian or English"),
    ("The weather was pleasant and the market was busy all day long in the old town. " * 6, "none of the rubric"),
], ids=["short", "russian", "off-topic"])
def test_unsure_cases_go_to_review(text, reason) -> None:
    """Very short, foreign-language and matching-nothing essays are sent to review, with the reason."""
    verdict = grade_essay(load_rubric(RUBRICS["q1"]), text, Fraction(10))
    assert verdict.review and reason in verdict.messages[-1].en


def test_seed_writeup_essays_get_most_credit_with_missing_concepts(problems) -> None:
    """The Persian sample write-up gets most of Q1 and Q2a, and the feedback lists what it misses."""
    result = grade_path(SUBMISSIONS / "seed-writeup", problems).submissions[0]
    for question in ("q1", "q2a"):
        graded = part(problem_result_only(result, question), "answer")
        assert graded.score >= Fraction(6), question
        assert any(m.en.startswith("[missing]") for m in graded.feedback), question


def problem_result_only(result, problem_id):
    """A submission result restricted to one problem (for the part helper)."""
    return type(result)(result.student_id, result.source, result.status, (problem_result(result, problem_id),))


def test_every_sample_reports_all_five_problems(problems) -> None:
    """`grade submissions/` gives every sample a result for each of q1, q2a, q2b, q3 and q4."""
    for result in grade_path(SUBMISSIONS, problems).submissions:
        assert [p.problem for p in result.problems] == ["q1", "q2a", "q2b", "q3", "q4"], result.student_id


def test_essay_parts_have_needs_review_status(problems) -> None:
    """An essay the machine is unsure of has status needs_review and keeps its provisional score."""
    result = grade_path(SUBMISSIONS / "seed-writeup", problems).submissions[0]
    graded = part(problem_result_only(result, "q2a"), "answer")
    assert graded.status is Status.NEEDS_REVIEW and graded.score > 0


@pytest.mark.parametrize("pattern, text, hit", [
    ("کپسول*", "شبکه های کپسولی", True),
    ("dynamic routing", "dynamic, iterative routing", True),
    ("dynamic routing", "dynamic programming is used for all of the routing", False),
    ("capsule", "capsules", False),
    ("capsule*", "capsules", True),
])
def test_pattern_language(pattern, text, hit) -> None:
    """A trailing * matches endings, up to two words may intervene, and words match whole."""
    assert (compile_pattern(pattern).search(normalize_text(text)) is not None) is hit
    assert (compile_pattern(pattern).regex.search(normalize_text(text)) is not None) is hit  # the two matchers agree


def test_broken_rubric_names_file_and_key(tmp_path) -> None:
    """A rubric without patterns for a concept is a SpecError naming the file and the concept."""
    rubric = tmp_path / "rubric.toml"
    rubric.write_text('[model_answer]\nen = "x"\nfa = "x"\n[[concepts]]\nid = "a"\npoints = 1\nen = "a"\nfa = "a"\n',
                      encoding="utf-8")
    with pytest.raises(SpecError, match="concepts\\[0\\]"):
        load_rubric(rubric)


def evidence_rubric(tmp_path, patterns: list[str]) -> Rubric:
    """A one-concept rubric whose concept is found by any of ``patterns``."""
    listed = ", ".join(f"'{p}'" for p in patterns)
    file = tmp_path / "rubric.toml"
    file.write_text(f'[model_answer]\nen = "x"\nfa = "x"\n[[concepts]]\nid = "c"\npoints = 1\nen = "c"\nfa = "c"\n'
                    f"any = [{listed}]\n", encoding="utf-8")
    return load_rubric(file)


def test_evidence_is_the_sentence_of_the_leftmost_match(tmp_path) -> None:
    """Of a word pattern found in the third sentence and a symbol pattern in the second, the second is the evidence."""
    rubric = evidence_rubric(tmp_path, ["dynamic routing", "1/(n*m)"])
    text = "Capsules are vectors. Each weight is 1/(n*m) here. Then dynamic routing agrees! Dynamic routing again."
    (found,) = find_concepts(rubric, Essay(normalize_text(text)))
    assert found.evidence == "each weight is 1/(n*m) here."


def test_evidence_of_a_later_word_match_is_its_sentence_trimmed(tmp_path) -> None:
    """A match in a later, long sentence gives that sentence, cut to 200 characters with an ellipsis."""
    rubric = evidence_rubric(tmp_path, ["routing*"])
    long_sentence = "the routings " + "word " * 60
    (found,) = find_concepts(rubric, Essay(normalize_text(f"Nothing here; {long_sentence}. After.")))
    assert found.evidence.startswith("the routings word") and found.evidence.endswith("…")
    assert len(found.evidence) == 200


def test_match_between_sentences_has_empty_evidence(tmp_path) -> None:
    """A symbol pattern that starts on a stray delimiter between sentences is found, with no sentence to show."""
    rubric = evidence_rubric(tmp_path, [".5 pooling"])
    (found,) = find_concepts(rubric, Essay(normalize_text("Some text..5 pooling")))
    assert found.found and found.evidence == ""


def test_word_matcher_finds_what_the_regular_expression_finds() -> None:
    """Every word pattern of the rubrics finds, in every test essay, the sentence its regular expression finds."""
    rubrics = [load_rubric(path) for path in PROBLEMS.glob("*/rubric*.toml")]
    patterns = {p for r in rubrics for c in r.concepts for p in (*c.any_of, *(q for g in c.all_of for q in g))
                if p.words is not None}
    texts = [normalize_text(f.read_text(encoding="utf-8")) for f in sorted(ESSAYS.iterdir())]
    texts += [normalize_text(r.model_answer.en + " " + r.model_answer.fa) for r in rubrics]
    compared = 0
    for text in texts:
        essay = Essay(text)
        for pattern in patterns:
            match = pattern.regex.search(text)
            assert pattern.find(essay) == (essay.text_place(match.start()) if match else None), (pattern.source, text)
            compared += match is not None
    assert len(patterns) > 1000 and compared > 500  # many patterns, hundreds of them found


def test_index_finds_what_each_pattern_finds_alone() -> None:
    """Through the rubric's index, every concept gets the evidence its patterns give when each is tried alone."""
    rubrics = [load_rubric(path) for path in PROBLEMS.glob("*/rubric*.toml")]
    texts = [normalize_text(f.read_text(encoding="utf-8")) for f in sorted(ESSAYS.iterdir())]
    texts += [normalize_text(r.model_answer.en + " " + r.model_answer.fa) for r in rubrics]

    def leftmost(essay: Essay, patterns) -> float | None:
        places = [place for place in (p.find(essay) for p in patterns) if place is not None]
        return min(places) if places else None

    found = 0
    for rubric in rubrics:
        for text in texts:
            expected = []
            for concept in rubric.concepts:
                match = leftmost(Essay(text), concept.any_of)
                groups = [leftmost(Essay(text), group) for group in concept.all_of]
                if match is None and groups and all(g is not None for g in groups):
                    match = groups[-1]
                expected.append(None if match is None else Essay(text).evidence(match))
            assert [r.evidence for r in find_concepts(rubric, Essay(text))] == expected
            found += sum(e is not None for e in expected)
    assert found > 100  # many concepts found, in many essays


def test_index_matches_alike_when_it_forgets_the_words_it_has_seen(monkeypatch) -> None:
    """An index that keeps only a few words' stems (and so forgets them often) finds what a fresh index finds."""
    rubrics = [load_rubric(path) for path in PROBLEMS.glob("*/rubric*.toml")]
    texts = [normalize_text(f.read_text(encoding="utf-8")) for f in sorted(ESSAYS.iterdir())]
    expected = {(r.file, text): find_concepts(dataclasses.replace(r), Essay(text)) for r in rubrics for text in texts}
    monkeypatch.setattr(rubric_module, "_MAX_WORDS_KEPT", 5)
    forgetful = [dataclasses.replace(r) for r in rubrics]  # copies: their indexes are made afresh
    for _ in range(2):  # the second time round, every word was seen (then forgotten) before
        for rubric in forgetful:
            for text in texts:
                assert find_concepts(rubric, Essay(text)) == expected[(rubric.file, text)]
                assert len(rubric.index._keys_of) <= 5 + len(Essay(text).distinct)
    assert any(result.found for results in expected.values() for result in results)


def test_essay_words_and_sentences_are_the_regular_expressions() -> None:
    """An essay's words, sentences and evidence are those the regular expressions find, for 3,000 random texts."""
    import random
    import re

    sentence_expression, word_expression = re.compile(r"[^.!?;\n]+[.!?;\n]?"), re.compile(r"\w+")
    pieces = ["capsule", "کپسول", "پ", "Это", "胶囊", "😀", "…", "—", "–", "×", "’", "“", "•", "12", "۱۲", "_", " ",
              ".", "..", "!", "?", ";", "\n", ",", "(", "-", "«»", "é", "\u0301", "\u0610", "\u00a0", "\u2028",
              "\x1f", "\ud800", "\u200c", "\u060c"]
    chooser = random.Random(20261127)
    for _ in range(3000):
        text = "".join(chooser.choices(pieces, k=chooser.randrange(16)))
        essay = Essay(text)
        sentences = list(sentence_expression.finditer(text))
        assert essay.words == [w for s in sentences for w in word_expression.findall(s.group())], repr(text)
        assert [essay.word_place(i) for i in range(len(essay.words))] == \
            [number for number, s in enumerate(sentences) for _ in word_expression.findall(s.group())], repr(text)
        assert [essay.evidence(number) for number in range(len(sentences))] == \
            [s.group().strip()[:200] for s in sentences], repr(text)
        for offset in range(len(text) + 1):
            inside = [n for n, s in enumerate(sentences) if s.start() <= offset < s.end()]
            before = sum(s.start() <= offset for s in sentences) - 1
            assert essay.text_place(offset) == (inside[0] if inside else before + 0.5), repr(text)


def test_known_script_share_is_that_of_the_words_letters() -> None:
    """The share of Latin or Arabic letters is that counted over the essay's words, for 3,000 random mixed texts."""
    import random

    def counted(words: list[str]) -> Fraction:  # the definition, letter by letter
        letters = [c for word in words for c in word if not (c.isdecimal() or c == "_")]
        known = [c for c in letters if c <= "\x7f" or "\u0600" <= c <= "\u06ff"]
        return Fraction(len(known), len(letters)) if letters else Fraction(0)

    pieces = ["capsule", "کپسول", "Это", "胶囊", "😀", "…", "—", "×", "12", "۱۲", "_", " ", ".", "«»", "é", "\u0301"]
    chooser = random.Random(20261127)
    for _ in range(3000):
        essay = Essay(normalize_text("".join(chooser.choices(pieces, k=chooser.randrange(12)))))
        assert rubric_module._known_script_share(essay) == counted(essay.words)
