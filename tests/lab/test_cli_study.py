"""`regulab study` and `regulab diagnose --study` as a user runs them: in a subprocess."""
import os
import subprocess
import sys

TOML = '''title = "tiny"
seeds = 2
epochs = 3
output = "report"

[data]
name = "seed_task"

[model]
layers = [{ type = "Dense", units = 16, activation = "relu" }, { type = "Dense", units = 1, activation = "sigmoid" }]
metrics = ["accuracy"]

[variants]
"L2 0.01" = { l2 = 0.01 }
'''


def _regulab(*args, cwd):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "regulab.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300, env=env)


def test_regulab_study_runs_a_toml_file_and_writes_the_report(tmp_path):
    (tmp_path / "tiny.toml").write_text(TOML)
    done = _regulab("study", "tiny.toml", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "L2 0.01" in done.stdout and "vs baseline" in done.stdout
    assert (tmp_path / "report" / "index.html").exists()
    assert done.stdout.rstrip().endswith("report: report/index.html") or "report:" in done.stdout


def test_regulab_study_names_an_unknown_key(tmp_path):
    (tmp_path / "bad.toml").write_text(TOML.replace("seeds = 2", "seedz = 2"))
    done = _regulab("study", "bad.toml", cwd=tmp_path)
    assert done.returncode == 2
    assert "unknown key 'seedz'" in done.stderr and "Traceback" not in done.stderr


def test_regulab_diagnose_then_study_the_recommendations(tmp_path):
    (tmp_path / "tiny.toml").write_text(TOML)
    rows = ["epoch,loss,val_loss"]
    for e in range(30):  # training falls on, validation turns up after epoch 8: overfitting
        rows.append(f"{e},{0.7 * 0.9 ** e:.5f},{0.6 + 0.004 * (e - 8) ** 2:.5f}")
    (tmp_path / "history.csv").write_text("\n".join(rows) + "\n")
    done = _regulab("diagnose", "history.csv", "--study", "tiny.toml", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "verdict: overfitting"
    assert "vs baseline" in done.stdout  # the recommendations, trained and compared
    assert (tmp_path / "report" / "index.html").exists()
