import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from leadpact.scoring.tests.synthetic import leads


@pytest.fixture(scope="module")
def history_csv(tmp_path_factory) -> Path:
    X, y = leads(600)
    X = X.assign(
        converted=np.where(y == 1, "yes", "no"),
        lead_id=np.arange(len(y)),
        captured=[f"2024-{1 + i % 12:02d}-01" for i in range(len(y))],
        source=X["source"].fillna("Select"),
    )
    path = tmp_path_factory.mktemp("scoring") / "history.csv"
    X.to_csv(path, sep=";", index=False)
    return path


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("scoring", "fit", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_fit_prints_one_json_object_with_the_agreed_keys(history_csv):
    report = json.loads(
        run(
            "--history",
            str(history_csv),
            "--outcome",
            "converted",
            "--positive",
            "yes",
            "--exclude",
            "lead_id",
            "--missing",
            "Select",
            "--date-column",
            "captured",
            "--json",
        )
    )
    assert 0.7 < report["validation"]["auc_mean"] <= 1
    assert 0 <= report["validation"]["ece"] < 0.1
    assert report["peers"]["lightgbm"]["auc_mean"] > 0.6
    assert report["peers"]["naive_bayes"]["auc_mean"] > 0.6
    assert report["leakage_flags"] == ["status_after_call"]
    names = [a["attribute"] for a in report["scorecard"]["attributes"]]
    assert "minutes" in names and "status_after_call" not in names and "lead_id" not in names
    assert all("points" in b for a in report["scorecard"]["attributes"] for b in a["bins"])
    assert "auc" in report["out_of_time"]["scorecard"]


def test_fit_prints_the_scorecard_and_validation_side_by_side(history_csv):
    text = run(
        "--history",
        str(history_csv),
        "--outcome",
        "converted",
        "--exclude",
        "lead_id",
        "captured",
        "--keep",
        "status_after_call",
        "--no-peers",
    )
    assert "SCORECARD" in text and "VALIDATION" in text and "RELIABILITY" in text
    assert "status_after_call" in text.split("SCORECARD")[1]  # kept on request


def test_bad_arguments_raise_command_error(history_csv):
    with pytest.raises(CommandError, match="unknown column"):
        run("--history", str(history_csv), "--outcome", "nope")
    with pytest.raises(CommandError, match="not found"):
        run("--history", str(history_csv) + ".missing", "--outcome", "converted")


def test_bad_input_exits_non_zero_without_a_traceback(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("won,source\n" + "1,a\n" * 60)
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "leadpact"),
            "scoring",
            "fit",
            "--history",
            str(path),
            "--outcome",
            "won",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={"LEADPACT_SECRET_KEY": "x", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode != 0
    assert "no negative outcomes" in result.stderr
    assert "Traceback" not in result.stderr
