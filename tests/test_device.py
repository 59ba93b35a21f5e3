"""Device logic on the CPU: the 'sim' stand-in device, the CuPy backend's pointer arithmetic, CUDA detection,
the fused GELU against its composition, and the GPU-results loader. Runs without a GPU (and in CI)."""
import importlib
import json
import re
import shutil
import subprocess
import sys
import types

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import course_lib
from course_lib import cuda, devices, fused_gelu, gpu, storage
from course_lib.fused_gelu import gelu, gelu_composed
from course_lib.gpu import CupyBackend
from course_lib.gpu_results import crossover_size, load_gpu_results
from course_lib.simdevice import SimArray, lives_on, register_sim_device

SIM = register_sim_device()


def to_np(t):
    return t.detach().cpu().numpy()


def pair(a, requires_grad=True):
    """The same data on 'cpu' and on 'sim', as leaves."""
    a = np.asarray(a)
    c = course_lib.tensor(a)
    s = course_lib.tensor(a).to("sim")
    if requires_grad and a.dtype.kind == "f":
        c.requires_grad_(), s.requires_grad_()
    return c, s


# -- placement, moves, and the transfer counter ------------------------------------------------

def test_to_sim_and_back_copies_once_each_way():
    x = course_lib.arange(6).reshape(2, 3)
    SIM.log.reset()
    s = x.to("sim")
    assert s.device == course_lib.device("sim") and str(s.device) == "sim" and lives_on(s, SIM)
    assert (SIM.log.host_to_device, SIM.log.device_to_host) == (1, 0)
    back = s.cpu()
    assert back.device == "cpu" and (SIM.log.host_to_device, SIM.log.device_to_host) == (1, 1)
    assert np.array_equal(back.numpy(), x.numpy())
    assert s.to("sim") is s  # already there: no copy
    assert SIM.log.transfers == 2


def test_device_memory_is_separate_from_host_memory():
    a = np.zeros(3, dtype=np.float32)
    s = course_lib.from_numpy(a).to("sim")
    a[0] = 5  # a write on the host must not show on the device
    assert to_np(s).tolist() == [0, 0, 0]


def test_numpy_on_device_tensor_raises_and_item_counts_one_read():
    s = course_lib.tensor([1.5]).to("sim")
    with pytest.raises(TypeError, match="cpu"):
        s.numpy()
    SIM.log.reset()
    assert s.item() == 1.5 and float(s) == 1.5
    assert SIM.log.device_to_host == 2 and SIM.log.host_to_device == 0


def test_mixed_devices_raise_pytorchs_error():
    c, s = course_lib.ones(3), course_lib.ones(3).to("sim")
    for op in (lambda: c + s, lambda: s * c, lambda: course_lib.matmul(s, c), lambda: course_lib.where(s > 0, s, c)):
        with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device.*sim"):
            op()


def test_sim_arrays_refuse_host_arrays_like_cupy():
    s = SIM.from_numpy(np.ones(3))
    with pytest.raises(TypeError, match="host"):
        np.add(s, np.ones(3))
    with pytest.raises(TypeError, match="host"):
        np.concatenate([s, np.ones(3)])
    assert isinstance(s + 1, SimArray) and isinstance(s.sum(), SimArray)  # scalars stay on the device, 0-d


def test_creation_on_device_makes_no_transfer():
    SIM.log.reset()
    for t in (course_lib.zeros(2, 3, device="sim"), course_lib.ones(4, device="sim"),
              course_lib.full((2,), 7.0, device="sim")):
        assert lives_on(t, SIM)
    assert SIM.log.transfers == 0


# -- every op runs where its inputs live, with no transfer, and gives CPU's answer ---------------

R = np.random.default_rng(0)
A = R.standard_normal((3, 4)).astype(np.float32)
B = R.standard_normal((3, 4)).astype(np.float32)
M = R.standard_normal((4, 2)).astype(np.float32)
P = (np.abs(A) + 0.5).astype(np.float32)

UNARY = {
    "neg": lambda x: -x, "exp": lambda x: x.exp(), "tanh": lambda x: x.tanh(), "sigmoid": lambda x: x.sigmoid(),
    "relu": lambda x: x.relu(), "abs": lambda x: x.abs(), "sin": lambda x: x.sin(), "cos": lambda x: x.cos(),
    "square": lambda x: x * x, "pow_scalar": lambda x: x ** 2, "clamp": lambda x: x.clamp(-0.5, 0.5),
    "sum": lambda x: x.sum(), "sum_dim": lambda x: x.sum(1), "mean_keepdim": lambda x: x.mean(0, keepdim=True),
    "max": lambda x: x.max(), "max_dim": lambda x: x.max(1)[0], "softmax": lambda x: x.softmax(1),
    "log_softmax": lambda x: x.log_softmax(0), "logsumexp": lambda x: x.logsumexp(1), "var": lambda x: x.var(1),
    "transpose": lambda x: x.t() * 2, "permute_reshape": lambda x: x.permute(1, 0).reshape(-1) * 1,
    "slice": lambda x: x[1:, ::2] * 3, "expand": lambda x: x[:1].expand(3, 4) * x, "unsqueeze": lambda x: x.unsqueeze(0) + 1,
    "flatten": lambda x: x.flatten() + 0, "scalar_ops": lambda x: (2 - x) / 3 + 1.5 * x,
    "contiguous": lambda x: x.t().contiguous() * 1, "clone": lambda x: x.clone() * 1,
    "float64": lambda x: x.double() * 2,
}
UNARY_POSITIVE = {"log": lambda x: x.log(), "sqrt": lambda x: x.sqrt(), "pow_tensor": lambda x: x ** x}
BINARY = {
    "add": lambda x, y: x + y, "sub": lambda x, y: x - y, "mul": lambda x, y: x * y, "div": lambda x, y: x / (y.abs() + 1),
    "maximum": lambda x, y: course_lib.maximum(x, y), "minimum": lambda x, y: course_lib.minimum(x, y),
    "where": lambda x, y: course_lib.where(x > y, x, y), "cat": lambda x, y: course_lib.cat([x, y], 1),
    "stack": lambda x, y: course_lib.stack([x, y]), "broadcast": lambda x, y: x + y[0],
}


def _check_same(out_c, out_s, leaves_c, leaves_s, name):
    assert lives_on(out_s, SIM), f"{name}: the output left the device ({type(out_s._arr).__name__})"
    np.testing.assert_allclose(to_np(out_s), to_np(out_c), rtol=1e-5, atol=1e-6, err_msg=name)
    if out_c.requires_grad:
        SIM.log.reset()
        out_s.sum().backward()
        assert SIM.log.transfers == 0, f"{name}: backward moved data between host and device: {SIM.log}"
        out_c.sum().backward()
        for lc, ls in zip(leaves_c, leaves_s):
            assert lives_on(ls.grad, SIM), f"{name}: a gradient left the device"
            np.testing.assert_allclose(to_np(ls.grad), to_np(lc.grad), rtol=1e-5, atol=1e-6, err_msg=name)


@pytest.mark.parametrize("name", list(UNARY) + list(UNARY_POSITIVE))
def test_unary_ops_and_gradients_stay_on_device(name):
    fn = UNARY.get(name) or UNARY_POSITIVE[name]
    c, s = pair(P if name in UNARY_POSITIVE else A)
    SIM.log.reset()
    out_s = fn(s)
    assert SIM.log.transfers == 0, f"{name}: the forward moved data between host and device: {SIM.log}"
    _check_same(fn(c), out_s, [c], [s], name)


@pytest.mark.parametrize("name", list(BINARY))
def test_binary_ops_and_gradients_stay_on_device(name):
    (c1, s1), (c2, s2) = pair(A), pair(B)
    SIM.log.reset()
    out_s = BINARY[name](s1, s2)
    assert SIM.log.transfers == 0, f"{name}: {SIM.log}"
    _check_same(BINARY[name](c1, c2), out_s, [c1, c2], [s1, s2], name)


def test_matmul_and_an_mlp_step_make_no_transfer_until_item():
    (xc, xs), (w1c, w1s), (w2c, w2s) = pair(A, False), pair(M), pair(R.standard_normal((2, 3)).astype(np.float32))
    SIM.log.reset()
    ls = (xs @ w1s).relu() @ w2s
    loss_s = (ls.log_softmax(1) * -1).mean() + (w1s * w1s).sum() * 0.01
    loss_s.backward()
    with course_lib.no_grad():
        w1s -= 0.1 * w1s.grad
    assert SIM.log.transfers == 0, SIM.log
    loss_c = (((xc @ w1c).relu() @ w2c).log_softmax(1) * -1).mean() + (w1c * w1c).sum() * 0.01
    loss_c.backward()
    assert np.isclose(loss_s.item(), loss_c.item(), rtol=1e-6) and SIM.log.device_to_host == 1
    np.testing.assert_allclose(to_np(w2s.grad), to_np(w2c.grad), rtol=1e-5, atol=1e-6)


@settings(max_examples=60, deadline=None)
@given(shape_a=st.lists(st.integers(1, 4), min_size=0, max_size=3),
       drop=st.integers(0, 3), op=st.sampled_from(["add", "mul", "sub", "maximum"]))
def test_broadcasting_ops_match_cpu_property(shape_a, drop, op):
    shape_b = [1 if i % 2 else n for i, n in enumerate(shape_a[drop:])]
    g = np.random.default_rng(len(shape_a) * 7 + drop)
    a, b = g.standard_normal(shape_a).astype(np.float32), g.standard_normal(shape_b).astype(np.float32)
    fn = {"add": np.add, "mul": np.multiply, "sub": np.subtract, "maximum": np.maximum}[op]
    tfn = {"add": lambda x, y: x + y, "mul": lambda x, y: x * y, "sub": lambda x, y: x - y,
           "maximum": course_lib.maximum}[op]
    (ca, sa), (cb, sb) = pair(a), pair(b)
    SIM.log.reset()
    out = tfn(sa, sb)
    assert lives_on(out, SIM) and SIM.log.transfers == 0
    np.testing.assert_allclose(to_np(out), fn(a, b), rtol=1e-6)
    SIM.log.reset()
    out.sum().backward()
    assert SIM.log.transfers == 0
    tfn(ca, cb).sum().backward()
    np.testing.assert_allclose(to_np(sb.grad), to_np(cb.grad), rtol=1e-5, atol=1e-6)


# -- the fused GELU against its composition, on cpu and sim --------------------------------------

@pytest.mark.parametrize("dev", ["cpu", "sim"])
def test_fused_gelu_equals_composition(dev):
    xs = np.linspace(-6, 6, 97).astype(np.float32).reshape(1, 97)
    x1, x2 = course_lib.tensor(xs).to(dev).requires_grad_(), course_lib.tensor(xs).to(dev).requires_grad_()
    SIM.log.reset()
    y1, y2 = gelu(x1), gelu_composed(x2)
    (y1 * y1).sum().backward()
    (y2 * y2).sum().backward()
    assert SIM.log.transfers == 0
    np.testing.assert_allclose(to_np(y1), to_np(y2), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(to_np(x1.grad), to_np(x2.grad), rtol=1e-5, atol=1e-6)
    assert y1.device == dev and x1.grad.device == dev


def test_fused_gelu_on_sim_is_one_launch_and_moves_fewer_bytes():
    x = course_lib.randn(1000).to("sim")
    SIM.log.reset()
    gelu(x)
    assert SIM.log.launches == 1 and SIM.log.memory_bytes == 2 * 4000
    SIM.log.reset()
    gelu_composed(x)
    assert SIM.log.launches > 5 and SIM.log.memory_bytes > 5 * 2 * 4000


def test_fused_gelu_matches_torch_and_finite_differences():
    x = course_lib.randn(5, 4, dtype=course_lib.float64, requires_grad=True)
    assert course_lib.gradcheck(gelu, (x,))
    torch = pytest.importorskip("torch")
    a = np.linspace(-5, 5, 41)
    t = torch.tensor(a, requires_grad=True)
    ty = torch.nn.functional.gelu(t, approximate="tanh")
    ty.sum().backward()
    c = course_lib.tensor(a, dtype=course_lib.float64, requires_grad=True)
    y = gelu(c)
    y.sum().backward()
    np.testing.assert_allclose(to_np(y), ty.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(to_np(c.grad), t.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_fused_gelu_second_derivative_through_create_graph():
    a = np.linspace(-3, 3, 13)
    x1 = course_lib.tensor(a, dtype=course_lib.float64, requires_grad=True)
    x2 = course_lib.tensor(a, dtype=course_lib.float64, requires_grad=True)
    (g1,) = course_lib.autograd.grad(gelu(x1).sum(), x1, create_graph=True)
    (g2,) = course_lib.autograd.grad(gelu_composed(x2).sum(), x2, create_graph=True)
    (h1,) = course_lib.autograd.grad(g1.sum(), x1)
    (h2,) = course_lib.autograd.grad(g2.sum(), x2)
    np.testing.assert_allclose(to_np(h1), to_np(h2), rtol=1e-10, atol=1e-12)


def test_fused_gelu_rejects_integers():
    with pytest.raises(RuntimeError, match="gelu"):
        gelu(course_lib.arange(3))


@pytest.mark.skipif(shutil.which("g++") is None, reason="needs a C++ compiler")
def test_cuda_kernel_source_computes_the_reference(tmp_path):
    """Compile the ElementwiseKernel bodies as C++ (T = double/float, tanh from <cmath>) and compare to NumPy."""
    src = ["#include <cmath>\n#include <cstdio>\nusing std::tanh;\n"]
    for T in ("float", "double"):
        src.append(f"void fwd_{T}(const {T}* xs, {T}* ys, int n) {{ typedef {T} T; for (int i = 0; i < n; ++i) "
                   f"{{ T x = xs[i]; T y; {fused_gelu.GELU_FORWARD_CUDA} ys[i] = y; }} }}\n")
        src.append(f"void bwd_{T}(const {T}* xs, const {T}* gs, {T}* out, int n) {{ typedef {T} T; "
                   f"for (int i = 0; i < n; ++i) {{ T x = xs[i]; T g = gs[i]; T dx; {fused_gelu.GELU_BACKWARD_CUDA} "
                   f"out[i] = dx; }} }}\n")
    src.append("int main() { double x[41], g[41], y[41], d[41]; float xf[41], yf[41];\n"
               "for (int i = 0; i < 41; ++i) { x[i] = -5 + 0.25 * i; g[i] = 1 + 0.1 * i; xf[i] = (float)x[i]; }\n"
               "fwd_double(x, y, 41); bwd_double(x, g, d, 41); fwd_float(xf, yf, 41);\n"
               "for (int i = 0; i < 41; ++i) printf(\"%.17g %.17g %.9g\\n\", y[i], d[i], (double)yf[i]); }\n")
    (tmp_path / "k.cpp").write_text("".join(src))
    subprocess.run(["g++", "-O1", "-o", str(tmp_path / "k"), str(tmp_path / "k.cpp")], check=True)
    out = np.loadtxt(subprocess.run([str(tmp_path / "k")], capture_output=True, text=True, check=True).stdout.splitlines())
    x, g = -5 + 0.25 * np.arange(41), 1 + 0.1 * np.arange(41)
    np.testing.assert_allclose(out[:, 0], fused_gelu._gelu_forward_array(x), rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(out[:, 1], fused_gelu._gelu_backward_array(x, g), rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(out[:, 2], fused_gelu._gelu_forward_array(x), rtol=1e-6, atol=1e-6)


# -- CUDA detection and the CuPy backend, with a fake CuPy -------------------------------------

NO_GPU = "no NVIDIA driver/GPU found"
HOW_TO_GET_ONE = ("pip install -e '.[gpu]'", "Colab")  # the GPU extra, or a lent GPU


def _reason_says_how_to_get_a_gpu(text):
    return NO_GPU in text and all(words in text for words in HOW_TO_GET_ONE)


@pytest.mark.skipif(importlib.util.find_spec("cupy") is not None, reason="CuPy is installed here")
def test_without_cupy_cuda_raises_pytorchs_assertion_error_and_says_why():
    """PyTorch built without CUDA (the CPU wheel): torch.ones(2).to('cuda') raises AssertionError('Torch not compiled
    with CUDA enabled'), and so do torch.cuda.synchronize() and get_device_name(). Without CuPy, course_lib is that."""
    assert cuda.is_available() is False and cuda.device_count() == 0
    for use in (lambda: course_lib.ones(2).to("cuda"), lambda: course_lib.ones(2).cuda(),
                lambda: course_lib.ones(2).to(course_lib.device("cuda", 0)), lambda: course_lib.zeros(2, device="cuda"),
                cuda.synchronize, cuda.get_device_name):
        with pytest.raises(AssertionError, match="device 'cuda(:0)?' is not available: ") as e:
            use()
        assert "pip install -e '.[gpu]'" in str(e.value)
        if not gpu._nvidia_driver_installed():
            assert _reason_says_how_to_get_a_gpu(str(e.value)), str(e.value)
    assert "cupy" not in sys.modules  # never imported when absent


def test_probe_without_cupy_says_whether_there_is_a_driver(monkeypatch):
    monkeypatch.setattr(gpu.importlib.util, "find_spec", lambda name: None)
    monkeypatch.setattr(gpu, "_nvidia_driver_installed", lambda: False)
    cupy, reason = gpu.probe_cuda()
    assert cupy is None and reason.startswith(NO_GPU) and _reason_says_how_to_get_a_gpu(reason), reason
    monkeypatch.setattr(gpu, "_nvidia_driver_installed", lambda: True)  # a GPU machine that lacks only CuPy
    assert gpu.probe_cuda() == (None, "CuPy is not installed: pip install -e '.[gpu]' (this machine has an NVIDIA driver)")


def _fake_cupy(monkeypatch, count, driver_version=0):
    """A CuPy whose runtime answers getDeviceCount with `count` (or raises it) and driverGetVersion as given."""
    fake = types.ModuleType("cupy")

    def get_count():
        if isinstance(count, Exception):
            raise count
        return count
    fake.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(getDeviceCount=get_count,
                                                                    driverGetVersion=lambda: driver_version))
    monkeypatch.setitem(sys.modules, "cupy", fake)
    monkeypatch.setattr(gpu.importlib.util, "find_spec", lambda name: object())
    return fake


class CUDARuntimeError(RuntimeError):
    """What CuPy raises (cupy_backends.cuda.api.runtime.CUDARuntimeError), by name."""


def test_probe_with_cupy_but_no_driver_says_no_driver_not_insufficient_driver(monkeypatch):
    """pip install cupy-cuda12x on a machine without an NVIDIA driver: CuPy says the driver is 'insufficient'."""
    insufficient = CUDARuntimeError("cudaErrorInsufficientDriver: CUDA driver version is insufficient for CUDA "
                                    "runtime version")
    _fake_cupy(monkeypatch, insufficient, driver_version=0)
    cupy, reason = gpu.probe_cuda()
    assert cupy is None and reason.startswith(NO_GPU) and _reason_says_how_to_get_a_gpu(reason), reason
    assert "insufficient" not in reason
    _fake_cupy(monkeypatch, insufficient, driver_version=11020)  # a real driver, older than CuPy's CUDA runtime
    cupy, reason = gpu.probe_cuda()
    assert cupy is None and NO_GPU not in reason and "cudaErrorInsufficientDriver" in reason, reason


def test_probe_reports_a_cupy_that_finds_no_device(monkeypatch):
    fake = _fake_cupy(monkeypatch, CUDARuntimeError("cudaErrorNoDevice: no CUDA-capable device is detected"), 12040)
    cupy, reason = gpu.probe_cuda()
    assert cupy is None and reason.startswith(NO_GPU) and _reason_says_how_to_get_a_gpu(reason), reason
    fake.cuda.runtime.getDeviceCount = lambda: 0
    assert gpu.probe_cuda() == (None, reason)
    fake.cuda.runtime.getDeviceCount = lambda: 1
    assert gpu.probe_cuda() == (fake, "")


def test_without_a_gpu_the_error_class_is_pytorchs_for_its_build(monkeypatch):
    """PyTorch built with CUDA on a machine without a driver raises RuntimeError ('Found no NVIDIA driver on your
    system'); built without CUDA, AssertionError. course_lib with CuPy is the first, without CuPy the second."""
    monkeypatch.setattr(devices, "_BACKENDS", dict(devices._BACKENDS))
    monkeypatch.setattr(devices, "_UNAVAILABLE", dict(devices._UNAVAILABLE))
    monkeypatch.setattr(gpu, "cuda_backend", gpu.cuda_backend)
    monkeypatch.setattr(gpu, "cuda_unavailable_reason", gpu.cuda_unavailable_reason)
    _fake_cupy(monkeypatch, CUDARuntimeError("cudaErrorInsufficientDriver: CUDA driver version is insufficient"))
    assert gpu.register_cuda() is None and cuda.is_available() is False and cuda.device_count() == 0
    for use in (lambda: course_lib.ones(2).to("cuda"), cuda.synchronize):
        with pytest.raises(RuntimeError, match=NO_GPU) as e:
            use()
        assert not isinstance(e.value, AssertionError) and _reason_says_how_to_get_a_gpu(str(e.value))
    monkeypatch.setattr(gpu.importlib.util, "find_spec", lambda name: None)
    assert gpu.register_cuda() is None and cuda.is_available() is False
    with pytest.raises(AssertionError, match="not available"):
        course_lib.ones(2).to("cuda")


@pytest.mark.parametrize("text", ["cuda:x", "cuda:-1", "cuda:01", "cuda:", "cuda: 1", "cuda:+1", "cuda:1:2", "cuda:\uff11"])
def test_malformed_device_strings_raise_pytorchs_runtime_error(text):
    with pytest.raises(RuntimeError, match=re.escape(f"Invalid device string: '{text}'")):
        course_lib.device(text)
    with pytest.raises(RuntimeError, match=re.escape(f"Invalid device string: '{text}'")):
        course_lib.ones(2).to(text)
    with pytest.raises(RuntimeError, match=re.escape(f"Invalid device string: '{text}'")):
        course_lib.zeros(2, device=text)


def test_device_strings_and_indices_like_pytorch():
    assert (course_lib.device("cuda:0").index, course_lib.device("cuda:10").index) == (0, 10)
    assert str(course_lib.device("cpu:0")) == "cpu:0" and course_lib.device("cpu:0") == "cpu"
    with pytest.raises(RuntimeError, match="^Device index must not be negative$"):
        course_lib.device("cuda", -1)


def test_device_errors_match_pytorch_when_installed():
    torch = pytest.importorskip("torch")
    for text in ["cuda:x", "cuda:-1", "cuda:01", "cuda:", "cuda: 1", "cuda:1:2"]:
        with pytest.raises(RuntimeError) as theirs:
            torch.device(text)
        with pytest.raises(RuntimeError) as ours:
            course_lib.device(text)
        assert str(ours.value) == str(theirs.value)
    if not torch.backends.cuda.is_built() and importlib.util.find_spec("cupy") is None:  # both without CUDA
        with pytest.raises(AssertionError):
            torch.ones(2).to("cuda")
        with pytest.raises(AssertionError):
            course_lib.ones(2).to("cuda")


class _Ptr:
    def __init__(self, buf, nbytes=0):
        self.buf, self.nbytes = buf, nbytes

    def __add__(self, n):
        return _Ptr(self.buf, self.nbytes + n)


class _FakeDeviceArray(np.ndarray):
    @property
    def data(self):
        return _Ptr(self)


class _FakeCupy:
    __name__ = "fakecupy"

    @staticmethod
    def ndarray(shape, dtype, memptr, strides):
        return np.ndarray(shape, dtype, buffer=memptr.buf, offset=memptr.nbytes, strides=strides)

    @staticmethod
    def asarray(a):
        return np.array(a, copy=True).view(_FakeDeviceArray)

    @staticmethod
    def asnumpy(a):
        return np.array(a, copy=True)


@settings(max_examples=80, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3), data=st.data())
def test_cupy_backend_views_match_numpy_property(shape, data):
    be = CupyBackend(_FakeCupy)
    host = np.arange(int(np.prod(shape)) + 5, dtype=np.float64)
    buf = be.from_numpy(host)
    offset = data.draw(st.integers(0, 5))
    base = host[offset:offset + int(np.prod(shape))].reshape(shape)
    perm = data.draw(st.permutations(range(len(shape))))
    expected = base.transpose(perm)
    strides = tuple(base.strides[p] // 8 for p in perm)
    got = be.as_strided(buf, expected.shape, strides, offset)
    assert np.array_equal(got, expected)
    assert np.array_equal(be.to_numpy(got), expected)


def test_cupy_backend_plugs_into_tensors(monkeypatch):
    monkeypatch.setattr(devices, "_BACKENDS", dict(devices._BACKENDS))
    monkeypatch.setattr(devices, "_UNAVAILABLE", dict(devices._UNAVAILABLE))
    storage.register_backend(CupyBackend(_FakeCupy))
    x = course_lib.arange(12).reshape(3, 4)
    g = x.to("cuda")
    assert g.device == "cuda" and str(g.device) == "cuda" and type(g._arr) is _FakeDeviceArray
    v = g.t()[1:, ::2]
    assert v.tolist() == x.t()[1:, ::2].tolist()
    assert np.array_equal(v.cpu().numpy(), x.numpy().T[1:, ::2])


def test_device_module_is_callable_like_torch_device():
    d = course_lib.device("cuda:1")
    assert isinstance(d, storage.device) and d.type == "cuda" and d.index == 1
    assert isinstance(course_lib.ones(1).device, course_lib.device)
    assert not isinstance("cpu", course_lib.device)


# -- the GPU results loader -------------------------------------------------------------------

def test_load_gpu_results(tmp_path):
    assert load_gpu_results(tmp_path / "missing.json") is None
    good = {"card": "NVIDIA Test", "date": "2026-01-01", "benchmarks": {
        "matmul": {"size_label": "n", "sizes": [1, 2], "times": {"cpu": [1.0, 2.0], "cuda": [0.5, None]}}}}
    (tmp_path / "r.json").write_text(json.dumps(good))
    assert load_gpu_results(tmp_path / "r.json")["card"] == "NVIDIA Test"
    good["benchmarks"]["matmul"]["times"]["cuda"] = [0.5]
    (tmp_path / "bad.json").write_text(json.dumps(good))
    with pytest.raises(ValueError, match="2 sizes"):
        load_gpu_results(tmp_path / "bad.json")
    (tmp_path / "bad2.json").write_text(json.dumps({"date": "x", "benchmarks": {}}))
    with pytest.raises(ValueError, match="card"):
        load_gpu_results(tmp_path / "bad2.json")


def test_crossover_size():
    f = crossover_size
    assert f([1, 2, 4], [1, 2, 4], [3, 3, 3]) == 4
    assert f([1, 2, 4], [1, 1, 1], [0.1, 2, 2]) is None
    assert f([1, 2], [1, 1], [0.1, 0.1]) == 1
    assert f([1, 2, 3], [1, 1, 1], [0.1, 0.1, None]) is None


def test_inplace_writes_into_views_stay_on_device():
    """CopySlices / RegionOf find the view's region and route gradients with the device's array module."""
    def program(x, w):
        y = x * 1.0
        early = y[0]  # regenerated after the writes below
        y[1:, ::2].mul_(w[:2, :2])
        y.t()[1].add_(2.0)
        return (y * y).sum() + (early * 3.0).sum()

    (xc, xs), (wc, ws) = pair(A), pair(A)
    SIM.log.reset()
    loss_s = program(xs, ws)
    loss_s.backward()
    assert SIM.log.transfers == 0, SIM.log
    program(xc, wc).backward()
    assert np.isclose(loss_s.item(), program(xc.detach(), wc.detach()).item(), rtol=1e-6)
    np.testing.assert_allclose(to_np(xs.grad), to_np(xc.grad), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(to_np(ws.grad), to_np(wc.grad), rtol=1e-5, atol=1e-6)


def test_fused_gelu_dispatches_by_what_the_backend_offers(monkeypatch):
    """CUDA kernel when the array module compiles ElementwiseKernels (CuPy), one launch on 'sim', NumPy otherwise."""
    compiled = []

    class KernelXP:  # just enough of CuPy: ElementwiseKernel "compiles" to the NumPy math, and records that it did
        @staticmethod
        def ElementwiseKernel(in_params, out_params, body, name):
            compiled.append(name)
            math_ = fused_gelu._gelu_forward_array if "forward" in name else fused_gelu._gelu_backward_array
            return lambda *arrays: math_(*arrays)

    monkeypatch.setattr(fused_gelu, "_cuda_kernels", {})
    x = np.linspace(-3, 3, 7)
    kernel_backend = storage.Backend("cuda", KernelXP)
    np.testing.assert_allclose(fused_gelu._gelu_run(kernel_backend, "forward", x), fused_gelu._gelu_forward_array(x))
    fused_gelu._gelu_run(kernel_backend, "backward", x, np.ones_like(x))
    fused_gelu._gelu_run(kernel_backend, "forward", x)  # compiled once, reused
    assert compiled == ["course_gelu_forward", "course_gelu_backward"]
    fused_gelu._gelu_run(kernel_backend, "forward", x.astype(np.float16))  # half precision: NumPy, not the kernel
    assert len(compiled) == 2
    SIM.log.reset()
    out = fused_gelu._gelu_run(SIM, "forward", SIM.from_numpy(x))
    assert isinstance(out, SimArray) and SIM.log.launches == 1
    np.testing.assert_allclose(fused_gelu._gelu_run(storage.get_backend("cpu"), "forward", x),
                               fused_gelu._gelu_forward_array(x))


# -- issue 18: the device-selection lines of training scripts (torch.accelerator, torch.backends) ---------------

def test_tutorial_device_lines_run_and_agree_with_cuda():
    torch = course_lib  # `import course_lib as torch`
    device = torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu"
    older = "cuda" if torch.cuda.is_available() else "mps" if torch.backends.mps.is_available() else "cpu"
    assert device == older == ("cuda" if cuda.is_available() else "cpu")
    assert torch.ones(2).to(device).device.type == device
    assert torch.accelerator.device_count() == cuda.device_count()
    assert (torch.accelerator.current_accelerator() is None) == (not cuda.is_available())
    assert torch.backends.cudnn.is_available() == cuda.is_available()
    assert torch.backends.mps.is_available() is False and torch.backends.mps.is_built() is False


def test_accelerator_and_backends_answer_as_a_cpu_only_pytorch(monkeypatch):
    """With no working 'cuda' device, every answer equals PyTorch's on a machine without an accelerator."""
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available() or torch.backends.mps.is_available():
        pytest.skip("this PyTorch has an accelerator: its answers are not the CPU-only ones")
    monkeypatch.setattr(cuda, "is_available", lambda: False)
    import course_lib.accelerator as acc
    import course_lib.backends.cudnn as cudnn
    import course_lib.backends.mps as mps
    ta = torch.accelerator
    assert (acc.is_available(), acc.current_accelerator(), acc.current_accelerator(check_available=True),
            acc.device_count()) == (ta.is_available(), ta.current_accelerator(),
                                    ta.current_accelerator(check_available=True), ta.device_count())
    for name in ("current_device_index", "synchronize"):
        with pytest.raises(RuntimeError) as theirs:
            getattr(ta, name)()
        with pytest.raises(RuntimeError) as ours:
            getattr(acc, name)()
        assert str(ours.value) == str(theirs.value)
    assert (mps.is_available(), mps.is_built()) == (torch.backends.mps.is_available(), torch.backends.mps.is_built())
    tc = torch.backends.cudnn
    assert (cudnn.enabled, cudnn.benchmark, cudnn.deterministic, cudnn.allow_tf32) == (
        tc.enabled, tc.benchmark, tc.deterministic, tc.allow_tf32)
    assert (cudnn.is_available(), cudnn.version()) == (tc.is_available(), tc.version())


def test_cudnn_flags_are_settable_module_attributes(monkeypatch):
    monkeypatch.setattr(course_lib.backends.cudnn, "benchmark", True)
    monkeypatch.setattr(course_lib.backends.cudnn, "deterministic", True)
    import course_lib.backends.cudnn as cudnn
    assert cudnn.benchmark is True and cudnn.deterministic is True


def test_accelerator_with_a_working_cuda_device(monkeypatch):
    """On a GPU machine: device('cuda'), PyTorch's answer there (checked here with cuda's answers replaced)."""
    import course_lib.accelerator as acc
    calls = []
    monkeypatch.setattr(cuda, "is_available", lambda: True)
    monkeypatch.setattr(cuda, "device_count", lambda: 2)
    monkeypatch.setattr(cuda, "synchronize", lambda: calls.append("sync"))
    assert acc.is_available() and acc.current_accelerator() == course_lib.device("cuda")
    assert acc.current_accelerator().type == "cuda" and acc.device_count() == 2 and acc.current_device_index() == 0
    acc.synchronize()
    assert calls == ["sync"] and course_lib.backends.cudnn.is_available()
