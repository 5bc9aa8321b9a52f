"""Text: tokenizers (words, byte-pair encoding), bag-of-words and TF-IDF vectors, text data, a tiny BERT.

For example::

    data = text.make_sentiment(1000)  # synthetic sentences with negation and contrast
    tok = text.WordTokenizer.from_texts(data.texts)
    batch = tok(data.texts[:4], padding=True, truncation=True, max_length=16)
    x = text.CountVectorizer(max_features=1000).fit_transform(data.texts)
"""

from .bert import BertClassifier, BertConfig, BertEncoder, BertForMaskedLM, mask_tokens
from .bow import BagOfWordsMLP
from .bpe import BPETokenizer, count_pairs, merge_pair, train_bpe
from .loaders import load_imdb, load_text_csv, read_text
from .sentiment import TextDataset, make_sentiment, make_unlabelled, swap_clauses
from .tokenizer import SPECIAL_TOKENS, Tokenizer, Vocab, WordTokenizer, word_tokenize
from .vectorize import CountVectorizer, TfidfVectorizer

__all__ = [
    "SPECIAL_TOKENS",
    "BPETokenizer",
    "BagOfWordsMLP",
    "BertClassifier",
    "BertConfig",
    "BertEncoder",
    "BertForMaskedLM",
    "CountVectorizer",
    "TextDataset",
    "TfidfVectorizer",
    "Tokenizer",
    "Vocab",
    "WordTokenizer",
    "count_pairs",
    "load_imdb",
    "load_text_csv",
    "make_sentiment",
    "make_unlabelled",
    "mask_tokens",
    "merge_pair",
    "read_text",
    "swap_clauses",
    "train_bpe",
    "word_tokenize",
]
