"""5.4.2: a Dropout layer after the first Dense layer, and a smaller gap because of it."""
from regulab.course._checks import gap_finding, layers_of, lesson_model
from regulab.layers import Dense, Dropout

ADVICE = "try a rate of 0.3-0.5 after the first Dense"


def check(run):
    model = run.model
    drops = layers_of(model, Dropout)
    if not drops:
        yield "the model has no Dropout layer; the task asks for Dropout(0.5) between the two Dense layers"
        return
    dense = layers_of(model, Dense)
    if not dense:
        yield "the model has no Dense layer; keep the starting point's Dense(64, ...) and Dense(1, ...)"
        return
    order = list(model.layers)
    first, last = order.index(dense[0]), order.index(dense[-1])
    placed = [d for d in drops if first < order.index(d) < last]
    if not placed:
        where = "before the first Dense layer" if order.index(drops[0]) < first else "after the output layer"
        yield (f"the Dropout layer is {where}, where it drops the model's {'inputs' if 'before' in where else 'output'}"
               "; put it between the two Dense layers")
        return
    rate = placed[0].rate
    if not 0.1 <= rate <= 0.8:
        yield f"the Dropout rate is {rate:g}; {ADVICE}"
        return
    finding = gap_finding(run, lambda seed: lesson_model(seed), "dropout", ADVICE)
    if finding:
        yield finding
