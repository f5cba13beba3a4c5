"""The fast tier's features: hashed word and character n-grams, tf-idf weighted.

Hashing needs no vocabulary, so the model files hold only weights; every head (Italian
and English sentiment, intent) reads the same features, computed once per batch.

The n-grams are hashed with numpy over the whole batch at once, not one string at a
time: a batch's texts become one array of code points, and each n-gram length is one
rolling-hash step over it. Words (and runs of up to 3 symbols, so ":(" and "!!!" count)
give 1- and 2-grams, and a word in the scope of a negation ("non mi piace", "not good")
counts once more, as negated. Characters give 2- to 5-grams inside each word padded
with a space on both sides (as scikit-learn's ``char_wb``). Each half has ``2**19``
columns, so that few n-grams share one.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from dialoga.understand.text import model_text

_WORD_BITS = 19
_CHAR_BITS = 19
WORD_FEATURES = 2**_WORD_BITS
CHAR_FEATURES = 2**_CHAR_BITS
FEATURES = WORD_FEATURES + CHAR_FEATURES
CHAR_LENGTHS = range(2, 6)

# A word (hashtags and the _url_/_user_ tokens kept whole) or a run of up to 3 symbols.
_WORD_OR_SYMBOLS = re.compile(r"(?u)[#_]?\w+|[^\w\s]{1,3}")
# Negation words of the supported languages; "t" is what the tokens of "don't" end in.
NEGATIONS = frozenset(
    {
        "non",
        "mai",
        "nessuno",
        "nessuna",
        "niente",
        "nulla",
        "né",
        "senza",
        "not",
        "no",
        "never",
        "nothing",
        "nobody",
        "none",
        "nor",
        "cannot",
        "t",
        "without",
        "nunca",
        "nada",
        "sin",
        "ni",
        "pas",
        "jamais",
        "rien",
        "sans",
        "nicht",
        "kein",
        "keine",
        "nie",
        "não",
        "niet",
        "geen",
        "nooit",
    }
)
_NEGATED = np.uint64(0x9E3779B97F4A7C15)  # the mark that sets a negated word apart
_SPACE = ord(" ")
_MULTIPLIER = np.uint64(0x100000001B3)  # the FNV prime: spreads one step of the roll
_MIX_SHIFTS = (np.uint64(30), np.uint64(27), np.uint64(31))
_MIX_FACTORS = (np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB))

Entries = tuple[list[np.ndarray], list[np.ndarray]]  # row and column arrays


def counts(texts: Sequence[str]) -> sp.csr_matrix:
    """Raw n-gram counts of ``texts``, one row each (word columns, then character ones)."""
    prepared = [model_text(text) for text in texts]
    word_rows, word_columns = word_ngrams(prepared)
    char_rows, char_columns = char_ngrams(prepared)
    rows = np.concatenate(word_rows + char_rows)
    columns = np.concatenate(word_columns + char_columns)
    ones = np.ones(len(rows), dtype=np.float32)
    # built from (row, column) pairs, a matrix sums the duplicates: the counts
    return sp.csr_matrix((ones, (rows, columns)), shape=(len(texts), FEATURES))


def word_ngrams(texts: Sequence[str]) -> Entries:
    """(row, column) of each word 1-gram and 2-gram (a token's CRC-32, mixed), and of
    each word in the scope of a negation once more, marked as negated."""
    tokens_of = [_WORD_OR_SYMBOLS.findall(text) for text in texts]
    per_text = np.fromiter(map(len, tokens_of), dtype=np.int64, count=len(texts))
    tokens = [token for tokens in tokens_of for token in tokens]
    codes = np.fromiter(
        map(zlib.crc32, map(str.encode, tokens)), dtype=np.uint64, count=len(tokens)
    )
    rows = np.repeat(np.arange(len(texts)), per_text)
    same_text = rows[1:] == rows[:-1]
    negated = negation_scope(tokens, per_text)
    with np.errstate(over="ignore"):
        unigrams = _mix(codes)
        bigrams = _mix(unigrams[:-1][same_text] * _MULTIPLIER + codes[1:][same_text])
        marked = _mix(codes[negated] ^ _NEGATED)
    columns = [_bucket(hashes, _WORD_BITS) for hashes in (unigrams, bigrams, marked)]
    return [rows, rows[:-1][same_text], rows[negated]], columns


def negation_scope(tokens: Sequence[str], per_text: np.ndarray) -> np.ndarray:
    """Which tokens a negation governs: the words after a negation word ("non", "not",
    the "t" of "n't"...) up to the next punctuation or the end of the text, so "not
    good" does not count as "good" alone."""
    cue = np.fromiter((token in NEGATIONS for token in tokens), dtype=bool, count=len(tokens))
    stop = np.fromiter((not _is_word(token) for token in tokens), dtype=bool, count=len(tokens))
    positions = np.arange(len(tokens))
    starts = np.zeros(len(tokens), dtype=bool)
    starts[(np.cumsum(per_text) - per_text)[per_text > 0]] = True  # each text's first token
    # a text's start is a break just before its first token; punctuation, at itself
    breaks = np.where(starts, positions - 1, np.where(stop, positions, -1))
    last_cue = np.maximum.accumulate(np.where(cue, positions, -1))
    last_break = np.maximum.accumulate(breaks)
    scope: np.ndarray = (last_cue > last_break) & ~cue & ~stop
    return scope


def _is_word(token: str) -> bool:
    return token[-1] == "_" or token[-1].isalnum()


def char_ngrams(texts: Sequence[str]) -> Entries:
    """(row, column) of each character n-gram within a space-padded word.

    Every text becomes ``" w1  w2 "`` (one space each side of each word), all texts one
    array; a window is an n-gram of one word when no space lies strictly inside it (and,
    for 2-grams, when it is not the two spaces between words or texts).
    """
    padded = [" " + "  ".join(words) + " " if (words := text.split()) else "" for text in texts]
    lengths = np.fromiter(map(len, padded), dtype=np.int64, count=len(padded))
    points = np.frombuffer("".join(padded).encode("utf-32-le"), dtype=np.uint32)
    points64 = points.astype(np.uint64)
    space = points == _SPACE
    text_of = np.repeat(np.arange(len(texts)), lengths)
    rolling, no_inner_space = points64, np.ones(len(points), dtype=bool)
    rows: list[np.ndarray] = []
    columns: list[np.ndarray] = []
    for n in CHAR_LENGTHS:
        windows = len(points) - n + 1
        if windows <= 0:
            break
        with np.errstate(over="ignore"):
            rolling = rolling[:windows] * _MULTIPLIER + points64[n - 1 : n - 1 + windows]
        if n == 2:
            valid = ~(space[:windows] & space[1 : 1 + windows])
        else:
            no_inner_space = no_inner_space[:windows] & ~space[n - 2 : n - 2 + windows]
            valid = no_inner_space
        starts = np.flatnonzero(valid)
        rows.append(text_of[starts])
        with np.errstate(over="ignore"):
            hashes = _mix(rolling[starts] + np.uint64(n))
        columns.append(_bucket(hashes, _CHAR_BITS) + WORD_FEATURES)
    return rows, columns


def _mix(values: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: every input bit moves every output bit."""
    first, second, third = _MIX_SHIFTS
    values = (values ^ (values >> first)) * _MIX_FACTORS[0]
    values = (values ^ (values >> second)) * _MIX_FACTORS[1]
    mixed: np.ndarray = values ^ (values >> third)
    return mixed


def _bucket(hashes: np.ndarray, bits: int) -> np.ndarray:
    """A hash's column: its top ``bits`` bits."""
    return (hashes >> np.uint64(64 - bits)).astype(np.int64)


def weighted(counts_matrix: sp.csr_matrix, idf: np.ndarray) -> sp.csr_matrix:
    """Sublinear tf times idf, each row scaled to unit length (in place)."""
    matrix = counts_matrix
    np.log(matrix.data, out=matrix.data)
    matrix.data += 1.0
    matrix.data *= idf[matrix.indices]
    per_row = np.diff(matrix.indptr)
    rows = np.repeat(np.arange(matrix.shape[0]), per_row)
    lengths = np.sqrt(np.bincount(rows, weights=matrix.data**2, minlength=matrix.shape[0]))
    lengths[lengths == 0] = 1.0
    matrix.data /= np.repeat(lengths.astype(np.float32), per_row)
    return matrix
