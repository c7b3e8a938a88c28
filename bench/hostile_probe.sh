#!/usr/bin/env bash
# The cases of issue #17, through the CLI only, on the binary given: prints one line per case (exit code, first line of stderr).
F=$1; W=$(mktemp -d); cd "$W"
$F --db s.db init >/dev/null 2>&1
case_() { local name=$1; shift; out=$("$@" 2>&1 >/dev/null | head -c 300 | head -1); code=$?; rc=${PIPESTATUS[0]}; printf '%-34s rc=%s %s\n' "$name" "$1" "$out"; }
run() { local name=$1; shift; "$@" >o.txt 2>e.txt; rc=$?; printf '%-34s rc=%-3s %s\n' "$name" "$rc" "$(head -c 160 e.txt | head -1)"; }
run "arabic digit date" $F --db s.db log statement --question russia-iss-withdrawal --expert Zak --date ٢٠٢٣-04-01 --claim "after 2024" --quote q --source s --no-update
run "fullwidth claim" $F --db s.db log statement --question russia-iss-withdrawal --expert Zak --date 2023-04-01 --claim "after ２０２８" --quote q2 --source s --no-update
run "arabic ref" $F --db s.db retract S١ --reason r
run "huge draws" $F --db s.db run --draws 99999999999999999999999 --quiet
run "garbage url" $F --db 'garbage://' evidence list
run "password in url" $F --db 'postgresql://u:S3CRET@[::1/x' evidence list
run "runs --question nosuch" $F --db s.db runs --question nosuch
run "score nosuch" $F --db s.db score nosuch
run "report --tag nosuch" $F --db s.db report --tag nosuch
run "report --out empty" $F --db s.db report --out ""
mkfifo fifo.csv; run "export onto fifo" $F --db s.db export fifo.csv
run "import fifo (timeout 5s)" timeout 5 $F --db s.db import fifo.csv
run "draws into missing dir" $F --db s.db draws 1 --out missing/dir/x.nc
ln -s target.png link.png; echo keep > target.png; run "calibration via symlink" $F --db s.db calibration --out link.png
printf '[question]\nslug = "zenda"\ntitle = "When?"\nkind = "date"\nhorizon_start = "0000-01"\nhorizon_end = "0005-12"\ncriteria = "x"\n' > q.toml
run "question horizon year 0" $F --db s.db question add q.toml
: > empty.db; run "empty file as store" $F --db empty.db evidence list
run "old export import" $F --db new.db import /work/main/tests/exports/release-2026-11-24.csv
echo "target.png now: $(cat target.png 2>/dev/null | head -c 20)"
