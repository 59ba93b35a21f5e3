"""Every differentiable op in the registry (course_lib.ops.OPS, filled by `register` under each op's Function) is
gradchecked in float64 on inputs that broadcast and on inputs that are not contiguous. An op registered as
differentiable without a row in TABLE fails here: adding an op means adding its row."""
import numpy as np
import pytest

import course_lib
from course_lib.autograd import Function, Tensor
from course_lib.checks import gradcheck
from course_lib.ops import OPS

rng = np.random.default_rng(0)


def real(shape):
    return course_lib.tensor(rng.uniform(-2.0, 2.0, shape), dtype=course_lib.float64, requires_grad=True)


def positive(shape):  # log, sqrt, a denominator, the base of a power
    return course_lib.tensor(rng.uniform(0.5, 2.0, shape), dtype=course_lib.float64, requires_grad=True)


def elementwise(op, *domains):
    """The two cases of an op of same-shaped inputs. Broadcast: the first input is a row expanded to (3, 4) (stride
    0), the others (3, 1) columns. Non-contiguous: inputs alternate a transposed (3, 4) and a stepped x[:, ::2]."""
    def broadcast():
        xs = [d((4,)) if i == 0 else d((3, 1)) for i, d in enumerate(domains)]
        return xs, lambda *xs: op(xs[0].expand(3, 4), *xs[1:])

    def non_contiguous():
        xs = [d((4, 3)) if i % 2 == 0 else d((3, 8)) for i, d in enumerate(domains)]
        return xs, lambda *xs: op(*(x.t() if i % 2 == 0 else x[:, ::2] for i, x in enumerate(xs)))
    return {"broadcast": broadcast, "non-contiguous": non_contiguous}


def matmul_cases():
    def broadcast():  # a batch of matrices times one matrix
        return [real((2, 3, 4)), real((4, 2))], course_lib.matmul

    def non_contiguous():
        return [real((4, 3)), real((2, 8))], lambda a, b: course_lib.matmul(a.t(), b[:, ::2].t())
    return {"broadcast": broadcast, "non-contiguous": non_contiguous}


COND = course_lib.tensor(rng.uniform(size=(3, 4)) > 0.5)

# One row per registered differentiable op: how to call it, on which inputs.
TABLE = {
    "neg": elementwise(course_lib.neg, real),
    "add": elementwise(lambda a, b: a + b, real, real),
    "sub": elementwise(lambda a, b: a - b, real, real),
    "mul": elementwise(lambda a, b: a * b, real, real),
    "div": elementwise(lambda a, b: a / b, real, positive),
    "exp": elementwise(course_lib.exp, real),
    "log": elementwise(course_lib.log, positive),
    "log10": elementwise(course_lib.log10, positive),
    "sqrt": elementwise(course_lib.sqrt, positive),
    "sin": elementwise(course_lib.sin, real),
    "cos": elementwise(course_lib.cos, real),
    "tanh": elementwise(course_lib.tanh, real),
    "sigmoid": elementwise(course_lib.sigmoid, real),
    "abs": elementwise(course_lib.abs, real),
    "relu": elementwise(course_lib.relu, real),
    "maximum": elementwise(course_lib.maximum, real, real),
    "minimum": elementwise(course_lib.minimum, real, real),
    "where": elementwise(lambda a, b: course_lib.where(COND, a, b), real, real),
    "pow": elementwise(course_lib.pow, positive, real),
    "clamp": elementwise(lambda x: course_lib.clamp(x, -0.5, 0.5), real),
    "matmul": matmul_cases(),
    "sum": elementwise(lambda x: course_lib.sum(x, 1), real),
    "mean": elementwise(lambda x: course_lib.mean(x, 0, keepdim=True), real),
    "softmax": elementwise(lambda x: course_lib.softmax(x, 1), real),
    "log_softmax": elementwise(lambda x: course_lib.log_softmax(x, 0), real),
    "logsumexp": elementwise(lambda x: course_lib.logsumexp(x, 1), real),
    "var": elementwise(lambda x: course_lib.var(x, 1), real),
    "std": elementwise(lambda x: course_lib.std(x, 1, keepdim=True), real),  # along 1: never all equal
    "cat": elementwise(lambda a, b: course_lib.cat([a, b], 1), real, real),
    "stack": elementwise(lambda a, b: course_lib.stack([a, b.expand(3, 4)], 1), real, real),
    # notebook 03's breadth: steps (gradient 0 between them), inverse trigonometry, products
    "ceil": elementwise(course_lib.ceil, real),
    "floor": elementwise(course_lib.floor, real),
    "trunc": elementwise(course_lib.trunc, real),
    "round": elementwise(lambda x: course_lib.round(x, decimals=1), real),
    "sign": elementwise(course_lib.sign, real),
    "asin": elementwise(course_lib.asin, lambda shape: course_lib.tensor(rng.uniform(-0.9, 0.9, shape),
                                                                        dtype=course_lib.float64, requires_grad=True)),
    "acos": elementwise(course_lib.acos, lambda shape: course_lib.tensor(rng.uniform(-0.9, 0.9, shape),
                                                                        dtype=course_lib.float64, requires_grad=True)),
    "atan": elementwise(course_lib.atan, real),
    "prod": elementwise(lambda x: course_lib.prod(x, 1), real),
}

DIFFERENTIABLE = sorted(name for name, (_, differentiable) in OPS.items() if differentiable)


def test_every_registered_differentiable_op_has_a_gradcheck_row():
    missing = [name for name in DIFFERENTIABLE if name not in TABLE]
    assert not missing, f"registered differentiable ops without a row in TABLE ({__file__}): {missing}"


@pytest.mark.parametrize("case", ["broadcast", "non-contiguous"])
@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_registered_op_passes_gradcheck(name, case):
    if name not in TABLE:
        pytest.fail(f"{name!r} is registered as differentiable but has no row in TABLE: add one")
    inputs, fn = TABLE[name][case]()
    assert all(x.dtype is course_lib.float64 for x in inputs)
    assert gradcheck(fn, inputs)


def test_every_function_of_ops_py_is_registered():
    """An element-wise op added to ops.py without its register line would escape the gradcheck above."""
    import course_lib.ops as ops
    helpers = {ops.Sign}  # abs's backward node (sign has a zero gradient), not an op of its own
    defined = {v for v in vars(ops).values() if isinstance(v, type) and issubclass(v, Function)
               and v.__module__ == ops.__name__}
    registered = {cls for cls, _ in OPS.values()}
    assert sorted(c.__name__ for c in defined - registered - helpers) == []


def test_the_registry_records_a_function_a_method_and_a_functional_form():
    assert len(OPS) >= 20
    for name, (cls, _) in OPS.items():
        assert issubclass(cls, Function), name
        assert callable(getattr(Tensor, name, None)) or name in ("where", "cat", "stack"), name
    x = course_lib.tensor([0.5, -1.0], requires_grad=True)
    assert course_lib.tanh(x).tolist() == x.tanh().tolist() and x.tanh().grad_fn.name() == "TanhBackward0"
    assert course_lib.tanh.__name__ == "tanh" and Tensor.tanh.__qualname__ == "Tensor.tanh"
    assert course_lib.clamp(x, max=0.0).tolist() == x.clamp(None, 0.0).tolist() == [0.0, -1.0]
