#!/bin/sh
# make install into a temporary DESTDIR, then a program built the way
# another project would build it: only the installed header and
# `pkg-config --cflags --libs convkit`, against the shared library (run with
# LD_LIBRARY_PATH) and, with --static, against the archive of a static-only
# install. The program (tests/install/consumer.c) loads a .cnn text, ONNX
# bytes and a Keras JSON from memory, checks, prints, solves sizes and runs
# each, with NULL for every optional argument.
#
# CC, CFLAGS and LDFLAGS come from the environment (`make check` exports the
# ones the build used, so under `make asan` the program runs under ASan too).
. tests/cli/lib.sh.in
B=$(dirname "$CK")
P=/opt/convkit
D=$T/dest
CC=${CC:-cc}
H=include/convkit.h
MAJOR=$(header_version MAJOR)
VERSION=$MAJOR.$(header_version MINOR).$(header_version PATCH)

# Install what the build folder holds. -o .cflags: a test run is not the
# place to rebuild the folder because this shell's flags differ from the
# ones it was built with.
expect_rc 0 env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory -s \
    -o "$B/.cflags" install BUILD="$B" PREFIX="$P" DESTDIR="$D"
[ -s "$T/err" ] && cat "$T/err"
L=$D$P/lib
for f in bin/convkit include/convkit.h lib/libconvkit.a lib/libconvkit.so.$VERSION \
    lib/pkgconfig/convkit.pc; do
    [ -f "$D$P/$f" ] && ok || bad "make install did not install $P/$f"
done
[ "$(readlink "$L/libconvkit.so.$MAJOR")" = "libconvkit.so.$VERSION" ] && ok ||
    bad "$P/lib/libconvkit.so.$MAJOR does not link to libconvkit.so.$VERSION"
[ "$(readlink "$L/libconvkit.so")" = "libconvkit.so.$MAJOR" ] && ok ||
    bad "$P/lib/libconvkit.so does not link to libconvkit.so.$MAJOR"
cmp -s "$H" "$D$P/include/convkit.h" && ok || bad "the installed header differs from $H"
expect_rc 0 "$D$P/bin/convkit" --version
expect_out "convkit $VERSION"

# pkg-config over the staged install: the sysroot maps its paths into DESTDIR
export PKG_CONFIG_PATH="$L/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$D"
expect_rc 0 pkg-config --modversion convkit
expect_out "$VERSION"
expect_rc 0 pkg-config --libs convkit
expect_out "-lconvkit"
grep -q -- '-ljansson\|-lprotobuf-c' "$T/out" && bad "pkg-config --libs lists private libraries" || ok
expect_rc 0 pkg-config --static --libs convkit
expect_out "-lprotobuf-c"
expect_out "-ljansson"

# Only the installed header: the consumer is compiled away from the tree.
cp tests/install/consumer.c "$T/consumer.c"
MODELS="cnn examples/chain.cnn onnx tests/oracle/networks/chain.onnx
    keras tests/keras/json/k2_seq_cnn.json"

# shared
# shellcheck disable=SC2086 # word splitting of the flags is intended
expect_rc 0 $CC $CFLAGS -std=c11 -Wall -Wextra -Werror "$T/consumer.c" \
    $(pkg-config --cflags --libs convkit) $LDFLAGS -o "$T/consumer_shared"
[ -s "$T/err" ] && cat "$T/err"
case " $CFLAGS " in
*-fsanitize=address*) # make asan: the program runs under ASan as the library does
    nm "$T/consumer_shared" | grep -q ' __asan_init' && ok || bad "consumer_shared is not built with ASan" ;;
esac
readelf -d "$T/consumer_shared" | grep -qF "Shared library: [libconvkit.so.$MAJOR]" && ok ||
    bad "consumer_shared does not need libconvkit.so.$MAJOR"
expect_rc 0 env LD_LIBRARY_PATH="$L" "$T/consumer_shared" $MODELS
[ "$rc" = 0 ] || { cat "$T/out" "$T/err"; }
expect_out "3 of 3 models ran"
expect_out "input: [1, 3, 15, 15] (the smallest size every layer accepts)"
expect_out "run: output conv3 [1, 64, 1, 1]"
expect_out "run: output output [1, 64, 1, 1]"
expect_out "run: output dense [1, 10]"
env LD_LIBRARY_PATH="$L" ldd "$T/consumer_shared" | grep -qF "$L/libconvkit.so.$MAJOR" && ok ||
    bad "consumer_shared does not load the installed libconvkit.so.$MAJOR"
cp "$T/out" "$T/shared.out"

# static: a static-only install, where -lconvkit can only mean the archive
S=$T/static
cp -R "$D" "$S"
rm -f "$S$P"/lib/libconvkit.so*
export PKG_CONFIG_PATH="$S$P/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$S"
# without --static the archive's own dependencies are missing: the private
# fields of convkit.pc are what makes it link
$CC $CFLAGS "$T/consumer.c" $(pkg-config --cflags --libs convkit) $LDFLAGS \
    -o "$T/consumer_nolibs" > /dev/null 2>&1 && bad "linked the archive without --static" || ok
# the sysroot also moves the system's own library folders that .pc files
# name (Debian's libhdf5 lives in .../hdf5/serial): give those as they are
SYSLIBS=$(PKG_CONFIG_SYSROOT_DIR= pkg-config --libs-only-L hdf5 libzip)
expect_rc 0 $CC $CFLAGS -std=c11 -Wall -Wextra -Werror "$T/consumer.c" \
    $(pkg-config --static --cflags --libs convkit) $SYSLIBS $LDFLAGS -o "$T/consumer_static"
[ -s "$T/err" ] && cat "$T/err"
readelf -d "$T/consumer_static" | grep -q 'NEEDED.*libconvkit' &&
    bad "consumer_static needs a shared libconvkit" || ok
nm "$T/consumer_static" | grep -q ' T ck_session_run$' && ok ||
    bad "consumer_static does not hold the library's code"
expect_rc 0 "$T/consumer_static" $MODELS
[ "$rc" = 0 ] || { cat "$T/out" "$T/err"; }
expect_out "3 of 3 models ran"
# the same library: the same output, to the printed digit
cmp -s "$T/out" "$T/shared.out" && ok || bad "the static and shared programs print differently"

echo "cli_install: $pass passed, $fail failed"
[ "$fail" = 0 ]
