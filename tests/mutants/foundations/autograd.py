"""Plausible wrong implementations of 01_autograd.ipynb: each must be rejected by its exercise's
grade cells, and by the hidden tests alone. Keys are solution cells' grade_ids."""

from tests.mutants import Mutant

BFS_BACKWARD = """        self.grad = 1.0
        queue, seen = [self], {id(self)}
        while queue:
            node = queue.pop(0)
            node._backward()
            for child in node._prev:
                if id(child) not in seen:
                    seen.add(id(child))
                    queue.append(child)
"""

MUTANTS: dict[str, list[Mutant]] = {
    "value": [
        Mutant(
            "tanh derivative 1 - t instead of 1 - t**2",
            "self.grad += (1 - out.data**2) * out.grad",
            "self.grad += (1 - out.data) * out.grad",
            demo=("value_backward_test", "value_graph_test", "interview_q3_test"),
            hint="d tanh(x)/dx = 1 - tanh(x)**2",
        ),
        Mutant(
            "addition assigns gradients instead of accumulating",
            "self.grad += out.grad\n            other.grad += out.grad",
            "self.grad = out.grad\n            other.grad = out.grad",
            hint="accumulate with +=, never assign",
        ),
        Mutant(
            "multiplication assigns gradients instead of accumulating",
            "self.grad += other.data * out.grad\n            other.grad += self.data * out.grad",
            "self.grad = other.data * out.grad\n            other.grad = self.data * out.grad",
            hint="accumulate with +=, never assign",
        ),
        Mutant(
            "reflected subtraction computes self - other",
            "return (-self) + other",
            "return self - other",
            hint="5 - a calls a.__rsub__(5), which must compute 5 - a, not a - 5",
        ),
        Mutant(
            "reflected division computes self / other",
            "return self**-1 * other",
            "return self / other",
            hint="1 / b calls b.__rtruediv__(1), which must compute 1 / b, not b / 1",
        ),
        Mutant(
            "power rule without the -1",
            "self.grad += k * self.data ** (k - 1) * out.grad",
            "self.grad += k * self.data**k * out.grad",
            hint="d a**k / da = k * a**(k-1)",
        ),
        Mutant(
            "relu derivative 1 at exactly 0",
            "self.grad += (self.data > 0) * out.grad",
            "self.grad += (self.data >= 0) * out.grad",
        ),
        Mutant(
            "sigmoid derivative s instead of s(1 - s)",
            "self.grad += s * (1 - s) * out.grad",
            "self.grad += s * out.grad",
            hint="d sigmoid(x)/dx = s * (1 - s)",
        ),
        Mutant(
            "log derivative without the chain rule", "self.grad += out.grad / self.data", "self.grad += 1 / self.data"
        ),
        Mutant(
            "multiplication uses its own value as the local derivative",
            "self.grad += other.data * out.grad",
            "self.grad += self.data * out.grad",
            hint="d(a * b)/da",
        ),
        Mutant(
            "sigmoid overflows for large negative inputs",
            "s = 1 / (1 + math.exp(-self.data)) if self.data >= 0 else math.exp(self.data) / (1 + math.exp(self.data))",
            "s = 1 / (1 + math.exp(-self.data))",
            hint="for a negative x compute exp(x) / (1 + exp(x))",
        ),
        Mutant("backward walks the nodes in creation order", "for node in reversed(order):", "for node in order:"),
        Mutant(
            "backward walks breadth-first instead of in topological order",
            "        order, visited = [], set()",
            BFS_BACKWARD + "        return\n        order, visited = [], set()",
            hint="it must collect both gradients before passing them on",
        ),
    ],
    "interview_answers": [
        Mutant("Q1: reversed after all (the true gradient)", "for node in order:", "for node in reversed(order):"),
        Mutant("Q1: f.grad left at 0", "f.grad = 1.0\n", ""),
        Mutant("Q2: once per parameter", 'q2_backward_cost = "a"', 'q2_backward_cost = "b"'),
        Mutant("Q2: cheaper than the forward", 'q2_backward_cost = "a"', 'q2_backward_cost = "c"'),
        Mutant("Q3: the derivative with respect to b", "q3_df_da = a.grad", "q3_df_da = b.grad"),
        Mutant("Q3: the chain rule stops at tanh", "q3_df_da = a.grad", "q3_df_da = -1.5 * (-1.5 + 2 * 0.6)"),
        Mutant("Q3: the value instead of the gradient", "q3_df_da = a.grad", "q3_df_da = f.data"),
        Mutant("Q3: a string instead of a number", "q3_df_da = a.grad", "q3_df_da = str(a.grad)"),
    ],
}
