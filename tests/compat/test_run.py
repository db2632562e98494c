"""`regulab run script.py` as a user runs it: in a subprocess."""
import subprocess
import sys


def _run(tmp_path, source, *args):
    script = tmp_path / "script.py"
    script.write_text(source)
    return subprocess.run([sys.executable, "-m", "regulab.cli", "run", str(script), *args], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)


def test_a_name_regulab_lacks_is_named_with_its_line(tmp_path):
    done = _run(tmp_path, "import tensorflow as tf\nx = 1\nlayer = tf.keras.layers.Foo(3)\n")
    assert done.returncode == 1
    assert done.stderr.startswith(f"regulab run: {tmp_path / 'script.py'}, line 3: tf.keras.layers.Foo is not in "
                                  "regulab (what tf.keras.layers has: Activation, Add,")
    assert "Traceback" not in done.stderr


def test_a_missing_import_is_named(tmp_path):
    done = _run(tmp_path, "from tensorflow.keras.layers import Dense, Conv3D\n")
    assert done.returncode == 1
    assert f"line 1: tf.keras.layers.Conv3D is not in regulab" in done.stderr


def test_keras_3_spelling_and_arguments(tmp_path):
    source = ("import sys\nimport keras\nfrom keras import layers\n"
              "model = keras.Sequential([keras.Input((3,)), layers.Dense(2)])\n"
              "print(sys.argv[1:], model.count_params(), type(model).__module__)\n")
    done = _run(tmp_path, source, "--flag", "value")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["['--flag',", "'value']", "8", "regulab.models._sequential"]


def test_exit_status_and_errors_of_the_script_pass_through(tmp_path):
    assert _run(tmp_path, "import sys\nsys.exit(3)\n").returncode == 3
    done = _run(tmp_path, "raise ValueError('from the script')\n")
    assert done.returncode == 1 and "ValueError: from the script" in done.stderr


def test_missing_script(tmp_path):
    done = subprocess.run([sys.executable, "-m", "regulab.cli", "run", str(tmp_path / "nope.py")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip() == f"regulab run: no such file: {tmp_path / 'nope.py'}"
