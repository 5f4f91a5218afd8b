"""Times all-MiniLM-L6-v2 in PyTorch + transformers on the CPU: sentence embeddings and fine-tuning.

Run through tools/pytorch-baseline, which provides a virtual environment with torch and
transformers. The model is the one tools/setup installs (<data dir>/models/all-MiniLM-L6-v2); the
corpora are read, cleaned and split by Cortado's rules (tools/keras_baseline.py's loaders).

embed     Embeds texts as sentence-transformers' SentenceTransformer.encode does for this model:
          sorted by length, longest first, in batches of 64, at most 256 tokens (the model's
          max_seq_length), mean pooling over the attention mask, L2 normalisation. Reports texts
          per second with that sorting and in file order; the timed span covers tokenizing and the
          model, not loading it. Default input: the 2,113 movie-snippets test texts. With --int8
          the encoder's Linear layers are quantised by torch.ao.quantization.quantize_dynamic (int8
          weights per tensor, activations per batch at run time: PyTorch's own int8 path for BERT),
          and the cosine of each int8 embedding to its float32 one is reported (min and mean).
finetune  Trains what `cortado train --model bert-classifier` trains: the encoder, mean pooling,
          Dropout(0.1) and Linear(classes) with cross-entropy, AdamW (lr 5e-5, weight decay 0.01),
          linear warm-up over 10 % of the steps then linear decay, batch 32, at most 64 tokens,
          padding to the longest text of each batch. `--steps N` times N steps (after 3 untimed
          ones); `--epochs N` trains whole epochs and reports test accuracy after each, measured
          outside the timed span.
"""

import argparse
import json
import os
import random
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from keras_baseline import data_directory, load_corpus  # noqa: E402  (the same corpus rules)

EMBED_BATCH = 64
FINETUNE_BATCH = 32
FINETUNE_MAX_LENGTH = 64


def model_directory():
    path = os.path.join(data_directory(), "models", "all-MiniLM-L6-v2")
    if not os.path.isfile(os.path.join(path, "model.safetensors")):
        sys.exit(f"pytorch-baseline: all-MiniLM-L6-v2 is not at {path}; run tools/setup --no-run")
    return path


def mean_pooled(hidden, mask):
    """sentence-transformers' Pooling(mode='mean'): the average of the unpadded token states."""
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)


def embedding_texts(path, directory):
    """The texts to embed (the lines of `path`, else the movie-snippets test texts) and the model's
    longest token sequence (sentence-transformers' max_seq_length)."""
    if path:
        with open(path, encoding="utf-8") as file:
            texts = [line.rstrip("\n") for line in file if line.strip()]
    else:
        texts = [text for text, _ in load_corpus("movie-snippets")[1]]
    with open(os.path.join(directory, "sentence_bert_config.json")) as file:
        max_length = json.load(file).get("max_seq_length", 256)
    return texts, max_length


def embed(args, torch, transformers, say):
    directory = model_directory()
    texts, max_length = embedding_texts(args.input, directory)
    tokenizer = transformers.AutoTokenizer.from_pretrained(directory)
    model = transformers.AutoModel.from_pretrained(directory).eval()
    floats = model
    if args.int8:
        model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)

    def run(order, model=model):
        embeddings = [None] * len(texts)
        start = time.perf_counter()
        with torch.inference_mode():
            for first in range(0, len(order), EMBED_BATCH):
                batch = order[first:first + EMBED_BATCH]
                encoded = tokenizer([texts[i] for i in batch], padding=True, truncation=True,
                                    max_length=max_length, return_tensors="pt")
                hidden = model(**encoded).last_hidden_state
                pooled = torch.nn.functional.normalize(mean_pooled(hidden, encoded["attention_mask"]), p=2, dim=1)
                for i, row in zip(batch, pooled):
                    embeddings[i] = row
        return time.perf_counter() - start, embeddings

    sorted_order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))  # encode's order
    run(sorted_order[:EMBED_BATCH])  # warm-up
    results = {}
    for name, order in [("sorted", sorted_order), ("file_order", list(range(len(texts))))]:
        seconds, embeddings = run(order)
        results[name] = {"seconds": seconds, "texts_per_sec": len(texts) / seconds}
        say(f"pytorch-baseline: embedded {len(texts)} texts ({name.replace('_', ' ')}) in {seconds:.2f} s: "
            f"{len(texts) / seconds:.1f} per second")
        if name == "sorted" and args.output:
            with open(args.output, "w") as file:
                for row in embeddings:
                    file.write(json.dumps([round(float(x), 7) for x in row]) + "\n")
        if name == "sorted" and args.int8:
            _, reference = run(order, floats)
            cosines = [float(torch.dot(x, y)) for x, y in zip(embeddings, reference)]
            results["cosine_to_float32"] = {"min": min(cosines), "mean": sum(cosines) / len(cosines)}
            say(f"pytorch-baseline: int8 cosine to float32 min {min(cosines):.4f}, mean {sum(cosines) / len(cosines):.4f}")
    return {"mode": "embed", "texts": len(texts), "int8": args.int8, **results}


def finetune(args, torch, transformers, say):
    directory = model_directory()
    train, test, classes = load_corpus(args.corpus)
    tokenizer = transformers.AutoTokenizer.from_pretrained(directory)
    encoder = transformers.AutoModel.from_pretrained(directory)
    hidden = encoder.config.hidden_size
    head = torch.nn.Sequential(torch.nn.Dropout(0.1), torch.nn.Linear(hidden, len(classes)))
    parameters = list(encoder.parameters()) + list(head.parameters())
    optimizer = torch.optim.AdamW(parameters, lr=5e-5, weight_decay=0.01)
    steps_per_epoch = (len(train) + FINETUNE_BATCH - 1) // FINETUNE_BATCH
    epochs = args.epochs or 2
    total_steps = steps_per_epoch * epochs
    schedule = transformers.get_linear_schedule_with_warmup(optimizer, int(0.1 * total_steps), total_steps)
    generator = random.Random(args.seed)

    def encode(samples):
        return tokenizer([text for text, _ in samples], padding=True, truncation=True,
                         max_length=FINETUNE_MAX_LENGTH, return_tensors="pt")

    def step(samples):
        encoded = encode(samples)
        labels = torch.tensor([label for _, label in samples])
        pooled = mean_pooled(encoder(**encoded).last_hidden_state, encoded["attention_mask"])
        loss = torch.nn.functional.cross_entropy(head(pooled), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        return float(loss)

    def accuracy():
        encoder.eval(), head.eval()
        correct = 0
        with torch.inference_mode():
            for first in range(0, len(test), 64):
                batch = test[first:first + 64]
                encoded = encode(batch)
                pooled = mean_pooled(encoder(**encoded).last_hidden_state, encoded["attention_mask"])
                predicted = head(pooled).argmax(1).tolist()
                correct += sum(int(p == label) for p, (_, label) in zip(predicted, batch))
        encoder.train(), head.train()
        return correct / len(test)

    encoder.train(), head.train()
    step_seconds, epoch_rates, accuracies = [], [], []
    if args.epochs:
        for epoch in range(1, args.epochs + 1):
            order = train[:]
            generator.shuffle(order)
            start = time.perf_counter()
            for first in range(0, len(order), FINETUNE_BATCH):
                step(order[first:first + FINETUNE_BATCH])
            seconds = time.perf_counter() - start
            epoch_rates.append(len(order) / seconds)
            accuracies.append(accuracy())
            say(f"pytorch-baseline: epoch {epoch}/{args.epochs}  test accuracy {accuracies[-1]:.4f}  "
                f"{seconds:.1f} s  {epoch_rates[-1]:.1f} samples/s")
        rate = statistics.median(epoch_rates)
    else:
        order = train[:]
        generator.shuffle(order)
        batches = [order[i:i + FINETUNE_BATCH] for i in range(0, len(order), FINETUNE_BATCH)]
        for batch in batches[:3]:
            step(batch)
        timed = batches[3:3 + args.steps]
        start = time.perf_counter()
        for batch in timed:
            begin = time.perf_counter()
            step(batch)
            step_seconds.append(time.perf_counter() - begin)
        seconds = time.perf_counter() - start
        samples = sum(len(batch) for batch in timed)
        rate = samples / seconds
        say(f"pytorch-baseline: {len(timed)} fine-tuning steps on {args.corpus} in {seconds:.1f} s: "
            f"{rate:.1f} samples/s (median step {statistics.median(step_seconds) * 1000:.0f} ms)")
    return {"mode": "finetune", "corpus": args.corpus, "samples_per_sec": rate,
            "epoch_samples_per_sec": epoch_rates, "test_accuracy": accuracies}


def main():
    parser = argparse.ArgumentParser(prog="pytorch-baseline", description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=["embed", "finetune"])
    parser.add_argument("--input", help="embed: one text per line (default: the movie-snippets test texts)")
    parser.add_argument("--output", help="embed: write the embeddings (sorted run, input order) as JSON lines")
    parser.add_argument("--int8", action="store_true", help="embed: quantize_dynamic's int8 Linear layers")
    parser.add_argument("--corpus", choices=["movie-snippets", "sms-spam", "trec"], default="movie-snippets")
    parser.add_argument("--steps", type=int, default=60, help="finetune: timed steps (default 60)")
    parser.add_argument("--epochs", type=int, help="finetune: train whole epochs instead, with test accuracy")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="torch threads (default: every core)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print one JSON line on stdout (progress on stderr)")
    args = parser.parse_args()
    if args.steps < 1 or args.threads < 1 or (args.epochs is not None and args.epochs < 1):
        parser.error("--steps, --epochs and --threads must be at least 1")
    log = sys.stderr if args.json else sys.stdout

    def say(message):
        print(message, file=log, flush=True)

    import torch
    import transformers
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    transformers.logging.set_verbosity_error()
    result = (embed if args.mode == "embed" else finetune)(args, torch, transformers, say)
    result.update({"tool": "pytorch-baseline", "torch": torch.__version__, "transformers": transformers.__version__,
                   "threads": args.threads})
    if args.json:
        print(json.dumps(result, sort_keys=True))


if __name__ == "__main__":
    main()
