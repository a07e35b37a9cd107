"""The command line fills the run configs (config.py): flags, defaults, and the documented commands."""

import re
import shlex
from pathlib import Path

import pytest

from ditserve_train.config import (DEFAULT_SECONDS, DitRun, ExportPerfConfig, RunConfig, VaeRun, VideoRunConfig,
                                  changed_flags, parse_args, parser)

ROOT = Path(__file__).resolve().parents[1]
ENTRIES = ("ditserve_train.run", "ditserve-train")


def test_defaults():
    cfg = parse_args(RunConfig, ["--out", "/tmp/run"])
    assert cfg == RunConfig(out=Path("/tmp/run"))
    assert (cfg.name, cfg.seconds, cfg.seed, cfg.workers, cfg.val_per_category, cfg.test_per_category) == (
        "shapes-mmdit-s", DEFAULT_SECONDS, 20261126, 10, 24, 40)
    assert (cfg.vae.seconds, cfg.vae.batch_size, cfg.dit.batch_size) == (55.0, 64, 512)


def test_each_flag_fills_its_field():
    argv = shlex.split("--out o --name n --seconds 90 --vae-seconds 5 --seed 3 --batch 8 --workers 1 --vae-batch 4 "
                       "--val-per-category 2 --test-per-category 1")
    cfg = parse_args(RunConfig, argv)
    assert cfg == RunConfig(out=Path("o"), name="n", seconds=90.0, seed=3, workers=1, val_per_category=2,
                            test_per_category=1, vae=VaeRun(seconds=5.0, batch_size=4), dit=DitRun(batch_size=8))
    assert type(cfg.seconds) is float and type(cfg.vae.batch_size) is int and isinstance(cfg.out, Path)


def test_changed_flags_repeat_the_run():
    argv = shlex.split("--out o --seconds 90 --seed 3 --batch 8 --vae-seconds 5")
    flags = changed_flags(parse_args(RunConfig, argv))
    assert flags == ["--seed", "3", "--vae-seconds", "5.0", "--batch", "8"]  # not the budget or the folder
    assert parse_args(RunConfig, ["--out", "o", "--seconds", "90", *flags]) == parse_args(RunConfig, argv)
    assert changed_flags(parse_args(RunConfig, ["--out", "o"])) == []
    video = parse_args(VideoRunConfig, ["--out", "o", "--batch", "32"])
    assert changed_flags(video) == ["--batch", "32"]
    resumed = parse_args(VideoRunConfig, ["--out", "o", "--resume", "/tmp/v1/checkpoint.pt"])
    assert resumed.resume == "/tmp/v1/checkpoint.pt" and changed_flags(resumed) == ["--resume", "/tmp/v1/checkpoint.pt"]


def test_out_is_required():
    with pytest.raises(SystemExit):
        parse_args(RunConfig, [])


def test_help_shows_the_defaults():
    text = parser(RunConfig).format_help()
    for flag_ in ("--out", "--vae-seconds", "--batch", "--test-per-category"):
        assert flag_ in text
    assert "(default: 500.0)" in text


def test_export_perf_config():
    assert parse_args(ExportPerfConfig, ["--out", "/tmp/perf"]) == ExportPerfConfig(out=Path("/tmp/perf"), latent=128)


def _options() -> set[str]:
    return set(parser(RunConfig)._option_string_actions)


def test_the_readme_commands_parse():
    """Every training command in README.md's code blocks parses (placeholders aside)."""
    text = (ROOT / "README.md").read_text().replace("\\\n", " ")
    found = 0
    for block in re.findall(r"```(.*?)```", text, re.S):
        for line in block.splitlines():
            starts = [(line.index(e), e) for e in ENTRIES if e in line]
            if not starts or "--out" not in line:
                continue
            at, entry = min(starts)
            words = shlex.split(line[at + len(entry):], comments=True)
            words = words[: next((i for i, w in enumerate(words) if w in ("&&", "|", ";", "…", "...")), len(words))]
            parse_args(RunConfig, words)
            found += 1
    assert found >= 1


def test_retrain_sh_passes_known_flags():
    lines = [line for line in (ROOT / "retrain.sh").read_text().splitlines() if "ditserve_train.run" in line and "--" in line]
    assert lines
    for line in lines:
        assert set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", line)) <= _options(), line
