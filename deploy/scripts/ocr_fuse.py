"""Rewrites a PP-OCRv4 model (detection or recognition) into fewer operations.

The models as exported from Paddle spell every activation out: a convolution is
followed by a learnable scale and shift (Mul, Add), then hard-swish as four
element-wise operations (Add 3, Clip 0..6, Mul, Div 6), then another scale and
shift. ONNX Runtime fuses none of that, so on one thread those element-wise
passes over the feature maps cost about as much as the convolutions. This
script folds the scales and shifts into the neighbouring convolutions' weights
and writes hard-swish as the single HardSwish operation (opset 14), which ONNX
Runtime fuses into the convolution before it. The arithmetic is the same; the
result is checked against the original model on random inputs before it is
written.

usage: ocr_fuse.py ORIGINAL.onnx FUSED.onnx
"""

import sys

import numpy as np
import onnx
import onnxruntime
from onnx import helper, numpy_helper, version_converter


def load(path):
    model = version_converter.convert_version(onnx.load(path), 14)
    graph = model.graph
    consts = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    nodes = []
    for n in graph.node:
        if n.op_type == "Constant" and [a.name for a in n.attribute] == ["value"]:
            consts[n.output[0]] = numpy_helper.to_array(n.attribute[0].t)
        else:
            nodes.append(n)
    return model, nodes, consts


class Fuser:
    def __init__(self, nodes, consts, outputs):
        self.nodes, self.consts, self.outputs = nodes, consts, outputs
        self.count = 0

    def scalar(self, name):
        a = self.consts.get(name)
        return float(a.reshape(-1)[0]) if a is not None and a.size == 1 else None

    def users(self):
        u = {}
        for n in self.nodes:
            for i in n.input:
                u.setdefault(i, []).append(n)
        return u

    def sole(self, users, name, op):
        """The one node reading `name`, if it is an `op` and nothing else reads it."""
        us = users.get(name, [])
        ok = len(us) == 1 and us[0].op_type == op and name not in self.outputs
        return us[0] if ok else None

    def constant(self, base, array):
        self.count += 1
        name = f"{base}.fused{self.count}"
        self.consts[name] = np.asarray(array, dtype=np.float32)
        return name

    def other_scalar(self, node, name):
        rest = [i for i in node.input if i != name]
        return self.scalar(rest[0]) if len(rest) == 1 else None

    def affine_after(self, users, name):
        """`name` -> Mul(scalar s) -> Add(scalar b): (mul, add, s, b), else None."""
        mul = self.sole(users, name, "Mul")
        s = self.other_scalar(mul, name) if mul else None
        add = self.sole(users, mul.output[0], "Add") if s is not None else None
        b = self.other_scalar(add, mul.output[0]) if add else None
        return (mul, add, s, b) if b is not None else None

    def weights(self, conv):
        w = self.consts[conv.input[1]]
        bias = self.consts[conv.input[2]] if len(conv.input) > 2 else np.zeros(w.shape[0], np.float32)
        return w, bias

    def set_weights(self, conv, w, bias):
        conv.input[1] = self.constant(conv.input[1], w)
        if len(conv.input) > 2:
            conv.input[2] = self.constant(conv.input[1], bias)
        else:
            conv.input.append(self.constant(conv.input[1], bias))

    def conv_then_affine(self):
        """Conv -> Mul(s) -> Add(b): the conv's weights times s, its bias s * bias + b."""
        users, drop = self.users(), set()
        for n in self.nodes:
            if n.op_type != "Conv" or n.input[1] not in self.consts:
                continue
            f = self.affine_after(users, n.output[0])
            if not f:
                continue
            mul, add, s, b = f
            w, bias = self.weights(n)
            self.set_weights(n, w * s, bias * s + b)
            n.output[0] = add.output[0]
            drop |= {id(mul), id(add)}
        self.nodes = [n for n in self.nodes if id(n) not in drop]
        return len(drop) // 2

    def hard_swish(self):
        """x -> Add(3) -> Clip(0, 6) -> Mul(x, .) -> Div(6): HardSwish(x)."""
        users, drop, swap = self.users(), set(), {}
        for n in self.nodes:
            if n.op_type != "Add" or len(n.input) != 2:
                continue
            xs = [i for i in n.input if self.scalar(i) != 3.0]
            if len(xs) != 1:
                continue
            x = xs[0]
            clip = self.sole(users, n.output[0], "Clip")
            if not clip or len(clip.input) != 3 or (self.scalar(clip.input[1]), self.scalar(clip.input[2])) != (0.0, 6.0):
                continue
            mul = self.sole(users, clip.output[0], "Mul")
            if not mul or sorted(mul.input) != sorted([x, clip.output[0]]):
                continue
            div = self.sole(users, mul.output[0], "Div")
            if not div or div.input[0] != mul.output[0] or self.scalar(div.input[1]) != 6.0:
                continue
            drop |= {id(clip), id(mul), id(div)}
            swap[id(n)] = helper.make_node("HardSwish", [x], [div.output[0]], name=div.output[0])
        self.nodes = [swap.get(id(n), n) for n in self.nodes if id(n) not in drop]
        return len(swap)

    def affine_then_conv(self):
        """HardSwish -> Mul(s) -> Add(b) -> Conv: into the conv's weights.

        Without padding both fold: conv(s h + b) = conv_{W s}(h) + b * (sum of
        W over its inputs). With padding only the scale does, as
        conv_W(s h + b) = conv_{W s}(h + b / s): the zeros of the padding come
        after the shift, so the shift stays as an Add.
        """
        users, drop, folded = self.users(), set(), 0
        for n in self.nodes:
            if n.op_type != "HardSwish":
                continue
            f = self.affine_after(users, n.output[0])
            if not f or f[2] == 0.0:
                continue
            mul, add, s, b = f
            conv = self.sole(users, add.output[0], "Conv")
            if not conv or conv.input[0] != add.output[0] or conv.input[1] not in self.consts:
                continue
            attrs = {a.name: helper.get_attribute_value(a) for a in conv.attribute}
            padded = any(attrs.get("pads", [])) or attrs.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET")
            w, bias = self.weights(conv)
            if padded:
                conv.input[1] = self.constant(conv.input[1], w * s)
                add.input[:] = [n.output[0], self.constant(add.output[0], np.float32(b / s))]
                drop.add(id(mul))
            else:
                # Summed in float64: the same bias whatever the order of the sum.
                through = w.reshape(w.shape[0], -1).astype(np.float64).sum(axis=1)
                self.set_weights(conv, w * s, bias + b * through)
                conv.input[0] = n.output[0]
                drop |= {id(mul), id(add)}
            folded += 1
        self.nodes = [n for n in self.nodes if id(n) not in drop]
        return folded


def session(model_bytes):
    opts = onnxruntime.SessionOptions()
    opts.intra_op_num_threads = 1
    return onnxruntime.InferenceSession(model_bytes, opts, providers=["CPUExecutionProvider"])


def check(original, fused, shapes):
    """The fused model gives the original's outputs on random inputs of `shapes`."""
    a, b = session(original), session(fused)
    name = a.get_inputs()[0].name
    rng = np.random.default_rng(7)
    for shape in shapes:
        x = rng.uniform(-1.0, 1.0, shape).astype(np.float32)
        want, got = a.run(None, {name: x})[0], b.run(None, {name: x})[0]
        diff = float(np.abs(want - got).max())
        if not diff < 1e-4:
            sys.exit(f"ocr_fuse: the fused model differs from the original by {diff} on an input of shape {shape}")


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    src, dst = sys.argv[1], sys.argv[2]
    model, nodes, consts = load(src)
    graph = model.graph
    fuser = Fuser(nodes, consts, {o.name for o in graph.output})
    done = (fuser.conv_then_affine(), fuser.hard_swish(), fuser.affine_then_conv())
    if done[1] == 0:
        sys.exit(f"ocr_fuse: {src} has no hard-swish written out: not a PP-OCRv4 model as exported from Paddle?")
    used = {i for n in fuser.nodes for i in n.input}
    del graph.node[:]
    graph.node.extend(fuser.nodes)
    del graph.initializer[:]
    graph.initializer.extend(numpy_helper.from_array(v, k) for k, v in sorted(fuser.consts.items()) if k in used)
    onnx.checker.check_model(model)
    fused = model.SerializeToString()
    # Recognition (the model with a character dictionary) takes lines 48
    # pixels high; detection any multiple of 32.
    height = 48 if any(p.key == "character" for p in model.metadata_props) else 160
    check(onnx.load(src).SerializeToString(), fused, [(1, 3, height, 320), (1, 3, height, 704)])
    with open(dst, "wb") as out:
        out.write(fused)
    name = dst.removesuffix(".part")
    print(f"{name}: {done[0]} scale-and-shift steps folded into the convolution before, {done[2]} into the one after; {done[1]} hard-swish")


if __name__ == "__main__":
    main()
