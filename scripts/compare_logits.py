#!/usr/bin/env python3
"""Compare two full-logit dumps: float32 little-endian, row-major [positions x vocab].

The reference dump comes from `scripts/gen_reference_logits.py --dump-full`;
SwiftSeek writes its own logits in the same layout.

Usage:
    python3 scripts/compare_logits.py REF.f32 OURS.f32 --vocab V [--json]

Prints the number of positions compared, top-1 agreement, max |delta| and
mean |delta| (plus a few extra diagnostics). Only numpy is needed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np


def load(path: str, vocab: int) -> np.ndarray:
    size = os.path.getsize(path)
    row_bytes = 4 * vocab
    if size == 0 or size % row_bytes != 0:
        raise SystemExit(f"{path}: {size} bytes is not a whole number of rows of {vocab} float32 values")
    return np.fromfile(path, dtype="<f4").reshape(size // row_bytes, vocab).astype(np.float64)


def log_softmax(x: np.ndarray) -> np.ndarray:
    m = x.max(axis=1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=1, keepdims=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("ref", help="reference logits (.f32)")
    parser.add_argument("ours", help="our logits (.f32)")
    parser.add_argument("--vocab", type=int, required=True, help="vocabulary size V (row length)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON instead of text")
    args = parser.parse_args()

    ref = load(args.ref, args.vocab)
    ours = load(args.ours, args.vocab)
    if ref.shape[0] != ours.shape[0]:
        print(f"note: {args.ref} has {ref.shape[0]} positions, {args.ours} has {ours.shape[0]}; "
              f"comparing the first {min(ref.shape[0], ours.shape[0])}", file=sys.stderr)
    n = min(ref.shape[0], ours.shape[0])
    ref, ours = ref[:n], ours[:n]
    if not np.isfinite(ours).all():
        bad = int((~np.isfinite(ours)).any(axis=1).sum())
        print(f"warning: {bad} of our positions contain NaN/Inf", file=sys.stderr)

    delta = np.abs(ref - ours)
    ref_top1 = ref.argmax(axis=1)
    our_top1 = ours.argmax(axis=1)
    agree = ref_top1 == our_top1
    worst_flat = int(np.nanargmax(delta))
    worst_pos, worst_id = divmod(worst_flat, args.vocab)

    # Extra diagnostics: top-5 overlap, KL(ref || ours) of the softmax distributions,
    # and the max |delta| relative to the reference's logit range.
    k = 5
    ref_top5 = np.argsort(-ref, axis=1)[:, :k]
    our_top5 = np.argsort(-ours, axis=1)[:, :k]
    top5_overlap = np.mean([len(set(a) & set(b)) / k for a, b in zip(ref_top5, our_top5)])
    lp_ref, lp_ours = log_softmax(ref), log_softmax(ours)
    kl = (np.exp(lp_ref) * (lp_ref - lp_ours)).sum(axis=1)
    ref_range = float(ref.max() - ref.min())

    summary = {
        "positions": n,
        "vocab": args.vocab,
        "top1_agreement_pct": round(100.0 * float(agree.mean()), 3),
        "top1_disagree_positions": [int(i) for i in np.nonzero(~agree)[0]],
        "max_abs_delta": float(np.nanmax(delta)),
        "max_abs_delta_at": {"position": worst_pos, "token_id": worst_id},
        "mean_abs_delta": float(np.nanmean(delta)),
        "rms_delta": float(np.sqrt(np.nanmean(delta**2))),
        "ref_logit_range": ref_range,
        "top5_overlap_pct": round(100.0 * float(top5_overlap), 3),
        "mean_kl_ref_ours": float(np.nanmean(kl)),
        "max_kl_ref_ours": float(np.nanmax(kl)),
    }
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    print(f"positions:        {n}  (vocab {args.vocab})")
    print(f"top-1 agreement:  {summary['top1_agreement_pct']:.2f}%  ({int(agree.sum())}/{n})")
    if not agree.all():
        shown = summary["top1_disagree_positions"][:20]
        more = " ..." if len(summary["top1_disagree_positions"]) > 20 else ""
        print(f"  disagree at:    {shown}{more}")
    print(f"max |delta|:      {summary['max_abs_delta']:.6g}  (position {worst_pos}, token {worst_id}; "
          f"ref logit range {ref_range:.4g})")
    print(f"mean |delta|:     {summary['mean_abs_delta']:.6g}")
    print(f"rms delta:        {summary['rms_delta']:.6g}")
    print(f"top-5 overlap:    {summary['top5_overlap_pct']:.2f}%")
    print(f"KL(ref||ours):    mean {summary['mean_kl_ref_ours']:.4g}, max {summary['max_kl_ref_ours']:.4g} nats")


if __name__ == "__main__":
    main()
