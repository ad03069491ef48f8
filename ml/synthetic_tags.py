"""Generated tagged videos with a planted signal, for tests and benchmarks.

Each tag of a two-level taxonomy ("Тема 3: Подтема 3.1") owns a few made-up words. A
video gets one to three tags (popular tags more often, as in real catalogues) and a title
and description mixing its tags' words with words from a shared noise vocabulary. A model
that learns the words finds the tags; with `shuffle_labels` the tag lists are permuted
across videos, so there is nothing to learn.
"""

from __future__ import annotations

import numpy as np

from ml.dataset import Example

__all__ = ["planted_examples", "planted_taxonomy"]

_SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]


def _words(rng: np.random.Generator, count: int, syllables: int) -> list[str]:
    seen: dict[str, None] = {}
    while len(seen) < count:
        seen.setdefault("".join(rng.choice(_SYLLABLES, size=syllables)), None)
    return list(seen)


def planted_taxonomy(n_tags: int, *, leaves_per_root: int = 4) -> list[str]:
    """`n_tags` leaf paths under ceil(n_tags / leaves_per_root) roots (roots not included)."""
    paths = []
    for i in range(n_tags):
        root = i // leaves_per_root + 1
        paths.append(f"Тема {root}: Подтема {root}.{i % leaves_per_root + 1}")
    return paths


def planted_examples(
    n_videos: int,
    n_tags: int,
    *,
    seed: int = 0,
    leaves_per_root: int = 4,
    words_per_tag: int = 6,
    noise_words: int = 30,
    noise_vocabulary: int = 3000,
    shuffle_labels: bool = False,
) -> tuple[list[Example], list[str]]:
    """(videos, taxonomy paths with the roots first)."""
    rng = np.random.default_rng(seed)
    leaves = planted_taxonomy(n_tags, leaves_per_root=leaves_per_root)
    roots = list(dict.fromkeys(path.split(": ")[0] for path in leaves))
    vocabulary = _words(rng, n_tags * words_per_tag + noise_vocabulary, 3)
    tag_words = [vocabulary[i * words_per_tag : (i + 1) * words_per_tag] for i in range(n_tags)]
    noise = vocabulary[n_tags * words_per_tag :]
    popularity = 1.0 / np.arange(1, n_tags + 1) ** 0.7
    popularity /= popularity.sum()
    tag_lists: list[tuple[str, ...]] = []
    texts: list[tuple[str, str]] = []
    for _ in range(n_videos):
        count = int(rng.choice([1, 2, 3], p=[0.6, 0.3, 0.1]))
        chosen = rng.choice(n_tags, size=min(count, n_tags), replace=False, p=popularity)
        planted = [str(w) for t in chosen for w in rng.choice(tag_words[t], size=3)]
        filler = [str(w) for w in rng.choice(noise, size=noise_words)]
        title_words = [*planted[:2], *filler[:3]]
        description = [*planted[2:], *filler[3:]]
        rng.shuffle(description)
        texts.append((" ".join(title_words), " ".join(description)))
        tag_lists.append(tuple(leaves[t] for t in chosen))
    if shuffle_labels:
        order = rng.permutation(n_videos)
        tag_lists = [tag_lists[i] for i in order]
    examples = [
        Example(video_id=f"v{i:06d}", title=title, description=description, tags=tags)
        for i, ((title, description), tags) in enumerate(zip(texts, tag_lists, strict=True))
    ]
    return examples, [*roots, *leaves]
