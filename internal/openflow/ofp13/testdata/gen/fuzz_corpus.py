#!/usr/bin/python3
"""Write the FuzzDecode seed corpus (testdata/fuzz/FuzzDecode/peer-*) from
the peer fixtures, in the `go test fuzz v1` format. Fixtures over 8 KiB
are left out of the directory (FuzzDecode still adds every fixture with
f.Add); files named regress-* are inputs the fuzzer found and are kept.

usage: fuzz_corpus.py PEERSDIR CORPUSDIR
"""
import glob
import os
import sys


def read_fixture(path):
    hexstr = "".join(l.strip() for l in open(path) if not l.startswith("#"))
    return bytes.fromhex(hexstr)


def main():
    peers, corpus = sys.argv[1], sys.argv[2]
    os.makedirs(corpus, exist_ok=True)
    for old in glob.glob(os.path.join(corpus, "peer-*")):
        os.remove(old)
    n = 0
    for path in sorted(glob.glob(os.path.join(peers, "*", "*.hex"))):
        b = read_fixture(path)
        if len(b) > 8192:
            continue
        peer = os.path.basename(os.path.dirname(path))
        name = "peer-%s-%s" % (peer, os.path.basename(path)[:-4])
        lit = "".join("\\x%02x" % c for c in b)
        with open(os.path.join(corpus, name), "w") as f:
            f.write('go test fuzz v1\n[]byte("%s")\n' % lit)
        n += 1
    print(n, "seeds")


if __name__ == "__main__":
    main()
