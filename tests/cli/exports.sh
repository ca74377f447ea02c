#!/bin/sh
# The shared library's interface, as jansson's check-exports: the symbols
# libconvkit.so defines for other programs are exactly the functions that
# include/convkit.h declares with CK_API (parsed from the header), nothing
# internal (ck_* helpers, rt_*, protobuf's onnx__*) and nothing missing; the
# soname and file names follow the version macros of the header.
. tests/cli/lib.sh.in
B=$(dirname "$CK")
H=include/convkit.h

# The header's version, the one place it is typed.
MAJOR=$(header_version MAJOR)
VERSION=$MAJOR.$(header_version MINOR).$(header_version PATCH)
[ -n "$MAJOR" ] && [ -n "$(header_version MINOR)" ] && [ -n "$(header_version PATCH)" ] && ok ||
    bad "include/convkit.h lacks CONVKIT_VERSION_MAJOR/MINOR/PATCH"
SO=$B/libconvkit.so.$VERSION

# the real name, the soname link and the development link
[ -f "$SO" ] && [ ! -L "$SO" ] && ok || bad "$SO is missing"
[ "$(readlink "$B/libconvkit.so.$MAJOR")" = "libconvkit.so.$VERSION" ] && ok ||
    bad "$B/libconvkit.so.$MAJOR does not link to libconvkit.so.$VERSION"
[ "$(readlink "$B/libconvkit.so")" = "libconvkit.so.$MAJOR" ] && ok ||
    bad "$B/libconvkit.so does not link to libconvkit.so.$MAJOR"
readelf -d "$SO" > "$T/dyn"
grep -qF "Library soname: [libconvkit.so.$MAJOR]" "$T/dyn" && ok ||
    bad "the soname of $SO is not libconvkit.so.$MAJOR: $(grep SONAME "$T/dyn")"

# The public functions: the name before the '(' of every CK_API
# declaration of the header, with comments and preprocessor lines removed.
/usr/bin/python3 -c '
import re, sys
s = open(sys.argv[1]).read()
s = re.sub(r"/\*.*?\*/|//[^\n]*", " ", s, flags=re.S)
s = re.sub(r"(?m)^[ \t]*#(.*\\\n)*.*$", " ", s)
for name in sorted(set(re.findall(r"\bCK_API\b[^;(]*?\b(\w+)\s*\(", s))):
    print(name)' "$H" | sort -u > "$T/want"
n=$(wc -l < "$T/want")
[ "$n" -ge 60 ] && ok || bad "only $n CK_API functions found in $H; is the parser broken?"
grep -qvE '^ck_[a-z0-9_]+$' "$T/want" && bad "CK_API names not like ck_*: $(grep -vE '^ck_[a-z0-9_]+$' "$T/want")" || ok

# What the library defines for others. A sanitizer's runtime hooks
# (reserved names: a leading underscore) are not ours.
nm -D --defined-only "$SO" | awk '{print $NF}' | grep -v '^_' | sort -u > "$T/have"
nm -D --defined-only "$SO" | awk '$2 == "T" || $2 == "W" || $2 == "i" {print $NF}' | sort -u > "$T/funcs"

missing=$(comm -23 "$T/want" "$T/have")
extra=$(comm -13 "$T/want" "$T/have")
[ -z "$missing" ] && ok || bad "declared with CK_API but not exported: $(echo $missing)"
[ -z "$extra" ] && ok || bad "exported but not declared with CK_API: $(echo $extra)"
notfn=$(comm -23 "$T/want" "$T/funcs")
[ -z "$notfn" ] && ok || bad "exported but not as functions: $(echo $notfn)"
while read -r name; do
    grep -qx "$name" "$T/have" && ok || bad "$name is not exported"
done < "$T/want"

# the internals named in the issue, in case a pattern above ever loosens
nm -D --defined-only "$SO" | grep -qE ' (onnx__|rt_|protobuf_c_)' &&
    bad "internal symbols exported: $(nm -D --defined-only "$SO" | grep -cE ' (onnx__|rt_)')" || ok
# ... and what the library needs from elsewhere is only libc, libm,
# jansson and protobuf-c
nm -D --undefined-only "$SO" | grep -qE ' (ck_|rt_|onnx__)' &&
    bad "$SO leaves its own symbols undefined" || ok

# The CLI and the unit tests link the static archive: the binary does not
# need the shared library.
readelf -d "$CK" | grep -q 'NEEDED.*libconvkit' && bad "$CK needs libconvkit.so" || ok

# --version prints the header's version
expect_rc 0 "$CK" --version
expect_out "convkit $VERSION"

echo "cli_exports: $pass passed, $fail failed"
[ "$fail" = 0 ]
