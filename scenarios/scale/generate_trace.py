#!/usr/bin/env python3
"""Write a kubesim pod trace (the `workload.traces` CSV format) of N pods.

Arrivals are a Poisson process spread evenly over 24 hours; each pod asks for
1-4 CPU and 1-8 GiB and runs 5-60 minutes (uniform, whole units). The output
depends only on N and --seed, so the shipped 100,000-pod file can be rebuilt:

    python3 scenarios/scale/generate_trace.py 100000 | gzip -9n > scenarios/scale/pods-100k.csv.gz
    python3 scenarios/scale/generate_trace.py 1000000 > /tmp/pods-1m.csv   # the memory check
"""
import argparse
import random
import sys

DAY_S = 24 * 3600


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("pods", type=int, help="number of pods")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--hours", type=float, default=24.0, help="arrival window")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    rate = a.pods / (a.hours * 3600.0)
    out = sys.stdout
    out.write(f"# {a.pods} pods over {a.hours:g} h, seed {a.seed}: generate.py\n")
    out.write("arrival,cpu,memory,duration,priority,labels\n")
    t = 0.0
    for i in range(a.pods):
        t += rng.expovariate(rate)
        cpu = rng.randint(1, 4)
        mem = rng.randint(1, 8)
        dur = rng.randint(5, 60)
        out.write(f"{t:.3f},{cpu},{mem}Gi,{dur}m,,\n")


if __name__ == "__main__":
    main()
