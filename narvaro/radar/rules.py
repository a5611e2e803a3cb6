"""The rules that classify an inbound item before the organisation has taught a model.

Four categories: a **question** wants an answer; **critique** complains or accuses; **praise**
thanks or commends; **other** is everything else (a greeting, a share, a remark). The rules
look for a question mark, a question's first word (Swedish asks by putting the verb or an
interrogative first: "Får man ...", "När öppnar ..."), phrases that ask ("undrar", "does
anyone know"), and words of critique and praise, with negation turning praise into critique
("inte bra", "not good"). The word lists were drawn up against real citizens' questions (the
SweFAQ set) and the kind of replies a municipality's accounts get.

The rules also give the model its starting point: their verdict is one of the model's
features (see `learning`), so the model only has to learn where the organisation differs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from narvaro.radar.text import Lexicon, Token, tokens

QUESTION, CRITIQUE, PRAISE, OTHER = "question", "critique", "praise", "other"
CATEGORIES = (QUESTION, CRITIQUE, PRAISE, OTHER)

# First words that make a question (after greetings and handles).
_INTERROGATIVES_SV = frozenset(
    ("när", "var", "vart", "varifrån", "hur", "varför", "vad", "vilken", "vilket", "vilka",
     "vem", "vems", "kan", "får", "finns", "måste", "behöver", "ska", "skall", "är", "går",
     "gäller", "har", "blir", "kommer", "stämmer", "borde", "bör", "kunde", "skulle", "vet",
     "brukar", "hinner")
)  # fmt: skip
_INTERROGATIVES_EN = frozenset(
    ("who", "whom", "whose", "what", "when", "where", "why", "how", "which", "can", "could",
     "is", "are", "am", "do", "does", "did", "will", "would", "should", "may", "might", "has",
     "have", "shall", "was", "were")
)  # fmt: skip
_GREETINGS = frozenset(
    ("hej", "hejsan", "hallå", "tjena", "tja", "morsning", "god", "goddag", "morgon", "kväll",
     "hello", "hi", "hey", "dear", "ursäkta", "excuse", "sorry", "förlåt")
)  # fmt: skip
_EXCLAIMING = frozenset(("vilken", "vilket", "vilka", "what"))
# Question words (as opposed to a verb put first, which also asks in Swedish and English).
_QUESTION_WORDS = frozenset(
    ("när", "var", "vart", "varifrån", "hur", "varför", "vad", "vilken", "vilket", "vilka",
     "vem", "vems", "who", "whom", "whose", "what", "when", "where", "why", "how", "which")
)  # fmt: skip
_NEGATIONS_SV = frozenset(("inte", "ej", "aldrig", "ingen", "inga", "inget", "knappast"))
_NEGATIONS_EN = frozenset(
    ("not", "no", "never", "hardly", "don't", "doesn't", "isn't", "wasn't", "aren't", "can't")
)

_ASKING = Lexicon.of(
    sv=["undrar", "fundera", "fråga", "någon som vet", "vet någon", "hur gör man",
        "vart vänder man sig", "vill veta", "skulle vilja veta", "kan någon", "tips"],
    en=["wonder", "wondering", "question", "anyone know", "does anybody know",
        "could you tell", "please advise", "i'd like to know", "would like to know"],
)  # fmt: skip

CRITIQUE_WORDS = Lexicon.of(
    sv=["dålig", "sämst", "sämre", "usel", "värdelös", "skandal", "skam", "skäms", "pinsam",
        "oacceptabel", "bedrövlig", "katastrof", "inkompetent", "slöseri", "slösa",
        "missnöjd", "besviken", "besvikelse", "arg", "förbannad", "irriterad", "upprörd",
        "klaga", "klagomål", "kritik", "trasig", "sönder", "livsfarlig", "farlig", "ohållbar",
        "oförskämd", "otrevlig", "respektlös", "struntar", "ignorerar", "bryr er inte",
        "fortfarande inte", "ännu inte", "hur svårt kan det vara", "patetisk", "löjlig",
        "fiasko", "haveri", "skräp", "äcklig", "smutsig", "nedskräpad", "kaos", "ansvarslös",
        "tjänstefel", "ljuger", "lögn", "mygel", "korrupt", "avgå", "tack för inget",
        "bortslösade", "horribel", "fruktansvärd", "hemsk", "vidrig", "uselt", "dåligt",
        "glömt bort", "skämt", "oseriös", "försämring", "orimlig", "obegriplig", "ilska"],
    en=["bad", "terrible", "awful", "horrible", "worst", "worse", "disgrace", "shame",
        "shameful", "embarrassing", "unacceptable", "appalling", "disappointed",
        "disappointing", "angry", "furious", "annoyed", "complaint", "complain", "useless",
        "incompetent", "waste", "ridiculous", "pathetic", "broken", "dangerous", "rude",
        "ignoring", "still not", "mess", "chaos", "dirty", "filthy", "liar", "lies", "corrupt",
        "resign", "failure", "failed", "thanks for nothing", "outrageous", "joke", "unfair",
        "fed up", "sick of"],
)  # fmt: skip

PRAISE_WORDS = Lexicon.of(
    sv=["tack", "tacksam", "bra", "jättebra", "toppen", "kanon", "grym", "fantastisk",
        "underbar", "härlig", "fint", "fin", "snygg", "utmärkt", "strålande", "imponerande",
        "gillar", "älskar", "uppskattar", "beröm", "proffsig", "trevlig", "hjälpsam", "smidig",
        "super", "bäst", "bravo", "bra jobbat", "väl gjort", "eloge", "glad",
        "vackert", "mysig", "roligt", "kul"],
    en=["thanks", "thank", "thx", "great", "awesome", "wonderful", "excellent", "amazing",
        "brilliant", "love", "lovely", "nice", "good job", "well done", "helpful",
        "appreciate", "fantastic", "kudos", "bravo", "best", "good", "beautiful", "happy"],
)  # fmt: skip

_CRITIQUE_EMOJI = frozenset("😡🤬👎😠🙄🤦😤💩")
_PRAISE_EMOJI = frozenset("❤👏👍🙏😍🥰💚💙💛🌟⭐😊🙌🎉")


@dataclass(frozen=True)
class Verdict:
    """What the rules say about a text, and why (shown as "why it was classified so")."""

    category: str
    rule: str  # question_mark, interrogative, asking, critique, negated_praise, praise, none
    words: tuple[str, ...] = ()
    # The signals, for the model's rule features.
    signals: dict[str, float] = field(default_factory=dict)


def _first_word(found: list[Token]) -> Token | None:
    for token in found:
        if token.word not in _GREETINGS:
            return token
    return None


def _negated(found: list[Token], index: int) -> bool:
    before = found[max(0, index - 2) : index]
    return any(t.word in _NEGATIONS_SV or t.word in _NEGATIONS_EN for t in before)


def _polar_hits(found: list[Token]) -> tuple[list[str], list[str], list[str]]:
    """Critique words, praise words, and praise words negated ("inte bra")."""
    critique = CRITIQUE_WORDS.find(found)
    # "Tack för inget" is critique, not thanks: praise inside a critique phrase is not praise.
    in_critique = {word for hit in critique for word in hit.split(" ")[1:]} | {
        hit.split(" ")[0] for hit in critique if " " in hit
    }
    praise_all = [hit for hit in PRAISE_WORDS.find(found) if hit not in in_critique]
    negated: list[str] = []
    praise: list[str] = []
    for hit in praise_all:
        first = hit.split(" ")[0]
        index = next((i for i, t in enumerate(found) if t.word == first), -1)
        (negated if index >= 0 and _negated(found, index) else praise).append(hit)
    # A critique word that is itself negated ("inte dåligt") counts as neither.
    kept = []
    for hit in critique:
        first = hit.split(" ")[0]
        index = next((i for i, t in enumerate(found) if t.word == first), -1)
        if hit in ("fortfarande inte", "ännu inte", "still not") or not (
            index >= 0 and _negated(found, index)
        ):
            kept.append(hit)
    return kept, praise, negated


_SENTENCE_END = re.compile(r"[.!\n]+")


def _later_question_word(text: str) -> str:
    """A question word opening a later sentence ("Tack! När öppnar ni"), or ""."""
    for sentence in _SENTENCE_END.split(text)[1:]:
        first = _first_word(tokens(sentence))
        if first is not None and first.word in _QUESTION_WORDS and first.word not in _EXCLAIMING:
            return first.word
    return ""


def _polar_near_start(found: list[Token], hits: list[str]) -> bool:
    """Whether a word of critique or praise is among the first three words."""
    opening = {token.word for token in found[:3]}
    return any(hit.split(" ")[0] in opening for hit in hits)


def classify(text: str) -> Verdict:
    """The rules' category for `text`, with the rule that decided it."""
    found = tokens(text)
    critique, praise, negated = _polar_hits(found)
    critique_emoji = [c for c in text if c in _CRITIQUE_EMOJI]
    praise_emoji = [c for c in text if c in _PRAISE_EMOJI]
    first = _first_word(found)
    interrogative = first is not None and (
        first.word in _INTERROGATIVES_SV or first.word in _INTERROGATIVES_EN
    )
    # "Vilken skandal!" and "Vilken fin park" exclaim: without a question mark, "vilken"
    # followed closely by a word of critique or praise asks nothing ("Vilka krav finns" asks).
    if (
        first is not None
        and first.word in _EXCLAIMING
        and "?" not in text
        and ("!" in text or _polar_near_start(found, critique + praise + negated))
    ):
        interrogative = False
    asking = _ASKING.find(found)
    question_mark = "?" in text
    c = len(critique) + len(negated) + len(critique_emoji) + text.count("!!!") * 0.5
    p = len(praise) + len(praise_emoji)
    why = first is not None and first.word in ("varför", "why")
    signals = {
        "question_mark": float(question_mark),
        "interrogative": float(interrogative),
        "asking": float(bool(asking)),
        "critique": float(c),
        "praise": float(p),
        "negated_praise": float(len(negated)),
    }

    def verdict(category: str, rule: str, hit: list[str]) -> Verdict:
        return Verdict(category, rule, tuple(hit), signals)

    # Critique outweighs a question when it is strong or the question is a "why" reproach
    # ("Varför är snöröjningen så usel?"): the radar must count it as critique.
    if c > p and (c >= 2 or why or not (question_mark or interrogative or asking)):
        if negated and not critique:
            return verdict(CRITIQUE, "negated_praise", negated)
        return verdict(CRITIQUE, "critique", critique + negated + critique_emoji)
    if question_mark:
        return verdict(QUESTION, "question_mark", ["?"])
    # A question word first asks even without a question mark ("Hur kan vi veta om den har
    # bra kvalitet"); a verb first ("Har", "Är") is weaker than praise ("Har varit på
    # biblioteket idag, toppen!").
    if interrogative and first is not None and first.word in _QUESTION_WORDS:
        return verdict(QUESTION, "interrogative", [first.word])
    asked = _later_question_word(text)
    if asked:  # "Tack! När öppnar ni"
        return verdict(QUESTION, "interrogative", [asked])
    if p > c:
        return verdict(PRAISE, "praise", praise + praise_emoji)
    if interrogative and first is not None:
        return verdict(QUESTION, "interrogative", [first.word])
    if asking:
        return verdict(QUESTION, "asking", asking)
    if c > 0:
        return verdict(CRITIQUE, "critique", critique + negated + critique_emoji)
    return verdict(OTHER, "none", [])
