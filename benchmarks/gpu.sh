#!/usr/bin/env bash
# The GPU half of the speed benchmark, as run on the lent H100 machine (see README, "Speed").
#   benchmarks/gpu.sh ARTICLES.jsonl OUTDIR [N]
# ARTICLES: real articles (benchmarks/snn_articles.py), repeated to N (default 20000).
# Writes OUTDIR/*.json (figures) and OUTDIR/log.txt; needs hasila importable and a CUDA GPU.
set -uo pipefail
articles=$1; out=$2; n=${3:-20000}
mkdir -p "$out"
exec > >(tee "$out/log.txt") 2>&1
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
echo "cores: $(nproc)  $(grep -m1 'model name' /proc/cpuinfo)"
python3 -c 'import torch, transformers; print("torch", torch.__version__, "transformers", transformers.__version__)'
b="python3 benchmarks/bench_extract.py --device cuda --articles $articles"
echo "== A: batch 256, workers: all cores but one (the command's default on CUDA); model alone; naive on 2000 articles"
$b --n "$n" --batch-size 256 --model-only 4000 --naive-n 2000 --json "$out/gpu-b256.json"
echo "== B: batch 512 (the command's default on CUDA)"
$b --n "$n" --batch-size 512 --no-naive --json "$out/gpu-b512.json"
echo "== C: batch 512, bf16 weights"
$b --n "$n" --batch-size 512 --dtype bfloat16 --model-only 4000 --no-naive --json "$out/gpu-b512-bf16.json"
echo "== D: batch 256, bf16 weights"
$b --n "$n" --batch-size 256 --dtype bfloat16 --no-naive --json "$out/gpu-b256-bf16.json"
echo "== E: no workers (one process), profiled"
$b --n 1000 --batch-size 256 --workers 0 --no-naive --top 15 --json "$out/gpu-b256-w0.json"
echo "== F: the command end to end (model load, worker start, reading, writing)"
python3 - "$articles" "$n" /tmp/cli_in.jsonl <<'PY'
import itertools, json, sys
rows = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8") if l.strip()]
with open(sys.argv[3], "w", encoding="utf-8") as fh:
    for i, r in enumerate(itertools.islice(itertools.cycle(rows), int(sys.argv[2]))):
        fh.write(json.dumps({**r, "id": f"{r['id']}#{i}"}, ensure_ascii=False) + "\n")
PY
head -n 200 /tmp/cli_in.jsonl > /tmp/cli_in200.jsonl
for spec in "200 default" "$n default" "$n bf16"; do  # 200 articles: what starting costs
  set -- $spec; k=$1; extra=""; [ "$2" = bf16 ] && extra="--dtype bfloat16"
  input=/tmp/cli_in.jsonl; [ "$k" = 200 ] && input=/tmp/cli_in200.jsonl
  start=$(date +%s.%N)
  (cd /tmp && python3 -m hasila.infer.cli "$input" -o /tmp/cli_out.jsonl -q $extra)
  end=$(date +%s.%N)
  python3 - "$start" "$end" "$k" /tmp/cli_out.jsonl "$out/gpu-cli-$k-$2.json" <<'PY'
import json, sys
start, end, n = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
recs = [json.loads(l) for l in open(sys.argv[4], encoding="utf-8")]
fig = {"articles": n, "records": len(recs), "ok": sum(r["status"] == "ok" for r in recs),
       "incidents": sum(len(r["incidents"]) for r in recs), "seconds": end - start, "articles_per_s": n / (end - start)}
print(fig)
open(sys.argv[5], "w").write(json.dumps(fig, indent=1))
PY
done
