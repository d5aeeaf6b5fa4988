"""The CI commands the README and docs/github-actions.yml give are ones the tool accepts, and the
workflow's shards cover every scenario."""

import re
import shlex

import yaml

from consensuslab.cli import build_parser
from paths import ROOT


def _readme_ci_block() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("### Running the checks in CI"):]
    block = section[section.index("```\n") + 4: section.index("```", section.index("```\n") + 4)]
    return [line.split("#")[0].strip() for line in block.splitlines() if line.strip()]


def test_the_readme_commands_parse():
    commands = _readme_ci_block()
    assert commands[0].startswith("consensuslab check-all") and commands[1] == "pytest --consensuslab"
    args = build_parser().parse_args(shlex.split(commands[0])[1:])
    assert args.junit == "report.xml" and args.traces == "traces" and args.time_limit == 120


def test_the_workflow_runs_every_shard_with_the_cache_folder():
    flow = yaml.safe_load((ROOT / "docs" / "github-actions.yml").read_text(encoding="utf-8"))
    job = flow["jobs"]["check-all"]
    shards = job["strategy"]["matrix"]["shard"]
    steps = job["steps"]
    (cache,) = [s for s in steps if s.get("uses", "").startswith("actions/cache")]
    assert cache["with"]["path"] == ".consensuslab-cache"
    (run,) = [s["run"] for s in steps if "check-all" in s.get("run", "")]
    seen = []
    for shard in shards:
        line = re.sub(r"\$\{\{ matrix.shard \}\}", str(shard), run)
        args = build_parser().parse_args(shlex.split(line)[1:])
        assert args.jobs == 2 and args.strict and args.junit == f"report-{shard}.xml"
        seen.append(args.shard)
    assert seen == [f"{i}/{len(shards)}" for i in range(1, len(shards) + 1)]
