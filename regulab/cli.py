"""The ``regulab`` command: ``demo``, ``study CONFIG.toml``, ``diagnose history.csv``, ``run script.py``,
``course ...`` and ``exercise ...``."""
from __future__ import annotations

import argparse


def _demo_parser(sub) -> None:
    demo = sub.add_parser("demo", help="the regularization lesson's techniques side by side, with error bars")
    demo.add_argument("--seeds", type=int, default=5, help="seeds per technique (default 5)")
    demo.add_argument("--epochs", type=int, default=100, help="maximum epochs per run of the lesson's model (default 100)")
    demo.add_argument("--quick", action="store_true", help="2 seeds and a few epochs: check that it runs")
    demo.add_argument("--output", default="regulab-report", help="the report's folder (default regulab-report)")
    demo.set_defaults(run=_run_demo)


def _run_demo(args, parser) -> int:
    if args.seeds < 2:
        parser.error("--seeds must be at least 2 to report a standard deviation")
    if args.epochs < 1:
        parser.error("--epochs must be at least 1")
    from regulab.lab._demo import main as demo_main

    if args.quick:
        demo_main(seeds=2, epochs=5, cnn_epochs=2, output=args.output)
    else:
        demo_main(seeds=args.seeds, epochs=args.epochs, output=args.output)
    return 0


def main(argv=None) -> int:
    from regulab.lab._diagnose_cli import add_parser as add_diagnose_parser
    from regulab.lab._diagnose_cli import run as run_diagnose
    from regulab.compat._run import add_parser as add_run_parser
    from regulab.course._cli import add_course_parser, add_exercise_parser
    from regulab.lab._study_cli import add_parser as add_study_parser

    parser = argparse.ArgumentParser(prog="regulab", description="Train neural networks that generalize.")
    sub = parser.add_subparsers(dest="command", required=True)
    _demo_parser(sub)
    add_study_parser(sub)
    add_diagnose_parser(sub).set_defaults(run=run_diagnose)
    add_run_parser(sub)
    add_course_parser(sub)
    add_exercise_parser(sub)
    args = parser.parse_args(argv)
    if args.command == "demo":
        return args.run(args, parser)
    return args.run(args)


if __name__ == "__main__":
    raise SystemExit(main())
