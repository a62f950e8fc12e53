#!/usr/bin/env python3
"""Reference values for the TypeScript metric suite (lib/metrics), written to sklearn_golden.json.

Run with Debian's interpreter, which has python3-sklearn and python3-numpy:

    /usr/bin/python3 tests/metrics/testdata/make_sklearn_golden.py

Convention: scores are "higher = more in-distribution"; label 1 = ID unless stated.

Where scikit-learn has the metric, the value comes from scikit-learn:
  auroc            roc_auc_score(is_id, s)
  auprIn / Out     average_precision_score(is_id, s) / average_precision_score(is_ood, -s)
  auprInTrapezoid  auc(recall, precision) from precision_recall_curve(is_id, s)   (OpenOOD, pytorch-ood)
  fpr.sklearn      roc_curve(is_id, s, drop_intermediate=False): fpr at the first index with tpr >= level
  fpr.sklearnDrop  same with drop_intermediate=True (scikit-learn's default, as OpenOOD calls it)
  fprOodPositive.* roc_curve(is_ood, -s, ...): fpr (= ID flagged as OOD) at the first tpr >= level
  detectionError   min over roc_curve(drop_intermediate=False) points of (1 - tpr)/2 + fpr/2
  accuracy         accuracy_score;  macroF1 f1_score(average="macro") (labels present, sklearn default)
  macroF1AllClasses f1_score(labels=range(numClasses), average="macro", zero_division=0)

The paper-specific rules are not in scikit-learn; they are re-implemented below from their written
definitions in shared/reference/papers.md section 1.3 / 1.5 (vectorised numpy, independent of the
TypeScript sweep):
  fpr.hendrycks    CIDER / UM / Outlier-Exposure "fpr_and_fdr_at_recall": curve points up to the first one
                   with full recall, reversed, argmin |recall - level| (first hit), fps / n_neg
  fpr.odin         ODIN / ELOC calMetric.tpr95: mean over unique pooled scores d with
                   frac(ID >= d) in [0.9495, 0.9505] of frac(OOD > d); null (NaN) if no d qualifies
  odinSuite        ODIN / ELOC calMetric auroc, auprIn, auprOut, detection (rate-based, ID ties with >=)
  autc             pytorch-ood AUTC: min-max normalised outlier score u = -s, (mean_ID u + mean_OOD (1-u)) / 2

NaN is written as null.
"""

import json
import math
import pathlib

import numpy as np
import sklearn
from sklearn.metrics import (
    accuracy_score,
    auc,
    average_precision_score,
    f1_score,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)

OUT = pathlib.Path(__file__).with_name("sklearn_golden.json")
LEVELS = (0.95, 0.8)


def labelled(id_s, ood_s):
    s = np.concatenate([id_s, ood_s]).astype(np.float64)
    is_id = np.concatenate([np.ones(len(id_s), int), np.zeros(len(ood_s), int)])
    return s, is_id


def first_ge(y, score, level, drop):
    fpr, tpr, _ = roc_curve(y, score, drop_intermediate=drop)
    return float(fpr[np.argmax(tpr >= level)])


def hendrycks(id_s, ood_s, level):
    """Positive = ID on the score; distinct thresholds descending; stop at the first full-recall point."""
    thr = np.unique(np.concatenate([id_s, ood_s]))[::-1]
    id_sorted, ood_sorted = np.sort(id_s), np.sort(ood_s)
    tps = len(id_s) - np.searchsorted(id_sorted, thr, side="left")  # count(ID >= t)
    fps = len(ood_s) - np.searchsorted(ood_sorted, thr, side="left")
    last = int(np.argmax(tps == tps[-1]))
    recall = (tps / tps[-1])[last::-1]
    fps_rev = fps[last::-1]
    cut = int(np.argmin(np.abs(recall - level)))
    return float(fps_rev[cut] / len(ood_s))


def odin_suite(id_s, ood_s, window=(0.9495, 0.9505)):
    deltas = np.unique(np.concatenate([id_s, ood_s]))  # ascending
    a, b = np.sort(id_s), np.sort(ood_s)
    n_i, n_o = float(len(a)), float(len(b))
    id_ge = len(a) - np.searchsorted(a, deltas, side="left")
    id_lt = np.searchsorted(a, deltas, side="left")
    ood_gt = len(b) - np.searchsorted(b, deltas, side="right")
    ood_ge = len(b) - np.searchsorted(b, deltas, side="left")
    ood_lt = np.searchsorted(b, deltas, side="left")

    tpr = id_ge / n_i
    fpr_gt = ood_gt / n_o
    sel = (tpr >= window[0]) & (tpr <= window[1])
    fpr95 = float(np.sum(fpr_gt[sel]) / np.sum(sel)) if np.any(sel) else float("nan")

    # AUROC: rectangle sum (fpr_prev - fpr) * tpr over ascending deltas, starting from fpr_prev = 1
    fpr_prev = np.concatenate([[1.0], fpr_gt[:-1]])
    auroc_ = float(np.sum((fpr_prev - fpr_gt) * tpr) + fpr_gt[-1] * tpr[-1])

    # AUPR-In: rate-based precision tp/(tp+fp), recall tp, ascending deltas, recall_prev starts at 1
    tp, fp = id_ge / n_i, ood_ge / n_o
    ok = (tp + fp) != 0
    prec, rec = tp[ok] / (tp[ok] + fp[ok]), tp[ok]
    rec_prev = np.concatenate([[1.0], rec[:-1]])
    aupr_in = float(np.sum((rec_prev - rec) * prec) + rec[-1] * prec[-1])

    # AUPR-Out: descending deltas, tp = frac(OOD < d), fp = frac(ID < d)
    tp, fp = (ood_lt / n_o)[::-1], (id_lt / n_i)[::-1]
    ok = (tp + fp) != 0
    if np.any(ok):
        prec, rec = tp[ok] / (tp[ok] + fp[ok]), tp[ok]
        rec_prev = np.concatenate([[1.0], rec[:-1]])
        aupr_out = float(np.sum((rec_prev - rec) * prec) + rec[-1] * prec[-1])
    else:
        aupr_out = float("nan")

    det = float(min(1.0, np.min((id_lt / n_i + fpr_gt) / 2.0)))
    return {"auroc": auroc_, "auprIn": aupr_in, "auprOut": aupr_out, "detectionError": det, "fpr95": fpr95}


def autc(id_s, ood_s):
    u_all = -np.concatenate([id_s, ood_s]).astype(np.float64)
    lo, hi = u_all.min(), u_all.max()
    if hi == lo:
        return 0.5
    u_id = (-np.asarray(id_s, np.float64) - lo) / (hi - lo)
    u_ood = (-np.asarray(ood_s, np.float64) - lo) / (hi - lo)
    return float(0.5 * (np.mean(u_id) + np.mean(1.0 - u_ood)))


def nan_to_none(x):
    if isinstance(x, dict):
        return {k: nan_to_none(v) for k, v in x.items()}
    if isinstance(x, float) and math.isnan(x):
        return None
    return x


def case(name, id_s, ood_s, dtype="float64"):
    id_s = np.asarray(id_s, np.float64)
    ood_s = np.asarray(ood_s, np.float64)
    s, is_id = labelled(id_s, ood_s)
    is_ood = 1 - is_id
    p_in, r_in, _ = precision_recall_curve(is_id, s)
    p_out, r_out, _ = precision_recall_curve(is_ood, -s)
    fpr_all, tpr_all, _ = roc_curve(is_id, s, drop_intermediate=False)
    out = {
        "name": name,
        "dtype": dtype,
        "id": id_s.tolist(),
        "ood": ood_s.tolist(),
        "auroc": float(roc_auc_score(is_id, s)),
        "auprIn": float(average_precision_score(is_id, s)),
        "auprOut": float(average_precision_score(is_ood, -s)),
        "auprInTrapezoid": float(auc(r_in, p_in)),
        "auprOutTrapezoid": float(auc(r_out, p_out)),
        "detectionError": float(np.min(0.5 * (1.0 - tpr_all) + 0.5 * fpr_all)),
        "autc": autc(id_s, ood_s),
        "fpr": {},
        "fprOodPositive": {},
        "odinSuite": odin_suite(id_s, ood_s),
    }
    for level in LEVELS:
        key = str(level)
        out["fpr"][key] = {
            "sklearn": first_ge(is_id, s, level, False),
            "sklearnDrop": first_ge(is_id, s, level, True),
            "hendrycks": hendrycks(id_s, ood_s, level),
        }
        out["fprOodPositive"][key] = {
            "sklearn": first_ge(is_ood, -s, level, False),
            "sklearnDrop": first_ge(is_ood, -s, level, True),
            "hendrycks": hendrycks(-ood_s, -id_s, level),
        }
    out["fpr"]["0.95"]["odin"] = out["odinSuite"]["fpr95"]
    return nan_to_none(out)


def classification_case(name, y_true, y_pred, num_classes):
    y_true, y_pred = np.asarray(y_true, int), np.asarray(y_pred, int)
    return {
        "name": name,
        "yTrue": y_true.tolist(),
        "yPred": y_pred.tolist(),
        "numClasses": num_classes,
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macroF1": float(f1_score(y_true, y_pred, average="macro")),
        "macroF1AllClasses": float(
            f1_score(y_true, y_pred, labels=list(range(num_classes)), average="macro", zero_division=0)
        ),
    }


def main():
    rng = np.random.default_rng(20240501)
    golden_id = [0.95, 0.91, 0.90, 0.88, 0.85, 0.85, 0.80, 0.78, 0.75, 0.72, 0.70, 0.66, 0.64, 0.60, 0.55, 0.50,
                 0.45, 0.40, 0.35, 0.20]
    golden_ood = [0.85, 0.80, 0.70, 0.65, 0.60, 0.60, 0.55, 0.50, 0.48, 0.45, 0.42, 0.40, 0.38, 0.35, 0.33, 0.30,
                  0.30, 0.28, 0.25, 0.22, 0.20, 0.18, 0.15, 0.10, 0.05]
    f32 = lambda x: np.asarray(x, np.float32).astype(np.float64)  # noqa: E731
    cases = [
        case("papers_1_6_golden", golden_id, golden_ood),
        case("gaussian_balanced", rng.normal(1.0, 1.0, 2000), rng.normal(0.0, 1.0, 2000)),
        case("gaussian_id_heavy", rng.normal(1.5, 1.0, 3000), rng.normal(0.0, 1.2, 120)),
        case("gaussian_ood_heavy", rng.normal(0.8, 0.7, 60), rng.normal(0.0, 1.0, 2500)),
        case("integer_many_ties", rng.integers(0, 12, 800), rng.integers(0, 9, 600)),
        case("rounded_ties", np.round(rng.normal(0.5, 1.0, 1500), 1), np.round(rng.normal(0.0, 1.0, 1000), 1)),
        case("float32_beta", f32(rng.beta(5, 2, 1000)), f32(rng.beta(2, 3, 1000)), "float32"),
        case("energy_like_negative", -np.logaddexp(rng.normal(8, 2, 700), 0), -np.logaddexp(rng.normal(6, 2, 900), 0)),
        case("small_integer", rng.integers(0, 5, 7), rng.integers(0, 5, 5)),
        case("one_each_reversed", [0.3], [0.7]),
        case("one_each_tied", [0.5], [0.5]),
        case("one_each_separated", [0.9], [0.1]),
        case("one_id_many_ood", [0.5], rng.uniform(0, 1, 50)),
        case("many_id_one_ood", rng.uniform(0, 1, 50), [0.5]),
        case("all_ties", np.full(10, 1.0), np.full(7, 1.0)),
        case("perfect_separation", rng.uniform(1, 2, 300), rng.uniform(0, 1, 200)),
        case("reversed_separation", rng.uniform(0, 1, 300), rng.uniform(1, 2, 200)),
        case("collinear_equal_sets", np.arange(100.0), np.arange(100.0)),
        case("collinear_blocks", np.repeat(np.arange(40.0), 3), np.repeat(np.arange(40.0), 2)),
        case("signed_zeros", [0.0, 1.0, -1.0, 0.0, 2.0], [-0.0, -0.0, -2.0, 1.0]),
        case("mixed_ties_uniform", np.floor(rng.uniform(0, 50, 997)) / 7.0, np.floor(rng.uniform(0, 40, 1003)) / 7.0),
    ]

    k = 5  # known classes 0..4, unknown = 5
    y = rng.integers(0, k + 1, 400)
    noisy = np.where(rng.uniform(size=400) < 0.7, y, rng.integers(0, k + 1, 400))
    known_pred = np.where(rng.uniform(size=300) < 0.8, y[:300] % k, rng.integers(0, k, 300))
    scores = rng.normal(0, 1, 300) + (y[:300] < k)
    open_pred = np.where(scores >= 0.2, known_pred, k)
    y_missing = np.where(y == 3, 2, y)  # class 3 absent from y_true
    pred_missing = np.where(noisy == 3, 4, noisy)  # and from y_pred
    classification = [
        classification_case("noisy_k_plus_1", y, noisy, k + 1),
        classification_case("open_set_threshold", y[:300], open_pred, k + 1),
        classification_case("class_absent_everywhere", y_missing, pred_missing, k + 1),
        classification_case("class_only_predicted", y_missing, noisy, k + 1),
        classification_case("hand_example", [0, 0, 1, 1, 2, 2], [0, 1, 1, 1, 2, 0], 3),
    ]

    doc = {
        "generator": "tests/metrics/testdata/make_sklearn_golden.py",
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
        "cases": cases,
        "classification": classification,
    }
    OUT.write_text(json.dumps(doc, separators=(",", ":")) + "\n")
    g = cases[0]
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes, {len(cases)} score cases)")
    print("golden:", {k2: g[k2] for k2 in ("auroc", "auprIn", "auprInTrapezoid", "auprOut", "auprOutTrapezoid",
                                           "detectionError", "autc")})
    print("golden fpr:", g["fpr"]["0.95"], g["fprOodPositive"]["0.95"])
    print("golden odin:", g["odinSuite"])
    for c in cases:
        a, b = c["fpr"]["0.95"], c["fprOodPositive"]["0.95"]
        if a["sklearn"] != a["sklearnDrop"] or b["sklearn"] != b["sklearnDrop"]:
            print("drop_intermediate matters in", c["name"], a, b)


if __name__ == "__main__":
    main()
