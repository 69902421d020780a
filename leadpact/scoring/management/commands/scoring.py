"""``leadpact scoring fit``: learn a points scorecard from won/lost history and report on it.

Thin layer: parse arguments, read the file, call the engine, print. Bad input ends with a
clear message and a non-zero exit (Django's ``CommandError``), never a traceback.
"""

from __future__ import annotations

import json
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from leadpact.scoring.engine.errors import ScoringInputError
from leadpact.scoring.engine.history import prepare_history, read_history_csv
from leadpact.scoring.engine.report import fit_report, json_ready, render_text


class Command(BaseCommand):
    help = "Lead scoring: `scoring fit --history FILE.csv --outcome COLUMN` learns a scorecard."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        fit = sub.add_parser(
            "fit",
            help="fit a points scorecard from history and validate it beside LightGBM and "
            "naive Bayes",
        )
        fit.add_argument(
            "--history",
            required=True,
            metavar="FILE.csv",
            help="CSV of past leads, delimiter , ; or tab (detected)",
        )
        fit.add_argument(
            "--outcome",
            required=True,
            metavar="COLUMN",
            help="column holding won/lost (0/1, yes/no, …)",
        )
        fit.add_argument(
            "--positive", metavar="VALUE", help="the outcome value that means won/converted"
        )
        fit.add_argument(
            "--exclude",
            nargs="+",
            default=[],
            metavar="COL",
            help="columns not to learn from (ids, fields filled after contact)",
        )
        fit.add_argument(
            "--missing",
            nargs="+",
            default=[],
            metavar="VALUE",
            help="values that mean empty, e.g. Select",
        )
        fit.add_argument(
            "--keep",
            nargs="+",
            default=[],
            metavar="COL",
            help="keep these columns even if flagged as leaking the outcome",
        )
        fit.add_argument(
            "--date-column",
            metavar="COL",
            help="lead date: adds an out-of-time check (train old, test new)",
        )
        fit.add_argument("--max-attributes", type=int, default=12, metavar="N")
        fit.add_argument("--folds", type=int, default=5, metavar="K")
        fit.add_argument("--seed", type=int, default=42)
        fit.add_argument(
            "--no-peers", action="store_true", help="skip the LightGBM and naive Bayes comparison"
        )
        fit.add_argument("--json", action="store_true", help="print one JSON object")
        drift = sub.add_parser(
            "drift",
            help="PSI of the score and each attribute since the live profile went live, and "
            "its AUC on leads closed since",
        )
        drift.add_argument("--weeks", type=int, default=12, metavar="N", help="reference weeks")
        drift.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "fit":
            self.fit(options)
        elif options["action"] == "drift":
            self.drift(options)

    def drift(self, options: dict[str, Any]) -> None:
        from leadpact.scoring.analysis import drift_analysis
        from leadpact.scoring.selectors import profile_live

        if not 1 <= options["weeks"] <= 104:
            raise CommandError("--weeks must be between 1 and 104")
        profile = profile_live()
        if profile is None:
            raise CommandError("no lead profile is live; nothing to measure")
        result = drift_analysis(profile, weeks=options["weeks"])
        if options["json"]:
            self.stdout.write(json.dumps(json_ready(result), allow_nan=False))
            return
        lines = [f"Live profile v{profile.version} since {profile.effective_from:%Y-%m-%d %H:%M}"]
        if "auc" in result:
            lines.append(
                f"  AUC on {result['closed_leads']} leads closed since: {result['auc']:.3f}"
            )
        else:
            lines.append(f"  AUC: {result['auc_error']}")
        if "drift" in result:
            d = result["drift"]
            flag = lambda x: "  WARNING above 0.2" if x["flagged"] else ""  # noqa: E731
            lines.append(f"  PSI score {d['score']['psi']:.3f}{flag(d['score'])}")
            for name, item in d["attributes"].items():
                lines.append(f"  PSI {name} {item['psi']:.3f}{flag(item)}")
        else:
            lines.append(f"  PSI: {result['drift_error']}")
        self.stdout.write("\n".join(lines))

    def fit(self, options: dict[str, Any]) -> None:
        if options["max_attributes"] < 1:
            raise CommandError("--max-attributes must be at least 1")
        if not 2 <= options["folds"] <= 20:
            raise CommandError("--folds must be between 2 and 20")
        try:
            frame = read_history_csv(options["history"], missing=options["missing"])
            history = prepare_history(
                frame,
                outcome=options["outcome"],
                positive=options["positive"],
                exclude=options["exclude"],
                keep=options["keep"],
                date_column=options["date_column"],
            )
            _model, report = fit_report(
                history,
                keep=options["keep"],
                n_splits=options["folds"],
                random_state=options["seed"],
                peers=not options["no_peers"],
                scorecard_options={"max_attributes": options["max_attributes"]},
            )
        except ScoringInputError as exc:
            raise CommandError(str(exc)) from exc
        if options["json"]:
            self.stdout.write(json.dumps(json_ready(report), allow_nan=False))
            return
        for name in report["leakage_flags"]:
            self.stderr.write(f"warning: {name!r} looks like it leaks the outcome; excluded")
        self.stdout.write(render_text(report))
