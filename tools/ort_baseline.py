"""Times all-MiniLM-L6-v2 in ONNX Runtime (float32, or int8 with --int8; CPU) on the texts `cortado embed` is compared on.

Run through tools/ort-baseline, which exports the model with `cortado export --model DIR --onnx`
and provides the test tooling's virtual environment (onnxruntime, tokenizers, numpy: tools/setup).
As tools/pytorch_baseline.py's embed: texts sorted by length, longest first, in batches of 64, at
most 256 tokens, each batch padded to its longest text; the graph mean-pools and L2-normalises
(its `sentence_embedding` output). The timed span covers tokenizing (the Hugging Face fast tokenizer
from the model's tokenizer.json) and the model, not loading them; one untimed batch warms up.
With --int8 the model is first quantised by ONNX Runtime's `quantize_dynamic` (int8 weights per
tensor, or per output channel with --per-channel; activations quantised per tensor at run time):
the int8 peer of `cortado embed --quantize int8`.
Default input: the 2,113 movie-snippets test texts.
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pytorch_baseline import EMBED_BATCH, embedding_texts, model_directory  # noqa: E402  (the same texts)


def main():
    parser = argparse.ArgumentParser(prog="ort-baseline", description=__doc__.split("\n\n")[0])
    parser.add_argument("--onnx", required=True, help="the exported encoder (cortado export --model DIR --onnx FILE)")
    parser.add_argument("--input", help="one text per line (default: the movie-snippets test texts)")
    parser.add_argument("--output", help="write the embeddings (input order) as JSON lines")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="intra-op threads (default: every core)")
    parser.add_argument("--rounds", type=int, default=1, help="timed passes over the texts; the median is reported")
    parser.add_argument("--json", action="store_true", help="print one JSON line on stdout (progress on stderr)")
    parser.add_argument("--int8", action="store_true", help="quantise the model with quantize_dynamic first")
    parser.add_argument("--per-channel", action="store_true", help="with --int8: one weight scale per output channel")
    args = parser.parse_args()
    if args.threads < 1 or args.rounds < 1:
        parser.error("--threads and --rounds must be at least 1")
    if args.per_channel and not args.int8:
        parser.error("--per-channel needs --int8")
    log = sys.stderr if args.json else sys.stdout

    import numpy
    import onnxruntime
    import tokenizers

    directory = model_directory()
    texts, max_length = embedding_texts(args.input, directory)
    tokenizer = tokenizers.Tokenizer.from_file(os.path.join(directory, "tokenizer.json"))
    tokenizer.enable_truncation(max_length)
    tokenizer.enable_padding()  # to the longest text of each batch
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    model = args.onnx
    if args.int8:
        import tempfile
        from onnxruntime.quantization import QuantType, quantize_dynamic
        model = os.path.join(tempfile.mkdtemp(), "minilm-int8.onnx")
        quantize_dynamic(args.onnx, model, weight_type=QuantType.QInt8, per_channel=args.per_channel)
    session = onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    names = {i.name for i in session.get_inputs()}

    def run(order):
        embeddings = [None] * len(texts)
        start = time.perf_counter()
        for first in range(0, len(order), EMBED_BATCH):
            batch = order[first:first + EMBED_BATCH]
            encoded = tokenizer.encode_batch([texts[i] for i in batch])
            feeds = {"input_ids": numpy.array([e.ids for e in encoded], dtype=numpy.int64),
                     "attention_mask": numpy.array([e.attention_mask for e in encoded], dtype=numpy.int64)}
            if "token_type_ids" in names:
                feeds["token_type_ids"] = numpy.array([e.type_ids for e in encoded], dtype=numpy.int64)
            pooled = session.run(["sentence_embedding"], feeds)[0]
            for i, row in zip(batch, pooled):
                embeddings[i] = row
        return time.perf_counter() - start, embeddings

    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    run(order[:EMBED_BATCH])  # warm-up
    times = []
    for _ in range(args.rounds):
        seconds, embeddings = run(order)
        times.append(seconds)
        print(f"ort-baseline{' int8' if args.int8 else ''}: embedded {len(texts)} texts in {seconds:.2f} s: {len(texts) / seconds:.1f} per second",
              file=log, flush=True)
    seconds = sorted(times)[len(times) // 2]
    if args.output:
        with open(args.output, "w") as file:
            for row in embeddings:
                file.write(json.dumps([round(float(x), 7) for x in row]) + "\n")
    if args.json:
        print(json.dumps({"tool": "ort-baseline", "onnxruntime": onnxruntime.__version__, "int8": args.int8, "per_channel": args.per_channel, "threads": args.threads,
                          "texts": len(texts), "seconds": seconds, "texts_per_sec": len(texts) / seconds},
                         sort_keys=True))


if __name__ == "__main__":
    main()
