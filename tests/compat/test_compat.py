"""`regulab.compat`: TensorFlow's and Keras's names resolve to regulab inside `install()` only."""
import subprocess
import sys

import pytest

import regulab
from regulab import compat
from regulab.compat import NotInRegulabError, NotInRegulabImportError


@pytest.fixture(autouse=True)
def _clean():
    yield
    compat.uninstall()


def test_plain_import_of_regulab_aliases_nothing():
    code = ("import sys, regulab, regulab.course, regulab.compat\n"
            "print([m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')])\n"
            "try:\n    import tensorflow\nexcept ImportError:\n    print('no tensorflow')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120).stdout
    assert out.split() == ["[]", "no", "tensorflow"]


@pytest.mark.parametrize("spelling", ["tensorflow.keras", "keras"])
def test_names_resolve_to_regulab_objects(spelling):
    with compat.aliased():
        keras = __import__(spelling, fromlist=["layers"])
        assert keras.layers.Dense is regulab.layers.Dense
        assert keras.models.Sequential is regulab.models.Sequential
        assert keras.Sequential is regulab.models.Sequential
        assert keras.regularizers.l2 is regulab.regularizers.l2
        assert keras.callbacks.EarlyStopping is regulab.callbacks.EarlyStopping
        assert keras.preprocessing.image.ImageDataGenerator is regulab.preprocessing.image.ImageDataGenerator
        assert keras.utils.set_random_seed is regulab.set_random_seed


def test_import_statements_of_every_form():
    with compat.aliased():
        import tensorflow as tf
        from tensorflow.keras.layers import Dense
        from tensorflow.keras.preprocessing.image import ImageDataGenerator
        import tensorflow.keras.callbacks as cb
        from tensorflow import keras
        from keras import layers
        assert tf.keras is keras
        assert Dense is layers.Dense is regulab.layers.Dense
        assert ImageDataGenerator is regulab.preprocessing.image.ImageDataGenerator
        assert cb.EarlyStopping is regulab.callbacks.EarlyStopping
        assert tf.random.set_seed is regulab.set_random_seed


def test_missing_attribute_names_it_as_spelled():
    with compat.aliased():
        import tensorflow as tf
        with pytest.raises(NotInRegulabError, match=r"^tf\.keras\.layers\.Foo is not in regulab \(what tf\.keras"
                                                    r"\.layers has: Activation, Add, "):
            tf.keras.layers.Foo
        import keras
        with pytest.raises(NotInRegulabError, match=r"^keras\.layers\.Foo is not in regulab"):
            keras.layers.Foo
        with pytest.raises(NotInRegulabError, match=r"^tf\.keras\.datasets is not in regulab \(regulab downloads "
                                                    r"nothing at run time; regulab\.datasets has offline data"):
            tf.keras.datasets
        with pytest.raises(NotInRegulabError, match=r"^tf\.constant is not in regulab$"):
            tf.constant
        assert not hasattr(tf.keras.layers, "Foo")
        assert getattr(tf, "function", None) is None


def test_missing_names_in_import_statements():
    with compat.aliased():
        with pytest.raises(NotInRegulabImportError, match=r"^tf\.keras\.layers\.Foo is not in regulab \(what"):
            from tensorflow.keras.layers import Foo  # noqa: F401
        with pytest.raises(NotInRegulabImportError, match=r"^tf\.contrib is not in regulab$"):
            import tensorflow.contrib  # noqa: F401
        with pytest.raises(NotInRegulabImportError, match=r"^keras\.applications is not in regulab"):
            import keras.applications  # noqa: F401


def test_uninstall_removes_aliases_and_restores_set_aside_modules():
    import types

    real = types.ModuleType("tensorflow")
    sys.modules["tensorflow"] = real
    try:
        compat.install()
        import tensorflow
        assert tensorflow is not real and compat.installed()
        compat.install()  # twice is harmless
        compat.uninstall()
        assert sys.modules["tensorflow"] is real and not compat.installed()
    finally:
        sys.modules.pop("tensorflow", None)


def test_private_names_of_regulab_are_not_offered():
    with compat.aliased():
        import tensorflow as tf
        with pytest.raises(AttributeError):
            tf.keras.layers._core


def test_dir_lists_public_names():
    with compat.aliased():
        import tensorflow as tf
        assert "Dense" in dir(tf.keras.layers) and "keras" in dir(tf)


def test_star_imports_bring_the_public_names():
    namespace = {}
    with compat.aliased():
        exec("from keras.layers import *\nfrom tensorflow.keras.models import *", namespace)
    assert namespace["Dense"] is regulab.layers.Dense and namespace["Sequential"] is regulab.models.Sequential


def test_tensorboard_works_under_the_aliases(tmp_path):
    pytest.importorskip("tensorboard")
    code = ("import numpy as np\nimport tensorflow as tf\n"
            "model = tf.keras.Sequential([tf.keras.layers.Dense(1, input_dim=2)])\n"
            "model.compile(optimizer='adam', loss='mse')\n"
            f"model.fit(np.zeros((8, 2)), np.zeros(8), epochs=1, verbose=0, "
            f"callbacks=[tf.keras.callbacks.TensorBoard(log_dir={str(tmp_path / 'logs')!r})])\nprint('ok')\n")
    (tmp_path / "tb.py").write_text(code)
    done = subprocess.run([sys.executable, "-m", "regulab.cli", "run", str(tmp_path / "tb.py")], capture_output=True,
                          text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok" and list((tmp_path / "logs" / "train").iterdir())
