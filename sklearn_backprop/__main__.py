"""``python -m sklearn_backprop``: train on MNIST as the reference notebook does."""

from ._cli import main

if __name__ == "__main__":
    raise SystemExit(main())
