"""Notebook 05's library exercises solved differently (see tests/test_exercise_ownership.py)."""

# target -> a correct solution, written differently from the reference, that records its calls with course_spy
SOLUTIONS = {
    "nn:Module.__setattr__": '''
def __setattr__(self, name, value):
    import course_spy
    course_spy.hit("nn:Module.__setattr__")
    _check_assignment(self, name, value)
    if "_parameters" not in self.__dict__:
        return object.__setattr__(self, name, value)
    stores = (self._parameters, self._modules, self._buffers)
    if isinstance(value, (Parameter, Module)):  # a table instead of two branches
        home = self._parameters if isinstance(value, Parameter) else self._modules
        for place in (self.__dict__,) + stores:
            if place is not home:
                place.pop(name, None)
        self._non_persistent.discard(name)  # a parameter or module is never a (non-persistent) buffer
        home[name] = value
        return
    for place in stores:
        if name in place:
            place[name] = value
            return
    object.__setattr__(self, name, value)
''',
    "nn:Module.named_modules": '''
def named_modules(self, memo=None, prefix="", remove_duplicate=True):
    import course_spy
    course_spy.hit("nn:Module.named_modules")
    seen = set() if memo is None else memo
    stack = [(prefix, self)]  # depth first with an explicit stack instead of recursion
    while stack:
        name, module = stack.pop()
        if remove_duplicate:
            if id(module) in seen:
                continue
            seen.add(id(module))
        yield name, module
        children = [(f"{name}.{key}" if name else key, child) for key, child in module._modules.items()
                    if child is not None]
        stack.extend(reversed(children))
''',
    "nn:Module.state_dict": '''
def state_dict(self, destination=None, prefix="", keep_vars=False):
    import course_spy
    course_spy.hit("nn:Module.state_dict")
    out = OrderedDict() if destination is None else destination
    todo = [(prefix, self)]  # an explicit stack instead of recursion: children pushed in reverse, popped in order
    while todo:
        at, module = todo.pop()
        buffers = [(n, b) for n, b in module._buffers.items() if n not in module._non_persistent]
        for name, value in list(module._parameters.items()) + buffers:
            if value is not None:
                out[at + name] = value if keep_vars else value.detach()
        todo.extend(reversed([(at + name + ".", child) for name, child in module._modules.items()
                              if child is not None]))
    return out
''',
    "nn:Linear.forward": '''
def forward(self, input):
    import course_spy
    course_spy.hit("nn:Linear.forward")
    y = input.matmul(self.weight.transpose(0, 1))
    return y if self.bias is None else y + self.bias
''',
}

# code that makes course_lib call each target, run in a fresh kernel after the exercise notebooks ran
USE = '''
import course_lib as torch
from course_lib import nn
torch.manual_seed(0)
model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
out = model(torch.randn(5, 4))
assert tuple(out.shape) == (5, 3)
assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
'''

# target -> (a wrong solution, the exact line its check prints)
WRONG = {
    "nn:Module.state_dict": ('''
def state_dict(self, destination=None, prefix="", keep_vars=False):
    destination = OrderedDict() if destination is None else destination
    for name, p in self._parameters.items():   # forgets the buffers
        if p is not None:
            destination[prefix + name] = p if keep_vars else p.detach()
    for name, child in self._modules.items():
        if child is not None:
            child.state_dict(destination, prefix + name + ".", keep_vars)
    return destination
''', "✗ nn:Module.state_dict: a Module with two buffers (one non-persistent) and a Pipeline whose second slot is "
     "None: state_dict() has the keys ['inner.gain', 'inner.first.scale', 'inner.first.shift']; course_lib and this notebook use the reference version until this passes"),
    "nn:Module.named_modules": ('''
def named_modules(self, memo=None, prefix="", remove_duplicate=True):
    yield prefix, self   # no memo: a module reached twice is listed twice
    for name, child in self._modules.items():
        if child is not None:
            yield from child.named_modules(memo, prefix + "." + name if prefix else name, remove_duplicate)
''', "✗ nn:Module.named_modules: one Affine under two names: named_modules() gave ['', 'first', 'second']; "
     "course_lib and this notebook use the reference version until this passes"),
}
