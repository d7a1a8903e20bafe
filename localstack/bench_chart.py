"""Draws the benchmark's charts from the figures `weelo-bench local` wrote next to its report
(docs/BENCHMARKS.json): the scaling curve (figure 6) and synchronous vs asynchronous booking
latency (figure 2), as PNGs beside the report."""

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)


def main(figures_path: Path) -> None:
    figures = json.loads(figures_path.read_text())
    out_dir = figures_path.parent

    fig, (fanout_ax, ingest_ax) = plt.subplots(1, 2, figsize=(11, 4))
    recipients = [f["recipients"] for f in figures["fanout"]]
    fanout_ax.plot(recipients, [f["matchedMs"] for f in figures["fanout"]], "o-", label="match + offers + notifications")
    fanout_ax.plot(recipients, [f["pushedMs"] for f in figures["fanout"]], "s-", label="pushes (fcm-consumer)")
    fanout_ax.set(xlabel="recipients per booking", ylabel="ms", title="Fan-out time vs recipients")
    fanout_ax.legend()
    concurrency = [f["concurrency"] for f in figures["ingest"]]
    ingest_ax.plot(concurrency, [f["pointsPerSecond"] for f in figures["ingest"]], "o-")
    ingest_ax.set(xlabel="concurrent 100-point requests", ylabel="points/s", title="Location ingest into Kafka")
    fig.tight_layout()
    fig.savefig(out_dir / "bench-scaling.png", dpi=120)

    fig, ax = plt.subplots(figsize=(7, 4))
    labels = ["async (answer)"] + [f"sync, push delay {s['pushDelayMs']} ms" for s in figures["sync"]]
    values = [figures["asyncBookingP50Ms"]] + [s["p50Ms"] for s in figures["sync"]]
    bars = ax.bar(labels, values, color=["tab:green"] + ["tab:red"] * len(figures["sync"]))
    ax.set_yscale("log")
    ax.set(ylabel="booking response p50, ms (log scale)", title="Booking: answer first vs push inline")
    ax.bar_label(bars, labels=[f"{v:.1f} ms" for v in values])
    fig.tight_layout()
    fig.savefig(out_dir / "bench-sync-vs-async.png", dpi=120)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/BENCHMARKS.json"))
