"""The ``regulab`` command."""
from __future__ import annotations

import argparse


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="regulab", description="Train neural networks that generalize.")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="the regularization lesson's techniques side by side, with error bars")
    demo.add_argument("--seeds", type=int, default=5, help="seeds per technique (default 5)")
    demo.add_argument("--epochs", type=int, default=100, help="maximum epochs per run (default 100)")
    args = parser.parse_args(argv)
    if args.command == "demo":
        if args.seeds < 2:
            parser.error("--seeds must be at least 2 to report a standard deviation")
        if args.epochs < 1:
            parser.error("--epochs must be at least 1")
        from regulab.lab._demo import main as demo_main

        demo_main(seeds=args.seeds, epochs=args.epochs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
