#!/bin/bash
# One call of the device tool, run from the repository root there:
#   bash training/device/run.sh PACK            merge a pack (training.device.pack) into $D
#   bash training/device/run.sh PACK check      ... and print what the machine has
#   bash training/device/run.sh PACK train      ... then make mixtures on NB CPU cores and
#                                               train on the GPU for SECS seconds
# The machine keeps $D between calls while it stays warm, so each call can
# carry one pack of at most 64 MiB. Environment: NB (builders, 14), SECS
# (training seconds, 400), WIDTH (512), DEV (cuda), SEED0 (builder seeds
# SEED0+1..; default 9100 plus the step the run starts from, so every call
# mixes new data), XARGS (more builder flags), TARGS (more trainer flags,
# e.g. a pruning schedule: --density gru=0.2 --prune-end 20000), FRESH=1
# (start over even where a run could resume). A val.pnf in a pack gives the
# log a validation column (else it repeats the training loss).
# Where it starts: the run this machine still holds from an earlier call
# ($W/run/last.pt), else the resume parts a pack carried (resume/, written by
# an earlier call's OUT), else the widened --init. So a run's GPU minutes add
# up over calls, machines and sessions.
# OUT (at most 8 files, 64 MiB, the device tool's limits): log.csv, the
# float16 parts of the average of the last 10 epochs (avg-*.pt: join and
# export them here), and the resume parts of the run (resume-*.pt: bfloat16
# moments, about 46 MiB for the paper-size model).
set -u
D=${D:-/root/d}; W=${W:-/root/w}; OUT=${OUT:-/tmp/out}
T0=$(date +%s); el() { echo $(( $(date +%s) - T0 )); }
mkdir -p "$D" "$OUT"
if [ -d "$1" ]; then cp -a "$1"/. "$D"/ && echo "merged $1: $(du -sm "$D" | cut -f1) MB in $D"; fi
if [ -f "$D/node.xz" ] && [ ! -x "$D/bin/node" ]; then
  mkdir -p "$D/bin"
  python3 -c "import lzma,shutil,sys;shutil.copyfileobj(lzma.open(sys.argv[1]),open(sys.argv[2],'wb'))" \
    "$D/node.xz" "$D/bin/node" && chmod +x "$D/bin/node" && rm "$D/node.xz"
fi
export PATH=$D/bin:$PATH
case "${2:-}" in
check)
  node --version; nproc; free -g | head -2; df -h /root | tail -1
  nvidia-smi -L; python3 -c "import torch,numpy;print(torch.__version__,numpy.__version__,torch.cuda.is_available())"
  exit 0;;
train) ;;
*) exit 0;;
esac
NB=${NB:-14}; SECS=${SECS:-400}; WIDTH=${WIDTH:-512}; DEV=${DEV:-cuda}
mkdir -p "$W"; rm -rf "$W"/b* "$W/wide.pt"
[ -n "${FRESH:-}" ] && rm -rf "$W/run"
INIT=()
if [ -f "$W/run/last.pt" ]; then
  echo "resuming the run this machine holds"
elif ls "$D"/resume/resume-*.pt > /dev/null 2>&1 && [ -z "${FRESH:-}" ]; then
  rm -rf "$W/run"; mkdir -p "$W/run"
  python3 -m training.device.parts join "$D"/resume/resume-*.pt -o "$W/run/last.pt" || exit 4
  echo "resuming the run the pack carried"
else
  rm -rf "$W/run"
  python3 -m training.widen "$D/default.pt" -o "$W/wide.pt" --width "$WIDTH" --step 18000 || exit 4
  INIT=(--init "$W/wide.pt")
fi
STEP0=0
[ -f "$W/run/last.pt" ] && STEP0=$(python3 -c "import sys,torch;print(torch.load(sys.argv[1],map_location='cpu',weights_only=False)['step'])" "$W/run/last.pt")
SEED0=${SEED0:-$((9100 + STEP0))}
echo "from step $STEP0, builder seeds $((SEED0 + 1))..$((SEED0 + NB))"
python3 -m training.device.manifest --check "$D/corpus" || exit 3
EXTRA="$(python3 -m training.device.manifest "$D"/x-*) ${XARGS:-}"
echo "extra builder flags: $EXTRA"
pids=()
for i in $(seq 1 "$NB"); do
  (cd "$D/app" && exec node dist/tools/build-dataset.js --out "$W/b$i" --split train --n 20 \
     --seed $((SEED0 + i)) --snr-max 30 --loop --keep 6 --data "$D/corpus" $EXTRA --noise-speed 30 --quiet) \
     > "$W/b$i.log" 2>&1 &
  pids+=($!)
done
while [ "$(ls "$W"/b*/*.pnf 2>/dev/null | wc -l)" -lt "$NB" ] && [ "$(el)" -lt 150 ]; do sleep 2; done
echo "t=$(el)s: $(ls "$W"/b*/*.pnf 2>/dev/null | wc -l) chunks ready"
VAL=(); [ -f "$D/val.pnf" ] && VAL=(--val "$D/val.pnf" --val-frames 60000)
# A resumed run keeps its own schedule (lr, pruning); these flags start a new one.
timeout "$SECS" python3 -m training.train --train-glob "$W/b*/*.pnf" --out "$W/run" "${INIT[@]}" "${VAL[@]}" \
  --above-band-weight 0.5 --distortion-weight 1 --epochs 1000 --batch 32 --crop 150 300 \
  --steps-per-epoch "${STEPS:-200}" --lr 2e-3 --lr-decay 5e-4 --threads 2 --snapshots 12 --patience 100000 \
  --device "$DEV" --seed 11 --print-every 30 ${TARGS:-} 2>&1 | grep -v "^skipping"
echo "t=$(el)s: trainer done"
kill "${pids[@]}" 2>/dev/null
for i in $(seq 1 "$NB"); do
  n=$(ls "$W/b$i" | sed -n 's/^chunk-0*\([0-9][0-9]*\)\.pnf$/\1/p' | sort -n | tail -1)
  echo "builder $i: last chunk ${n:-none}"
done
[ -f "$W/run/last.pt" ] || { echo "no epoch ended: nothing to return"; exit 5; }
cp "$W/run/log.csv" "$OUT/log.csv"
snaps=($(ls "$W"/run/snapshots/epoch-*.pt 2>/dev/null | tail -10))
if [ "${#snaps[@]}" -gt 0 ]; then
  python3 -m training.average "${snaps[@]}" -o "$W/avg.pt" --force
  python3 -m training.device.parts split "$W/avg.pt" "$OUT/avg"
fi
python3 -m training.device.parts split --resume "$W/run/last.pt" "$OUT/resume"
ls -la "$OUT"; echo "t=$(el)s: end"
