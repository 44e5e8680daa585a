"""python3 -m ntplugin vendor DIR: copies the ntplugin package into
DIR/ntplugin and generates the message code into DIR/pb, so that a plugin
folder holds all the Python code it runs (what the plugin lock records).
python3 -m ntplugin gen-proto DIR: only the message code, into DIR."""
import sys

import ntplugin


def main(argv):
    if len(argv) != 2 or argv[0] not in ("vendor", "gen-proto"):
        sys.stderr.write("usage: python3 -m ntplugin vendor DIR | gen-proto DIR\n")
        return 2
    if argv[0] == "vendor":
        ntplugin.vendor(argv[1])
    else:
        ntplugin.gen_proto(argv[1])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
