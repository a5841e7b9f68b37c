"""The build's workflow logs: the newest are kept, older ones removed."""

from __future__ import annotations

from compendium.build.orchestrate import KEEP_LOGS, prune_logs


def test_only_the_newest_workflow_logs_are_kept(tmp_path):
    names = [f"snakemake-202611{day:02d}T120000.log" for day in range(1, 26)]
    for name in names:
        (tmp_path / name).write_text("log\n")
    (tmp_path / "executor.log").write_text("not a workflow log\n")
    removed = prune_logs(tmp_path, keep=20)
    assert [p.name for p in removed] == names[:5]
    assert sorted(p.name for p in tmp_path.glob("snakemake-*.log")) == names[5:]
    assert (tmp_path / "executor.log").exists()
    assert prune_logs(tmp_path) == [] and KEEP_LOGS == 20
