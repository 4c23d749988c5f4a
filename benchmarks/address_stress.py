"""Address stress set: Faker addresses of every Latin- or Greek-script locale in a few sentence contexts,
in original, lower and upper case, with the address block as gold; ADDRESS token recall by case and
locale, and the tokens redacted outside the block (false positives).

    PYTHONPATH=. .venv/bin/python benchmarks/address_stress.py --per-locale 4 --seed 3 [--misses 40]

Faker values only (no PHI). The sentence contexts are fixed and neutral, so every redaction outside
the block is a false positive.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import unicodedata
from collections import Counter, defaultdict

import faker.config
from faker import Faker

from clinical.deid.evaluate import TOKEN, _covered

CONTEXTS = (
    "Please ship it to {a}. Thanks, the team",
    "The patient lives at {a} with her son",
    "address:\n{a}\nphone to follow",
    "{a} is where we met last year",
    "support the clinic in {c} {p} in its mission",
)
CASES = ("original", "lower", "upper")


def _script_ok(text: str) -> bool:
    for ch in text:
        if ch.isalpha() and not unicodedata.name(ch, "").startswith(("LATIN", "GREEK")):
            return False
    return True


def locales() -> list[str]:
    return sorted(faker.config.AVAILABLE_LOCALES)


def build(per_locale: int = 4, seed: int = 3) -> list[dict]:
    """Records {id, locale, case, text, spans} (spans: the address block, type ADDRESS)."""
    rng = random.Random(seed)
    records = []
    for locale in locales():
        try:
            fake = Faker(locale)
            fake.seed_instance(seed)
            samples = []
            for _ in range(per_locale):
                addr = fake.address()
                city, post = fake.city(), fake.postcode()
                if _script_ok(addr + city + post):
                    samples.append((addr, city, post))
        except Exception:  # noqa: BLE001 - a locale without an address provider is skipped
            continue
        for n, (addr, city, post) in enumerate(samples):
            context = CONTEXTS[rng.randrange(len(CONTEXTS))] if n else CONTEXTS[n % len(CONTEXTS)]
            for case in CASES:
                if "{c}" in context:
                    gold = f"{city} {post}"
                    text = context.format(c=city, p=post)
                else:
                    gold = addr
                    text = context.format(a=addr)
                if case == "lower":
                    text, gold = text.lower(), gold.lower()
                elif case == "upper":
                    text, gold = text.upper(), gold.upper()
                start = text.index(gold)
                records.append(
                    {
                        "id": f"{locale}-{n}-{case}",
                        "locale": locale,
                        "case": case,
                        "text": text,
                        "spans": [{"start": start, "end": start + len(gold), "type": "ADDRESS"}],
                    }
                )
    return records


def measure(records: list[dict], found: list[list]) -> dict:
    """Recall of gold tokens and false-positive tokens, by case and by locale."""
    hit, gold, fp, other = Counter(), Counter(), Counter(), Counter()
    misses, extra = [], []
    for r, spans in zip(records, found, strict=True):
        tokens = [m.span() for m in TOKEN.finditer(r["text"])]
        pred = _covered(tokens, [(s.start, s.end) for s in spans])
        g = r["spans"][0]
        in_gold = [s < g["end"] and g["start"] < e for s, e in tokens]
        missed, over = [], []
        for (s, e), p, ig in zip(tokens, pred, in_gold, strict=True):
            if p and not ig:
                over.append(r["text"][s:e])
            for key in (r["case"], r["locale"], "all"):
                if ig:
                    gold[key] += 1
                    hit[key] += p
                else:
                    other[key] += 1
                    fp[key] += p
            if ig and not p:
                missed.append(r["text"][s:e])
        if missed:
            misses.append((r["id"], r["text"], missed))
        if over:
            extra.append((r["id"], r["text"], over))
    return {"hit": hit, "gold": gold, "fp": fp, "other": other, "misses": misses, "extra": extra}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--per-locale", type=int, default=4)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--misses", type=int, default=0, help="print this many records with a missed token")
    parser.add_argument("--extra", type=int, default=0, help="print this many records with a token redacted outside")
    parser.add_argument("--locales", type=int, default=0, help="print the weakest N locales")
    args = parser.parse_args(argv)

    from clinical.deid.engine import get_deidentifier

    records = build(args.per_locale, args.seed)
    deid = get_deidentifier()
    t0 = time.perf_counter()
    found = deid.detect_many([r["text"] for r in records])
    elapsed = time.perf_counter() - t0
    m = measure(records, found)
    hit, gold, fp, other = m["hit"], m["gold"], m["fp"], m["other"]
    print(f"{len(records)} texts, {len({r['locale'] for r in records})} locales, detect {elapsed:.1f} s")
    for key in (*CASES, "all"):
        print(
            f"{key:9s} recall {hit[key] / gold[key]:.4f} ({hit[key]}/{gold[key]})  "
            f"outside-block redacted {fp[key] / other[key]:.4f} ({fp[key]}/{other[key]})"
        )
    if args.locales:
        worst = sorted((hit[k] / gold[k], k) for k in {r["locale"] for r in records})
        print("weakest:", ", ".join(f"{k} {v:.2f}" for v, k in worst[: args.locales]))
    by_kind = defaultdict(int)
    for rid, _, _ in m["misses"]:
        by_kind[rid.rsplit("-", 1)[1]] += 1
    print("records with a miss by case:", dict(by_kind))
    for rid, text, missed in m["misses"][: args.misses]:
        print(rid, repr(text), missed)
    shown = [x for x in m["extra"] if not x[0].endswith("-upper")][: args.extra]
    for rid, text, over in shown:
        print("outside:", rid, repr(text), over)
    return 0


if __name__ == "__main__":
    sys.exit(main())
