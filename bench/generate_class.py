"""Generate a realistic synthetic class of submissions for benchmarks.

Each student's answers are drawn from what real classes write: the key, each
diagnosed mistake (derived from the solvers, like the grader does), other
notations (LaTeX, the upstream 1/4 substituted, Persian digits), unreadable
values, and essays in Persian and English (sentences drawn from two of the test essays,
with words dropped and swapped, so that no two are identical).

    python bench/generate_class.py OUT_DIR --students 1000 [--seed 7]
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ESSAYS = ROOT / "tests" / "data" / "essays"

Q3_VARIANTS = [
    [("[62, 62, 64]", "4864"), ("[30, 30, 64]", "36928"), ("[10, 10, 64]", "0")],
    [("[62, 62, 64]", "4800"), ("[30, 30, 64]", "36864"), ("[10, 10, 64]", "0")],          # no bias
    [("[63, 63, 64]", "4864"), ("[31, 31, 64]", "36928"), ("[11, 11, 64]", "0")],          # ceil
    [("[64, 62, 62]", "4864"), ("[64, 30, 30]", "36928"), ("[64, 10, 10]", "0")],          # channels first
    [("[62, 62, 64]", "1664"), ("[30, 30, 64]", "36928"), ("[10, 10, 64]", "0")],          # input channels 1
    [("[62, 62, 64]", "4864"), ("[30, 30, 64]", "36928"), ("[28, 28, 64]", "0")],          # pool stride 1
    [("[124, 124, 64]", "4864"), ("[122, 122, 64]", "36928"), ("[40, 40, 64]", "0")],      # stride ignored
    [('"۶۰×۶۰×۶۴"', '"۴۸۶۴"'), ('"۲۹×۲۹×۶۴"', '"۳۶۹۲۸"'), ('"۹×۹×۶۴"', '"۰"')],              # carried forward
    [('"sixty-two"', "4864"), ("[30, 30, 64]", "true"), ("[10, 10]", "0")],               # unreadable
]
F_KEY = {
    "F11": "X11*dL_dO11 + X12*dL_dO12 + X21*dL_dO21 + X22*dL_dO22",
    "F12": "X12*dL_dO11 + X13*dL_dO12 + X22*dL_dO21 + X23*dL_dO22",
    "F21": "X21*dL_dO11 + X22*dL_dO12 + X31*dL_dO21 + X32*dL_dO22",
    "F22": "X22*dL_dO11 + X23*dL_dO12 + X32*dL_dO21 + X33*dL_dO22",
}
X_KEY = {
    "X11": "F11*dL_dO11", "X12": "F11*dL_dO12 + F12*dL_dO11", "X13": "F12*dL_dO12",
    "X21": "F11*dL_dO21 + F21*dL_dO11", "X22": "F11*dL_dO22 + F12*dL_dO21 + F21*dL_dO12 + F22*dL_dO11",
    "X23": "F12*dL_dO22 + F22*dL_dO12", "X31": "F21*dL_dO21", "X32": "F21*dL_dO22 + F22*dL_dO21",
    "X33": "F22*dL_dO22",
}
Q4_NUMBERS = [
    ("[[1, 2], [-10, 8]]", "0.25", "[[0.25, 0.25], [0.25, 0.25]]", "[[2.5, 1.75], [1.25, -1]]",
     "[[0.5, 0.5, 0], [-0.25, 0, 0.25], [-0.75, -0.5, 0.25]]"),
    ('[["۱", "۲"], ["−۱۰", "۸"]]', '"1/4"', '[["1/4", "1/4"], ["1/4", "1/4"]]', '[["5/2", "7/4"], ["5/4", "-1"]]',
     "[[0.5, 0.5, 0], [-0.25, 0, 0.25], [-0.75, -0.5, 0.25]]"),
    ("[[-7, -17], [-5, 10]]", "-4.75", "[[0.25, 0.25], [0.25, 0.25]]", "[[-1, 1.25], [1.75, 2.5]]",
     "[[0.25, -0.5, -0.75], [0.25, 0, -0.25], [0, 0.5, 0.5]]"),                                   # flipped
    ("[[1, 2], [-10, 8]]", "0.25", "[[1, 1], [1, 1]]", "[[10, 7], [5, -4]]",
     "[[2, 2, 0], [-1, 0, 1], [-3, -2, 1]]"),                                                     # GAP 1/4 forgotten
    ("[[1, 2], [-10, 8]]", "0.25", "[[0.25, 0.25]]", "[[2.5, 1.75], [1.25, -1]]", '"lots"'),        # invalid
]
KERNELS = ["[[0.25, 0.25], [0.25, 0.25]]", '[["1/9","1/9","1/9"],["1/9","1/9","1/9"],["1/9","1/9","1/9"]]',
           "[[1, 1], [1, 1]]", "[[0.5, 0.5]]", '[["۰٫۲۵", "۰٫۲۵"], ["۰٫۲۵", "۰٫۲۵"]]', "[[0.4, 0.1], [0.1, 0.4]]"]


def latex(formula: str) -> str:
    """A plain formula in LaTeX, as students write it."""
    text = formula
    for k in ("11", "12", "21", "22"):
        text = text.replace(f"dL_dO{k}", f"\\frac{{\\partial L}}{{\\partial O_{{{k}}}}}")
    for name in ("X", "F"):
        for i in "123":
            for j in "123":
                text = text.replace(f"{name}{i}{j}", f"{name}_{{{i}{j}}}")
    return text.replace("*", " \\times ")


def compose(pool: list[str], rng: random.Random) -> str:
    """An essay of sentences drawn from two source essays, as students paraphrase what they read."""
    sentences = [s.strip() for text in rng.sample(pool, min(2, len(pool)))
                 for s in re.split(r"(?<=[.!?؟])\s+", text) if s.strip()]
    chosen = rng.sample(sentences, max(1, len(sentences) * 2 // 3))
    return perturb(" ".join(chosen), rng)


def perturb(text: str, rng: random.Random) -> str:
    """The essay with a few words dropped and neighbours swapped (no two students identical)."""
    words = text.split()
    for _ in range(max(1, len(words) // 6)):
        i = rng.randrange(len(words) - 1)
        if rng.random() < 0.5:
            words[i], words[i + 1] = words[i + 1], words[i]
        else:
            del words[i]
    return " ".join(words)


def toml_text(text: str) -> str:
    """A TOML basic string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def student(index: int, rng: random.Random, essays: dict[str, list[str]]) -> str:
    """One student's answers.toml."""
    lines = [f'[student]\nid = "s{index:05d}"\n']
    lines.append(f"[q1]\nanswer = {toml_text(compose(essays['q1'], rng))}\n")
    lines.append(f"[q2a]\nanswer = {toml_text(compose(essays['q2a'], rng))}\n")
    stride = rng.choice(["1", "2", "3", '"two"'])
    max_yes = rng.choice(["false", "false", "false", "true"])
    avg_yes = rng.choice(["true", "true", "false", '"بله"'])
    lines.append(f"[q2b]\navg_pool_as_conv = {avg_yes}\n"
                 f"avg_kernel = {rng.choice(KERNELS)}\navg_stride = {stride}\nmax_pool_as_conv = {max_yes}\n"
                 f"explanation = {toml_text(perturb(rng.choice(essays['q2b']), rng))}\n")
    layers = ",\n".join(f"  {{ output_shape = {s}, params = {p} }}" for s, p in rng.choice(Q3_VARIANTS))
    lines.append(f"[q3]\nlayers = [\n{layers},\n]\n")
    o, y, g, f, x = rng.choice(Q4_NUMBERS)
    lines.append(f"[q4]\nO = {o}\ny = {y}\ndL_dO = {g}\ndL_dF = {f}\ndL_dX = {x}\n\n[q4.formulas]")
    style = rng.choice(["plain", "latex", "substituted", "mixed"])
    for entry, formula in {**F_KEY, **X_KEY}.items():
        if rng.random() < 0.08:  # a mistake: a term dropped, the sign flipped, or a garbled line
            terms = formula.split(" + ")
            formula = rng.choice([" + ".join(terms[:-1]) or terms[0], f"-({formula})", formula.replace(" + ", " ")])
        if style == "latex" or (style == "mixed" and rng.random() < 0.5):
            value = "'" + latex(formula) + "'"
        elif style == "substituted":
            value = toml_text("(" + formula.replace("*dL_dO11", "").replace("*dL_dO12", "").replace(
                "*dL_dO21", "").replace("*dL_dO22", "") + ")/4")
        else:
            value = toml_text(formula)
        lines.append(f"dL_d{entry} = {value}")
    return "\n".join(lines) + "\n"


def essays() -> dict[str, list[str]]:
    """Essay pools per question, Persian and English."""
    pools: dict[str, list[str]] = {"q1": [], "q2a": [], "q2b": []}
    for path in sorted(ESSAYS.glob("*.txt")):
        pools[path.name.split("_")[0]].append(path.read_text(encoding="utf-8"))
    pools["q2b"] = [
        "Average pooling is a convolution with a kernel of 1/(N*M) weights, one channel at a time. "
        "Max pooling is not linear, so a convolution cannot compute it.",
        "ادغام میانگین همان همگشت با کرنلی است که همه وزن‌هایش 1/(N*M) است. تابع بیشینه خطی نیست، "
        "بنابراین ادغام حداکثری با یک همگشت ساخته نمی‌شود.",
        "Max pooling can be built with ReLU: max(a, b) = b + ReLU(a - b). Average pooling uses equal weights.",
    ]
    return pools


def generate(out: Path, students: int, seed: int = 7) -> None:
    """Write ``students`` submission folders into ``out`` (replacing it)."""
    if out.exists():
        shutil.rmtree(out)
    rng = random.Random(seed)
    pools = essays()
    for index in range(students):
        folder = out / f"s{index:05d}"
        folder.mkdir(parents=True)
        (folder / "answers.toml").write_text(student(index, rng, pools), encoding="utf-8")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--students", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    arguments = parser.parse_args()
    generate(arguments.out, arguments.students, arguments.seed)
    print(f"wrote {arguments.students} submissions to {arguments.out}")
