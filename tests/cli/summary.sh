#!/bin/sh
# End-to-end: convkit summary's receptive-field columns and fields, and the
# SVG picture rendered by rsvg-convert for valid and failing models.
. tests/cli/lib.sh.in

# expect_png FILE: FILE starts with the PNG signature
expect_png() {
    sig=$(od -An -tx1 -N8 "$1" 2>/dev/null | tr -d ' \n')
    [ "$sig" = 89504e470d0a1a0a ] && ok || bad "$1 is not a PNG (signature '$sig')"
}
# expect_svg_renders: the last command's stdout is an SVG that rsvg-convert draws
n_svg=0
expect_svg_renders() {
    n_svg=$((n_svg + 1))
    cp "$T/out" "$T/pic$n_svg.svg"
    if ! command -v rsvg-convert > /dev/null; then
        bad "rsvg-convert is missing: run tools/deps.sh (Debian package librsvg2-bin)"
        return
    fi
    if rsvg-convert "$T/pic$n_svg.svg" -o "$T/pic$n_svg.png" 2> "$T/rsvg.err"; then
        ok
        expect_png "$T/pic$n_svg.png"
    else
        bad "rsvg-convert rejects the SVG: $(head -n 3 "$T/rsvg.err")"
    fi
    if command -v xmllint > /dev/null; then
        xmllint --noout "$T/pic$n_svg.svg" 2> "$T/xml.err" && ok || bad "not well-formed XML: $(head -n 3 "$T/xml.err")"
    fi
}

# the seed chain: r = 3, 7, 15; jump 2, 4, 8; start 1, 3, 7
expect_rc 0 "$CK" summary examples/chain.cnn --input 1x3x32x32
expect_out "Receptive field  Jump  Start"
expect_out "conv3 (Conv2d)  [1, 64, 3, 3]                18,496        165,888              0               15     8      7"
expect_rc 0 "$CK" summary examples/chain.cnn --input 1x3x32x32 --format md
expect_out "| Other ops | Receptive field | Jump | Start |"
expect_out "| conv1 (Conv2d) | [1, 16, 15, 15] | 448 | 97,200 | 0 | 3 | 2 | 1 |"
expect_out "| conv3 (Conv2d) | [1, 64, 3, 3] | 18,496 | 165,888 | 0 | 15 | 8 | 7 |"
# a failing layer has none; the layers before it keep theirs
expect_rc 1 "$CK" summary examples/chain.cnn
expect_out "conv2 (Conv2d)  [1, 32, 1, 1]                 4,640          4,608              0                7     4      3"
expect_out "conv3 (Conv2d)  FAILED                           --             --             --               --    --     --"

# ResNet-18: 435 at the last convolution (Araujo et al.), global after pooling,
# and each residual add lists the paths that meet there
expect_rc 0 "$CK" summary tests/oracle/networks/resnet18.onnx --input 1x3x224x224 --format md
expect_out "| /layer4/layer4.1/conv2/Conv (Conv) | [1, 512, 7, 7] | 2,359,808 | 115,605,504 | 0 | 435 | 32 | 0 |"
expect_out "| 435 (paths 435, 307) | 32 | 0 |"
expect_out "| /avgpool/GlobalAveragePool (GlobalAveragePool) | [1, 512, 1, 1] | 0 | 0 | 25,088 | global | - | - |"
# AlexNet's pool5: 195 (the Distill table), jump 32
expect_rc 0 "$CK" summary tests/oracle/networks/alexnet.onnx --format md
expect_out "| /features/features.12/MaxPool (MaxPool) | [1, 256, 6, 6] | 0 | 0 | 82,944 | 195 | 32 | 31 |"

# U-Net: each skip joins the up-path aligned; transposed convolutions halve the jump
expect_rc 0 "$CK" summary examples/unet.cnn --format md
expect_out "| up4 (ConvTranspose2d) | [1, 64, 32, 32] | 32,832 | 8,388,608 | 0 | 140 | 8 | 3.5 |"
expect_out "| 140 (paths 140, 68) | 8 | 3.5 |"
expect_out "| head (Conv2d) | [1, 2, 256, 256] | 18 | 1,048,576 | 0 | 200 | 1 | 0 |"

# branches whose jump or start differ are reported as not aligned
cat > "$T/branches.cnn" << 'EOT'
input: [1, 8, 16, 16]
a = Conv2d(8, 8, 2, stride=2)
b = Conv2d(8, 8, 3, stride=2, padding=1)(input)
s = add(a, b)
EOT
expect_rc 0 "$CK" summary "$T/branches.cnn"
expect_out "2, 3 (not aligned)  2, 2  0.5, 0"
expect_rc 0 "$CK" summary "$T/branches.cnn" --json
expect_one_json
expect_out '"status": "not_aligned"'
expect_out '"operands": ['

# JSON: the existing fields stay, receptive_field is added to each layer
expect_rc 0 "$CK" summary examples/chain.cnn --input 1x3x32x32 --json
expect_one_json
for f in '"model"' '"dialect"' '"layers"' '"output_shape"' '"params"' '"macs"' '"totals"' \
    '"diagnostics"' '"receptive_field": {' '"status": "local"' '"size": [' '"jump": [' \
    '"start": [' '"axis": "height"' '"axis": "width"' '"paths": ['; do
    expect_out "$f"
done
expect_rc 1 "$CK" summary examples/chain.cnn --format json
expect_one_json
expect_out '"status": "unknown"'
expect_rc 0 "$CK" summary tests/oracle/networks/resnet18.onnx --input 1x3x224x224 --json
expect_out '"status": "global"'

# SVG: a valid model, a failing one, one with layers not reached, ONNX names
expect_rc 0 "$CK" summary examples/unet.cnn --format svg
expect_out '<svg xmlns="http://www.w3.org/2000/svg"'
expect_out "cat4 (cat)"
expect_out "RF 140, jump 8"
expect_svg_renders
expect_rc 1 "$CK" summary examples/chain.cnn --format svg
expect_out 'fill="#d62728"'
expect_out "output height would be 0"
expect_out "height shrank: input 7 -&gt; conv1 3 -&gt; conv2 1 -&gt; conv3 0"
expect_svg_renders
cat > "$T/stops.cnn" << 'EOT'
input: [1, 3, 8, 8]
c1 = Conv2d(3, 8, 3, stride=2)
c2 = Conv2d(8, 8, 5)
r2 = ReLU()
c3 = Conv2d(8, 8, 1)
EOT
expect_rc 1 "$CK" summary "$T/stops.cnn" --format svg
expect_out 'stroke-dasharray'
expect_out "not reached"
expect_svg_renders
expect_rc 0 "$CK" summary tests/oracle/networks/resnet18.onnx --input 1x3x224x224 --format svg
expect_out "(log scale)"
expect_svg_renders

# text from the model is escaped: a Keras layer named with XML's special characters
cat > "$T/names.json" << 'EOT'
{"class_name": "Sequential", "config": {"name": "s", "layers": [
 {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 8, 8, 1], "name": "in<&>"}},
 {"class_name": "Conv2D", "config": {"name": "c<1> & \"q\" 'x' \u00e9", "filters": 2,
  "kernel_size": [3, 3], "strides": [1, 1], "padding": "valid"}}]}}
EOT
expect_rc 0 "$CK" summary "$T/names.json" --format svg
expect_out "c&lt;1&gt; &amp; &quot;q&quot; &apos;x&apos; é"
expect_svg_renders

expect_rc 2 "$CK" summary examples/chain.cnn --format png
expect_err "--format must be table, json, md or svg"

echo "cli_summary: $pass passed, $fail failed"
[ "$fail" = 0 ]
