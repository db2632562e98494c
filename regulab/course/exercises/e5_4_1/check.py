"""5.4.1: an L2 penalty on the first Dense layer's kernel, and a smaller gap because of it."""
from regulab import regularizers
from regulab.course._checks import gap_finding, layers_of, lesson_model, regularizer_text
from regulab.layers import Dense

ASK = "the task asks for kernel_regularizer=tf.keras.regularizers.l2(0.01)"


def check(run):
    model = run.model
    dense = layers_of(model, Dense)
    if not dense:
        yield "the model has no Dense layer; keep the starting point's Dense(64, ...) and Dense(1, ...)"
        return
    regularizer = dense[0].kernel_regularizer
    if regularizer is None:
        yield f"the first Dense layer has no kernel_regularizer; {ASK}"
        return
    if not isinstance(regularizer, regularizers.L2):
        yield (f"the first Dense layer's kernel_regularizer is {regularizer_text(regularizer)}, not L2; {ASK} "
               "(L1 penalizes |w| and drives weights to zero; L2 penalizes w² and shrinks them all)")
        return
    if not model.compiled:
        yield "the model is not compiled; keep model.compile(optimizer='adam', loss='binary_crossentropy', ...)"
        return
    finding = gap_finding(run, lambda seed: lesson_model(seed), "L2",
                          f"l2({regularizer.l2:g}) is too weak to matter here; try l2(0.01)")
    if finding:
        yield finding
