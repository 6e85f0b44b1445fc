"""Compare hasila.infer.quantity with pyarabic's number module on the same cases.

    pip install pyarabic            # only for this comparison; Hasila does not depend on it
    python benchmarks/quantity_vs_pyarabic.py [--generated N] [--seed S]

Three measurements:

1. Hand-made spans by category (digits, words, compounds, hundreds/thousands, spelling
   variants, duals, vague words): Hasila's ``parse_quantity(span).value`` against pyarabic's
   ``text2number(span)`` (0 from pyarabic is taken as "no figure", i.e. None).
2. N numbers in 1..999,999 spelled by the test suite's generator (both genders and cases,
   «مئة»/«مائة», joined/split hundreds): ``parse_number`` against ``text2number``.
3. Made-up sentences: the figures ``find_quantities`` finds against pyarabic's
   ``extract_number_phrases`` (each phrase through ``text2number``, digits through int()).
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import sys
import time
from pathlib import Path

from hasila.infer.quantity import QuantityError, parse_number, parse_quantity
from quantity_scan import find_quantities  # benchmarks/ (the script's folder)

try:
    from pyarabic import number as pyarabic_number
except ImportError:  # pragma: no cover - the comparison needs it
    sys.exit("pyarabic is not installed: pip install pyarabic")

# (span, expected value) — ACLED figures for vague words, None where no figure can be given.
CASES: dict[str, list[tuple[str, int | None]]] = {
    "digits": [("35", 35), ("٣٥", 35), ("۳۵", 35), ("1,365", 1365), ("١٬٣٦٥", 1365), ("2019", 2019),
               ("١٣٦٥", 1365), ("7", 7)],
    "simple words": [("واحد", 1), ("اثنان", 2), ("اثنين", 2), ("ثلاثة", 3), ("ثلاث", 3), ("ثمانية", 8),
                     ("ثماني", 8), ("ستة", 6), ("عشرة", 10), ("أحد عشر", 11), ("اثنا عشر", 12),
                     ("ثلاثة عشر", 13), ("عشرين", 20), ("تسعون", 90)],
    "compounds": [("خمسة وعشرين", 25), ("خمسة وعشرون", 25), ("واحد وثلاثون", 31), ("اثنتان وأربعون", 42),
                  ("مئة وخمسين", 150), ("مئة وخمسة وعشرون", 125), ("ثلاثمائة وستون", 360),
                  ("خمسة و عشرين", 25)],
    "hundreds/thousands": [("مئة", 100), ("مائة", 100), ("مئتان", 200), ("مئتين", 200), ("مائتين", 200),
                           ("ثلاثمئة", 300), ("ثلاثمائة", 300), ("ثلاث مئة", 300), ("ألف", 1000),
                           ("ألفين", 2000), ("ألفان", 2000), ("ثلاثة آلاف", 3000), ("عشرة آلاف", 10000),
                           ("ألف وخمسمئة", 1500), ("مئة ألف", 100000), ("3 آلاف", 3000)],
    "spelling variants": [("اربعة", 4), ("إثنين", 2), ("ثلاثه", 3), ("خمسه", 5), ("ثمانى", 8),
                          ("خَمْسَةٌ", 5), ("ثلاثـــة", 3), ("والخمسة", 5), ("وعشرين", 20), ("بخمسة", 5)],
    "duals": [("ضابطان", 2), ("ضابطين", 2), ("عنصرين", 2), ("جنديين", 2), ("جنديان", 2), ("امرأتين", 2),
              ("ضابطان اثنان", 2), ("قتيلين", 2), ("دبابتين", 2), ("شخصين", 2)],
    "vague (ACLED)": [("عشرات", 12), ("العشرات", 12), ("مئات", 100), ("آلاف", 1000), ("عشرات الآلاف", 12000),
                      ("بضعة", 3), ("عدد", None), ("عدة", None)],
}

SENTENCES: list[tuple[str, list[int | None]]] = [
    ("قتل 35 عنصراً من قوات النظام بينهم 6 ضباط", [35, 6]),
    ("أفاد المرصد بمقتل ٢٧ مسلحاً وإصابة خمسة وعشرين آخرين", [27, 25]),
    ("قتل ضابطان وأصيب ثلاثة جنود", [2, 3]),
    ("قتل العشرات وأصيب المئات", [12, 100]),
    ("ارتفع عدد القتلى إلى 1,365 منذ آذار", [1365]),
    ("قتل مئة وخمسون شخصاً في القصف", [150]),
    ("قتل عنصرين من التنظيم", [2]),
    ("سقط ثلاثة آلاف قتيل", [3000]),
    ("قتل أحد عشر مدنياً", [11]),
    ("قتل ثمانية وأصيب اثنا عشر", [8, 12]),
]


def _load_generator():
    """The test suite's number → words generator (one generator, not two that drift apart)."""
    path = Path(__file__).resolve().parent.parent / "tests" / "test_quantity.py"
    spec = importlib.util.spec_from_file_location("_hasila_test_quantity", path)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module.arabic_words, module.Style


def ours_value(span: str) -> int | None:
    try:
        return parse_quantity(span).value
    except QuantityError:
        return -1  # could not read: never equal to an expected figure


def pyarabic_value(span: str) -> int | None:
    value = pyarabic_number.text2number(span)
    return None if value == 0 else int(value)


def pyarabic_find(sentence: str) -> list[int | None]:
    values = []
    for phrase in pyarabic_number.extract_number_phrases(sentence):
        phrase = phrase.strip()
        values.append(int(phrase) if phrase.isdigit() else pyarabic_value(phrase))
    return values


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generated", type=int, default=2000, help="spelled numbers to test (default 2000)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    print("1. Spans by category: correct value (Hasila parse_quantity vs pyarabic text2number)")
    print(f"{'category':<22}{'n':>4}{'hasila':>8}{'pyarabic':>10}")
    tot = [0, 0, 0]
    misses: list[str] = []
    for category, cases in CASES.items():
        ours = sum(ours_value(s) == v for s, v in cases)
        theirs = sum(pyarabic_value(s) == v for s, v in cases)
        misses += [f"hasila {s!r}: {ours_value(s)} (want {v})" for s, v in cases if ours_value(s) != v]
        print(f"{category:<22}{len(cases):>4}{ours:>8}{theirs:>10}")
        tot = [tot[0] + len(cases), tot[1] + ours, tot[2] + theirs]
    print(f"{'total':<22}{tot[0]:>4}{tot[1]:>8}{tot[2]:>10}")
    for m in misses:
        print("  miss:", m)

    arabic_words, Style = _load_generator()
    rnd = random.Random(args.seed)
    numbers = [rnd.randint(1, 999_999) if k % 2 else rnd.randint(1, 999) for k in range(args.generated)]
    texts = [arabic_words(n, Style(random.Random(rnd.random()))) for n in numbers]

    def timed(fn):
        start = time.perf_counter()
        out = [fn(t) for t in texts]
        return out, (time.perf_counter() - start) / len(texts) * 1e6

    def ours_number(t: str) -> int | None:
        try:
            return parse_number(t)
        except QuantityError:
            return None

    def canonical(n: int) -> str:
        """One spelling: masculine, nominative, «مئة» joined, «و» attached."""
        style = Style(random.Random(0))
        style.feminine, style.accusative, style.hundred = False, False, "مئة"
        style.pick = lambda *options: options[0]
        style.conj = lambda: " و"
        return arabic_words(n, style)

    ours, ours_us = timed(ours_number)
    theirs, theirs_us = timed(pyarabic_value)
    canon = [canonical(n) for n in numbers]
    small = [k for k, n in enumerate(numbers) if n < 1000]
    print(f"\n2. {len(numbers)} spelled numbers (half 1..999, half 1..999,999; seed {args.seed}): exact value")
    print("   mixed = random gender/case/«مئة»|«مائة»/joined or split hundreds/«و» attached or spaced;")
    print("   canonical = masculine nominative, «ثلاثمئة», «و» attached")
    print(f"{'':<22}{'mixed':>8}{f'<1000 (of {len(small)})':>18}{'canonical':>11}{'µs/call':>9}")
    for name, got, us, fn in (
        ("hasila parse_number", ours, ours_us, ours_number),
        ("pyarabic text2number", theirs, theirs_us, pyarabic_value),
    ):
        right = [g == n for g, n in zip(got, numbers)]
        canon_right = sum(fn(t) == n for t, n in zip(canon, numbers))
        print(f"{name:<22}{sum(right):>8}{sum(right[k] for k in small):>18}{canon_right:>11}{us:>9.1f}")
    wrong = [(t, n, g) for t, n, g in zip(texts, numbers, theirs) if g != n][:5]
    for t, n, g in wrong:
        print(f"  pyarabic wrong: {t!r} → {g} (want {n})")

    print(f"\n3. {len(SENTENCES)} sentences: all figures found with the right values")
    ours_ok = sum([q.value for _, _, q in find_quantities(s)] == want for s, want in SENTENCES)
    theirs_ok = sum(pyarabic_find(s) == want for s, want in SENTENCES)
    print(f"hasila find_quantities {ours_ok}/{len(SENTENCES)}   "
          f"pyarabic extract_number_phrases {theirs_ok}/{len(SENTENCES)}")
    for s, want in SENTENCES:
        got = pyarabic_find(s)
        if got != want:
            print(f"  pyarabic: {s!r} → {got} (want {want})")


if __name__ == "__main__":
    main()
