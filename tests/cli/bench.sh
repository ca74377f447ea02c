#!/bin/sh
# End-to-end: convkit bench. The JSON contract of DESIGN.md (median_ms,
# min_ms, max_ms, runs, threads, input), option errors, invalid models,
# --profile (text and JSON). No assertion is made on the times themselves.
. tests/cli/lib.sh.in

expect_rc 0 "$CK" bench examples/chain.cnn --input 1x3x32x32 --runs 3 --json
expect_one_json
for f in '"ok":true' '"input":[1,3,32,32]' '"runs":3' '"threads":' '"kernels":"' '"warmup":2' \
    '"median_ms":' '"min_ms":' '"max_ms":' '"mean_ms":' '"times_ms":[' '"macs":488880' \
    '"dialect":"pytorch"'; do
    expect_json "$f"
done
# three times, ordered min <= median <= max
tr -d ' \n' < "$T/out" | sed -E 's/.*"median_ms":([^,]*),"min_ms":([^,]*),"max_ms":([^,]*),.*"times_ms":\[([^]]*)\].*/\1 \2 \3 \4/' |
    tr ',' ' ' > "$T/nums"
awk '{ ok = NF == 6 && $2 <= $1 && $1 <= $3 && $2 > 0; exit !ok }' "$T/nums" && ok ||
    bad "median/min/max/times_ms inconsistent: $(cat "$T/nums")"

# text output, --threads and --kernels reach the session, --warmup 0
expect_rc 0 "$CK" bench examples/chain.cnn --input 1x3x32x32 --runs 2 --warmup 0 --threads 2
expect_out "time per run: median"
expect_out "threads: 2; kernels:"
expect_out "2 timed runs after 0 warmup"
expect_rc 0 "$CK" bench examples/chain.cnn --input 1x3x32x32 --runs 1 --threads 1 --kernels ref --json
expect_json '"threads":1'
expect_json '"kernels":"ref"'
expect_json '"fast_steps":0'
expect_rc 0 "$CK" bench examples/chain.cnn --input=1x3x32x32 --runs=1 --seed=7 --json
expect_json '"seed":7'
expect_json '"times_ms":['

# usage errors: exit 2, one JSON object with --json
expect_rc 2 "$CK" bench examples/chain.cnn --runs 0 --json
expect_one_json
expect_json '"error":"usage"'
expect_out "--runs takes a whole number"
expect_rc 2 "$CK" bench examples/chain.cnn --threads x
expect_err "--threads takes a whole number"
expect_rc 2 "$CK" bench examples/chain.cnn --warmup -1
expect_err "--warmup takes a whole number"
expect_rc 2 "$CK" bench examples/chain.cnn --kernels sse
expect_err "--kernels takes auto, ref, avx2 or avx512"
expect_rc 2 "$CK" bench
expect_err "no MODEL given"
expect_rc 2 "$CK" bench "$T/none.cnn" --json
expect_one_json
expect_json '"ok":false'
printf 'conv1 = Conv2d(3, 8, 3)\n' > "$T/noinput.cnn"
expect_rc 2 "$CK" bench "$T/noinput.cnn"
expect_err "give --input SHAPE"
expect_rc 0 "$CK" bench "$T/noinput.cnn" --input 1x3x8x8 --runs 1
expect_out "input input [1, 3, 8, 8]"

# an invalid model: exit 1 and the diagnostic, nothing timed
expect_rc 1 "$CK" bench examples/chain.cnn --input 1x3x7x7
expect_err "conv3 (Conv2d): output height would be 0"
expect_rc 1 "$CK" bench examples/chain.cnn --input 1x3x7x7 --json
expect_one_json
expect_json '"code":"output_too_small"'

# the benchmark's networks (bench/models, written by gen_models.py) are
# torchvision's: the same parameter and multiply-add counts
expect_rc 0 "$CK" summary bench/models/resnet18.cnn --format json
expect_json '"totals":{"params":11689512,"macs":1814073344'
expect_rc 0 "$CK" summary bench/models/mobilenet_v2.cnn --format json
expect_json '"totals":{"params":3504872,"macs":300774272'
expect_rc 0 "$CK" bench bench/models/mobilenet_v2.cnn --input 1x3x64x64 --runs 1 --warmup 0
expect_out "time per run: median"

# --profile: per-step table after the timed runs, in execution order. With
# the reference kernels every step is "ref" and nothing is folded; the kernel
# strings of the fast kernels are only matched by prefix.
cat > "$T/prof.cnn" << 'EOF'
input: [1, 8, 12, 12]
c1 = Conv2d(8, 16, 3, padding=1, bias=False)
bn1 = BatchNorm2d(16)
r1 = ReLU()
pool = AdaptiveAvgPool2d(1)
flat = Flatten()
fc = Linear(16, 4)
EOF
expect_rc 0 "$CK" bench "$T/prof.cnn" --runs 3 --kernels ref --threads 1 --profile
expect_out "time per run: median"
expect_out "profile: median of 3 profiled runs per step, in execution order"
expect_out "sum of the step medians:"
# the rows: step, layer, type, kernel, ms, %, GFLOP/s (- without flops)
awk '$1 ~ /^[0-9]+$/ && NF == 7 { printf "%s %s %s %s %s;", $1, $2, $3, $4, $7 == "-" ? "-" : "n" }' \
    "$T/out" > "$T/rows"
[ "$(cat "$T/rows")" = "0 c1 Conv2d ref n;1 bn1 BatchNorm2d ref -;2 r1 ReLU ref -;3 pool AdaptiveAvgPool2d ref -;4 fc Linear ref n;" ] &&
    ok || bad "profile rows: $(cat "$T/rows")"
awk '$1 ~ /^[0-9]+$/ && NF == 7 { n++; if (!($5 >= 0 && $6 >= 0 && $6 <= 100)) b++ } END { exit !(n == 5 && !b) }' \
    "$T/out" && ok || bad "profile ms or % out of range"
expect_rc 0 "$CK" bench "$T/prof.cnn" --runs 3 --kernels ref --threads 1 --profile --json
expect_one_json
# the existing fields are unchanged ("steps" stays the step count)
expect_json '"fast_steps":0,"folded_steps":0,"steps":5,"runs":3,"warmup":2'
expect_json '"median_ms":'
expect_json '"profile":{"runs":3,"total_ms":'
expect_json ',"steps_ms":'
expect_json '"steps":[{"index":0,"layer":"c1","type":"Conv2d","kernel":"ref","flops":331776,"median_ms":'
expect_json '{"index":1,"layer":"bn1","type":"BatchNorm2d","kernel":"ref","flops":0,"median_ms":'
expect_json '{"index":4,"layer":"fc","type":"Linear","kernel":"ref","flops":128,"median_ms":'
n=$(tr -d ' \n' < "$T/out" | grep -o '"index":' | wc -l)
[ "$n" = 5 ] && ok || bad "profile has $n steps, want 5"
n=$(tr -d ' \n' < "$T/out" | grep -o '"gflops":null' | wc -l)
[ "$n" = 3 ] && ok || bad "$n steps without flops have gflops null, want 3"
# the percentages add up to 100; every median is >= 0 (the run's and 5 steps')
tr -d ' \n' < "$T/out" | grep -o '"pct":[^,}]*' | cut -d: -f2 |
    awk '{ s += $1; n++ } END { exit !(n == 5 && s > 99.9 && s < 100.1) }' && ok ||
    bad "profile pct does not add up to 100"
tr -d ' \n' < "$T/out" | grep -o '"median_ms":[^,}]*' | cut -d: -f2 |
    awk '{ n++; if (!($1 >= 0)) b++ } END { exit !(n == 6 && !b) }' && ok ||
    bad "profile median_ms missing or negative"
# the best kernels: the batch norm and the ReLU fold into the convolution
expect_rc 0 "$CK" bench "$T/prof.cnn" --runs 2 --warmup 0 --profile --json
expect_one_json
if tr -d ' \n' < "$T/out" | grep -qF '"kernels":"ref"'; then
    ok # no fast kernels on this CPU
else
    expect_json '"layer":"c1","type":"Conv2d","kernel":"avx'
    expect_json '"layer":"bn1","type":"BatchNorm2d","kernel":"foldedintoc1"'
    expect_json '"layer":"r1","type":"ReLU","kernel":"foldedintoc1"'
    expect_rc 0 "$CK" bench "$T/prof.cnn" --runs 2 --warmup 0 --profile
    expect_out "folded into c1"
fi
# no profile unless asked for
expect_rc 0 "$CK" bench "$T/prof.cnn" --runs 1 --json
tr -d ' \n' < "$T/out" | grep -qF '"profile"' && bad "profile without --profile" || ok
expect_rc 0 "$CK" bench "$T/prof.cnn" --runs 1
grep -qF "profile:" "$T/out" && bad "profile table without --profile" || ok

expect_rc 0 "$CK" bench --help
expect_out "--profile"
expect_out "usage: convkit bench MODEL"
expect_rc 0 "$CK" --help
expect_out "bench MODEL"

echo "cli_bench: $pass passed, $fail failed"
[ "$fail" = 0 ]
