"""Is the name still understandable? pocketsphinx (en-US model inside its wheel) on a spoken line.

Two readings of "Happy Diwali, NAME!":
- `pick`: a grammar "[happy] [diwali] <name>" over the test names plus distractors that share sounds
  with them (rob/bob, ahmed/mohammed, nina/anna, peter/paul...); right when the chosen name is the one
  said. Forced choice, so it is generous: chance is 1 in len(NAMES).
- `per`: phone error rate of an all-phone decode (en-us phone bigram, no words) against the line's
  dictionary phones: Levenshtein distance / reference length. Higher is worse; Piper's own line
  typically reads 0.3-0.5 (pocketsphinx's phone decoder is crude), so compare columns, not with 0.

Hindi names said by espeak-ng are scored against English spellings of them (priya, rahul): the model
is English, so this only says whether the sounds survived, roughly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evals.speaker_judge import resample

EXTRA_WORDS = {"priya": "P R IY Y AH", "pooja": "P UW JH AH"}
DISTRACTORS = ("maria", "rob", "ahmed", "arnold", "peter", "paul", "nina", "omar", "robert", "michael",
               "anna", "mark")
SPOKEN = {"प्रिया": "priya", "राहुल": "rahul", "अनन्या": "ananya"}
PREFIX = "happy diwali"


def spoken_form(name: str) -> str:
    return SPOKEN.get(name, name).lower()


@dataclass
class Reading:
    heard: str
    right: bool
    per: float


class Listener:
    def __init__(self, names: list[str]) -> None:
        from pocketsphinx import Decoder

        self.decoder = Decoder(lm=None, samprate=16000, loglevel="FATAL")
        for word, phones in EXTRA_WORDS.items():
            if self.decoder.lookup_word(word) is None:
                self.decoder.add_word(word, phones, True)
        choices = list(dict.fromkeys([spoken_form(n) for n in names] + list(DISTRACTORS)))
        for choice in choices:
            for word in choice.split():
                if self.decoder.lookup_word(word) is None:
                    raise ValueError(f"no pronunciation for {word!r}: add it to EXTRA_WORDS")
        grammar = ("#JSGF V1.0;\ngrammar names;\npublic <line> = [happy] [diwali] <name>;\n<name> = "
                   + " | ".join(choices) + ";\n")
        self.decoder.add_jsgf_string("names", grammar)
        from pocketsphinx import get_model_path

        self.decoder.add_allphone_file("phones", get_model_path("en-us/en-us-phone.lm.bin"))

    def phones(self, text: str) -> list[str]:
        out: list[str] = []
        for word in text.split():
            out += (self.decoder.lookup_word(word) or "").split()
        return out

    def _decode(self, search: str, pcm: bytes) -> str:
        self.decoder.activate_search(search)
        self.decoder.start_utt()
        self.decoder.process_raw(pcm, full_utt=True)
        self.decoder.end_utt()
        hyp = self.decoder.hyp()
        return hyp.hypstr if hyp is not None else ""

    def read(self, samples: np.ndarray, sr: int, name: str) -> Reading:
        x = resample(samples, sr, 16000)
        peak = float(np.max(np.abs(x))) if x.size else 0.0
        x = x * (0.9 / peak) if peak > 0 else x
        pcm = (np.clip(x, -1, 1) * 32767).astype("<i2").tobytes()
        said = spoken_form(name)
        heard = self._decode("names", pcm)
        right = heard.split()[-len(said.split()):] == said.split() if heard else False
        decoded = [p for p in self._decode("phones", pcm).split() if p not in ("SIL", "+NSN+", "+SPN+")]
        expected = self.phones(f"{PREFIX} {said}")
        return Reading(heard, right, edit_distance(decoded, expected) / max(len(expected), 1))


def edit_distance(a: list[str], b: list[str]) -> int:
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (x != y))
    return row[-1]
