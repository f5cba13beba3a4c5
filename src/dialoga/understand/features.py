"""The fast tier's features: hashed word and character n-grams, tf-idf weighted.

Hashing needs no vocabulary, so the model files hold only weights; every head (Italian
and English sentiment, intent) reads the same features, computed once per batch.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer

from dialoga.understand.text import model_text

WORD_FEATURES = 2**18
CHAR_FEATURES = 2**18
FEATURES = WORD_FEATURES + CHAR_FEATURES

# A word (hashtags and the _url_/_user_ tokens kept whole) or a run of up to 3 symbols,
# so emoticons such as ":(" and "!!!" are features too.
_WORD_OR_SYMBOLS = r"(?u)[#_]?\w+|[^\w\s]{1,3}"
_WORDS = HashingVectorizer(
    n_features=WORD_FEATURES,
    alternate_sign=False,
    norm=None,
    lowercase=False,
    ngram_range=(1, 2),
    token_pattern=_WORD_OR_SYMBOLS,
    dtype=np.float32,
)
_CHARS = HashingVectorizer(
    n_features=CHAR_FEATURES,
    alternate_sign=False,
    norm=None,
    lowercase=False,
    analyzer="char_wb",
    ngram_range=(2, 5),
    dtype=np.float32,
)


def counts(texts: Sequence[str]) -> sp.csr_matrix:
    """Raw n-gram counts of ``texts``, one row each."""
    prepared = [model_text(text) for text in texts]
    return sp.hstack([_WORDS.transform(prepared), _CHARS.transform(prepared)], format="csr")


def weighted(counts_matrix: sp.csr_matrix, idf: np.ndarray) -> sp.csr_matrix:
    """Sublinear tf times idf, each row scaled to unit length (in place)."""
    matrix = counts_matrix
    np.log(matrix.data, out=matrix.data)
    matrix.data += 1.0
    matrix.data *= idf[matrix.indices]
    squares = matrix.multiply(matrix).sum(axis=1).A1
    lengths = np.sqrt(squares, dtype=np.float32)
    lengths[lengths == 0] = 1.0
    matrix.data /= np.repeat(lengths, np.diff(matrix.indptr))
    return matrix
