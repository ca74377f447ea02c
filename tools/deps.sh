#!/bin/sh
# Installs the Debian packages convkit needs to build and test, if missing.
set -e
PKGS="make gcc clang libjansson-dev libprotobuf-c-dev protobuf-c-compiler libonnx-dev"
PKGS="$PKGS librsvg2-bin" # rsvg-convert: tests/cli/summary.sh renders the summary SVG
PKGS="$PKGS python3"      # the CLI tests parse JSON and compare .npy files with /usr/bin/python3
PKGS="$PKGS pkgconf"      # tests/cli/install.sh builds a program with pkg-config
PKGS="$PKGS libhdf5-dev libzip-dev" # Keras .h5 and .keras model files (src/import/h5.c, kzip.c)
PKGS="$PKGS python3-h5py"           # tests/keras/gen_files.py writes Keras .h5 and .keras test files
# the Python package's tests (tests/cli/python.sh): PyTorch is the truth they compare with
PKGS="$PKGS python3-torch python3-torchvision python3-pytest"
# ONNX's node conformance tests (tests/cli/onnx_conformance.sh) and bench/check_speed.py
PKGS="$PKGS python3-onnx"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends $missing
