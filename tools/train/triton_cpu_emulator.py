"""Runs the Triton kernels of selective_scan_triton.py on the CPU, for tests only.

The build machine has no GPU and no triton. This module stands in for the
`triton` and `triton.language` modules with the small subset those kernels use,
executed eagerly with torch tensors: each program of the grid runs in turn,
pointers are (flat tensor, offset tensor) pairs, tl.load / tl.store honour masks
and raise on any unmasked access outside the tensor (which on a GPU would be
silent memory corruption), and tl.arange / tl.zeros insist on power-of-two sizes
as Triton does. It checks the kernels' indexing, masking and arithmetic; it
cannot check that Triton compiles them (scan_check.py does that on the GPU).

    with emulated_triton():
        module = importlib.import_module("selective_scan_triton")
"""
import contextlib
import importlib
import sys
import types

import torch


class Pointer:
    """A base tensor (flattened) plus an element offset (int or int64 tensor)."""

    def __init__(self, base, offset=0):
        self.base = base
        self.offset = offset

    def __add__(self, delta):
        if isinstance(delta, Pointer):
            raise TypeError("emulated triton: pointer + pointer")
        if isinstance(delta, torch.Tensor) and delta.is_floating_point():
            raise TypeError("emulated triton: pointer + float offset")
        return Pointer(self.base, self.offset + delta)

    __radd__ = __add__

    def __sub__(self, delta):
        return self + (-delta)


def _power_of_two(n, what):
    if n < 1 or n & (n - 1):
        raise ValueError(f"emulated triton: {what} {n} is not a power of two (Triton requires it)")


def _indices(ptr, mask):
    offset = torch.as_tensor(ptr.offset, dtype=torch.int64)
    if mask is not None:
        mask = torch.as_tensor(mask, dtype=torch.bool)
        offset, mask = torch.broadcast_tensors(offset, mask)
    else:
        mask = torch.ones_like(offset, dtype=torch.bool)
    size = ptr.base.numel()
    bad = mask & ((offset < 0) | (offset >= size))
    if bool(bad.any()):
        first = offset[bad].flatten()[0].item()
        raise IndexError(f"emulated triton: access at element {first} of a tensor of {size} elements")
    return torch.where(mask, offset, torch.zeros_like(offset)), mask


def _as_int(x):
    return int(x.item()) if isinstance(x, torch.Tensor) else int(x)


def _language():
    tl = types.ModuleType("triton.language")
    tl.float32 = torch.float32
    tl.int32 = torch.int32
    tl.int64 = torch.int64

    class constexpr:  # annotation only
        pass

    tl.constexpr = constexpr
    state = {"pid": (0, 0, 0), "grid": (1, 1, 1)}
    tl._state = state

    def program_id(axis):
        return torch.tensor(state["pid"][axis], dtype=torch.int32)

    def num_programs(axis):
        return torch.tensor(state["grid"][axis], dtype=torch.int32)

    def arange(start, end):
        _power_of_two(end - start, "tl.arange size")
        return torch.arange(start, end, dtype=torch.int32)

    def zeros(shape, dtype):
        for n in shape:
            _power_of_two(n, "block dimension")
        return torch.zeros(shape, dtype=dtype)

    def load(ptr, mask=None, other=None):
        idx, mask = _indices(ptr, mask)
        values = ptr.base[idx]
        if other is None:
            return values
        return torch.where(mask, values, torch.as_tensor(other, dtype=values.dtype))

    def store(ptr, value, mask=None):
        idx, mask = _indices(ptr, mask)
        value = torch.as_tensor(value, dtype=ptr.base.dtype)
        value = torch.broadcast_to(value, idx.shape)
        ptr.base[idx[mask]] = value[mask]

    def tl_range(start, end=None, step=1, num_stages=None, **_):
        if end is None:
            start, end = 0, start
        return range(_as_int(start), _as_int(end), _as_int(step))

    tl.program_id = program_id
    tl.num_programs = num_programs
    tl.arange = arange
    tl.zeros = zeros
    tl.load = load
    tl.store = store
    tl.range = tl_range
    tl.exp = torch.exp
    tl.sum = lambda x, axis: x.sum(dim=axis)
    tl.where = torch.where
    tl.minimum = lambda a, b: torch.minimum(torch.as_tensor(a), torch.as_tensor(b))
    tl.maximum = lambda a, b: torch.maximum(torch.as_tensor(a), torch.as_tensor(b))
    tl.debug_barrier = lambda: None
    return tl


class _Kernel:
    def __init__(self, fn, tl):
        self.fn = fn
        self.tl = tl
        self.launches = 0

    def __call__(self, *args, **kwargs):  # a @triton.jit helper called from a kernel
        return self.fn(*args, **kwargs)

    def __getitem__(self, grid):
        def launch(*args, num_warps=4, num_stages=3, **constexprs):
            _power_of_two(num_warps, "num_warps")
            dims = tuple(grid(constexprs) if callable(grid) else grid) + (1, 1)
            pointers = []
            for a in args:
                if isinstance(a, torch.Tensor):
                    if not a.is_contiguous():
                        raise ValueError("emulated triton: kernel argument is not contiguous")
                    pointers.append(Pointer(a.view(-1)))
                else:
                    pointers.append(a)
            self.launches += 1
            self.tl._state["grid"] = dims[:3]
            for z in range(dims[2]):
                for y in range(dims[1]):
                    for x in range(dims[0]):
                        self.tl._state["pid"] = (x, y, z)
                        self.fn(*pointers, **constexprs)
        return launch


def _triton(tl):
    triton = types.ModuleType("triton")
    triton.__version__ = "cpu-emulator"
    triton.language = tl

    def jit(fn=None, **_options):
        if fn is None:
            return lambda f: _Kernel(f, tl)
        return _Kernel(fn, tl)

    triton.jit = jit
    triton.cdiv = lambda a, b: -(-a // b)
    triton.next_power_of_2 = lambda n: 1 if n <= 1 else 1 << (int(n) - 1).bit_length()
    return triton


@contextlib.contextmanager
def emulated_triton():
    """Installs the emulator as `triton` while the block runs; imports made inside the
    block (e.g. of selective_scan_triton) keep using it afterwards. Restores sys.modules."""
    saved = {name: sys.modules.get(name) for name in ("triton", "triton.language")}
    tl = _language()
    sys.modules["triton"] = _triton(tl)
    sys.modules["triton.language"] = tl
    try:
        yield
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module


def import_with_emulator(module_name):
    """A fresh import of `module_name` bound to the emulator (not left in sys.modules)."""
    saved = sys.modules.pop(module_name, None)
    try:
        with emulated_triton():
            module = importlib.import_module(module_name)
    finally:
        sys.modules.pop(module_name, None)
        if saved is not None:
            sys.modules[module_name] = saved
    return module
