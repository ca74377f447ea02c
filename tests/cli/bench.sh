#!/bin/sh
# End-to-end: convkit bench. The JSON contract of DESIGN.md (median_ms,
# min_ms, max_ms, runs, threads, input), option errors, invalid models. No
# assertion is made on the times themselves.
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

expect_rc 0 "$CK" bench --help
expect_out "usage: convkit bench MODEL"
expect_rc 0 "$CK" --help
expect_out "bench MODEL"

echo "cli_bench: $pass passed, $fail failed"
[ "$fail" = 0 ]
