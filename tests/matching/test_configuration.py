"""Bad settings and bad benchmark arguments are refused with the name of what is wrong."""

import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command


def settings_error(**env) -> str:
    import os

    run = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "agglo.settings", **env},
        capture_output=True,
        text=True,
    )
    assert run.returncode != 0
    return run.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"AGGLO_MATCHING_WEIGHTS": "{cross"}, "AGGLO_MATCHING_WEIGHTS must be a JSON object"),
        ({"AGGLO_MATCHING_WEIGHTS": '{"colour": 1}'}, "AGGLO_MATCHING_WEIGHTS: a JSON object of non-negative"),
        ({"AGGLO_MATCHING_WEIGHTS": '{"chain": -1}'}, "AGGLO_MATCHING_WEIGHTS: a JSON object of non-negative"),
        ({"AGGLO_MATCHING_EMBEDDINGS": "bert"}, "AGGLO_MATCHING_EMBEDDINGS: choose one of use-m3"),
    ],
)
def test_bad_matching_settings(env, message):
    assert message in settings_error(**env)


def test_bad_benchmark_arguments():
    with pytest.raises(CommandError, match="--embeddings: choose one of use-m3"):
        call_command("bench", "matching", "--embeddings", "bert", "--size", "100")
    with pytest.raises(CommandError, match="--gap-time-limit"):
        call_command("bench", "factory", "--gap-time-limit", "0")
    with pytest.raises(CommandError, match="--synthetic-time-limit"):
        call_command("bench", "factory", "--synthetic-time-limit", "-1")
