"""The model folder with the oldest ``transformers`` that pyproject.toml allows, in a throwaway venv.

    python benchmarks/transformers_floor.py [--model models/hasila-ner] [--limit 40] [--venv DIR] [--json out.json]

Makes a venv with ``transformers==<floor>`` (the ``transformers>=`` bound of pyproject.toml,
from PyPI; torch and safetensors are borrowed from the running environment through a .pth
file, so nothing large is installed), loads the model's tokenizer and the card's recipe
(``pipeline(aggregation_strategy="none", ignore_labels=[])`` + ``word_entities``, printed into
the card from hasila.train.hf_compat) there, and compares with the running ``transformers`` on
gold articles (dev split): token ids of ``tokenizer(text)`` and the card's entities must be
identical. Exit status 0 when they all are. ``--venv DIR`` keeps the venv for a rerun.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

CHILD = r'''
import json, sys, transformers, tokenizers
from transformers import AutoTokenizer, pipeline
model, texts_path, source = sys.argv[1], sys.argv[2], sys.argv[3]
ns = {}
exec(open(source, encoding="utf-8").read(), ns)
texts = json.load(open(texts_path, encoding="utf-8"))
tok = AutoTokenizer.from_pretrained(model)
ner = pipeline("token-classification", model=model, aggregation_strategy="none", ignore_labels=[], device="cpu")
out = {"transformers": transformers.__version__, "tokenizers": tokenizers.__version__, "class": type(tok).__name__,
       "ids": [tok(t)["input_ids"] for t in texts], "entities": [ns["word_entities"](ner, t) for t in texts]}
print("@@" + json.dumps(out, ensure_ascii=False))
'''


def floor_version(pyproject: Path = REPO / "pyproject.toml") -> str:
    m = re.search(r'"transformers>=([0-9][0-9.]*)"', pyproject.read_text(encoding="utf-8"))
    if not m:
        raise SystemExit(f"{pyproject}: no \"transformers>=X\" requirement")
    return m.group(1)


def make_venv(venv: Path, version: str) -> Path:
    py = venv / "bin" / "python"
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    have = subprocess.run([str(py), "-c", "import transformers; print(transformers.__version__)"], capture_output=True, text=True)
    if have.stdout.strip() != version:
        subprocess.run([str(py), "-m", "pip", "install", "-q", f"transformers=={version}"], check=True)
    site = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    # Appended after the venv's own packages: its transformers/tokenizers win, torch comes from here.
    (Path(site) / "zz_borrowed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    return py


def run_child(python: str, model: Path, texts: Path, source: Path) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(CHILD)
    res = subprocess.run([python, f.name, str(model), str(texts), str(source)], capture_output=True, text=True)
    Path(f.name).unlink()
    line = next((l for l in res.stdout.splitlines() if l.startswith("@@")), None)
    if res.returncode or line is None:
        return {"error": (res.stderr or res.stdout).strip().splitlines()[-1:] or ["no output"]}
    return json.loads(line[2:])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", type=Path, default=REPO / "models" / "hasila-ner")
    p.add_argument("--limit", type=int, default=40, help="gold dev articles (default 40)")
    p.add_argument("--venv", type=Path, help="keep the floor venv here (default: a temporary folder)")
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)

    from hasila.train.gold import gold_documents
    from hasila.train.hf_compat import word_entities_source

    version = floor_version()
    t0 = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        venv = args.venv or Path(tmp) / "venv"
        py = make_venv(venv, version)
        texts = [d.text for d in gold_documents("dev")][: args.limit]
        texts_path, source = Path(tmp) / "texts.json", Path(tmp) / "word_entities.py"
        texts_path.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
        source.write_text(word_entities_source(), encoding="utf-8")
        floor = run_child(str(py), args.model.resolve(), texts_path, source)
        now = run_child(sys.executable, args.model.resolve(), texts_path, source)
    figures = {"model": str(args.model), "floor": {k: floor.get(k) for k in ("transformers", "tokenizers", "class", "error")},
               "current": {k: now.get(k) for k in ("transformers", "tokenizers", "class", "error")}, "texts": len(texts),
               "seconds": round(time.time() - t0, 1)}
    ok = "error" not in floor and "error" not in now
    if ok:
        figures["identical_ids"] = sum(a == b for a, b in zip(floor["ids"], now["ids"]))
        figures["identical_entities"] = sum(a == b for a, b in zip(floor["entities"], now["entities"]))
        figures["entities"] = sum(map(len, now["entities"]))
        ok = figures["identical_ids"] == figures["identical_entities"] == len(texts)
    figures["ok"] = ok
    print(json.dumps(figures, indent=1, ensure_ascii=False))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
