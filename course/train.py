"""Train the pretrained TinyGPT checkpoints, reproducibly, on a CPU.

    python -m course.train draft     # 2 layers, ~0.8M parameters
    python -m course.train target    # 8 layers, ~3.2M parameters
    python -m course.train report    # learning curves and the tables of docs/tinygpt.md
    python -m course.train corpus    # rebuild the shipped corpus from this Python's standard library

Seeded, deterministic on one machine, progress with tqdm, training and held-out bits per byte logged
every `eval_every` steps. Training resumes from its last logged step (workspace/train/) unless
--restart is given. Data: `course.data.stdlib_corpus`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import lzma
import math
import sys
import sysconfig
import time
from collections import Counter
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch

from course.data import STDLIB_FILE, stdlib_corpus
from course.models import PRETRAINED, TinyGPT, TinyGPTConfig, checkpoint, encode

ASSETS = Path(__file__).parent / "assets"
DOCS = Path(__file__).parent.parent / "docs"
STATE = Path(__file__).parent.parent / "workspace" / "train"

# One width, two depths: the draft's step costs a small fraction of the target's (speculative decoding).
SIZES = {
    "draft": TinyGPTConfig(d_model=192, n_layers=2, n_heads=6, n_kv_heads=2, d_ff=512, context=512),
    "target": TinyGPTConfig(d_model=192, n_layers=8, n_heads=6, n_kv_heads=2, d_ff=512, context=512),
}
STEPS = {"draft": 2200, "target": 2200}
EVAL_WINDOWS = 48  # windows of `context` bytes from each split, measured every eval_every steps


@dataclass(frozen=True)
class Schedule:
    steps: int = 1500
    batch: int = 16
    lr: float = 2e-3
    min_lr: float = 2e-4
    warmup: int = 100
    weight_decay: float = 0.1
    eval_every: int = 100
    seed: int = 0

    def lr_at(self, step: int) -> float:
        """Linear warmup, then cosine decay to min_lr at the last step."""
        if step < self.warmup:
            return self.lr * step / self.warmup
        progress = (step - self.warmup) / max(1, self.steps - self.warmup)
        return self.min_lr + 0.5 * (self.lr - self.min_lr) * (1 + math.cos(math.pi * progress))


def unigram_bits_per_byte(train: torch.Tensor, held_out: torch.Tensor) -> float:
    """Cross-entropy of the held-out bytes under the training set's byte frequencies (add-one smoothing)."""
    counts = Counter(train.tolist())
    total = len(train) + 256
    return -sum(math.log2((counts[b] + 1) / total) for b in held_out.tolist()) / len(held_out)


def windows(data: torch.Tensor, context: int, limit: int | None = None) -> torch.Tensor:
    """Non-overlapping windows (n, context + 1) of `data` (inputs and next-byte targets), evenly spread
    over the whole text when `limit` caps their number."""
    n = (len(data) - 1) // context
    starts = torch.arange(n) * context
    if limit is not None and limit < n:
        starts = starts[torch.linspace(0, n - 1, limit).long()]
    return torch.stack([data[s : s + context + 1] for s in starts.tolist()])


@torch.no_grad()
def bits_per_byte(model: TinyGPT, data: torch.Tensor, limit: int | None = None) -> float:
    """Mean next-byte loss over non-overlapping windows of `data` (all, or `limit` of them), in bits."""
    was_training = model.training
    model.eval()
    batches = windows(data, model.config.context, limit)
    total = sum(model.loss(batches[i : i + 16]).item() * len(batches[i : i + 16]) for i in range(0, len(batches), 16))
    model.train(was_training)
    return total / len(batches) / math.log(2)


def optimizer_for(model: TinyGPT, schedule: Schedule) -> torch.optim.AdamW:
    """AdamW, weight decay on matrices only."""
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    return torch.optim.AdamW(
        [{"params": decay, "weight_decay": schedule.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=schedule.lr,
        betas=(0.9, 0.95),
    )


def train(size: str, schedule: Schedule, threads: int | None = None, restart: bool = False) -> dict:
    """Train one size, resuming from workspace/train/tinygpt-<size>.pt; write the checkpoint and its log to assets/."""
    from tqdm.auto import tqdm

    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(schedule.seed)
    train_text, held_out_text = stdlib_corpus()
    train_data, held_out = encode(train_text), encode(held_out_text)
    config = SIZES[size]
    model = TinyGPT(config)
    optimizer = optimizer_for(model, schedule)
    generator = torch.Generator().manual_seed(schedule.seed)
    log = {
        "size": size,
        "config": asdict(config),
        "schedule": asdict(schedule),
        "parameters": model.num_parameters(),
        "train_bytes": len(train_data),
        "held_out_bytes": len(held_out),
        "steps": [],
        "train_bpb": [],
        "held_out_bpb": [],
        "seconds": 0.0,
    }
    state_file = STATE / f"tinygpt-{size}.pt"
    if state_file.exists() and not restart:
        state = torch.load(state_file, weights_only=False)
        if state["log"]["schedule"] != log["schedule"] or state["log"]["config"] != log["config"]:
            raise SystemExit(f"{state_file} was saved with another schedule or config: pass --restart to start over")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        generator.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])
        log = state["log"]
        print(f"resuming tinygpt-{size} after step {log['steps'][-1]}", flush=True)
    first = log["steps"][-1] + 1 if log["steps"] else 1
    started = time.time() - log["seconds"]
    bar = tqdm(
        range(first, schedule.steps + 1), desc=f"training tinygpt-{size}", initial=first - 1, total=schedule.steps
    )
    for step in bar:
        for group in optimizer.param_groups:
            group["lr"] = schedule.lr_at(step)
        starts = torch.randint(0, len(train_data) - config.context - 1, (schedule.batch,), generator=generator)
        batch = torch.stack([train_data[s : s + config.context + 1] for s in starts])
        loss = model.loss(batch)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        if step % schedule.eval_every == 0 or step == schedule.steps:
            log["steps"].append(step)
            log["train_bpb"].append(bits_per_byte(model, train_data, EVAL_WINDOWS))
            log["held_out_bpb"].append(bits_per_byte(model, held_out, EVAL_WINDOWS))
            log["seconds"] = time.time() - started
            bar.set_postfix(train=f"{log['train_bpb'][-1]:.3f}", held_out=f"{log['held_out_bpb'][-1]:.3f}")
            print(
                f"step {step}: train {log['train_bpb'][-1]:.3f} bits/byte, held-out {log['held_out_bpb'][-1]:.3f} bits/byte",
                flush=True,
            )
            STATE.mkdir(parents=True, exist_ok=True)
            state = {
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "generator": generator.get_state(),
                "torch_rng": torch.get_rng_state(),
                "log": log,
            }
            torch.save(state, state_file.with_suffix(".tmp"))
            state_file.with_suffix(".tmp").replace(state_file)
    model.eval()
    log.update(
        train_seconds=round(log["seconds"]),
        final_held_out_bpb=bits_per_byte(model, held_out),
        final_train_bpb=bits_per_byte(model, train_data, len(held_out) // config.context),
        unigram_bpb=unigram_bits_per_byte(train_data, held_out),
        sample=model.generate(
            "def ", max_new_tokens=160, temperature=0.8, top_k=20, generator=torch.Generator().manual_seed(0)
        ),
    )
    ASSETS.mkdir(exist_ok=True)
    torch.save(checkpoint(model), ASSETS / f"tinygpt-{size}.pt")
    (ASSETS / f"tinygpt-{size}.json").write_text(json.dumps(log, indent=1))
    return log


def build_corpus() -> None:
    """assets/stdlib_corpus.json.xz from this interpreter's standard library (the shipped one is CPython 3.11.7's)."""
    root = Path(sysconfig.get_paths()["stdlib"])
    skipped = {"site-packages", "dist-packages", "test", "tests", "idle_test", "pydoc_data", "encodings"}
    generated = {"stringprep.py", "keyword.py", "token.py", "re/_casefix.py"}  # tables written by scripts
    files, seen = {}, set()
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        if skipped & set(relative.parts[:-1]) or relative.parts[0] in skipped:
            continue
        if relative.as_posix() in generated or relative.name.startswith("_sysconfigdata_"):
            continue
        text = path.read_text(encoding="utf-8")
        digest = hashlib.sha256(text.encode()).hexdigest()
        if digest not in seen:
            seen.add(digest)
            files[relative.as_posix()] = text
    blob = lzma.compress(json.dumps(files, sort_keys=True, ensure_ascii=False).encode(), preset=9)
    (ASSETS / STDLIB_FILE).write_bytes(blob)
    size = sum(len(t.encode()) for t in files.values())
    print(f"{len(files)} files, {size:,} bytes, {len(blob):,} compressed, from Python {sys.version.split()[0]}")


def tokens_seen(log: dict) -> int:
    """Training tokens (bytes) of a logged run: steps x batch x context."""
    return log["schedule"]["steps"] * log["schedule"]["batch"] * log["config"]["context"]


def report() -> None:
    """docs/tinygpt.md and docs/tinygpt_learning_curves.png from the training logs (and the decoding
    measurements in docs/tinygpt_decoding.json, written by the instructor's decoding benchmark)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    logs = {name: json.loads((ASSETS / f"{name}.json").read_text()) for name in PRETRAINED}
    fig, ax = plt.subplots(figsize=(7, 4))
    for name, log in logs.items():
        ax.plot(log["steps"], log["train_bpb"], "--", label=f"{name} train")
        ax.plot(log["steps"], log["held_out_bpb"], label=f"{name} held-out")
    unigram = next(iter(logs.values()))["unigram_bpb"]
    ax.axhline(unigram, color="gray", linestyle=":", label="unigram baseline (held-out)")
    ax.set(xlabel="step", ylabel="bits per byte", title="TinyGPT on the standard library's source", ylim=(1, 5))
    ax.legend()
    DOCS.mkdir(exist_ok=True)
    fig.savefig(DOCS / "tinygpt_learning_curves.png", dpi=100, bbox_inches="tight")

    def row(name: str, log: dict) -> str:
        c, sc = log["config"], log["schedule"]
        tokens = tokens_seen(log)
        return (
            f"| `{name}` | {log['parameters']:,} | {c['d_model']} | {c['n_layers']} | {c['n_heads']}/{c['n_kv_heads']} "
            f"| {c['context']} | {sc['steps']} | {tokens / 1e6:.1f}M ({tokens / log['parameters']:.0f} per parameter) "
            f"| {log['train_seconds'] / 60:.0f} min | {log['final_train_bpb']:.3f} | **{log['final_held_out_bpb']:.3f}** |"
        )

    rows = "\n".join(row(name, log) for name, log in logs.items())
    samples = "\n\n".join(
        f"`{name}`, prompt `def `, temperature 0.8, top-k 20:\n\n```\n{log['sample']}\n```"
        for name, log in logs.items()
    )
    log = logs["tinygpt-draft"]
    target = logs["tinygpt-target"]
    budget = 6 * target["parameters"] * tokens_seen(target)  # C = 6ND
    optimal_parameters = math.sqrt(budget / (6 * 20))  # D = 20N
    gaps = {name: entry["final_held_out_bpb"] - entry["final_train_bpb"] for name, entry in logs.items()}
    decoding_file = DOCS / "tinygpt_decoding.json"
    decoding = DECODING.format(**json.loads(decoding_file.read_text())) if decoding_file.exists() else ""
    (DOCS / "tinygpt.md").write_text(
        TEMPLATE.format(
            rows=rows,
            unigram=unigram,
            samples=samples,
            decoding=decoding,
            train_mb=log["train_bytes"] / 1e6,
            held_out_kb=log["held_out_bytes"] / 1e3,
            draft_ratio=tokens_seen(log) / log["parameters"],
            target_ratio=tokens_seen(target) / target["parameters"],
            budget=budget,
            optimal_m=optimal_parameters / 1e6,
            optimal_tokens_m=20 * optimal_parameters / 1e6,
            oversize=target["parameters"] / optimal_parameters,
            draft_gap=gaps["tinygpt-draft"],
            target_gap=gaps["tinygpt-target"],
            advantage=log["final_held_out_bpb"] - target["final_held_out_bpb"],
        )
    )


TEMPLATE = """# TinyGPT: the course's pretrained models

Two depths of one family, sharing the byte-level vocabulary (256 ids, one per byte) and the width,
trained by `python -m course.train draft` and `python -m course.train target` on the source of
Python's standard library (`course.data.stdlib_corpus`: the `.py` files of CPython 3.11.7's `Lib/`
without tests, site-packages, `pydoc_data`, the `encodings` package (mostly generated codec
tables) and the other files generated by scripts (the Unicode tables of `stringprep` and
`re/_casefix`, the `token` and `keyword` lists, the `_sysconfigdata_*` build configuration),
duplicates removed, shipped compressed with the course; split by file, every 20th file held out:
{train_mb:.1f} MB of training text, {held_out_kb:.0f} KB held out). They load with
`course.models.load_pretrained("tinygpt-draft" | "tinygpt-target")`.

Architecture (`course.models.TinyGPT`): pre-norm RMSNorm, rotary embeddings on interleaved pairs
(theta 10,000), grouped-query causal attention, SwiGLU, head tied to the embedding, context 512.
Training: AdamW (betas 0.9/0.95, weight decay 0.1 on matrices), 100 warmup steps then cosine,
batches of 16 x 512 bytes, no dropout (each model sees the corpus about once or twice), gradient
clipping at 1, seed 0, on a 2-core machine: the draft on one thread, sharing the machine with
another training run, and the target alone on both threads (the training times below depend on this).
Bits per byte are measured on the whole held-out text and on as many training bytes.

| model | parameters | d_model | layers | heads (q/kv) | context | steps | tokens seen | training time | train bits/byte | held-out bits/byte |
|---|---|---|---|---|---|---|---|---|---|---|
{rows}
| unigram baseline | 256 | | | | | | | | | {unigram:.3f} |

Where the pair sits on the compute frontier (module 04: C = 6ND, compute-optimal D of about 20N):
the draft saw about {draft_ratio:.0f} tokens per parameter, near the compute-optimal point for its
budget; the target saw about {target_ratio:.0f}, so for its budget (C of about {budget:.1e} FLOPs) a
model of about {optimal_m:.1f}M parameters trained on {optimal_tokens_m:.0f}M tokens would have been
compute-optimal. The target is {oversize:.1f} times larger than that on purpose: speculative decoding
needs a deep target whose step costs several draft steps. It is {advantage:.2f} bits per byte better
than the draft on the held-out files.

The gap between held-out and training bits per byte is {target_gap:.3f} for the target and
{draft_gap:.3f} for the draft: neither model saw the training text more than twice, and neither
has overfitted it.

![learning curves](tinygpt_learning_curves.png)

{decoding}
Samples:

{samples}
"""

DECODING = """## Decoding: time per token and acceptance rate

Measured by the course's decoding benchmark (a KV cache of its own: the cache is module 05's exercise),
one thread, batch 1, a {prompt_length}-byte prompt from the held-out text, {new_tokens} new tokens, greedy:

| model | seconds per token, with a KV cache | without a cache |
|---|---|---|
| `tinygpt-draft` | {draft_cached_ms:.2f} ms | {draft_uncached_ms:.2f} ms |
| `tinygpt-target` | {target_cached_ms:.2f} ms | {target_uncached_ms:.2f} ms |

Cost ratio c = draft step / target step with a cache, median of 5 interleaved runs: **{cost_ratio:.3f}**.
Acceptance rate of the draft against the target along the target's own continuations of
{n_prompts} held-out prompts: **{greedy:.3f}** greedy (the draft's argmax equals the target's),
**{temperature_1:.3f}** at temperature 1 (the mean of sum_v min(p(v), q(v))). With gamma = 4 draft
tokens per step, Leviathan et al.'s formula (1 - a^(gamma+1)) / ((1 - a)(gamma c + 1)) predicts a
speedup of {speedup_greedy:.2f}x greedy and {speedup_t1:.2f}x at temperature 1.

"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=[*SIZES, "report", "corpus"])
    parser.add_argument("--steps", type=int, default=None, help="optimizer steps (default: the size's, as shipped)")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for PyTorch (default: all cores)")
    parser.add_argument("--restart", action="store_true", help="ignore a saved training state and start from step 1")
    args = parser.parse_args()
    if args.what == "report":
        report()
        return
    if args.what == "corpus":
        build_corpus()
        return
    schedule = replace(Schedule(), steps=args.steps or STEPS[args.what])
    log = train(args.what, schedule, threads=args.threads, restart=args.restart)
    print(
        f"tinygpt-{args.what}: {log['parameters']:,} parameters, held-out {log['final_held_out_bpb']:.3f} bits/byte "
        f"(train {log['final_train_bpb']:.3f}, unigram {log['unigram_bpb']:.3f}), {log['train_seconds']} s"
    )


if __name__ == "__main__":
    main()
