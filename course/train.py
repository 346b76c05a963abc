"""Train the pretrained TinyGPT checkpoints, reproducibly, on a CPU.

    python -m course.train draft     # ~0.8M parameters
    python -m course.train target    # ~3.8M parameters
    python -m course.train report    # learning curves and the bits-per-byte table (docs/)

Seeded, deterministic on one machine, progress with tqdm, validation bits per byte logged every
`eval_every` steps; the checkpoint with the best held-out loss is kept. Data: `course.data.pydoc_corpus`.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections import Counter
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch

from course.data import pydoc_corpus
from course.models import PRETRAINED, TinyGPT, TinyGPTConfig, checkpoint, encode

ASSETS = Path(__file__).parent / "assets"
DOCS = Path(__file__).parent.parent / "docs"

SIZES = {
    "draft": TinyGPTConfig(d_model=128, n_layers=4, n_heads=4, n_kv_heads=4, d_ff=344, context=128, dropout=0.1),
    "target": TinyGPTConfig(d_model=256, n_layers=5, n_heads=8, n_kv_heads=4, d_ff=688, context=128, dropout=0.2),
}
# The larger model overfits the 434 KB corpus sooner: more dropout and a shorter schedule.
STEPS = {"draft": 1500, "target": 1000}


@dataclass(frozen=True)
class Schedule:
    steps: int = 1500
    batch: int = 32
    lr: float = 2e-3
    min_lr: float = 2e-4
    warmup: int = 100
    weight_decay: float = 0.1
    eval_every: int = 150
    seed: int = 0


def unigram_bits_per_byte(train: torch.Tensor, held_out: torch.Tensor) -> float:
    """Cross-entropy of the held-out bytes under the training set's byte frequencies (add-one smoothing)."""
    counts = Counter(train.tolist())
    total = len(train) + 256
    return -sum(math.log2((counts[b] + 1) / total) for b in held_out.tolist()) / len(held_out)


@torch.no_grad()
def bits_per_byte(model: TinyGPT, data: torch.Tensor) -> float:
    """Mean next-byte loss over non-overlapping windows of `data`, in bits."""
    model.eval()
    context = model.config.context
    n = (len(data) - 1) // context
    inputs = data[: n * context].view(n, context)
    targets = data[1 : n * context + 1].view(n, context)
    total = 0.0
    for i in range(0, n, 64):
        logits = model(inputs[i : i + 64])
        total += torch.nn.functional.cross_entropy(
            logits.reshape(-1, 256), targets[i : i + 64].reshape(-1), reduction="sum"
        ).item()
    model.train()
    return total / (n * context) / math.log(2)


def train(size: str, schedule: Schedule = Schedule(), threads: int | None = None) -> dict:
    from tqdm.auto import tqdm

    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(schedule.seed)
    train_text, held_out_text = pydoc_corpus()
    train_data, held_out = encode(train_text), encode(held_out_text)
    config = SIZES[size]
    model = TinyGPT(config)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": schedule.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=schedule.lr,
        betas=(0.9, 0.95),
    )
    generator = torch.Generator().manual_seed(schedule.seed)
    log = {
        "size": size,
        "config": asdict(config),
        "schedule": asdict(schedule),
        "parameters": model.num_parameters(),
        "steps": [],
        "train_bpb": [],
        "held_out_bpb": [],
    }
    best, best_state, started, window = float("inf"), None, time.time(), []
    bar = tqdm(range(1, schedule.steps + 1), desc=f"training tinygpt-{size}")
    for step in bar:
        lr = (
            schedule.lr * step / schedule.warmup
            if step < schedule.warmup
            else schedule.min_lr
            + 0.5
            * (schedule.lr - schedule.min_lr)
            * (1 + math.cos(math.pi * (step - schedule.warmup) / (schedule.steps - schedule.warmup)))
        )
        for group in optimizer.param_groups:
            group["lr"] = lr
        starts = torch.randint(0, len(train_data) - config.context - 1, (schedule.batch,), generator=generator)
        batch = torch.stack([train_data[s : s + config.context + 1] for s in starts])
        loss = model.loss(batch)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        window.append(loss.item() / math.log(2))
        if step % schedule.eval_every == 0 or step == schedule.steps:
            held = bits_per_byte(model, held_out)
            log["steps"].append(step)
            log["train_bpb"].append(sum(window) / len(window))
            log["held_out_bpb"].append(held)
            window = []
            bar.set_postfix(train=f"{log['train_bpb'][-1]:.3f}", held_out=f"{held:.3f}")
            print(f"step {step}: train {log['train_bpb'][-1]:.3f} bits/byte, held-out {held:.3f} bits/byte", flush=True)
            if held < best:
                best, best_state = held, {k: v.clone() for k, v in model.state_dict().items()}
    model.load_state_dict(best_state)
    model.eval()
    log.update(
        best_held_out_bpb=bits_per_byte(model, held_out),
        unigram_bpb=unigram_bits_per_byte(train_data, held_out),
        train_seconds=round(time.time() - started),
        sample=model.generate(
            "def ", max_new_tokens=120, temperature=0.8, top_k=20, generator=torch.Generator().manual_seed(0)
        ),
    )
    ASSETS.mkdir(exist_ok=True)
    torch.save(checkpoint(model), ASSETS / f"tinygpt-{size}.pt")
    (ASSETS / f"tinygpt-{size}.json").write_text(json.dumps(log, indent=1))
    return log


def report() -> None:
    """docs/tinygpt.md and docs/tinygpt_learning_curves.png from the training logs."""
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
    ax.set(xlabel="step", ylabel="bits per byte", title="TinyGPT on Python's documentation")
    ax.legend()
    DOCS.mkdir(exist_ok=True)
    fig.savefig(DOCS / "tinygpt_learning_curves.png", dpi=100, bbox_inches="tight")
    rows = "\n".join(
        f"| `{name}` | {log['parameters']:,} | {log['config']['d_model']} | {log['config']['n_layers']} | {log['config']['n_heads']}/{log['config']['n_kv_heads']} "
        f"| {log['config']['dropout']} | {log['schedule']['steps']} | {log['train_seconds'] / 60:.0f} min | **{log['best_held_out_bpb']:.3f}** |"
        for name, log in logs.items()
    )
    samples = "\n\n".join(
        f"`{name}`, prompt `def `, temperature 0.8, top-k 20:\n\n```\n{log['sample']}\n```"
        for name, log in logs.items()
    )
    (DOCS / "tinygpt.md").write_text(TEMPLATE.format(rows=rows, unigram=unigram, samples=samples))


TEMPLATE = """# TinyGPT: the course's pretrained models

Two sizes of one family, sharing the byte-level vocabulary (256 ids, one per byte), trained by
`python -m course.train draft` and `python -m course.train target` on Python's own reference
documentation (`course.data.pydoc_corpus`: 79 topics of `pydoc_data.topics`, Python 3.11, shipped
with the course; every 10th topic held out: 434 KB of training text, 32 KB held out). They load with
`course.models.load_pretrained("tinygpt-draft" | "tinygpt-target")`.

Architecture (`course.models.TinyGPT`): pre-norm RMSNorm, rotary embeddings on interleaved pairs
(theta 10,000), grouped-query causal attention, SwiGLU, head tied to the embedding, context 128.
Training: AdamW (betas 0.9/0.95, weight decay 0.1 on matrices), warmup then cosine, batch 32 x 128
bytes, dropout (the larger model, which overfits the small corpus sooner, gets more dropout and a
shorter schedule), gradient clipping at 1, seed 0, one CPU thread; the checkpoint with the lowest
held-out loss is kept. Training times were measured on a shared 2-core machine.

| model | parameters | d_model | layers | heads (q/kv) | dropout | steps | training time | held-out bits per byte |
|---|---|---|---|---|---|---|---|---|
{rows}
| unigram baseline | 256 | | | | | | | {unigram:.3f} |

![learning curves](tinygpt_learning_curves.png)

Samples:

{samples}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=[*SIZES, "report"])
    parser.add_argument("--steps", type=int, default=None, help="optimizer steps (default: the size's, as shipped)")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for PyTorch (default: all cores)")
    args = parser.parse_args()
    if args.what == "report":
        report()
        return
    log = train(args.what, replace(Schedule(), steps=args.steps or STEPS[args.what]), threads=args.threads)
    print(
        f"tinygpt-{args.what}: {log['parameters']:,} parameters, held-out {log['best_held_out_bpb']:.3f} bits/byte (unigram {log['unigram_bpb']:.3f}), {log['train_seconds']} s"
    )


if __name__ == "__main__":
    main()
