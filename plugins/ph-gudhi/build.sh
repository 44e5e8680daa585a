#!/bin/sh
# build.sh BIN_DIR: installs the gudhi homology plugin into BIN_DIR as the
# launcher BIN_DIR/nt-ph-gudhi, with its Python code and the message code
# generated from sdk/proto/plugin.proto and the sdk's Python package
# ntplugin in BIN_DIR/ph-gudhi-py/ (a name plugin discovery ignores).
#
# Needs Debian's protobuf-compiler (protoc 3.21, matching python3-protobuf
# 3.21), python3-grpcio, python3-protobuf, python3-numpy, python3-gudhi.
# The gRPC service wiring is written by hand (grpc generic handlers), so
# the old python3-grpc-tools is not needed.
set -eu
if [ $# -ne 1 ]; then
	echo "usage: $0 BIN_DIR" >&2
	exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
proto_dir=$(cd "$here/../../sdk/proto" && pwd)
mkdir -p "$1"
bin=$(cd "$1" && pwd)
lib="$bin/ph-gudhi-py"
command -v protoc >/dev/null 2>&1 || { echo "build.sh: protoc not found (install Debian's protobuf-compiler)" >&2; exit 1; }

tmp="$lib.tmp.$$"
rm -rf "$tmp"
mkdir -p "$tmp"
ntplugin="$proto_dir/../python/ntplugin"
protoc --python_out="$tmp" -I "$proto_dir" "$proto_dir/plugin.proto"
protoc --python_out="$tmp" -I "$ntplugin" "$ntplugin/health.proto"
protoc --python_out="$tmp" -I "$here" "$here/wire.proto"
cp "$here/server.py" "$tmp/server.py"
# The sdk's Python package does the plugin protocol (sdk/python/ntplugin).
mkdir -p "$tmp/ntplugin"
cp "$ntplugin"/*.py "$ntplugin/health.proto" "$tmp/ntplugin/"
rm -rf "$lib"
mv "$tmp" "$lib"

# The launcher runs the interpreter named here at build time ($PYTHON,
# default Debian's python3, where python3-gudhi lives), not whatever
# python3 is first in PATH, and declares its code folder: the plugin lock
# records the launcher (so the interpreter's path) and every file of
# ph-gudhi-py/. -E ignores PYTHONPATH and the other PYTHON* variables, -s
# the user's site-packages, -B writes no bytecode, so what runs is what is
# locked.
py=${PYTHON:-/usr/bin/python3}
case "$py" in
/*) ;;
*) echo "build.sh: PYTHON=$py: give an absolute path" >&2; exit 1 ;;
esac
cat > "$bin/nt-ph-gudhi.tmp" <<LAUNCHER
#!/bin/sh
# nt-lock-code: ph-gudhi-py
here=\$(dirname "\$(readlink -f "\$0")")
exec $py -E -s -B "\$here/ph-gudhi-py/server.py" "\$@"
LAUNCHER
chmod 755 "$bin/nt-ph-gudhi.tmp"
mv "$bin/nt-ph-gudhi.tmp" "$bin/nt-ph-gudhi"
