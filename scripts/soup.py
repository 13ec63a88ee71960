"""Average the weights of fine-tuned models that share one architecture and one starting point (a uniform
"model soup"; batch norm's moving statistics are averaged like every other weight).

    python scripts/soup.py A.keras B.keras [C.keras ...] --out SOUP.keras

The files must have the same layers and weight shapes; anything else is refused with what differs.
"""

import argparse
from pathlib import Path

import numpy as np


def soup(paths: list[Path], out: Path) -> None:
    import keras

    models = [keras.saving.load_model(p, compile=False) for p in paths]
    shapes = [[w.shape for w in m.get_weights()] for m in models]
    for path, found in zip(paths[1:], shapes[1:], strict=True):
        if found != shapes[0]:
            raise SystemExit(
                f"{path}: its weights differ in shape from {paths[0]}; only the same architecture can be averaged"
            )
    averaged = [np.mean(layer, axis=0) for layer in zip(*(m.get_weights() for m in models), strict=True)]
    models[0].set_weights(averaged)
    out.parent.mkdir(parents=True, exist_ok=True)
    models[0].save(out)
    print(f"{out}: the average of {len(paths)} models")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", type=Path, nargs="+", help="two or more .keras files")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if len(args.models) < 2:
        parser.error("give at least two models to average")
    soup(args.models, args.out)


if __name__ == "__main__":
    main()
